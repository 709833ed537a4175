"""Who is a duplicate of whom: survivors that contain their duplicates, and composite pages.

The verified pairs of :mod:`.core` say, in both directions, whether one text is
contained in another (:func:`.verify.measure_pair`).  Joining every such pair
(union-find) would let one page that holds two stories join them, and chains go on
from there; so the pairs are read as follows.

* **Parts and copies.**  For a text P, a verified text X with "X in P" is a *copy*
  of P when "P in X" holds too (they are the same story, give or take a header, a
  cut or a related block), and a *part* of P otherwise.
* **Composite pages.**  P's parts are grouped by story (:func:`group_parts`: the
  smallest parts by overlap, larger parts with the group whose parts they hold).  P is
  *composite* when its parts fall into two or more groups and none dominates (the
  largest covers less than :data:`DOMINANCE` times what the next covers), unless P is
  a copy of a text that is not composite itself (a story followed by a related block
  is a copy of that story).  A composite page keeps its parts apart: it is linked only
  to its own copies, and it is reported with the records it contains.
* **Side parts.**  In a page that is not composite, the parts outside its main story
  are side parts (a related-stories block): with copies, the parts that lie outside
  what the page shares with its copies; without, the parts outside the dominant group.
  They are not linked to the page.
* **Survivors.**  The remaining links ("X in P" where P may take X) form candidate
  components; inside them survivors are chosen greedily: records that another record
  *dominates* (contains, and has more of its own besides: a truncated copy against its
  original) come last, then the keep policy decides (:func:`policy_keys`).  Each
  survivor takes the records its links say it contains about as well as any other
  text does (a record goes to its best home: the copies of a report stay with it,
  not with a later report that reuses most of it); a record no survivor took directly
  is verified against the survivors of its neighbours, and survives itself when none
  contains it.  So every removed record is contained in its own survivor,
  at the verification threshold, and its ``similarity`` is that verified score.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .params import DedupParams
from .verify import PairMeasure, measure_pair, overlap

DOMINANCE = 3.0  # a group of parts covering 3x what the next covers is the page's main story
SMALL_BLOCK = 12  # shingles: an unshared block this small is a header or footer, not content
# two parts sharing this much of the smaller tell one story: different stories' parts share at most
# 0.012 on dev composite sets (4 seeds); rewrites of one agency story on ECB+ share 0.41-0.83
PART_OVERLAP = 0.2
CUT_OWN = 0.1  # a text with at most this share of its own is a cut (or a copy) of the one that holds it
HOME_MARGIN = 0.05  # a survivor takes a text directly when it holds it within this of its best home

SetsOf = Callable[[int], "tuple[np.ndarray, np.ndarray] | None"]  # node -> (word set, skeleton set)


class Edge(NamedTuple):
    """A verified pair seen from one side: ``inside`` = the score of "self in other",
    ``holds`` = of "other in self" (0 when that direction does not pass); sizes and
    ``shared`` in the view that verified the pair (``by_skeleton``: a spun copy),
    ``shared_words`` in the word view."""

    other: int
    inside: float
    holds: float
    size: int
    other_size: int
    shared: int
    shared_words: int
    by_skeleton: bool = False


def edge_pair(a: int, b: int, m: PairMeasure) -> tuple[Edge, Edge]:
    """The two views of one verified pair."""
    return (Edge(b, m.a_in_b, m.b_in_a, m.size_a, m.size_b, m.shared, m.shared_words, m.by_skeleton),
            Edge(a, m.b_in_a, m.a_in_b, m.size_b, m.size_a, m.shared, m.shared_words, m.by_skeleton))


def reversed_edge(owner: int, e: Edge) -> Edge:
    """``e`` (seen from ``owner``) as its other end sees it."""
    return Edge(owner, e.holds, e.inside, e.other_size, e.size, e.shared, e.shared_words, e.by_skeleton)


@dataclass
class Graph:
    """Verified pairs between nodes.  Nodes ``0..n_batch-1`` are the batch's documents
    (representatives of distinct long texts only), nodes from ``n_batch`` on are rows of
    a previous run's archive, which keep their clusters.

    ``tie[node]`` orders nodes where nothing else does, independently of input order
    (the rank of a batch document's name; archive nodes after them, in archive order).
    """

    n_batch: int
    tie: list[int]
    edges: dict[int, list[Edge]] = field(default_factory=dict)
    archive_record: dict[int, int] = field(default_factory=dict)  # archive node -> its record (global index)
    fixed_survivor: dict[int, int] = field(default_factory=dict)  # archive node -> its survivor (global index)
    archive_composite: set[int] = field(default_factory=set)  # global indices of archived composite pages

    def add(self, a: int, b: int, m: PairMeasure) -> None:
        ea, eb = edge_pair(a, b, m)
        self.edges.setdefault(a, []).append(ea)
        self.edges.setdefault(b, []).append(eb)

    def of(self, node: int) -> list[Edge]:
        return self.edges.get(node, [])

    def is_archived_composite(self, node: int) -> bool:
        return self.archive_record.get(node, -1) in self.archive_composite


@dataclass
class PageRoles:
    """What composite detection decided: composite pages with the parts they contain, and
    the (part, page) pairs that must not be linked (side parts, parts of composites)."""

    composite: set[int] = field(default_factory=set)
    contains: dict[int, list[int]] = field(default_factory=dict)
    unlinked: set[tuple[int, int]] = field(default_factory=set)


def parts_and_copies(graph: Graph, page: int) -> tuple[list[Edge], list[Edge]]:
    """(parts, copies) of ``page``: texts contained in it one way, and both ways."""
    parts, copies = [], []
    for e in graph.of(page):
        if e.holds > 0:
            (copies if e.inside > 0 else parts).append(e)
    return parts, copies


def same_story(graph: Graph, sets_of: SetsOf, x: int, y: int, params: DedupParams) -> bool:
    """Whether two texts overlap as parts of one story do: a verified pair, or
    :func:`overlapping_sets`."""
    if any(e.other == y for e in graph.of(x)):
        return True
    sx, sy = sets_of(x), sets_of(y)
    return sx is not None and sy is not None and overlapping_sets(sx, sy, params)


def overlapping_sets(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray],
                     params: DedupParams) -> bool:
    """The smaller of two texts (word set, skeleton set) mostly inside the larger: in the
    word view, or in the skeleton view for spun copies."""
    words = overlap(a[0], b[0])
    if words.intersection >= params.min_shared and words.containment >= PART_OVERLAP:
        return True
    skeleton = overlap(a[1], b[1])
    return skeleton.intersection >= params.min_shared and skeleton.containment >= params.skeleton_threshold


def group_parts(graph: Graph, sets_of: SetsOf, parts: list[Edge], params: DedupParams) -> list[list[Edge]]:
    """Parts grouped by story, the group covering most of the page first.

    Groups are made of the *smallest* parts (those that hold no other part one way): a part that
    holds other parts may itself span two stories (a story with another's opening in
    a related block), and would bridge them.  A larger part then joins the one group
    whose parts it holds; one that holds parts of several groups joins none.
    """
    inside = {e.other for e in parts}
    # one way only: two parts that hold each other are copies, and group together
    holds = {e.other: {h.other for h in graph.of(e.other) if h.holds > 0 and h.inside <= 0 and h.other in inside}
             for e in parts}
    groups: list[list[Edge]] = []
    member_of: dict[int, int] = {}
    for part in sorted(parts, key=lambda e: (-coverage(e), graph.tie[e.other])):
        if holds[part.other]:
            continue
        for k, group in enumerate(groups):
            if same_story(graph, sets_of, part.other, group[0].other, params):
                group.append(part)
                member_of[part.other] = k
                break
        else:
            member_of[part.other] = len(groups)
            groups.append([part])
    for part in parts:
        found = {member_of[h] for h in holds[part.other] if h in member_of}
        if len(found) == 1:
            groups[found.pop()].append(part)
    for group in groups:
        group.sort(key=lambda e: (-coverage(e), graph.tie[e.other]))
    groups.sort(key=lambda g: (-coverage(g[0]), graph.tie[g[0].other]))
    return groups


def coverage(edge: Edge) -> float:
    """Share of the page (the edge's owner) that the part covers."""
    return edge.shared / max(1, edge.size)


def raw_composite(groups: list[list[Edge]]) -> bool:
    """Two or more stories, none dominating."""
    return len(groups) >= 2 and coverage(groups[0][0]) < DOMINANCE * coverage(groups[1][0])


def find_pages(graph: Graph, sets_of: SetsOf, params: DedupParams) -> PageRoles:
    """Composite pages, and the parts no page may take (see the module docstring)."""
    pages: dict[int, tuple[list[Edge], list[Edge], list[list[Edge]]]] = {}
    raw: set[int] = {node for node in graph.archive_record if graph.is_archived_composite(node)}
    for node in sorted(graph.edges):
        if node >= graph.n_batch:
            continue
        parts, copies = parts_and_copies(graph, node)
        if parts:
            pages[node] = (parts, copies, group_parts(graph, sets_of, parts, params))
            if raw_composite(pages[node][2]):
                raw.add(node)
    roles = PageRoles()
    for node, (parts, copies, groups) in pages.items():
        plain_copies = [c.other for c in copies if c.other not in raw]
        if node in raw and not plain_copies:
            roles.composite.add(node)
            roles.contains[node] = sorted((p.other for p in parts), key=graph.tie.__getitem__)
            roles.unlinked.update((p.other, node) for p in parts)
        else:
            roles.unlinked.update((side, node) for side in side_parts(graph, sets_of, node, parts, groups,
                                                                      plain_copies))
    return roles


def side_parts(graph: Graph, sets_of: SetsOf, page: int, parts: list[Edge], groups: list[list[Edge]],
               plain_copies: list[int]) -> list[int]:
    """Parts outside a non-composite page's main story: with plain copies, the parts
    whose share of the page lies mostly outside what the page shares with every copy (a
    related block that a copy of the story lacks); without, those outside the first
    (dominant) group."""
    if plain_copies:
        page_sets = sets_of(page)
        return [p.other for p in parts
                if not any(in_shared_region(sets_of(p.other), page_sets, sets_of(c)) for c in plain_copies)]
    main = {p.other for p in groups[0]} if groups else set()
    return [p.other for p in parts if p.other not in main]


def in_shared_region(part: tuple | None, page: tuple | None, copy: tuple | None) -> bool:
    """Whether most of what ``part`` shares with ``page`` is also in ``copy`` (word view, or
    the skeleton view where that says more: spun copies)."""
    if part is None or page is None or copy is None:
        return False
    for view in (0, 1):
        in_page = np.intersect1d(part[view], page[view], assume_unique=True)
        if len(in_page) and len(np.intersect1d(in_page, copy[view], assume_unique=True)) >= len(in_page) / 2:
            return True
    return False


def may_take(roles: PageRoles, page: int, edge: Edge) -> bool:
    """Whether ``page`` may take the text of ``edge`` (seen from the page) as its duplicate."""
    if edge.holds <= 0 or (edge.other, page) in roles.unlinked:
        return False
    return page not in roles.composite or edge.inside > 0


def dominated(graph: Graph, roles: PageRoles, node: int) -> bool:
    """Another text may take this one, which has next to nothing of its own, while the
    other has clearly more (a truncated copy against its original; a header or footer
    is too small to count, and a report that has a third of its own is no cut copy)."""
    for e in graph.of(node):
        if e.inside > 0 and may_take(roles, e.other, reversed_edge(node, e)):
            own, other_own = e.size - e.shared, e.other_size - e.shared
            if own <= max(SMALL_BLOCK, CUT_OWN * e.size) and other_own >= max(SMALL_BLOCK, 2 * own):
                return True
    return False


def best_home(graph: Graph, roles: PageRoles, node: int) -> float:
    """The highest score of this text in any text that may take it."""
    return max((e.inside for e in graph.of(node) if e.inside > 0
                and may_take(roles, e.other, reversed_edge(node, e))), default=0.0)


def support(graph: Graph, roles: PageRoles, node: int, words: int) -> tuple[int, int]:
    """(supported, small unshared block) of a text: its word shingles that a linked text
    shares (at most), and what it has of its own when that is as small as a header."""
    supported = max((e.shared_words for e in graph.of(node) if (node, e.other) not in roles.unlinked
                     and (e.other, node) not in roles.unlinked), default=0)
    unshared = words - supported
    return supported, unshared if supported and 0 < unshared < SMALL_BLOCK else 0


def takes(graph: Graph, roles: PageRoles, node: int) -> int:
    """How many linked texts this one may take as duplicates (it contains them)."""
    return sum(1 for e in graph.of(node) if may_take(roles, node, e))


def policy_keys(keep: str, columns: dict[str, np.ndarray], is_dominated: np.ndarray, taken: np.ndarray,
                supported: np.ndarray, small_unshared: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sort keys (most significant first) of the survivor order under ``keep``.

    Texts another one dominates come last whatever the policy; where the policy leaves
    a tie, the text that takes more of its linked texts comes first (fewer clusters for
    one story), and a text whose unshared part is only a header or footer comes after
    the one without it.
    """
    if keep == "first":
        return (is_dominated, columns["index"])
    if keep == "earliest":
        return (is_dominated, columns["no_date"], columns["date"], -taken, columns["name_rank"])
    if keep == "longest":
        return (is_dominated, -supported, -taken, small_unshared, -columns["length"], columns["edits"],
                columns["name_rank"])
    return (is_dominated, columns["edits"], columns["spin"], -taken, -supported, small_unshared,
            -columns["length"], columns["no_date"], columns["date"], columns["name_rank"])


@dataclass
class Assignment:
    """Per batch node: survivor (global index) and verified similarity to it; the nodes
    whose containment in their survivor was verified in the skeleton view (spun copies)."""

    survivor: dict[int, int]
    similarity: dict[int, float]
    roles: PageRoles
    spun: set[int] = field(default_factory=set)


@dataclass
class Sources:
    """How :func:`assign` reaches texts: a node's sets, a global record's sets (None for a
    short text), and the global index of batch node 0 (the archive's size)."""

    sets_of: SetsOf
    sets_of_record: SetsOf
    n_prev: int


def assign(graph: Graph, order: Sequence[int], sources: Sources, params: DedupParams,
           roles: PageRoles, joined: dict[int, tuple[int, float, bool]]) -> Assignment:
    """Survivors of the batch nodes, visited in survivor ``order`` (see the module docstring).

    ``joined`` holds nodes already assigned to an archived survivor (global index, score,
    verified in the skeleton view).
    """
    state = Assignment(survivor={}, similarity={}, roles=roles)
    for node, (target, score, spun) in joined.items():
        state.survivor[node], state.similarity[node] = target, score
        if spun:
            state.spun.add(node)
    position = {node: k for k, node in enumerate(order)}
    for node in order:
        if node in state.survivor:
            continue
        target, measure = reach(graph, state, node, sources, params, position)
        if target >= 0:
            state.survivor[node], state.similarity[node] = target, measure.a_in_b
            if measure.by_skeleton:
                state.spun.add(node)
            continue
        state.survivor[node], state.similarity[node] = sources.n_prev + node, 1.0
        for e in graph.of(node):
            if (e.other < graph.n_batch and e.other not in state.survivor and may_take(roles, node, e)
                    and e.holds >= best_home(graph, roles, e.other) - HOME_MARGIN):
                state.survivor[e.other], state.similarity[e.other] = sources.n_prev + node, e.holds
                if e.by_skeleton:
                    state.spun.add(e.other)
    return state


def linked(roles: PageRoles, a: int, b: int) -> bool:
    return (a, b) not in roles.unlinked and (b, a) not in roles.unlinked


def reach(graph: Graph, state: Assignment, node: int, sources: Sources, params: DedupParams,
          position: dict[int, int]) -> tuple[int, PairMeasure | None]:
    """The first survivor (archived ones first, then in survivor order) among those of
    ``node``'s linked neighbours that contains it, with the measure that verified it
    here; ``(-1, None)`` if none."""
    n_prev = sources.n_prev
    centres = {graph.fixed_survivor.get(e.other, state.survivor.get(e.other, -1))
               for e in graph.of(node) if linked(state.roles, node, e.other)}
    centres.discard(-1)
    mine = sources.sets_of(node) if centres else None
    if mine is None:
        return -1, None
    for centre in sorted(centres, key=lambda g: (g >= n_prev, g if g < n_prev else position[g - n_prev])):
        local = centre - n_prev
        theirs = sources.sets_of_record(centre)
        if theirs is None or (local >= 0 and not linked(state.roles, node, local)):
            continue
        m = measure_pair(mine[0], theirs[0], mine[1], theirs[1], params)
        composite = local in state.roles.composite if local >= 0 else centre in graph.archive_composite
        if m.a_in_b > 0 and (not composite or m.b_in_a > 0):
            return centre, m
    return -1, None

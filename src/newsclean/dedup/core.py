"""Near-duplicate clustering and survivor choice on in-memory records.

How two documents are compared (all on the *cleaned* text, see :mod:`.text`):

1. **Exact**: identical normalised word sequences (lowercase, punctuation stripped,
   whitespace folded) are copies of each other, whatever their length; empty texts
   included.  Documents with fewer than ``min_words`` words are compared by this rule
   only.
2. **Near**: documents with at least ``min_words`` words get two shingle sets — word
   ``shingle``-grams of the normalised words, and ``skeleton_shingle``-grams of the
   spin-robust skeleton (names, numbers, function words).  MinHash-LSH over each set
   proposes candidate pairs; *every* candidate is verified exactly, in both directions
   (:func:`.verify.measure_pair`): "a is contained in b" when

   * words: ``|A∩B| / |A| >= threshold`` with at least ``min_shared`` shared shingles
     (a truncated copy is contained in its original; an original in its copy with a
     header or footer);
   * or skeleton: ``|A∩B| / |A| >= skeleton_threshold`` on the skeleton sets while the
     word containment is at least ``skeleton_word_floor`` (spun copies: synonyms break
     word shingles, names, numbers and function words survive).

3. **Assignment** (:mod:`.assign`): a record is removed only as a duplicate of the
   survivor it names, and only when that survivor contains it; a page that holds
   several stories (a *composite* page) never joins them.  ``similarity`` is the
   verified containment of a record in its survivor (1.0 for survivors and exact
   copies).

Survivor per cluster (``keep``), among the records that no other record *dominates*
(contains, with clearly more of its own: a truncated copy never survives its
original):

* ``cleanest`` (default): fewest cleaning edits (least damage), then least spin, then
  most content that other members share (a header or footer that no other member has
  does not make a copy beat its original), then longest, then earliest date, then id;
* ``longest``: most shared content, then longest cleaned text, then fewest edits, then id;
* ``earliest``: earliest date (``date``, ``published``, ``published_at``,
  ``publish_date``, ``timestamp``; ISO 8601 strings or epoch seconds; records without a
  readable date come last), then id;
* ``first``: first in input order.

Ids: a record keeps its id; a record without one is called ``#<position>`` (1-based).
When an id occurs more than once, its 2nd, 3rd, ... occurrences are named
``<id>#2``, ``<id>#3`` in ``cluster``/``duplicate_of``, so cluster names stay unique.
Records sharing an id are otherwise independent: they merge only if their texts do.
Cluster ids are the survivor's (unique) name: deterministic, independent of hashing
and of input order.
"""
from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .assign import (
    Graph,
    PageRoles,
    Sources,
    assign,
    dominated,
    find_pages,
    overlapping_sets,
    policy_keys,
    support,
    takes,
)
from .minhash import lsh_candidates, lsh_candidates_between
from .params import KEEP_POLICIES, DedupParams
from .verify import measure_pair

if TYPE_CHECKING:
    from .features import Features
    from .index import Index


@dataclass
class Document:
    """What the clustering needs from one record (text already cleaned)."""

    id: Any
    text: str  # cleaned
    edits: int = 0
    date: float | None = None
    name: str = ""  # unique name used for cluster / duplicate_of
    spin: float = 0.0  # spin score of a text flagged as spun (0: not flagged, or not measured)


@dataclass(slots=True)
class DedupResult:
    """The verdict for one record, in input order."""

    id: Any
    cluster: str
    duplicate_of: str | None
    similarity: float
    event: str | None = None
    name: str = ""
    index: int = 0
    contains: list[str] | None = None  # a composite page: the names of the records it holds

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of is not None

    @property
    def composite(self) -> bool:
        return self.contains is not None

    def to_dict(self, events: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "cluster": self.cluster,
            "duplicate_of": self.duplicate_of,
            "similarity": self.similarity,
        }
        if self.contains is not None:
            d["composite"] = True
            d["contains"] = self.contains
        if events:
            d["event"] = self.event
        return d


@dataclass
class ClusterInfo:
    """Side results of a run, for stats.json."""

    timings: dict[str, float] = field(default_factory=dict)
    candidates: int = 0
    verified: int = 0
    exact_groups: int = 0
    short_docs: int = 0
    event_candidates: int = 0
    index: Any = None  # the batch's index entries (cluster_documents(build_index=True))
    joined_previous: int = 0  # documents that joined a cluster of the previous index
    composite_pages: int = 0  # records that hold several stories
    min_similarity: float | None = None  # the smallest verified similarity of a removed record


def unique_names(ids: Sequence[Any], taken: Collection[str] = ()) -> list[str]:
    """``str(id)`` for first occurrences, ``<id>#k`` for the k-th repeat; ``None`` -> ``#pos``.

    A generated name never takes a name that is some record's own id, nor one in
    ``taken`` (a previous run's): the next ``#k`` is used.

    >>> unique_names(["a", None, "a"]), unique_names(["a", "b"], taken={"a", "a#2"})
    (['a', '#2', 'a#2'], ['a#3', 'b'])
    >>> unique_names(["d", "d", "d#2"])
    ['d', 'd#3', 'd#2']
    """
    own = {str(i) for i in ids if i is not None}
    used = set(taken)
    seen: dict[str, int] = {}
    out = []
    for pos, i in enumerate(ids, 1):
        base = f"#{pos}" if i is None else str(i)
        k = seen.get(base, 0) + 1
        name = base if k == 1 else f"{base}#{k}"
        while name in used or (name != base and name in own):
            k += 1
            name = f"{base}#{k}"
        seen[base] = k
        used.add(name)
        out.append(name)
    return out



@dataclass
class DocMeta:
    """What the survivor policies read, per document (aligned with the features)."""

    names: list[str]
    ids: list[Any]
    edits: np.ndarray  # int64: cleaning edits (damage)
    length: np.ndarray  # int64: characters of cleaned text
    date: np.ndarray  # float64: epoch seconds, NaN when unknown
    spin: np.ndarray  # float64: spin score (0 when not measured)

    @classmethod
    def of(cls, docs: Sequence[Document]) -> DocMeta:
        return cls(
            names=[d.name for d in docs], ids=[d.id for d in docs],
            edits=np.fromiter((d.edits for d in docs), dtype=np.int64, count=len(docs)),
            length=np.fromiter((len(d.text) for d in docs), dtype=np.int64, count=len(docs)),
            date=np.fromiter((np.nan if d.date is None else d.date for d in docs), dtype=np.float64,
                             count=len(docs)),
            spin=np.fromiter((d.spin for d in docs), dtype=np.float64, count=len(docs)),
        )


def policy_columns(meta: DocMeta) -> dict[str, np.ndarray]:
    """The per-document columns the keep policies sort on.  Ties end on the unique name
    (never on input position), so survivors do not depend on input order."""
    n = len(meta.names)
    name_rank = np.empty(n, dtype=np.int64)
    name_rank[sorted(range(n), key=meta.names.__getitem__)] = np.arange(n)
    no_date = np.isnan(meta.date)
    return {"index": np.arange(n, dtype=np.int64), "name_rank": name_rank, "no_date": no_date,
            "date": np.where(no_date, 0.0, meta.date), "edits": meta.edits, "spin": meta.spin,
            "length": meta.length}


def survivor_rank(keep: str, meta: DocMeta) -> np.ndarray:
    """Rank of each document under policy ``keep`` on its own columns (0 = preferred): the
    order among exact copies, which share everything the text decides."""
    if keep not in KEEP_POLICIES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_POLICIES)}, not {keep!r}")
    n = len(meta.names)
    zeros = np.zeros(n, dtype=np.int64)
    keys = policy_keys(keep, policy_columns(meta), zeros, zeros, zeros, zeros)
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort(keys[::-1])] = np.arange(n)
    return rank


@dataclass
class Sketches:
    """MinHash signatures and shingle-set sizes of one side of candidate pairs, in both
    views (words, skeleton)."""

    word_sig: np.ndarray
    word_size: np.ndarray
    skeleton_sig: np.ndarray
    skeleton_size: np.ndarray

    @classmethod
    def of_features(cls, feat: Features) -> Sketches:
        return cls(feat.wsig, np.diff(feat.woff), feat.ssig, np.diff(feat.soff))

    @classmethod
    def of_index(cls, index: Index) -> Sketches:
        return cls(index.wsig, np.diff(np.asarray(index.wsets_offsets)), index.ssig,
                   np.diff(np.asarray(index.ssets_offsets)))


PLAUSIBLE_SIGMAS = 3.0  # how far above its estimate a pair's containment may truly lie


def containment_ceiling(sig_a: np.ndarray, sig_b: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    """An upper bound, from the signatures, of the containment of the smaller set in the
    larger: the share of equal bins estimates the Jaccard similarity J (binomial, over
    the bins), and with the sizes gives ``J (|A|+|B|) / ((1+J) min(|A|,|B|))``; the
    bound adds :data:`PLAUSIBLE_SIGMAS` standard errors of that estimate (the error
    grows with the size ratio: a copy cut to a twentieth keeps a wide bound)."""
    bins = sig_a.shape[1]
    j = (sig_a == sig_b).mean(axis=1)
    spread = (size_a + size_b) / np.maximum(1, np.minimum(size_a, size_b))
    estimate = j * spread / (1 + j)
    j_error = np.sqrt(np.maximum(j * (1 - j), 1.0 / bins) / bins)
    return estimate + PLAUSIBLE_SIGMAS * j_error * spread / (1 + j) ** 2


def _plausible(pairs: np.ndarray, first: Sketches, params: DedupParams, second: Sketches | None = None) -> np.ndarray:
    """Candidates whose signatures say they could pass verification (vectorised).

    ``pairs`` hold row numbers of ``first`` (the second column of ``second`` when
    given).  A pair can pass only if its word containment could reach ``threshold``, or
    ``skeleton_word_floor`` with a skeleton containment that could reach
    ``skeleton_threshold`` (:func:`containment_ceiling`).  Loose LSH bands (needed to
    find truncated copies) propose many pairs that share a sentence or one of two
    stories on a page: this drops them cheaply.
    """
    second = first if second is None else second
    keep = np.empty(len(pairs), dtype=bool)
    step = 50_000
    for start in range(0, len(pairs), step):
        a, b = pairs[start : start + step, 0], pairs[start : start + step, 1]
        words = containment_ceiling(first.word_sig[a], second.word_sig[b], first.word_size[a], second.word_size[b])
        skeleton = containment_ceiling(first.skeleton_sig[a], second.skeleton_sig[b], first.skeleton_size[a],
                                       second.skeleton_size[b])
        keep[start : start + step] = (words >= params.threshold) | (
            (words >= params.skeleton_word_floor) & (skeleton >= params.skeleton_threshold))
    return keep


@dataclass
class Verdicts:
    """Clustering of a batch, as arrays aligned with its documents.

    ``survivor[i]`` is the global index of document i's survivor (records of a previous
    index first, then the batch: ``n_prev + i`` is document i itself); ``similarity``
    the verified containment of i in it (1.0 for the survivor and exact copies);
    ``contains[i]`` the global indices of the records a composite page i holds;
    ``spun[i]`` whether i was removed as a spun copy (its containment verified in the
    skeleton view): the clusters where a spinner's swaps can be learned.
    """

    survivor: np.ndarray  # int64
    similarity: np.ndarray  # float64
    n_prev: int
    names: list[str]  # the batch's
    prev_names: list[str]
    contains: dict[int, list[int]] = field(default_factory=dict)
    spun: np.ndarray | None = None  # bool: removed as a spun copy (contained in the skeleton view)

    def name_of(self, g: int) -> str:
        return self.prev_names[g] if g < self.n_prev else self.names[g - self.n_prev]

    def contained_names(self, i: int) -> list[str] | None:
        """Names of the records composite page ``i`` holds (None: not a composite page)."""
        held = self.contains.get(i)
        return None if held is None else sorted(self.name_of(g) for g in held)

    def results(self, ids: Sequence[Any]) -> list[DedupResult]:
        out = []
        for i, (g, sim) in enumerate(zip(self.survivor.tolist(), self.similarity.tolist())):
            cname = self.name_of(g)
            own = g == self.n_prev + i
            out.append(DedupResult(id=ids[i], cluster=cname, duplicate_of=None if own else cname,
                                   similarity=round(float(sim), 4), name=self.names[i], index=i,
                                   contains=self.contained_names(i)))
        return out


def _union_pairs(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Sorted unique union of two pair arrays over ``n`` items (as 1-D keys: far cheaper than
    ``np.unique(axis=0)`` on tens of millions of pairs)."""
    keys = np.concatenate([a[:, 0] * n + a[:, 1], b[:, 0] * n + b[:, 1]])
    keys.sort()
    if len(keys) > 1:
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    return np.stack([keys // max(n, 1), keys % max(n, 1)], axis=1)


def exact_representatives(digest: np.ndarray, prev_digest: np.ndarray | None) -> np.ndarray:
    """For each document, the global index of the first record with its exact text
    (archive first): the node that stands for the text in the comparisons."""
    prev = np.asarray(prev_digest) if prev_digest is not None and len(prev_digest) else np.zeros((0, 16), np.uint8)
    n_prev, n = len(prev), len(digest)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    d = np.ascontiguousarray(np.concatenate([prev, digest])).view(np.uint64).reshape(-1, 2)
    order = np.lexsort((d[:, 1], d[:, 0]))  # stable: equal texts stay in index order
    sd = d[order]
    start = np.empty(len(d), dtype=bool)
    start[0] = True
    np.any(sd[1:] != sd[:-1], axis=1, out=start[1:])
    first = order[np.flatnonzero(start)][np.cumsum(start) - 1]
    rep = np.empty(len(d), dtype=np.int64)
    rep[order] = first
    return rep[n_prev:]


def group_faces(exact_rep: np.ndarray, rank: np.ndarray, n_prev: int) -> np.ndarray:
    """For each batch document, the global index of the best-ranked batch document with
    its exact text (what a group of exact copies shows: its survivor when it survives);
    a text the archive holds keeps the archived record."""
    n = len(exact_rep)
    face = exact_rep.copy()
    in_batch = np.flatnonzero(exact_rep >= n_prev)
    if len(in_batch):
        order = in_batch[np.lexsort((rank[in_batch], exact_rep[in_batch]))]
        group = exact_rep[order]
        start = np.ones(len(order), dtype=bool)
        start[1:] = group[1:] != group[:-1]
        best = order[np.flatnonzero(start)][np.cumsum(start) - 1]
        face[order] = best + n_prev
    return face[:n]


def batch_candidates(feat: Features, nodes: np.ndarray, params: DedupParams) -> np.ndarray:
    """LSH candidate pairs (document indices) among ``nodes``, either view."""
    pairs = _union_pairs(
        lsh_candidates(feat.wsig, params.bands, params.rows, subset=nodes),
        lsh_candidates(feat.ssig, params.bands, params.rows, subset=nodes),
        len(nodes),
    )
    return nodes[pairs]


def archive_candidates(feat: Features, nodes: np.ndarray, previous: Index, params: DedupParams) -> np.ndarray:
    """LSH candidate pairs (document index, archive row) between ``nodes`` and the archive."""
    rows = np.asarray(previous.row)
    if not previous.rows or not len(nodes):
        return np.zeros((0, 2), dtype=np.int64)
    used = np.unique(rows[rows >= 0])
    pairs = np.concatenate([
        lsh_candidates_between(feat.wsig, previous.wsig, params.bands, params.rows, new_subset=nodes,
                               old_subset=used),
        lsh_candidates_between(feat.ssig, previous.ssig, params.bands, params.rows, new_subset=nodes,
                               old_subset=used),
    ])
    if not len(pairs):
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.unique(pairs, axis=0)
    return np.stack([nodes[pairs[:, 0]], used[pairs[:, 1]]], axis=1)


@dataclass
class Texts:
    """Shingle sets of the batch's documents and of the archive rows in the graph
    (archive node ``n + k`` is row ``archive_rows[k]``)."""

    feat: Features
    previous: Index | None
    long_enough: np.ndarray
    archive_rows: list[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.feat)

    @property
    def n_prev(self) -> int:
        return self.previous.size if self.previous is not None else 0

    def of_node(self, node: int) -> tuple[np.ndarray, np.ndarray] | None:
        if node < self.n:
            return (self.feat.wset(node), self.feat.sset(node)) if self.long_enough[node] else None
        row = self.archive_rows[node - self.n]
        return self.previous.wset(row), self.previous.sset(row)

    def of_record(self, g: int) -> tuple[np.ndarray, np.ndarray] | None:
        if g >= self.n_prev:
            return self.of_node(g - self.n_prev)
        row = int(self.previous.row[g])
        return (self.previous.wset(row), self.previous.sset(row)) if row >= 0 else None


def archive_nodes(graph: Graph, texts: Texts, rows: np.ndarray) -> dict[int, int]:
    """Give each archive row in ``rows`` a node (its record, its survivor); row -> node."""
    previous = texts.previous
    record_rows = np.asarray(previous.row)
    has_row = np.flatnonzero(record_rows >= 0)
    first_rows, first_at = np.unique(record_rows[has_row], return_index=True)
    first_record = dict(zip(first_rows.tolist(), has_row[first_at].tolist()))
    cluster = np.asarray(previous.cluster)
    node_of = {}
    for row in sorted(set(rows.tolist())):
        node = texts.n + len(texts.archive_rows)
        texts.archive_rows.append(row)
        record = first_record[row]
        graph.archive_record[node], graph.fixed_survivor[node] = record, int(cluster[record])
        node_of[row] = node
    graph.archive_composite = set(np.flatnonzero(np.asarray(previous.composite)).tolist())
    graph.tie.extend(texts.n + graph.archive_record[texts.n + k] for k in range(len(texts.archive_rows)))
    return node_of


def verify_into(graph: Graph, texts: Texts, pairs: np.ndarray, params: DedupParams,
                second: dict[int, int] | None = None) -> None:
    """Verify candidate ``pairs`` exactly (both directions) and add the linked ones to
    ``graph``; ``second`` maps the second column to nodes (archive rows)."""
    for a, b in pairs.tolist():
        node_b = second[b] if second is not None else b
        sa, sb = texts.of_node(a), texts.of_node(node_b)
        measure = measure_pair(sa[0], sb[0], sa[1], sb[1], params)
        if measure.linked:
            graph.add(a, node_b, measure)


def build_graph(texts: Texts, nodes: np.ndarray, params: DedupParams, tie: list[int],
                info: ClusterInfo) -> Graph:
    """Candidates (MinHash-LSH within the batch and against the archive), each verified."""
    feat, previous = texts.feat, texts.previous
    started = time.perf_counter()
    graph = Graph(n_batch=texts.n, tie=list(tie))
    pairs = batch_candidates(feat, nodes, params)
    archive_pairs = archive_candidates(feat, nodes, previous, params) if previous is not None else None
    info.candidates = len(pairs) + (len(archive_pairs) if archive_pairs is not None else 0)
    info.timings["minhash_lsh"] = time.perf_counter() - started
    started = time.perf_counter()
    sketches = Sketches.of_features(feat)
    if len(pairs):
        verify_into(graph, texts, pairs[_plausible(pairs, sketches, params)], params)
    if archive_pairs is not None and len(archive_pairs):
        archive_pairs = archive_pairs[_plausible(archive_pairs, sketches, params, Sketches.of_index(previous))]
        verify_into(graph, texts, archive_pairs, params, archive_nodes(graph, texts, archive_pairs[:, 1]))
    info.verified = sum(len(edges) for edges in graph.edges.values()) // 2
    info.timings["verify"] = time.perf_counter() - started
    return graph


class ArchiveClusters:
    """The members of each archived cluster, found by survivor (sorted once, on demand)."""

    def __init__(self, previous: Index) -> None:
        self.cluster = np.asarray(previous.cluster)
        self.order = np.argsort(self.cluster, kind="stable")
        self.sorted = self.cluster[self.order]

    def members(self, survivor: int) -> np.ndarray:
        a, b = np.searchsorted(self.sorted, [survivor, survivor + 1])
        return self.order[a:b]


def archived_side_part(texts: Texts, clusters: ArchiveClusters, survivor: int, mine: tuple,
                       params: DedupParams) -> bool:
    """Whether a text that an archived survivor holds one way lies outside that
    survivor's story: the survivor has archived copies (members it is contained in) and
    none of them overlaps the text (the survivor is a story plus a related block)."""
    own_row = int(texts.previous.row[survivor])
    rows = {own_row}
    copies_seen = False
    for member in clusters.members(survivor).tolist():
        row = int(texts.previous.row[member])
        if row < 0 or row in rows:
            continue
        rows.add(row)
        theirs, survivor_sets = texts.of_record(member), texts.of_record(survivor)
        if measure_pair(survivor_sets[0], theirs[0], survivor_sets[1], theirs[1], params).a_in_b <= 0:
            continue  # a part of the survivor, not a copy of it
        copies_seen = True
        if overlapping_sets(mine, theirs, params):
            return False
    return copies_seen


def join_archive(graph: Graph, texts: Texts, params: DedupParams) -> dict[int, tuple[int, float, bool]]:
    """Batch nodes that an archived survivor contains: node -> (that survivor, score,
    verified in the skeleton view).

    The archive is append-only, so its survivors stay survivors.  A survivor that is a
    composite page takes only copies of the whole page, and one that is a story plus a
    related block takes nothing from the block.  Among several, the survivor the node
    covers most (the closest in size) is taken, then the earliest.
    """
    joined: dict[int, tuple[int, float, bool]] = {}
    if texts.previous is None or not graph.archive_record:
        return joined
    clusters = ArchiveClusters(texts.previous)
    for node in sorted(n for n in graph.edges if n < texts.n):
        survivors = {graph.fixed_survivor[e.other] for e in graph.of(node) if e.other >= texts.n and e.inside > 0}
        mine, options = texts.of_node(node) if survivors else None, []
        for survivor in sorted(survivors):
            theirs = texts.of_record(survivor)
            if theirs is None:
                continue
            m = measure_pair(mine[0], theirs[0], mine[1], theirs[1], params)
            if m.a_in_b <= 0 or (m.b_in_a <= 0 and (survivor in graph.archive_composite or archived_side_part(
                    texts, clusters, survivor, mine, params))):
                continue
            options.append((-m.shared / max(1, m.size_b), survivor, m.a_in_b, m.by_skeleton))
        if options:
            _, survivor, score, spun = min(options)
            joined[node] = (survivor, score, spun)
    return joined


def survivor_order(keep: str, columns: dict[str, np.ndarray], graph: Graph, roles: PageRoles,
                   nodes: np.ndarray, word_sizes: np.ndarray) -> list[int]:
    """The batch nodes in the order they are offered to be survivors (see :mod:`.assign`)."""
    is_dominated = np.fromiter((dominated(graph, roles, v) for v in nodes.tolist()), dtype=bool,
                               count=len(nodes))
    support_of = [support(graph, roles, v, int(word_sizes[v])) for v in nodes.tolist()]
    supported = np.array([s for s, _ in support_of], dtype=np.int64).reshape(-1)
    small_unshared = np.array([u for _, u in support_of], dtype=np.int64).reshape(-1)
    taken = np.fromiter((takes(graph, roles, v) for v in nodes.tolist()), dtype=np.int64, count=len(nodes))
    keys = policy_keys(keep, {k: v[nodes] for k, v in columns.items()}, is_dominated, taken, supported,
                       small_unshared)
    return nodes[np.lexsort(keys[::-1])].tolist()


def cluster_documents(
    docs: Sequence[Document],
    *,
    keep: str = "cleanest",
    params: DedupParams | None = None,
    info: ClusterInfo | None = None,
    previous: Index | None = None,
    build_index: bool = False,
) -> list[DedupResult]:
    """Near-duplicate clusters of already-cleaned documents; one result per document, in order.

    The in-memory front of :func:`cluster_features` (see there for ``previous`` and
    ``build_index``).
    """
    from .features import document_features

    params = params or DedupParams()
    info = info if info is not None else ClusterInfo()
    t0 = time.perf_counter()
    feat = document_features([d.text for d in docs], params)
    info.timings["shingles"] = time.perf_counter() - t0
    meta = DocMeta.of(docs)
    verdicts = cluster_features(feat, meta, keep=keep, params=params, info=info, previous=previous,
                                build_index=build_index)
    return verdicts.results(meta.ids)


def check_names(meta: DocMeta, previous: Index | None, params: DedupParams) -> None:
    if len(set(meta.names)) != len(meta.names):
        raise ValueError("document names must be unique (see unique_names)")
    if previous is not None:
        if previous.params != asdict(params):
            raise ValueError("the previous index was made with other parameters")
        taken = set(previous.names)
        if any(name in taken for name in meta.names):
            raise ValueError("document names must not repeat the previous index's (see unique_names)")


def cluster_features(
    feat: Features,
    meta: DocMeta,
    *,
    keep: str = "cleanest",
    params: DedupParams | None = None,
    info: ClusterInfo | None = None,
    previous: Index | None = None,
    build_index: bool = False,
) -> Verdicts:
    """Near-duplicate clusters of documents given by their :class:`Features`.

    With ``previous`` (the :class:`~newsclean.dedup.index.Index` of an earlier run, made
    with the same ``params``), the documents are also compared with that archive: a
    document that an archived survivor contains joins its cluster (which keeps its
    survivor: the archive is append-only); a new composite page may hold archived
    records.  Names must not repeat the archive's (``unique_names(ids, taken=...)``).

    With ``build_index``, ``info.index`` receives the index entries of these documents
    (numbered after the archive's), for :func:`~newsclean.dedup.index.write_index`.
    """
    survivor_rank(keep, meta)  # fails early on an unknown policy
    clustering = Clustering(feat, meta, params=params, info=info, previous=previous)
    return clustering.decide(meta, keep, build_index=build_index)


class Clustering:
    """The comparisons of a batch (exact groups, verified pairs, composite pages), made
    once; :meth:`decide` chooses survivors from them, and can be asked again when what
    the keep policy reads has changed (spin scores after a spin table was learned)."""

    def __init__(self, feat: Features, meta: DocMeta, *, params: DedupParams | None = None,
                 info: ClusterInfo | None = None, previous: Index | None = None) -> None:
        self.params = params = params or DedupParams()
        self.info = info = info if info is not None else ClusterInfo()
        check_names(meta, previous, params)
        self.texts = texts = Texts(feat, previous, feat.nwords >= params.min_words)
        n, n_prev = texts.n, texts.n_prev
        self.exact_rep = exact_representatives(feat.digest, previous.digest if previous is not None else None)
        info.exact_groups = len(np.unique(self.exact_rep))
        info.short_docs = int((~texts.long_enough).sum())
        nodes = np.flatnonzero((self.exact_rep == np.arange(n) + n_prev) & texts.long_enough)
        self.graph = build_graph(texts, nodes, params, group_ties(self.exact_rep, meta, n_prev), info)
        started = time.perf_counter()
        self.joined = join_archive(self.graph, texts, params)
        self.roles = find_pages(self.graph, texts.of_node, params)
        self.linked = np.array(sorted(node for node in self.graph.edges if node < n), dtype=np.int64)
        info.timings["pages"] = time.perf_counter() - started

    def decide(self, meta: DocMeta, keep: str, *, build_index: bool = False) -> Verdicts:
        """Survivors under policy ``keep`` and what ``meta`` says of each record."""
        started = time.perf_counter()
        texts, info, n_prev = self.texts, self.info, self.texts.n_prev
        face = group_faces(self.exact_rep, survivor_rank(keep, meta), n_prev)
        local_face = np.where(face >= n_prev, face - n_prev, np.arange(texts.n))
        columns = {k: v[local_face] for k, v in policy_columns(meta).items()}  # a node shows its face's
        order = survivor_order(keep, columns, self.graph, self.roles, self.linked, np.diff(texts.feat.woff))
        state = assign(self.graph, order, Sources(texts.of_node, texts.of_record, n_prev), self.params, self.roles,
                       self.joined)
        survivor, similarity, spun = spread_to_copies(state, self.exact_rep, face, texts.previous)
        contains = composite_contents(self.roles, self.graph, self.exact_rep, face, n_prev)
        removed = survivor != np.arange(texts.n) + n_prev
        info.joined_previous = int((survivor < n_prev).sum())
        info.composite_pages = len(contains)
        info.min_similarity = round(float(similarity[removed].min()), 4) if removed.any() else None
        info.timings["survivors"] = info.timings.get("survivors", 0.0) + time.perf_counter() - started
        previous = texts.previous
        verdicts = Verdicts(survivor=survivor, similarity=similarity, n_prev=n_prev, names=list(meta.names),
                            prev_names=previous.names if previous is not None else [], contains=contains, spun=spun)
        if build_index:
            info.index = self.index_of(verdicts, keep)
        return verdicts

    def index_of(self, verdicts: Verdicts, keep: str) -> Index:
        """The index entries of the batch under ``verdicts``, for a later ``--against``."""
        return _index_part(verdicts.names, verdicts.survivor, verdicts.similarity, verdicts.contains,
                           self.texts.feat, self.exact_rep, self.texts, self.params, keep)


def group_ties(exact_rep: np.ndarray, meta: DocMeta, n_prev: int) -> list[int]:
    """Per batch document, the smallest name rank in its group of exact copies: how a
    node is ordered where nothing else orders it, whichever copy came first."""
    name_rank = policy_columns(meta)["name_rank"]
    ties = name_rank.copy()
    in_batch = exact_rep >= n_prev
    np.minimum.at(ties, exact_rep[in_batch] - n_prev, name_rank[in_batch])
    return ties.tolist()


def spread_to_copies(state, exact_rep: np.ndarray, face: np.ndarray, previous: Index | None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Survivor, similarity and spun flag of every document from its text's node: a
    surviving node's group survives as its face (best-ranked copy), the other copies
    being its duplicates at 1.0; a removed node's copies follow it."""
    n = len(exact_rep)
    n_prev = previous.size if previous is not None else 0
    node_survivor = np.arange(n, dtype=np.int64) + n_prev
    node_similarity = np.ones(n, dtype=np.float64)
    node_spun = np.zeros(n, dtype=bool)
    for node, target in state.survivor.items():
        node_survivor[node], node_similarity[node] = target, state.similarity[node]
    node_spun[list(state.spun)] = True
    in_batch = exact_rep >= n_prev
    local = np.where(in_batch, exact_rep - n_prev, 0)
    target = node_survivor[local]
    own_group = target == exact_rep  # the node survives: its group's face stands for it
    target_local = np.where(target >= n_prev, target - n_prev, 0)
    survivor = np.where(own_group, face, np.where(target >= n_prev, face[target_local], target))
    similarity = np.where(own_group, 1.0, node_similarity[local])
    spun = ~own_group & node_spun[local]
    if previous is not None and (~in_batch).any():
        archived = exact_rep[~in_batch]
        cluster = np.asarray(previous.cluster)[archived]
        survivor[~in_batch] = cluster
        similarity[~in_batch] = np.where(cluster == archived, 1.0, np.asarray(previous.similarity)[archived])
        spun[~in_batch] = False
    return survivor, similarity, spun


def composite_contents(roles: PageRoles, graph: Graph, exact_rep: np.ndarray, face: np.ndarray,
                       n_prev: int) -> dict[int, list[int]]:
    """Batch document -> global indices of the records its page holds (each text by its
    group's face), for every composite page and its exact copies."""
    if not roles.composite:
        return {}
    n = graph.n_batch
    held = {node: [int(face[p]) if p < n else graph.archive_record[p] for p in roles.contains[node]]
            for node in roles.composite}
    local = exact_rep - n_prev
    return {i: held[int(local[i])] for i in np.flatnonzero(np.isin(local, list(held))).tolist()}


def _index_part(names, survivor, similarity, contains, feat: Features, exact_rep, texts: Texts, params,
                keep) -> Index:
    """The index entries of a batch: one row per document (numbered after ``previous``'s rows).

    A record points at the row of its exact representative (archived or new); short
    texts at none (-1).  Rows of exact copies and short texts are stored but never used.
    """
    from .index import Index

    previous = texts.previous
    n_prev = texts.n_prev
    r_prev = previous.rows if previous is not None else 0
    row = np.full(len(names), -1, dtype=np.int64)
    new_rep = exact_rep >= n_prev
    rep_local = np.where(new_rep, exact_rep - n_prev, 0)
    ok = new_rep & texts.long_enough[rep_local]
    row[ok] = r_prev + rep_local[ok]
    if previous is not None and (~new_rep).any():
        row[~new_rep] = np.asarray(previous.row)[exact_rep[~new_rep]]
    composite = np.zeros(len(names), dtype=bool)
    composite[list(contains)] = True
    return Index(
        names=list(names), cluster=survivor, digest=feat.digest, row=row, wsig=feat.wsig, ssig=feat.ssig,
        wsets=feat.wsets, wsets_offsets=feat.woff, ssets=feat.ssets, ssets_offsets=feat.soff,
        params=asdict(params), keep=keep, similarity=similarity.astype(np.float32), composite=composite,
    )

"""Near-duplicate clustering and survivor choice on in-memory records.

How two documents are compared (all on the *cleaned* text, see :mod:`.text`):

1. **Exact**: identical normalised word sequences (lowercase, punctuation stripped,
   whitespace folded) always merge, whatever their length; empty texts included.
2. **Near**: documents with at least ``min_words`` words get two shingle sets — word
   ``shingle``-grams of the normalised words, and ``skeleton_shingle``-grams of the
   spin-robust skeleton (names, numbers, function words).  MinHash-LSH over each set
   proposes candidate pairs; *every* candidate is verified exactly:

   * words: containment ``|A∩B| / min(|A|,|B|) >= threshold`` (truncated copies and
     copies with boilerplate headers/footers are contained in the original), with at
     least ``min_shared`` shared shingles;
   * or skeleton containment ``>= skeleton_threshold`` while word containment is at
     least ``skeleton_word_floor`` (spun copies: synonyms break word shingles, names,
     numbers and function words survive).

   Verified pairs are joined by union-find (connected components).
3. Documents with fewer than ``min_words`` words (and empty ones) are never merged on
   shingles: only rule 1 applies to them.

Survivor per cluster (``keep``):

* ``cleanest`` (default): fewest cleaning edits (least damage), then longest cleaned
  text, then earliest in input, then id;
* ``longest``: longest cleaned text, then fewest edits, then input order;
* ``earliest``: earliest date (``date``, ``published``, ``published_at``,
  ``publish_date``, ``timestamp``; ISO 8601 strings or epoch seconds; records without a
  readable date come last), then input order;
* ``first``: first in input order.

Ids: a record keeps its id; a record without one is called ``#<position>`` (1-based).
When an id occurs more than once, its 2nd, 3rd, ... occurrences are named
``<id>#2``, ``<id>#3`` in ``cluster``/``duplicate_of``, so cluster names stay unique.
Records sharing an id are otherwise independent: they merge only if their texts do.
Cluster ids are the survivor's (unique) name: deterministic, independent of hashing.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import xxhash

from .minhash import MinHasher, lsh_candidates, lsh_candidates_between
from .text import skeleton, words
from .unionfind import connected_components
from .verify import overlap

if TYPE_CHECKING:
    from .index import Index

KEEP_POLICIES = ("cleanest", "earliest", "longest", "first")
DATE_FIELDS = ("date", "published", "published_at", "publish_date", "timestamp")


@dataclass(frozen=True)
class DedupParams:
    """Tuned on the dev set (see benchmarks/eval_dedup.py)."""

    shingle: int = 3  # words per shingle
    skeleton_shingle: int = 5  # skeleton tokens per shingle
    num_perm: int = 128
    bands: int = 64
    rows: int = 2  # 64 x 2: a pair with Jaccard 0.2 is a candidate with p = 0.93
    threshold: float = 0.6  # word-shingle containment
    min_shared: int = 8  # shared shingles needed besides the ratio
    skeleton_threshold: float = 0.75
    skeleton_word_floor: float = 0.3
    min_words: int = 20
    seed: int = 1

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {self.threshold}")
        if self.bands * self.rows > self.num_perm:
            raise ValueError("bands * rows must not exceed num_perm")


@dataclass
class Document:
    """What the clustering needs from one record (text already cleaned)."""

    id: Any
    text: str  # cleaned
    edits: int = 0
    date: float | None = None
    name: str = ""  # unique name used for cluster / duplicate_of


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

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of is not None

    def to_dict(self, events: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "cluster": self.cluster,
            "duplicate_of": self.duplicate_of,
            "similarity": self.similarity,
        }
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


def unique_names(ids: Sequence[Any], taken: Collection[str] = ()) -> list[str]:
    """``str(id)`` for first occurrences, ``<id>#k`` for the k-th repeat; ``None`` -> ``#pos``.

    Names in ``taken`` (a previous run's) are skipped: the next ``#k`` is used.

    >>> unique_names(["a", None, "a"]), unique_names(["a", "b"], taken={"a", "a#2"})
    (['a', '#2', 'a#2'], ['a#3', 'b'])
    """
    seen: dict[str, int] = {}
    out = []
    for pos, i in enumerate(ids, 1):
        base = f"#{pos}" if i is None else str(i)
        k = seen.get(base, 0) + 1
        name = base if k == 1 else f"{base}#{k}"
        while name in taken:
            k += 1
            name = f"{base}#{k}"
        seen[base] = k
        out.append(name)
    return out


def parse_date(value: Any) -> float | None:
    """Epoch seconds from an ISO 8601 string or a number; None when unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    s = value.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def record_date(record: dict[str, Any]) -> float | None:
    for f in DATE_FIELDS:
        if f in record:
            d = parse_date(record[f])
            if d is not None:
                return d
    return None


def _sort_key(policy: str) -> Callable[[tuple[int, Document]], tuple]:
    if policy == "cleanest":
        return lambda p: (p[1].edits, -len(p[1].text), p[0], p[1].name)
    if policy == "longest":
        return lambda p: (-len(p[1].text), p[1].edits, p[0], p[1].name)
    if policy == "earliest":
        return lambda p: (p[1].date is None, p[1].date or 0.0, p[0], p[1].name)
    if policy == "first":
        return lambda p: (p[0],)
    raise ValueError(f"keep must be one of {', '.join(KEEP_POLICIES)}, not {policy!r}")


def _similarity(wa: np.ndarray, wb: np.ndarray, sa: np.ndarray, sb: np.ndarray, params: DedupParams) -> float:
    """The verified score of a pair (0 when it does not pass): the containment that passed."""
    w = overlap(wa, wb)
    if w.containment >= params.threshold and w.intersection >= params.min_shared:
        return w.containment
    if w.containment >= params.skeleton_word_floor:
        s = overlap(sa, sb)
        if s.containment >= params.skeleton_threshold and s.intersection >= params.min_shared:
            return s.containment
    return 0.0


def _plausible(pairs: np.ndarray, sig: np.ndarray, size: np.ndarray, params: DedupParams) -> np.ndarray:
    """Candidates whose signatures say they could pass verification (vectorised).

    Every accepted pair has word containment at least ``skeleton_word_floor``.  The
    share of equal signature bins estimates the Jaccard similarity J, and with the set
    sizes gives the containment ``J (|A|+|B|) / ((1+J) min(|A|,|B|))``; pairs estimated
    below a third of the floor (far outside the estimate's noise with 128 bins) cannot
    pass and are not verified one by one.  Loose LSH bands (needed to find truncated
    copies) propose many pairs that only share a sentence: this drops them cheaply.
    """
    keep = np.empty(len(pairs), dtype=bool)
    floor = params.skeleton_word_floor / 3
    for start in range(0, len(pairs), 100_000):
        a, b = pairs[start : start + 100_000, 0], pairs[start : start + 100_000, 1]
        j = (sig[a] == sig[b]).mean(axis=1)
        na, nb = size[a], size[b]
        containment = j * (na + nb) / ((1 + j) * np.maximum(1, np.minimum(na, nb)))
        keep[start : start + 100_000] = containment >= floor
    return keep


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

    With ``previous`` (the :class:`~newsclean.dedup.index.Index` of an earlier run, made
    with the same ``params``), the documents are also compared with every record of that
    archive, by the same rules: a document that matches an archived record joins that
    record's cluster (``duplicate_of`` = its survivor, which stays the survivor: the
    archive is append-only).  Archived clusters are never merged with each other; a
    group of new documents that reaches several of them joins the earliest archived one.
    Groups of new documents that reach none are clustered as without ``previous``.
    Names must not repeat the archive's (``unique_names(ids, taken=...)``).

    With ``build_index``, ``info.index`` receives the index entries of these documents
    (numbered after the archive's), for :func:`~newsclean.dedup.index.write_index`.
    """
    params = params or DedupParams()
    info = info if info is not None else ClusterInfo()
    key = _sort_key(keep)
    n = len(docs)
    names = [d.name for d in docs]
    if len(set(names)) != n:
        raise ValueError("document names must be unique (see unique_names)")
    n_prev = previous.size if previous is not None else 0
    if previous is not None:
        if previous.params != asdict(params):
            raise ValueError("the previous index was made with other parameters")
        taken = set(previous.names)
        if any(name in taken for name in names):
            raise ValueError("document names must not repeat the previous index's (see unique_names)")

    t0 = time.perf_counter()
    # Normalised texts as single strings (not word lists: a list of Python strings per
    # document costs ~10x the memory) and word counts.
    norm: list[str] = []
    nwords = np.empty(n, dtype=np.int64)
    for i, d in enumerate(docs):
        tk = words(d.text)
        nwords[i] = len(tk)
        norm.append(" ".join(tk))
    # 1. exact duplicates: identical normalised word sequences (numbered after the archive)
    first_of: dict[bytes, int] = {}
    if previous is not None:
        raw = np.ascontiguousarray(previous.digest).tobytes()
        for j in range(n_prev):
            first_of.setdefault(raw[16 * j : 16 * j + 16], j)
    digests = [xxhash.xxh3_128_digest(t.encode("utf-8", "surrogatepass")) for t in norm]
    exact_rep = np.array([first_of.setdefault(h, n_prev + i) for i, h in enumerate(digests)], dtype=np.int64)
    info.exact_groups = len(set(digests))
    own = np.arange(n, dtype=np.int64)
    in_batch = (exact_rep >= n_prev) & (exact_rep != own + n_prev)
    edges = [np.stack([exact_rep[in_batch] - n_prev, own[in_batch]], axis=1)]
    # edges to archived clusters: (document, survivor index in the archive)
    to_prev = exact_rep < n_prev
    prev_edges = [np.stack([own[to_prev], np.asarray(previous.cluster)[exact_rep[to_prev]]], axis=1)] if (
        previous is not None) else []

    # 2. near duplicates among the unique, long-enough representatives
    reps = [i for i in range(n) if exact_rep[i] == n_prev + i and nwords[i] >= params.min_words]
    info.short_docs = int((nwords < params.min_words).sum())
    # shingle sets (sorted unique hashes, for exact verification) and their signatures, in batches
    hasher = MinHasher(params.num_perm, seed=params.seed)
    wsig, wsets = hasher.document_signatures([norm[i] for i in reps], params.shingle, return_sets=True)
    del norm
    ssig, ssets = hasher.document_signatures([skeleton(docs[i].text) for i in reps], params.skeleton_shingle,
                                             return_sets=True)
    info.timings["shingles"] = time.perf_counter() - t0  # words, shingles and signatures

    t1 = time.perf_counter()
    cand = np.concatenate(
        [lsh_candidates(wsig, params.bands, params.rows), lsh_candidates(ssig, params.bands, params.rows)]
    )
    if len(cand):
        cand = np.unique(cand, axis=0)
    cand_prev = np.zeros((0, 2), dtype=np.int64)
    if previous is not None and previous.rows and reps:
        cand_prev = np.concatenate([
            lsh_candidates_between(wsig, previous.wsig, params.bands, params.rows),
            lsh_candidates_between(ssig, previous.ssig, params.bands, params.rows),
        ])
        if len(cand_prev):
            cand_prev = np.unique(cand_prev, axis=0)
    info.candidates = len(cand) + len(cand_prev)
    info.timings["minhash_lsh"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    rep_arr = np.array(reps, dtype=np.int64)
    if len(cand):
        wsize = np.fromiter(map(len, wsets), dtype=np.int64, count=len(wsets))
        cand = cand[_plausible(cand, wsig, wsize, params)]
    good = []
    for a, b in cand.tolist():
        if _similarity(wsets[a], wsets[b], ssets[a], ssets[b], params) > 0:
            good.append((a, b))
    info.verified = len(good)
    if good:
        edges.append(rep_arr[np.array(good, dtype=np.int64)])
    if len(cand_prev):
        row_cluster = previous.row_cluster()
        good_prev = [(a, r) for a, r in cand_prev.tolist()
                     if _similarity(wsets[a], previous.wset(r), ssets[a], previous.sset(r), params) > 0]
        info.verified += len(good_prev)
        if good_prev:
            g = np.array(good_prev, dtype=np.int64)
            prev_edges.append(np.stack([rep_arr[g[:, 0]], row_cluster[g[:, 1]]], axis=1))
    # nodes: the documents, then the archived clusters they reach
    prev_clusters = np.zeros(0, dtype=np.int64)
    if prev_edges:
        pe = np.concatenate(prev_edges)
        prev_clusters, node = np.unique(pe[:, 1], return_inverse=True)
        edges.append(np.stack([pe[:, 0], n + node.reshape(-1)], axis=1))
    labels = connected_components(n + len(prev_clusters), np.concatenate(edges))
    info.timings["verify"] = time.perf_counter() - t2

    # 3. survivors and similarity to them
    t3 = time.perf_counter()
    members: dict[int, list[int]] = {}
    for i, lab in enumerate(labels[:n].tolist()):
        members.setdefault(lab, []).append(i)
    archived: dict[int, int] = {}  # component -> earliest archived survivor it reaches
    for k, lab in enumerate(labels[n:].tolist()):
        archived.setdefault(lab, int(prev_clusters[k]))  # prev_clusters ascend
    rep_pos = {r: k for k, r in enumerate(reps)}

    def sets_of(g: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Shingle sets of the exact representative of global record ``g``."""
        ex = int(exact_rep[g - n_prev]) if g >= n_prev else g
        if ex >= n_prev:
            a = rep_pos.get(ex - n_prev)
            return None if a is None else (wsets[a], ssets[a])
        r = int(previous.row[ex])
        return None if r < 0 else (previous.wset(r), previous.sset(r))

    def digest_of(g: int) -> bytes:
        return digests[g - n_prev] if g >= n_prev else np.asarray(previous.digest[g]).tobytes()

    results: list[DedupResult | None] = [None] * n
    survivor_of = np.empty(n, dtype=np.int64)
    for lab, group in members.items():
        if lab in archived:
            surv_g = archived[lab]
            sname = previous.names[surv_g]
            info.joined_previous += len(group)
        else:
            surv = min(((i, docs[i]) for i in group), key=key)[0]
            surv_g, sname = n_prev + surv, names[surv]
        surv_digest = digest_of(surv_g)
        surv_sets = None
        for i in group:
            survivor_of[i] = surv_g
            if n_prev + i == surv_g or digests[i] == surv_digest:
                sim = 1.0
            else:
                if surv_sets is None:
                    surv_sets = sets_of(surv_g) or ()
                mine = sets_of(n_prev + i)
                sim = 0.0
                if mine is not None and surv_sets:
                    sim = _similarity(mine[0], surv_sets[0], mine[1], surv_sets[1], params)
                    if sim == 0.0:  # joined through other members: report the word containment
                        sim = overlap(mine[0], surv_sets[0]).containment
            results[i] = DedupResult(
                id=docs[i].id,
                cluster=sname,
                duplicate_of=None if n_prev + i == surv_g else sname,
                similarity=round(float(sim), 4),
                name=names[i],
                index=i,
            )
    info.timings["survivors"] = time.perf_counter() - t3
    if build_index:
        info.index = _index_part(names, survivor_of, digests, exact_rep, rep_pos, wsig, ssig, wsets, ssets,
                                 previous, params, keep)
    return [r for r in results if r is not None]


def _index_part(names, survivor_of, digests, exact_rep, rep_pos, wsig, ssig, wsets, ssets, previous, params,
                keep) -> Index:
    """The index entries of a batch (records and rows numbered after ``previous``'s)."""
    from .index import Index

    n_prev = previous.size if previous is not None else 0
    r_prev = previous.rows if previous is not None else 0
    row = np.full(len(names), -1, dtype=np.int64)
    for i, ex in enumerate(exact_rep.tolist()):
        if ex >= n_prev:
            a = rep_pos.get(ex - n_prev)
            if a is not None:
                row[i] = r_prev + a
        else:
            row[i] = previous.row[ex]

    def flat(sets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        off = np.zeros(len(sets) + 1, dtype=np.int64)
        np.cumsum([len(s) for s in sets], out=off[1:])
        return (np.concatenate(sets).astype(np.uint64) if sets else np.zeros(0, np.uint64)), off

    w, woff = flat(wsets)
    s, soff = flat(ssets)
    return Index(
        names=list(names), cluster=survivor_of, digest=np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 16),
        row=row, wsig=wsig, ssig=ssig, wsets=w, wsets_offsets=woff, ssets=s, ssets_offsets=soff,
        params=asdict(params), keep=keep,
    )


def params_dict(params: DedupParams) -> dict[str, Any]:
    return asdict(params)

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

import time
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .minhash import lsh_candidates, lsh_candidates_between
from .params import KEEP_POLICIES, DedupParams, parse_date, record_date  # noqa: F401  (re-exported)
from .unionfind import connected_components
from .verify import overlap

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


def survivor_rank(keep: str, meta: DocMeta) -> np.ndarray:
    """Rank of each document as a survivor under policy ``keep`` (0 = preferred).

    Ties end on the unique name (never on input position), so the survivors do not
    depend on the order the records came in (``first`` excepted, by definition).
    """
    n = len(meta.names)
    if keep == "first":
        return np.arange(n, dtype=np.int64)
    if keep not in KEEP_POLICIES:
        raise ValueError(f"keep must be one of {', '.join(KEEP_POLICIES)}, not {keep!r}")
    name_rank = np.empty(n, dtype=np.int64)
    name_rank[sorted(range(n), key=meta.names.__getitem__)] = np.arange(n)
    no_date = np.isnan(meta.date)
    date = np.where(no_date, 0.0, meta.date)
    if keep == "cleanest":
        keys = (meta.edits, meta.spin, -meta.length, no_date, date, name_rank)
    elif keep == "longest":
        keys = (-meta.length, meta.edits, name_rank)
    else:  # earliest
        keys = (no_date, date, name_rank)
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort(keys[::-1])] = np.arange(n)
    return rank


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


def _plausible(pairs: np.ndarray, sig: np.ndarray, size: np.ndarray, params: DedupParams,
               other_sig: np.ndarray | None = None, other_size: np.ndarray | None = None) -> np.ndarray:
    """Candidates whose signatures say they could pass verification (vectorised).

    ``pairs`` hold row numbers of ``sig`` / ``size`` (the second column of
    ``other_sig`` / ``other_size`` when given).  Every accepted pair has word
    containment at least ``skeleton_word_floor``.  The share of equal signature bins
    estimates the Jaccard similarity J, and with the set sizes gives the containment
    ``J (|A|+|B|) / ((1+J) min(|A|,|B|))``; pairs estimated below a third of the floor
    (far outside the estimate's noise with 128 bins) cannot pass and are not verified
    one by one.  Loose LSH bands (needed to find truncated copies) propose many pairs
    that only share a sentence: this drops them cheaply.
    """
    other_sig = sig if other_sig is None else other_sig
    other_size = size if other_size is None else other_size
    keep = np.empty(len(pairs), dtype=bool)
    floor = params.skeleton_word_floor / 3
    step = 50_000
    for start in range(0, len(pairs), step):
        a, b = pairs[start : start + step, 0], pairs[start : start + step, 1]
        j = (sig[a] == other_sig[b]).mean(axis=1)
        na, nb = size[a], other_size[b]
        containment = j * (na + nb) / ((1 + j) * np.maximum(1, np.minimum(na, nb)))
        keep[start : start + step] = containment >= floor
    return keep


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


@dataclass
class Verdicts:
    """Clustering of a batch, as arrays aligned with its documents.

    ``survivor[i]`` is the global index of document i's survivor (records of a previous
    index first, then the batch: ``n_prev + i`` is document i itself); ``similarity``
    the verified containment to it (1.0 for the survivor and exact copies).
    """

    survivor: np.ndarray  # int64
    similarity: np.ndarray  # float64
    n_prev: int
    names: list[str]  # the batch's
    prev_names: list[str]

    def name_of(self, g: int) -> str:
        return self.prev_names[g] if g < self.n_prev else self.names[g - self.n_prev]

    def results(self, ids: Sequence[Any]) -> list[DedupResult]:
        out = []
        for i, (g, sim) in enumerate(zip(self.survivor.tolist(), self.similarity.tolist())):
            cname = self.name_of(g)
            own = g == self.n_prev + i
            out.append(DedupResult(id=ids[i], cluster=cname, duplicate_of=None if own else cname,
                                   similarity=round(float(sim), 4), name=self.names[i], index=i))
        return out


def _union_pairs(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Sorted unique union of two pair arrays over ``n`` items (as 1-D keys: far cheaper than
    ``np.unique(axis=0)`` on tens of millions of pairs)."""
    keys = np.concatenate([a[:, 0] * n + a[:, 1], b[:, 0] * n + b[:, 1]])
    keys.sort()
    if len(keys) > 1:
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    return np.stack([keys // max(n, 1), keys % max(n, 1)], axis=1)


def _exact_representatives(digest: np.ndarray, prev_digest: np.ndarray | None) -> np.ndarray:
    """For each document, the global index of the first record with its digest (archive first)."""
    parts = [np.asarray(prev_digest)] if prev_digest is not None and len(prev_digest) else []
    d = np.ascontiguousarray(np.concatenate([*parts, digest])).view(np.uint64).reshape(-1, 2)
    n_all = len(d)
    if n_all == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((d[:, 1], d[:, 0]))  # stable: equal digests stay in index order
    sd = d[order]
    start = np.empty(n_all, dtype=bool)
    start[0] = True
    np.any(sd[1:] != sd[:-1], axis=1, out=start[1:])
    first = order[np.flatnonzero(start)][np.cumsum(start) - 1]
    rep = np.empty(n_all, dtype=np.int64)
    rep[order] = first
    return rep[n_all - len(digest):]


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
    n = len(feat)
    names = meta.names
    if len(set(names)) != n:
        raise ValueError("document names must be unique (see unique_names)")
    n_prev = previous.size if previous is not None else 0
    prev_names: list[str] = previous.names if previous is not None else []
    if previous is not None:
        if previous.params != asdict(params):
            raise ValueError("the previous index was made with other parameters")
        taken = set(prev_names)
        if any(name in taken for name in names):
            raise ValueError("document names must not repeat the previous index's (see unique_names)")
    rank = survivor_rank(keep, meta)  # fails early on an unknown policy

    t1 = time.perf_counter()
    # 1. exact duplicates: identical normalised word sequences (global indices, archive first)
    exact_rep = _exact_representatives(feat.digest, previous.digest if previous is not None else None)
    own = np.arange(n, dtype=np.int64)
    info.exact_groups = len(np.unique(exact_rep))
    in_batch = (exact_rep >= n_prev) & (exact_rep != own + n_prev)
    edges = [np.stack([exact_rep[in_batch] - n_prev, own[in_batch]], axis=1)]
    to_prev = exact_rep < n_prev
    prev_edges = [np.stack([own[to_prev], np.asarray(previous.cluster)[exact_rep[to_prev]]], axis=1)] if (
        previous is not None) else []

    # 2. near duplicates among the unique, long-enough representatives
    long_enough = feat.nwords >= params.min_words
    reps = np.flatnonzero((exact_rep == own + n_prev) & long_enough)
    info.short_docs = int((~long_enough).sum())
    wsize = np.diff(feat.woff)
    cand = _union_pairs(
        lsh_candidates(feat.wsig, params.bands, params.rows, subset=reps),
        lsh_candidates(feat.ssig, params.bands, params.rows, subset=reps),
        len(reps),
    )
    cand = reps[cand]  # document indices
    cand_prev = np.zeros((0, 2), dtype=np.int64)
    if previous is not None and previous.rows and len(reps):
        used = np.unique(np.asarray(previous.row)[np.asarray(previous.row) >= 0])
        cand_prev = np.concatenate([
            lsh_candidates_between(feat.wsig, previous.wsig, params.bands, params.rows, new_subset=reps,
                                   old_subset=used),
            lsh_candidates_between(feat.ssig, previous.ssig, params.bands, params.rows, new_subset=reps,
                                   old_subset=used),
        ])
        if len(cand_prev):
            cand_prev = np.unique(cand_prev, axis=0)
            cand_prev = np.stack([reps[cand_prev[:, 0]], used[cand_prev[:, 1]]], axis=1)
    info.candidates = len(cand) + len(cand_prev)
    info.timings["minhash_lsh"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    if len(cand):
        cand = cand[_plausible(cand, feat.wsig, wsize, params)]
    good = [(a, b) for a, b in cand.tolist()
            if _similarity(feat.wset(a), feat.wset(b), feat.sset(a), feat.sset(b), params) > 0]
    info.verified = len(good)
    if good:
        edges.append(np.array(good, dtype=np.int64))
    if len(cand_prev):
        psize = np.diff(np.asarray(previous.wsets_offsets))
        cand_prev = cand_prev[_plausible(cand_prev, feat.wsig, wsize, params, previous.wsig, psize)]
        row_cluster = previous.row_cluster()
        good_prev = [(a, r) for a, r in cand_prev.tolist()
                     if _similarity(feat.wset(a), previous.wset(r), feat.sset(a), previous.sset(r), params) > 0]
        info.verified += len(good_prev)
        if good_prev:
            g = np.array(good_prev, dtype=np.int64)
            prev_edges.append(np.stack([g[:, 0], row_cluster[g[:, 1]]], axis=1))
    # nodes: the documents, then the archived clusters they reach
    prev_clusters = np.zeros(0, dtype=np.int64)
    if prev_edges:
        pe = np.concatenate(prev_edges)
        prev_clusters, node = np.unique(pe[:, 1], return_inverse=True)
        edges.append(np.stack([pe[:, 0], n + node.reshape(-1)], axis=1))
    labels = connected_components(n + len(prev_clusters), np.concatenate(edges))
    info.timings["verify"] = time.perf_counter() - t2

    # 3. survivors: the best-ranked member, or the earliest archived cluster reached
    t3 = time.perf_counter()
    doc_label = labels[:n]
    survivor = np.empty(n, dtype=np.int64)
    if n:
        order = np.lexsort((rank, doc_label))
        first = np.empty(n, dtype=bool)
        first[0] = True
        np.not_equal(doc_label[order][1:], doc_label[order][:-1], out=first[1:])
        best = np.full(n + len(prev_clusters), -1, dtype=np.int64)
        best[doc_label[order][first]] = order[first] + n_prev
        if len(prev_clusters):  # labels of archive nodes: the smallest prev cluster wins (they ascend)
            arch_lab = labels[n:]
            arch_best = np.full(n + len(prev_clusters), -1, dtype=np.int64)
            for lab, pc in zip(arch_lab[::-1].tolist(), prev_clusters[::-1].tolist()):
                arch_best[lab] = pc
            reached = arch_best >= 0
            best[reached] = arch_best[reached]
            info.joined_previous = int(reached[doc_label].sum())
        survivor = best[doc_label]

    # similarity to the survivor: 1.0 for itself and exact copies, else verified containment
    similarity = np.ones(n, dtype=np.float64)
    surv_new = survivor >= n_prev
    surv_digest = np.empty_like(feat.digest)
    surv_digest[surv_new] = feat.digest[survivor[surv_new] - n_prev]
    if previous is not None and (~surv_new).any():
        surv_digest[~surv_new] = np.asarray(previous.digest)[survivor[~surv_new]]
    differ = (survivor != own + n_prev) & np.any(surv_digest != feat.digest, axis=1)

    def sets_of(g: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Shingle sets of global record ``g`` (None for a short text)."""
        if g >= n_prev:
            return (feat.wset(g - n_prev), feat.sset(g - n_prev)) if long_enough[g - n_prev] else None
        r = int(previous.row[g])
        return (previous.wset(r), previous.sset(r)) if r >= 0 else None

    for i, s in zip(np.flatnonzero(differ).tolist(), survivor[differ].tolist()):
        mine, theirs = sets_of(n_prev + i), sets_of(s)
        sim = 0.0
        if mine is not None and theirs is not None:
            sim = _similarity(mine[0], theirs[0], mine[1], theirs[1], params)
            if sim == 0.0:  # joined through other members: report the word containment
                sim = overlap(mine[0], theirs[0]).containment
        similarity[i] = sim
    info.timings["survivors"] = time.perf_counter() - t3
    if build_index:
        info.index = _index_part(names, survivor, feat, exact_rep, long_enough, previous, params, keep)
    return Verdicts(survivor=survivor, similarity=similarity, n_prev=n_prev, names=list(names),
                    prev_names=prev_names)


def _index_part(names, survivor, feat: Features, exact_rep, long_enough, previous, params, keep) -> Index:
    """The index entries of a batch: one row per document (numbered after ``previous``'s rows).

    A record points at the row of its exact representative (archived or new); short
    texts at none (-1).  Rows of exact copies and short texts are stored but never used.
    """
    from .index import Index

    n_prev = previous.size if previous is not None else 0
    r_prev = previous.rows if previous is not None else 0
    row = np.full(len(names), -1, dtype=np.int64)
    new_rep = exact_rep >= n_prev
    rep_local = np.where(new_rep, exact_rep - n_prev, 0)
    ok = new_rep & long_enough[rep_local]
    row[ok] = r_prev + rep_local[ok]
    if previous is not None and (~new_rep).any():
        row[~new_rep] = np.asarray(previous.row)[exact_rep[~new_rep]]
    return Index(
        names=list(names), cluster=survivor, digest=feat.digest, row=row, wsig=feat.wsig, ssig=feat.ssig,
        wsets=feat.wsets, wsets_offsets=feat.woff, ssets=feat.ssets, ssets_offsets=feat.soff,
        params=asdict(params), keep=keep,
    )


def params_dict(params: DedupParams) -> dict[str, Any]:
    return asdict(params)

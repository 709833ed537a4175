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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import xxhash

from .minhash import MinHasher, lsh_candidates
from .text import skeleton, words
from .unionfind import connected_components
from .verify import overlap

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


def unique_names(ids: Sequence[Any]) -> list[str]:
    """``str(id)`` for first occurrences, ``<id>#k`` for the k-th repeat; ``None`` -> ``#pos``."""
    seen: dict[str, int] = {}
    out = []
    for pos, i in enumerate(ids, 1):
        base = f"#{pos}" if i is None else str(i)
        k = seen.get(base, 0) + 1
        seen[base] = k
        out.append(base if k == 1 else f"{base}#{k}")
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


def cluster_documents(
    docs: Sequence[Document],
    *,
    keep: str = "cleanest",
    params: DedupParams | None = None,
    info: ClusterInfo | None = None,
) -> list[DedupResult]:
    """Near-duplicate clusters of already-cleaned documents; one result per document, in order."""
    params = params or DedupParams()
    info = info if info is not None else ClusterInfo()
    key = _sort_key(keep)
    n = len(docs)
    names = [d.name for d in docs]
    if len(set(names)) != n:
        raise ValueError("document names must be unique (see unique_names)")

    t0 = time.perf_counter()
    toks = [words(d.text) for d in docs]
    # 1. exact duplicates: identical normalised word sequences
    exact_rep = np.arange(n, dtype=np.int64)
    first_of: dict[bytes, int] = {}
    for i, tk in enumerate(toks):
        h = xxhash.xxh3_128_digest(" ".join(tk).encode("utf-8", "surrogatepass"))
        exact_rep[i] = first_of.setdefault(h, i)
    info.exact_groups = len(first_of)
    edges = [np.stack([exact_rep, np.arange(n)], axis=1)[exact_rep != np.arange(n)]]

    # 2. near duplicates among the unique, long-enough representatives
    reps = [i for i in range(n) if exact_rep[i] == i and len(toks[i]) >= params.min_words]
    info.short_docs = sum(1 for tk in toks if len(tk) < params.min_words)
    # shingle sets (sorted unique hashes, for exact verification) and their signatures, in batches
    hasher = MinHasher(params.num_perm, seed=params.seed)
    wsig, wsets = hasher.document_signatures([toks[i] for i in reps], params.shingle, return_sets=True)
    ssig, ssets = hasher.document_signatures([skeleton(docs[i].text) for i in reps], params.skeleton_shingle,
                                             return_sets=True)
    info.timings["shingles"] = time.perf_counter() - t0  # words, shingles and signatures

    t1 = time.perf_counter()
    cand = np.concatenate(
        [lsh_candidates(wsig, params.bands, params.rows), lsh_candidates(ssig, params.bands, params.rows)]
    )
    if len(cand):
        cand = np.unique(cand, axis=0)
    info.candidates = len(cand)
    info.timings["minhash_lsh"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    rep_arr = np.array(reps, dtype=np.int64)
    good = []
    for a, b in cand.tolist():
        if _similarity(wsets[a], wsets[b], ssets[a], ssets[b], params) > 0:
            good.append((a, b))
    info.verified = len(good)
    if good:
        edges.append(rep_arr[np.array(good, dtype=np.int64)])
    labels = connected_components(n, np.concatenate(edges) if edges else np.zeros((0, 2), np.int64))
    info.timings["verify"] = time.perf_counter() - t2

    # 3. survivors and similarity to them
    t3 = time.perf_counter()
    members: dict[int, list[int]] = {}
    for i, lab in enumerate(labels.tolist()):
        members.setdefault(lab, []).append(i)
    rep_pos = {r: k for k, r in enumerate(reps)}
    results: list[DedupResult | None] = [None] * n
    for group in members.values():
        surv = min(((i, docs[i]) for i in group), key=key)[0]
        sname = names[surv]
        for i in group:
            if i == surv:
                sim = 1.0
            elif exact_rep[i] == exact_rep[surv]:
                sim = 1.0
            else:
                a, b = rep_pos.get(int(exact_rep[i])), rep_pos.get(int(exact_rep[surv]))
                sim = 0.0
                if a is not None and b is not None:
                    sim = _similarity(wsets[a], wsets[b], ssets[a], ssets[b], params)
                    if sim == 0.0:  # joined through other members: report the word containment
                        sim = overlap(wsets[a], wsets[b]).containment
            results[i] = DedupResult(
                id=docs[i].id,
                cluster=sname,
                duplicate_of=None if i == surv else sname,
                similarity=round(float(sim), 4),
                name=names[i],
                index=i,
            )
    info.timings["survivors"] = time.perf_counter() - t3
    return [r for r in results if r is not None]


def params_dict(params: DedupParams) -> dict[str, Any]:
    return asdict(params)

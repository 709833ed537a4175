"""Same-event clustering: TF-IDF cosine, blocked candidates, average linkage over units.

* Vectors: sublinear TF-IDF (``1 + ln tf`` times ``ln((1+N)/(1+df)) + 1``, idf from the
  batch itself), L2-normalised, over the normalised words of the cleaned text minus the
  stop words of :mod:`.text`; a number must have 3+ digits (years, amounts) to count,
  and a capitalised word (a likely name) counts ``name_boost`` times.
* Blocking: each document offers its ``block_terms`` heaviest terms seen in at least two
  documents (equal weights: the term seen first in the batch first); documents sharing
  one of them are candidates, and a term whose posting list exceeds ``max_posting``
  offers no pairs, so the cost stays near-linear.
* Record dates (optional): two documents whose record dates are more than
  ``date_window_days`` apart are not compared (their cosine counts as 0): two quakes on
  one island in different years share every name, not their dates.  A document without
  a date, or with one outside 1900-2200 (a timestamp in milliseconds), is compared as usual.
* Clustering: average linkage (unweighted mean of the document-pair cosines across two
  groups; pairs that were never candidates count as 0) merged greedily from the most
  similar pair down to ``threshold``.  The starting groups are the near-duplicate
  clusters, so near-duplicates always share an event.
* Lone reports: a near-duplicate group still alone in its event then joins the event of
  several groups whose mean cosine to it is highest, when that mean reaches
  ``attach_threshold`` (lower than ``threshold``: a single report's mean over a whole
  event is diluted by the event's other angles) and ``attach_cohesion`` times the
  event's own mean cosine; events of several groups never merge here.

Everything is computed on flat numpy arrays, in steps that a sharded run spreads over
its workers (:mod:`.stages`, :mod:`.run`); :func:`event_groups` runs them in memory:

1. :class:`TermCounter` (per shard): each document's distinct terms and their counts,
   in order of first appearance; terms are xxh3-64 hashes of their text (two terms of a
   million-term vocabulary collide with probability ~3e-8).
2. :func:`merge_vocabularies`, :func:`document_frequencies`,
   :func:`inverse_document_frequency` (global, per term): term ids in order of first
   appearance in the batch — the blocking tie-break, as in one pass over the batch —
   df and idf.
3. :func:`weigh_documents` (any range of documents): :class:`DocVectors` rows (term
   ids and weights) and the blocking terms.
4. :func:`candidate_pairs` (global, on the blocking terms only).
5. :func:`pair_cosines` (any range of pairs, over the rows).
6. :func:`unit_similarities`, :func:`average_linkage`, :func:`attach_lone_units`,
   :func:`event_labels` (global, per unit pair; record dates, if any, first zero the
   cosines of pairs too far apart, :func:`apart_in_time`).

Sums of floats are added left to right in a fixed order (:func:`sequential_sums`): a
norm over the document's terms in order of appearance, a cosine over the shared terms
in the order of the document with fewer terms (the first one when equal), a unit pair's
similarity over its document pairs in candidate order, a lone unit's sum towards an
event over the event's units in order, an event's own sum over its unit pairs in
order.  Results therefore never depend on how the work was cut, and equal those of a
dict-based version bit for bit (tests/test_events_parallel.py keeps it as the
reference; under Python 3.11 — 3.12's ``sum`` compensates rounding, so that version's
last bits depend on the Python).
"""
from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import xxhash

from .arrays import ArrayFolder
from .text import STOP_WORDS, tokens


@dataclass(frozen=True)
class EventParams:
    threshold: float = 0.23  # average-link cosine; chosen on the dev events set (plateau 0.22-0.24)
    block_terms: int = 15
    max_posting: int = 100  # 2000 let 30k documents make 10.7M candidate pairs (167 s); dev ARI same
    min_cosine: float = 0.02  # candidate pairs below this are dropped (count as 0)
    name_boost: int = 2  # capitalised words (names) counted twice: dev ARI 0.846 -> 0.87
    # a lone report joins its closest event at this mean cosine (None: never); dev ARI 0.881 -> 0.932,
    # the same from 0.06 to 0.10, fewer joins above (0.930 at 0.12, 0.920 at 0.16)
    attach_threshold: float | None = 0.10
    # ... and at this share of the event's own mean cosine: true lone reports (half the dev events
    # cut to one report) wrongly joined 44 % -> 35 % (26 % without joining), dev ARI 0.932 -> 0.930
    attach_cohesion: float = 0.4
    # documents whose record dates are further apart are not compared (None: dates ignored)
    date_window_days: float | None = 30.0


# ------------------------------------------------------------------ 1. terms

_FORMS: dict[int, dict[str, tuple[str, ...]]] = {}  # name_boost -> token -> its term, as often as it counts
_FORMS_LIMIT = 500_000


def _form(tok: str, name_boost: int) -> tuple[str, ...]:
    w = tok.lower()
    if w in STOP_WORDS or len(w) < 2 or (w.isdigit() and len(w) < 3):
        return ()
    return (w,) * name_boost if tok[0].isupper() else (w,)


def document_terms(toks: Sequence[str], name_boost: int = 1) -> Counter[str]:
    """Term -> count over a document's :func:`~.text.tokens`, in order of first appearance;
    a capitalised token (a likely name) counts ``name_boost`` times.

    >>> dict(document_terms(["Bath", "said", "the", "bath", "in", "2005", "at", "10"], 2))
    {'bath': 3, '2005': 1}
    """
    forms = _FORMS.setdefault(name_boost, {})
    found = list(map(forms.get, toks))  # lookups and counting in C; only new tokens go through Python
    if None in found:
        if len(forms) > _FORMS_LIMIT:  # a corpus's vocabulary is large but repeats: bound the memo
            forms.clear()
        for k, form in enumerate(found):
            if form is None:
                tok = toks[k]
                form = forms.get(tok)  # learnt earlier in this document?
                if form is None:
                    form = forms[tok] = _form(tok, name_boost)
                found[k] = form
    return Counter(chain.from_iterable(found))


def term_hash(term: str) -> int:
    return xxhash.xxh3_64_intdigest(term.encode("utf-8", "surrogatepass"))


@dataclass
class TermCounts(ArrayFolder):
    """The distinct terms of a batch of documents (a shard), as flat arrays.

    * ``vocab`` uint64 ``(m,)`` — hash of each term of the batch, in order of first appearance;
    * ``df`` int64 ``(m,)`` — documents of the batch that contain it;
    * ``terms`` int32 / ``tf`` unsigned ``(t,)`` — document ``i``'s distinct terms (indices
      into ``vocab``, in order of first appearance in the document) and their counts at
      ``[off[i]:off[i + 1]]``; ``off`` int64 ``(n + 1,)``.
    """

    vocab: np.ndarray
    df: np.ndarray
    terms: np.ndarray
    tf: np.ndarray
    off: np.ndarray

    def __len__(self) -> int:
        return len(self.off) - 1

    def docs(self, start: int, stop: int) -> TermCounts:
        """Documents ``start:stop`` (same vocabulary)."""
        a, b = int(self.off[start]), int(self.off[stop])
        return TermCounts(vocab=self.vocab, df=self.df, terms=self.terms[a:b], tf=self.tf[a:b],
                          off=np.asarray(self.off[start : stop + 1]) - a)


class TermCounter:
    """Collects documents' terms, one :meth:`add` per document (its tokens), into
    :class:`TermCounts`."""

    def __init__(self, name_boost: int = 1) -> None:
        self.name_boost = name_boost
        self._words: list[str] = []  # each document's distinct terms, one after the other
        self._tf = array("q")
        self._off = array("q", [0])

    def add(self, toks: Sequence[str]) -> None:
        counts = document_terms(toks, self.name_boost)
        self._words.extend(counts)
        self._tf.extend(counts.values())
        self._off.append(len(self._words))

    def counts(self) -> TermCounts:
        vocab = dict.fromkeys(self._words)  # in order of first appearance (all in C, like the next two)
        ids = dict(zip(vocab, range(len(vocab))))
        terms = np.fromiter(map(ids.__getitem__, self._words), dtype=np.int32, count=len(self._words))
        tf = np.frombuffer(self._tf, dtype=np.int64)
        tf = tf.astype(np.min_scalar_type(int(tf.max()) if len(tf) else 0))
        return TermCounts(vocab=np.fromiter(map(term_hash, vocab), dtype=np.uint64, count=len(vocab)),
                          df=np.bincount(terms, minlength=len(vocab)).astype(np.int64), terms=terms, tf=tf,
                          off=np.frombuffer(self._off, dtype=np.int64).copy())


def count_terms(texts: Sequence[str], name_boost: int = 1) -> TermCounts:
    counter = TermCounter(name_boost)
    for t in texts:
        counter.add(tokens(t))
    return counter.counts()


# ------------------------------------------------------------------ 2. vocabulary

def merge_vocabularies(vocabs: Sequence[np.ndarray]) -> tuple[list[np.ndarray], int]:
    """Global term ids (int32) of each part's vocabulary, and how many terms there are.

    Terms are numbered in order of first appearance over the parts in order — the order
    in which one pass over the whole batch would meet them.

    >>> ids, v = merge_vocabularies([np.array([7, 3], np.uint64), np.array([5, 3, 7], np.uint64)])
    >>> [i.tolist() for i in ids], v
    ([[0, 1], [2, 1, 0]], 3)
    """
    sizes = [len(v) for v in vocabs]
    if not sum(sizes):
        return [np.zeros(0, np.int32) for _ in vocabs], 0
    hashes = np.concatenate(vocabs)
    order = np.argsort(hashes, kind="stable")  # equal hashes: the first part's entry first
    sorted_h = hashes[order]
    new = np.empty(len(sorted_h), dtype=bool)
    new[0] = True
    np.not_equal(sorted_h[1:], sorted_h[:-1], out=new[1:])
    first_seen = order[new]  # position of each distinct term's first entry
    rank = np.empty(len(first_seen), dtype=np.int64)
    rank[np.argsort(first_seen)] = np.arange(len(first_seen))
    ids = np.empty(len(hashes), dtype=np.int32)
    ids[order] = rank[np.cumsum(new) - 1]
    return np.split(ids, np.cumsum(sizes)[:-1]), len(first_seen)


def inverse_document_frequency(df: np.ndarray, n: int) -> np.ndarray:
    """``ln((1+n)/(1+df)) + 1`` per term, with :func:`math.log` (numpy's may differ in the last bit)."""
    values, where = np.unique(df, return_inverse=True)
    table = np.array([math.log((1 + n) / (1 + int(d))) + 1.0 for d in values.tolist()], dtype=np.float64)
    return table[where.reshape(-1)]


_SUBLINEAR_TABLE = 1 << 16
_sublinear: np.ndarray | None = None


def sublinear_tf(tf: np.ndarray) -> np.ndarray:
    """``1 + ln tf`` with :func:`math.log` (a table for the usual counts)."""
    global _sublinear
    if _sublinear is None:
        _sublinear = np.array([0.0] + [1.0 + math.log(k) for k in range(1, _SUBLINEAR_TABLE)], dtype=np.float64)
    tf = np.asarray(tf)
    if tf.dtype.itemsize <= 2:  # uint8 / uint16: always in the table
        return _sublinear[tf]
    tf = tf.astype(np.int64)
    big = tf >= _SUBLINEAR_TABLE
    out = _sublinear[np.minimum(tf, _SUBLINEAR_TABLE - 1)]
    if big.any():
        out[big] = [1.0 + math.log(k) for k in tf[big].tolist()]
    return out


def document_frequencies(dfs: Sequence[np.ndarray], ids: Sequence[np.ndarray], n_terms: int) -> np.ndarray:
    """The batch's df per term id, from its parts' dfs and id maps."""
    df = np.zeros(n_terms, dtype=np.int64)
    for part_df, part_ids in zip(dfs, ids):
        np.add.at(df, part_ids, part_df)
    return df


@dataclass
class DocVectors(ArrayFolder):
    """L2-normalised TF-IDF rows of documents, flat: document ``i``'s term ids (int32,
    in order of first appearance in the document) and weights (float64) at
    ``[off[i]:off[i + 1]]``; ``off`` int64 ``(n + 1,)``."""

    gid: np.ndarray
    weight: np.ndarray
    off: np.ndarray

    def __len__(self) -> int:
        return len(self.off) - 1

    @classmethod
    def concat(cls, parts: Sequence[DocVectors]) -> DocVectors:
        offs, at = [np.zeros(1, np.int64)], 0
        for p in parts:
            offs.append(np.asarray(p.off[1:]) + at)
            at += int(p.off[-1])
        return cls(gid=np.concatenate([np.zeros(0, np.int32)] + [p.gid for p in parts]),
                   weight=np.concatenate([np.zeros(0, np.float64)] + [p.weight for p in parts]),
                   off=np.concatenate(offs))

    def entries(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions in the flat arrays of the rows of ``docs``, one row after the other,
        and the rows' lengths."""
        starts = np.asarray(self.off[docs])
        lengths = np.asarray(self.off[docs + 1]) - starts
        shift = starts - (np.cumsum(lengths) - lengths)  # row start in the flat arrays - in the result
        return np.repeat(shift, lengths) + np.arange(int(lengths.sum()), dtype=np.int64), lengths


# ------------------------------------------------------------------ sums in a fixed order

_ROUNDS = 1024  # segments longer than this are summed one by one (np.add.accumulate)


def sequential_sums(values: np.ndarray, off: np.ndarray) -> np.ndarray:
    """The sum of each segment ``values[off[k]:off[k + 1]]``, added left to right.

    That is the order of Python's ``sum`` (3.11) over the same values; ``np.sum`` and
    ``np.add.reduceat`` add pairwise, which can differ in the last bit.

    >>> sequential_sums(np.array([1e16, 1.0, 1.0, 2.0, 3.0]), np.array([0, 3, 3, 5])).tolist()
    [1e+16, 0.0, 5.0]
    """
    off = np.asarray(off, dtype=np.int64)
    lengths = np.diff(off)
    out = np.zeros(len(lengths), dtype=np.float64)
    if not len(values):
        return out
    values = np.asarray(values, dtype=np.float64)
    long = np.flatnonzero(lengths > _ROUNDS)
    for k in long.tolist():
        out[k] = np.add.accumulate(values[off[k] : off[k + 1]])[-1]
    # the others a step at a time, all at once: step s adds the s-th value of each segment still going
    short = np.flatnonzero((lengths > 0) & (lengths <= _ROUNDS))
    short = short[np.argsort(-lengths[short], kind="stable")]
    starts = off[short]
    remaining = -lengths[short]  # ascending
    acc = np.zeros(len(short), dtype=np.float64)
    steps = int(-remaining[0]) if len(short) else 0
    for s in range(steps):
        going = int(np.searchsorted(remaining, -s, side="left"))  # segments longer than s
        acc[:going] += values[starts[:going] + s]
    out[short] = acc
    return out


# ------------------------------------------------------------------ 3. weights and blocking

def weigh_documents(counts: TermCounts, ids: np.ndarray, df: np.ndarray, idf: np.ndarray, first_doc: int,
                    block_terms: int) -> tuple[DocVectors, np.ndarray]:
    """The rows of a part's documents (numbered from ``first_doc`` in the batch), and
    their blocking terms.

    ``ids`` maps the part's vocabulary to term ids; ``df`` / ``idf`` are the batch's.
    The blocking terms are a document's ``block_terms`` heaviest terms of df >= 2 (equal
    weights: the smaller term id first), as int64 keys ``gid << 32 | document`` (what
    :func:`candidate_pairs` sorts).
    """
    off = np.asarray(counts.off, dtype=np.int64)
    gid = np.asarray(ids)[np.asarray(counts.terms)]
    raw = sublinear_tf(counts.tf) * idf[gid]
    norm = np.sqrt(sequential_sums(raw * raw, off))
    norm[norm == 0.0] = 1.0  # a document without terms
    local = np.repeat(np.arange(len(counts), dtype=np.int64), np.diff(off))
    weight = raw / norm[local]
    eligible = np.flatnonzero(np.asarray(df)[gid] >= 2)
    doc, term, w = local[eligible], gid[eligible], weight[eligible]
    # only weights at or above the document's block_terms-th largest can be chosen: sort those
    floor = _kth_largest(w, np.r_[0, np.cumsum(np.bincount(doc, minlength=len(counts)))], block_terms)
    heavy = np.flatnonzero(w >= floor[doc])
    doc, term, w = doc[heavy], term[heavy], w[heavy]
    order = np.lexsort((term, -w, doc))  # per document: heaviest first, then the earlier term
    doc, term = doc[order], term[order]
    first = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]]) if len(doc) else np.zeros(0, np.int64)
    rank = np.arange(len(doc)) - np.repeat(first, np.diff(np.r_[first, len(doc)]))
    top = rank < block_terms
    keys = (term[top].astype(np.int64) << 32) | (doc[top] + first_doc)
    return DocVectors(gid=gid.astype(np.int32), weight=weight, off=off.copy()), keys


_TABLE_CELLS = 1 << 21  # padded rows at a time (16 MB)


def _kth_largest(values: np.ndarray, off: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th largest value of each segment ``values[off[i]:off[i + 1]]`` (-inf when
    it has fewer): segments of similar lengths as padded rows, ``np.partition`` per row.

    >>> _kth_largest(np.array([3.0, 1.0, 2.0, 5.0, 4.0]), np.array([0, 3, 3, 5]), 2).tolist()
    [2.0, -inf, 4.0]
    """
    lengths = np.diff(off)
    out = np.full(len(lengths), -np.inf)
    width, low = k, k  # rows of lengths in [low, width], padded to width with -inf
    while k > 0 and low <= int(lengths.max(initial=0)):
        similar = np.flatnonzero((lengths >= low) & (lengths <= width))
        step = max(1, _TABLE_CELLS // width)
        for rows in (similar[a : a + step] for a in range(0, len(similar), step)):
            row_len = lengths[rows]
            row = np.repeat(np.arange(len(rows)), row_len)
            col = _ramp(row_len)
            table = np.full((len(rows), width), -np.inf)
            table[row, col] = values[np.repeat(off[rows], row_len) + col]
            out[rows] = np.partition(table, width - k, axis=1)[:, width - k]
        low, width = width + 1, 2 * width
    return out


# ------------------------------------------------------------------ 4. candidate pairs

_PAIR_BATCH = 1 << 22  # pairs generated at a time, before deduplication


def candidate_pairs(block_keys: np.ndarray, n: int, max_posting: int) -> np.ndarray:
    """Candidate pairs as sorted unique int64 keys ``i * n + j`` (``i < j``): documents
    sharing a blocking term whose posting list has at most ``max_posting`` documents."""
    keys = np.sort(np.asarray(block_keys, dtype=np.int64))
    gid, doc = keys >> 32, keys & 0xFFFFFFFF
    if not len(keys):
        return np.zeros(0, np.int64)
    start = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
    size = np.diff(np.r_[start, len(keys)])
    ok = (size >= 2) & (size <= max_posting)
    start, size = start[ok], size[ok]
    cuts = np.cumsum(size * (size - 1) // 2)
    parts, done, g = [], 0, 0
    while g < len(start):  # batches of whole posting lists, ~_PAIR_BATCH pairs each
        h = max(g + 1, int(np.searchsorted(cuts, done + _PAIR_BATCH, side="right")))
        parts.append(sorted_unique(_posting_pairs(doc, start[g:h], size[g:h], n)))
        done, g = int(cuts[h - 1]), h
    return sorted_unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy 2's hashing unique is several times slower on int64 keys)."""
    values = np.sort(values)
    if len(values):
        values = values[np.r_[True, values[1:] != values[:-1]]]
    return values


def _posting_pairs(doc: np.ndarray, start: np.ndarray, size: np.ndarray, n: int) -> np.ndarray:
    """Keys of all pairs within each posting list ``doc[start:start + size]`` (ascending docs):
    each entry pairs with the ``tail`` entries after it in its list."""
    entry = np.repeat(start, size) + _ramp(size)
    tail = np.repeat(start + size, size) - entry - 1
    left = np.repeat(entry, tail)
    right = left + 1 + _ramp(tail)
    return doc[left] * n + doc[right]


def _ramp(lengths: np.ndarray) -> np.ndarray:
    """``0, 1, .., l-1`` for each length, concatenated."""
    total = int(lengths.sum())
    starts = np.cumsum(lengths) - lengths
    return np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)


def split_pairs(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The two documents of each pair key ``i * n + j`` (int32 when that is enough)."""
    dtype = np.int32 if n < 2**31 else np.int64
    return (keys // n).astype(dtype), (keys % n).astype(dtype)


# ------------------------------------------------------------------ 5. cosines

_BLOCK_DOCS = 64  # first documents whose rows are spread into one dense table
_BLOCK_PAIRS = 4096
_BLOCK_ENTRIES = 1 << 15


def pair_cosines(vectors: DocVectors, first: np.ndarray, second: np.ndarray, n_terms: int) -> np.ndarray:
    """Cosine of each pair ``(first[k], second[k])``; ``first`` must be non-decreasing;
    term ids are below ``n_terms``.

    Pairs are taken in blocks of a few first documents: their rows go into a dense table
    (their terms x the documents), where the rows of the second documents are looked up
    — numpy over all the block's pairs at once.  The products of shared terms are then
    added per pair, in order, all blocks at once.
    """
    first = np.asarray(first, dtype=np.int64)
    second = np.asarray(second, dtype=np.int64)
    if not len(first):
        return np.zeros(0, dtype=np.float64)
    column = np.zeros(n_terms, dtype=np.int32)  # scratch: term id -> its row in a block's table
    products, shared = [], []
    for a, b in _pair_blocks(first, vectors.off):
        prod, count = _shared_products(vectors, first[a:b], second[a:b], column)
        products.append(prod)
        shared.append(count)
    off = np.zeros(len(first) + 1, dtype=np.int64)
    np.cumsum(np.concatenate(shared), out=off[1:])
    return sequential_sums(np.concatenate(products), off)


def _pair_blocks(first: np.ndarray, off: np.ndarray) -> Iterator[tuple[int, int]]:
    """``(a, b)`` ranges of pairs: at most _BLOCK_DOCS first documents, _BLOCK_PAIRS pairs and
    about _BLOCK_ENTRIES entries of first documents each (at least one document)."""
    starts = np.flatnonzero(np.r_[True, first[1:] != first[:-1]])  # each first document's pairs
    docs = first[starts]
    entries = np.cumsum(np.asarray(off[docs + 1]) - np.asarray(off[docs]))
    a = 0
    while a < len(first):
        g = int(np.searchsorted(starts, a, side="right")) - 1  # the document of pair a
        before = int(entries[g - 1]) if g else 0
        h = min(g + _BLOCK_DOCS, int(np.searchsorted(entries, before + _BLOCK_ENTRIES, side="right")), len(starts))
        h = max(h, g + 1)
        b = min(int(starts[h]) if h < len(starts) else len(first), a + _BLOCK_PAIRS)
        yield a, b
        a = b


def _shared_products(vectors: DocVectors, first: np.ndarray, second: np.ndarray,
                     column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a block of pairs: the products of their shared terms' weights, pair after pair,
    each pair's in the order they are to be added, and how many each pair has.

    ``column`` is an all-zero scratch array over term ids (left all-zero).
    """
    new = np.r_[True, first[1:] != first[:-1]]  # first is sorted
    docs, local = first[new], (np.cumsum(new) - 1).astype(np.int32)
    width = len(docs)
    # the first documents' rows in dense tables: cell = term's row * width + document
    e1, n1 = vectors.entries(docs)
    gid1 = np.asarray(vectors.gid[e1])
    terms = sorted_unique(gid1)
    column[terms] = np.arange(width, (len(terms) + 1) * width, width, dtype=np.int32)  # row 0: in none of them
    cells1 = column[gid1] + np.repeat(np.arange(width, dtype=np.int32), n1)
    weight = np.zeros((len(terms) + 1) * width, dtype=np.float64)
    weight[cells1] = vectors.weight[e1]
    position = np.zeros((len(terms) + 1) * width, dtype=np.int32)
    position[cells1] = np.arange(len(e1)) - np.repeat(np.cumsum(n1) - n1, n1)
    # the second documents' rows looked up in them
    e2, n2 = vectors.entries(second)
    cells2 = column[np.asarray(vectors.gid[e2])] + np.repeat(local, n2)
    column[terms] = 0
    other = weight[cells2]
    hit = np.flatnonzero(other > 0.0)
    row_start = np.cumsum(n2) - n2
    pair = np.searchsorted(row_start, hit, side="right") - 1
    product = np.asarray(vectors.weight[e2[hit]]) * other[hit]
    # to be added in the order of the document with fewer terms (the first one when equal)
    first_leads = (n1[local] <= n2)[pair]
    rank = np.where(first_leads, position[cells2[hit]], hit - row_start[pair])
    order = np.argsort((pair << 32) | rank)
    return product[order], np.bincount(pair, minlength=len(first))


# ------------------------------------------------------------------ 6. linkage

def unit_index(units: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each document's unit as 0, 1, ... in order of first appearance, and the unit sizes."""
    units = np.asarray(units, dtype=np.int64)
    if not len(units):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    _, first, inverse = np.unique(units, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    doc_unit = rank[inverse.reshape(-1)]
    return doc_unit, np.bincount(doc_unit, minlength=len(first)).astype(np.int64)


def unit_similarities(unit_a: np.ndarray, unit_b: np.ndarray, cos: np.ndarray,
                      min_cosine: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum of the cosines of document pairs (in the order given) per unit pair
    ``u < v``, over cosines >= ``min_cosine``; as arrays ``(u, v, sum)`` sorted by ``(u, v)``."""
    keep = np.flatnonzero(cos >= min_cosine)
    a, b, cos = unit_a[keep].astype(np.int64), unit_b[keep].astype(np.int64), cos[keep]
    u, v = np.minimum(a, b), np.maximum(a, b)
    key = u * (int(max(v.max(initial=0), 0)) + 1) + v
    order = np.argsort(key, kind="stable")
    key, u, v, cos = key[order], u[order], v[order], cos[order]
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    return u[start], v[start], sequential_sums(cos, np.r_[start, len(key)])


def average_linkage(
    n_units: int, sizes: Sequence[int], unit_sims: dict[tuple[int, int], float] | tuple[np.ndarray, ...],
    threshold: float,
) -> list[int]:
    """Greedy average-linkage merges; returns, per unit, the smallest unit index of its group.

    ``unit_sims`` maps ``(u, v)`` (``u < v``) to the *sum* of document-pair similarities
    between units u and v — a dict, or arrays ``(u, v, sum)`` with each pair once; the
    linkage value is that sum divided by ``size(u) * size(v)``.  A unit's neighbours
    stay in the arrays until a merge touches it (merges are few; unit pairs many).
    """
    if isinstance(unit_sims, dict):
        pairs = list(unit_sims.items())
        us = np.array([p[0][0] for p in pairs], dtype=np.int64)
        vs = np.array([p[0][1] for p in pairs], dtype=np.int64)
        ss = np.array([p[1] for p in pairs], dtype=np.float64)
    else:
        us, vs, ss = (np.asarray(x) for x in unit_sims)
    size = [int(s) for s in sizes]
    nbr = _Neighbours(n_units, us, vs, ss)
    size_arr = np.asarray(size, dtype=np.float64)
    val = ss / (size_arr[us] * size_arr[vs]) if len(ss) else np.zeros(0)
    strong = np.flatnonzero(val >= threshold)
    heap = list(zip((-val[strong]).tolist(), us[strong].tolist(), vs[strong].tolist()))
    heapq.heapify(heap)
    alive = [True] * n_units
    owner = list(range(n_units))
    while heap:
        neg, u, v = heapq.heappop(heap)
        if not (alive[u] and alive[v]):
            continue
        cur = nbr[u].get(v, 0.0) / (size[u] * size[v])
        if abs(cur + neg) > 1e-12:  # stale entry; the current value was pushed separately
            continue
        # merge v into u (u < v)
        alive[v] = False
        owner[v] = u
        size[u] += size[v]
        nu = nbr[u]
        for x, s in nbr[v].items():
            if x == u:
                continue
            nu[x] = nu.get(x, 0.0) + s
            nx = nbr[x]
            nx[u] = nx.get(u, 0.0) + s
            del nx[v]
        nu.pop(v, None)
        nbr.clear(v)
        for x, s in nu.items():
            val_x = s / (size[u] * size[x])
            if val_x >= threshold:
                a, b = (u, x) if u < x else (x, u)
                heapq.heappush(heap, (-val_x, a, b))

    def root(x: int) -> int:
        while owner[x] != x:
            x = owner[x]
        return x

    return [root(u) for u in range(n_units)]


class _Neighbours:
    """``nbr[u]``: dict neighbour -> summed similarity, made from the arrays on first use."""

    def __init__(self, n_units: int, us: np.ndarray, vs: np.ndarray, ss: np.ndarray) -> None:
        both_u = np.concatenate([us, vs]).astype(np.int64)
        both_v = np.concatenate([vs, us]).astype(np.int64)
        both_s = np.concatenate([ss, ss]).astype(np.float64)
        order = np.argsort(both_u, kind="stable")
        self._other, self._sum = both_v[order], both_s[order]
        self._off = np.zeros(n_units + 1, dtype=np.int64)
        np.cumsum(np.bincount(both_u, minlength=n_units), out=self._off[1:])
        self._made: dict[int, dict[int, float]] = {}

    def __getitem__(self, u: int) -> dict[int, float]:
        d = self._made.get(u)
        if d is None:
            a, b = self._off[u], self._off[u + 1]
            d = self._made[u] = dict(zip(self._other[a:b].tolist(), self._sum[a:b].tolist()))
        return d

    def clear(self, u: int) -> None:
        self._made[u] = {}


_PLAUSIBLE_DATES = (-2208988800.0, 7258118400.0)  # 1900-01-01 .. 2200-01-01, epoch seconds
_DAY = 86400.0


def apart_in_time(first: np.ndarray, second: np.ndarray, dates: Sequence[float] | np.ndarray,
                  window_days: float) -> np.ndarray:
    """Whether each pair's two record dates (epoch seconds, NaN when unknown) are more
    than ``window_days`` apart; False when either is unknown or implausible.

    >>> day = 86400.0
    >>> apart_in_time(np.array([0, 0, 0]), np.array([1, 2, 3]),
    ...               [1.2e9, 1.2e9 + 2 * day, np.nan, 1.2e9 + 40 * day], 30).tolist()
    [False, False, True]
    >>> apart_in_time(np.array([0]), np.array([1]), [1.2e12, 1.3e12], 30).tolist()  # milliseconds
    [False]
    """
    d = np.asarray(dates, dtype=np.float64)
    d = np.where((d >= _PLAUSIBLE_DATES[0]) & (d <= _PLAUSIBLE_DATES[1]), d, np.nan)
    gap = np.abs(d[np.asarray(first)] - d[np.asarray(second)])
    return np.nan_to_num(gap, nan=0.0) > window_days * _DAY


def attach_lone_units(root: Sequence[int] | np.ndarray, sizes: Sequence[int] | np.ndarray,
                      unit_sims: tuple[np.ndarray, np.ndarray, np.ndarray], bar: float,
                      cohesion_share: float = 0.0) -> np.ndarray:
    """Each unit's group after lone units join their closest group.

    ``root``: each unit's group (its smallest unit, as :func:`average_linkage` gives);
    ``unit_sims``: the ``(u, v, sum)`` arrays of :func:`unit_similarities`.  A unit alone
    in its group joins the group of several units with the highest mean document-pair
    cosine to it (sum over ``size(unit) * size(group)``; equal means: the smaller
    group index) when that mean is at least ``bar`` and at least ``cohesion_share``
    times the group's own mean cosine over its pairs of documents from different units
    (a report on a neighbouring story is further from the event than its reports are
    from each other).  Groups of several units do not move.

    >>> sims = (np.array([0, 0, 1, 2]), np.array([1, 2, 2, 3]), np.array([0.9, 0.3, 0.2, 0.05]))
    >>> attach_lone_units([0, 0, 2, 3], [1, 1, 1, 1], sims, 0.1).tolist()
    [0, 0, 0, 3]
    >>> attach_lone_units([0, 0, 2, 3], [1, 1, 1, 1], sims, 0.1, cohesion_share=0.4).tolist()  # 0.25 < 0.4 * 0.9
    [0, 0, 2, 3]
    """
    root = np.array(root, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    us, vs, ss = (np.asarray(x) for x in unit_sims)
    if not len(ss):
        return root
    us, vs, ss = us.astype(np.int64), vs.astype(np.int64), ss.astype(np.float64)
    lone = np.bincount(root, minlength=len(root))[root] == 1
    docs_in = np.bincount(root, weights=sizes, minlength=len(root))  # documents per group
    from_u, from_v = lone[us] & ~lone[vs], lone[vs] & ~lone[us]  # a lone unit and a unit of a bigger group
    unit, group, mean = _grouped_sums(np.concatenate([us[from_u], vs[from_v]]),
                                      np.concatenate([root[vs[from_u]], root[us[from_v]]]),
                                      np.concatenate([ss[from_u], ss[from_v]]), len(root),
                                      np.concatenate([vs[from_u], us[from_v]]))
    mean /= sizes[unit] * docs_in[group]
    best = np.lexsort((group, -mean, unit))  # per unit: highest mean, then the smaller group
    best = best[np.r_[True, unit[best][1:] != unit[best][:-1]]] if len(best) else best
    ok = mean[best] >= bar
    if cohesion_share > 0.0:
        ok &= mean[best] >= cohesion_share * _cohesion(root, sizes, us, vs, ss, docs_in)[group[best]]
    best = best[ok]
    root[unit[best]] = group[best]
    return root


def _grouped_sums(unit: np.ndarray, group: np.ndarray, values: np.ndarray, n_units: int,
                  other: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct ``(unit, group)`` pairs and the sum of their values, each added in
    order of ``other`` (the other unit of each value's unit pair), else in the order given."""
    key = unit * n_units + group
    order = np.argsort(key, kind="stable") if other is None else np.lexsort((other, key))
    key = key[order]
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    total = sequential_sums(values[order], np.r_[start, len(key)])
    return unit[order][start], group[order][start], total


def _cohesion(root: np.ndarray, sizes: np.ndarray, us: np.ndarray, vs: np.ndarray, ss: np.ndarray,
              docs_in: np.ndarray) -> np.ndarray:
    """Each group's mean cosine over its pairs of documents from different units (0 for one unit)."""
    inside = np.flatnonzero(root[us] == root[vs])
    _, group, total = _grouped_sums(np.zeros(len(inside), np.int64), root[us[inside]], ss[inside], len(root))
    within = np.zeros(len(root))
    within[group] = total
    pairs = (docs_in * docs_in - np.bincount(root, weights=sizes * sizes, minlength=len(root))) / 2
    return np.divide(within, pairs, out=np.zeros(len(root)), where=pairs > 0)


def event_labels(doc_unit: np.ndarray, sizes: np.ndarray, first: np.ndarray, second: np.ndarray,
                 cos: np.ndarray, params: EventParams, dates: Sequence[float] | np.ndarray | None = None) -> list[int]:
    """Event label per document (smallest document index of its event), from the
    cosines of the candidate pairs across units; ``dates``: each document's record
    date (epoch seconds, NaN when unknown), or None."""
    if dates is not None and params.date_window_days is not None and len(cos):
        cos = np.where(apart_in_time(first, second, dates, params.date_window_days), 0.0, cos)
    sims = unit_similarities(doc_unit[first], doc_unit[second], cos, params.min_cosine)
    root = np.asarray(average_linkage(len(sizes), sizes, sims, params.threshold), dtype=np.int64)
    if params.attach_threshold is not None:
        root = attach_lone_units(root, sizes, sims, params.attach_threshold, params.attach_cohesion)
    if not len(doc_unit):
        return []
    _, first_doc, inverse = np.unique(root[doc_unit], return_index=True, return_inverse=True)
    return first_doc[inverse.reshape(-1)].tolist()


_WEIGH_DOCS = 20_000


def event_groups(
    texts: Sequence[str], units: Sequence[int], params: EventParams | None = None,
    dates: Sequence[float | None] | None = None,
) -> tuple[list[int], int]:
    """Event label per document (smallest document index of its event) and the candidate count.

    ``units[i]`` is document i's near-duplicate group label (any int); ``dates[i]`` its
    record's date in epoch seconds (None or NaN when unknown; no ``dates``: none known).
    In memory; a sharded run does the same steps over its workers (:mod:`.run`).
    """
    params = params or EventParams()
    n = len(texts)
    counts = count_terms(texts, params.name_boost)
    (ids,), n_terms = merge_vocabularies([counts.vocab])
    df = document_frequencies([counts.df], [ids], n_terms)
    idf = inverse_document_frequency(df, n)
    parts = [weigh_documents(counts.docs(a, min(a + _WEIGH_DOCS, n)), ids, df, idf, a, params.block_terms)
             for a in range(0, n, _WEIGH_DOCS)]  # in parts: bounded temporaries
    vectors = DocVectors.concat([p[0] for p in parts])
    blocks = np.concatenate([np.zeros(0, np.int64)] + [p[1] for p in parts])
    del parts
    keys = candidate_pairs(blocks, n, params.max_posting)
    first, second = split_pairs(keys, n)
    doc_unit, sizes = unit_index(units)
    across = np.flatnonzero(doc_unit[first] != doc_unit[second])
    first, second = first[across], second[across]
    cos = pair_cosines(vectors, first, second, n_terms)
    if dates is not None:
        dates = np.array([np.nan if d is None else d for d in dates], dtype=np.float64)
    return event_labels(doc_unit, sizes, first, second, cos, params, dates), len(keys)


def event_names(labels: Sequence[int], cluster_names: Sequence[str]) -> list[str]:
    """Name of each document's event: the smallest cluster name among its members, so
    that the name does not depend on the order the records came in.

    >>> event_names([0, 0, 2, 2], ["b", "a", "c", "c"])
    ['a', 'a', 'c', 'c']
    """
    best: dict[int, str] = {}
    for lab, name in zip(labels, cluster_names):
        if lab not in best or name < best[lab]:
            best[lab] = name
    return [best[lab] for lab in labels]

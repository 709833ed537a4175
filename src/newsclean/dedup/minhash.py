"""Vectorised MinHash and LSH banding in numpy: many documents per numpy call.

The pipeline, each step one batch of numpy operations over *all* documents at once
(no per-word or per-shingle Python work):

* **Words** (:func:`word_hashes_batch`): the documents are UTF-8 encoded into one byte
  buffer; word boundaries are its whitespace bytes.  A word's hash is read straight from
  the buffer 8 bytes at a time (an unaligned ``uint64`` view) and mixed with the
  splitmix64 finaliser (:func:`word_hash` is the scalar definition).  Words of at most 8
  bytes - almost all of them - never collide: the finaliser is a bijection.
* **Shingles** (:func:`shingle_hashes_batch`): a ``k``-word shingle is
  ``sum_t K[t] * w[t] + k * K_LEN`` (mod 2**64, odd random ``K``) of its word hashes,
  computed for every position of the flat word array at once; positions whose window
  crosses a document end are dropped.  A document shorter than ``k`` words gets one
  shingle of all its words; an empty one gets none.
* **Batches** (:meth:`MinHasher.document_signatures`): about 1 MB of text at a time, so
  the arrays stay in cache (measured: twice as fast as one batch of everything).
* **Signatures** (:class:`MinHasher`): one-permutation hashing (Li, Owen & Zhang 2012;
  Shrivastava & Li 2014): each shingle is hashed *once*; the high 32 bits choose one of
  ``num_perm`` bins and the low 32 bits are its value; a bin keeps the minimum
  (``np.minimum.at`` over ``(document, bin)``).  Empty bins are filled by *optimal
  densification* (Shrivastava 2017): empty bin ``i`` copies the first non-empty bin of a
  fixed random probe order of bin ``i``; the order depends on the bin only, never on the
  document, so identical sets get identical signatures and two sets agree in a bin with
  probability close to their Jaccard similarity.  This replaces ``num_perm`` 64-bit
  multiply-adds per shingle by one hash, in 32-bit values.
* **Candidates** (:func:`lsh_candidates`): documents whose band keys are equal, found by
  sorting each band's keys; returns the unique pairs ``(i, j)``, ``i < j``, sorted.
  :func:`lsh_candidates_between` pairs a new batch with an archive's signatures.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_MASK64 = (1 << 64) - 1
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S27, _S30, _S31, _S32 = np.uint64(27), np.uint64(30), np.uint64(31), np.uint64(32)
EMPTY = np.zeros(0, dtype=np.uint64)
EMPTY_BIN = np.uint32(0xFFFFFFFF)  # signature value of a bin no shingle fell into
# byte masks keeping the first n bytes of a little-endian uint64 (n = 0..8)
_KEEP = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)


def _mix64_int(x: int) -> int:
    """splitmix64 finaliser on a Python int (the scalar twin of :func:`mix64`)."""
    x &= _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, elementwise on a uint64 array (a bijection, wrap-around arithmetic).

    >>> int(mix64(np.array([1], dtype=np.uint64))[0]) == _mix64_int(1)
    True
    """
    return _mix64_inplace(np.array(x, dtype=np.uint64))


def _mix64_inplace(x: np.ndarray) -> np.ndarray:
    """:func:`mix64` overwriting ``x`` (one temporary: these arrays hold a batch's words or shingles)."""
    t = x >> _S30
    x ^= t
    x *= _M1
    np.right_shift(x, _S27, out=t)
    x ^= t
    x *= _M2
    np.right_shift(x, _S31, out=t)
    x ^= t
    return x


def _shingle_weights(k: int) -> np.ndarray:
    """The odd multipliers ``K[0..k-1]`` of a shingle's words (fixed, derived from splitmix64)."""
    return np.array([_mix64_int((t + 1) * 0x9E3779B97F4A7C15) | 1 for t in range(k)], dtype=np.uint64)


_K_LEN = _mix64_int(0x5851F42D4C957F2D)  # shingle length tag


def word_hash(word: str) -> int:
    """Hash of one word: the scalar definition that :func:`word_hashes_batch` vectorises.

    ``h = mix64(c[0])``, then ``h = mix64(h ^ c[i])`` for each further chunk, where ``c`` are
    the 8-byte little-endian chunks of the word's UTF-8 bytes (the last one zero-padded).
    A word never holds a zero byte, so words of up to 8 bytes never collide.

    >>> word_hash("smith") == int(word_hashes_batch(["smith"])[0][0])
    True
    """
    b = word.encode("utf-8", "surrogatepass")
    h = 0
    for i in range(0, len(b), 8):
        h = _mix64_int(h ^ int.from_bytes(b[i : i + 8], "little"))
    return h


def _encode(docs: Sequence[str | Sequence[str]]) -> tuple[bytes, np.ndarray]:
    """One buffer of all documents (a separator after each) and each document's start offset."""
    parts = [(d if isinstance(d, str) else " ".join(d)).encode("utf-8", "surrogatepass") for d in docs]
    starts = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, parts), dtype=np.int64, count=len(parts)) + 1, out=starts[1:])
    # a zero byte ends the last document; 8 more pad the 8-byte read at any word start
    return b"\n".join(parts) + bytes(9), starts


def word_hashes_batch(docs: Sequence[str | Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Word hashes of many documents at once: ``(hashes, offsets)``.

    A document is a string (split at whitespace and control bytes, ``<= 0x20``) or a
    list of words (joined by spaces first, so a word must not contain those bytes;
    :func:`newsclean.dedup.text.words` never does).  ``hashes`` is the flat ``uint64``
    array of every document's word hashes (:func:`word_hash`), in order; document
    ``d``'s words are ``hashes[offsets[d]:offsets[d + 1]]``.

    >>> h, off = word_hashes_batch(["the cat", "", ["the", "dog"]])
    >>> off.tolist(), bool(h[0] == h[2]), h.dtype.name
    ([0, 2, 2, 4], True, 'uint64')
    """
    data, doc_start = _encode(docs)
    n_bytes = len(data) - 8
    buf = np.frombuffer(data, dtype=np.uint8, count=n_bytes)
    sep = np.flatnonzero(buf <= 0x20)
    # a word runs from after one separator to the next one; the last byte is a separator
    starts = np.empty(len(sep), dtype=np.int64)
    starts[0] = 0
    np.add(sep[:-1], 1, out=starts[1:])
    lens = sep - starts
    if not lens.all():  # runs of whitespace, empty documents: drop the empty words
        keep = lens > 0
        starts, lens = starts[keep], lens[keep]
    offsets = np.searchsorted(starts, doc_start)
    if not len(starts):
        return EMPTY.copy(), offsets
    # every byte position of the buffer seen as the start of a little-endian uint64
    chunks = np.ndarray(shape=(n_bytes,), dtype="<u8", buffer=data, strides=(1,))
    h = chunks[starts]
    h &= _KEEP[np.minimum(lens, 8)]
    _mix64_inplace(h)
    # words longer than 8 bytes (few): one more round per further 8-byte chunk
    long = np.flatnonzero(lens > 8)
    at = 8
    while len(long):
        rest = lens[long] - at
        c = chunks[starts[long] + at]
        c &= _KEEP[np.minimum(rest, 8)]
        c ^= h[long]
        h[long] = _mix64_inplace(c)
        long = long[rest > 8]
        at += 8
    return h, offsets


def shingle_hashes_batch(docs: Sequence[str | Sequence[str]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the ``k``-word shingles of many documents: ``(hashes, offsets)``.

    Documents as in :func:`word_hashes_batch`.  Document ``d``'s shingles (in text order,
    repeats kept) are ``hashes[offsets[d]:offsets[d + 1]]``: ``m - k + 1`` of them for
    ``m >= k`` words, one (of all its words) for ``0 < m < k``, none for ``m = 0``.

    A shingle of words ``w[0..j-1]`` hashes to ``sum_t K[t] * hash(w[t]) + j * K_LEN``
    (mod 2**64, odd random ``K``): distinct shingles collide with probability about
    2**-64.  It is not mixed further here: :class:`MinHasher` mixes every value with its
    seed, and a bijection would change no set overlap.

    >>> h, off = shingle_hashes_batch(["a b c d", "a b", "", "b c d"], 3)
    >>> off.tolist(), bool(h[1] == h[3])
    ([0, 2, 3, 3, 4], True)
    """
    if k < 1:
        raise ValueError(f"shingles need k >= 1 words, not {k}")
    w, woff = word_hashes_batch(docs)
    n_words = len(w)
    m = np.diff(woff)
    counts = np.where(m >= k, m - k + 1, np.minimum(m, 1))
    offsets = np.zeros(len(m) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    if not n_words:
        return EMPTY.copy(), offsets
    weights = _shingle_weights(k)
    # s[i] = sum_t K[t] * w[i + t] + k * K_LEN at every word position (zeros past the end)
    padded = np.concatenate([w, np.zeros(k - 1, dtype=np.uint64)])
    s = padded[:n_words] * weights[0]
    tmp = np.empty_like(s)
    for t in range(1, k):
        s += np.multiply(padded[t : t + n_words], weights[t], out=tmp)
    s += np.uint64((k * _K_LEN) & _MASK64)
    # keep the windows that end inside their own document
    doc_of = np.repeat(np.arange(len(m), dtype=np.int64), m)
    valid = np.zeros(n_words, dtype=bool)
    if n_words >= k:
        np.equal(doc_of[: n_words - k + 1], doc_of[k - 1 :], out=valid[: n_words - k + 1])
    short = np.flatnonzero((m > 0) & (m < k))
    if len(short):  # one shingle of all its m < k words, tagged with m
        first, ms = woff[short], m[short]
        acc = ms.astype(np.uint64) * np.uint64(_K_LEN)
        for t in range(int(ms.max())):
            inside = t < ms
            acc[inside] += w[first[inside] + t] * weights[t]
        s[first] = acc
        valid[first] = True
    return s[valid], offsets


def shingle_hashes(tokens: Sequence[str], k: int) -> np.ndarray:
    """Sorted unique 64-bit hashes of one document's k-word shingles (one if fewer words).

    >>> shingle_hashes(["a", "b", "c", "a", "b", "c"], 3).shape
    (3,)
    """
    h, _ = shingle_hashes_batch([tokens], k)
    return np.unique(h)


def shingle_sets(hashes: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """Split :func:`shingle_hashes_batch` output into per-document sorted unique arrays.

    >>> [s.size for s in shingle_sets(*shingle_hashes_batch(["a b a b", "", "c"], 2))]
    [2, 0, 1]
    """
    out = []
    for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist()):
        s = np.sort(hashes[a:b])
        if len(s) > 1:
            keep = np.empty(len(s), dtype=bool)
            keep[0] = True
            np.not_equal(s[1:], s[:-1], out=keep[1:])
            if not keep.all():
                s = s[keep]
        out.append(s)
    return out


def _doc_batches(docs: Sequence[str | Sequence[str]], batch_bytes: int) -> list[tuple[int, int]]:
    """``[start, end)`` runs of whole documents of about ``batch_bytes`` of text each."""
    # len() is characters for a string, words for a word list (about 7 bytes each with the space)
    scale = 1 if not len(docs) or isinstance(docs[0], str) else 7
    ends = np.cumsum(np.fromiter(map(len, docs), dtype=np.int64, count=len(docs)) * scale + 1)
    out, start = [], 0
    while start < len(docs):
        base = ends[start - 1] if start else 0
        end = max(start + 1, int(np.searchsorted(ends, base + batch_bytes, "right")))
        out.append((start, end))
        start = end
    return out


class MinHasher:
    """One-permutation MinHash signatures with optimal densification, ``num_perm`` bins.

    >>> mh = MinHasher(64, seed=1)
    >>> s = mh.signatures([np.array([1, 2, 3], dtype=np.uint64)] * 2 + [EMPTY])
    >>> s.shape, s.dtype.name, bool((s[0] == s[1]).all()), bool((s[2] == EMPTY_BIN).all())
    ((3, 64), 'uint32', True, True)
    >>> sig, sets = mh.document_signatures(["the cat sat on the mat", "the cat sat"], 3, return_sets=True)
    >>> round(estimate_jaccard(sig[0], sig[1]), 1), [len(s) for s in sets]
    (0.2, [4, 1])

    ``batch_shingles`` bounds the shingles of one batch of whole documents (memory, and
    cache: arrays that stay in cache are much faster); it does not change the result.
    """

    def __init__(self, num_perm: int = 128, seed: int = 1, batch_shingles: int = 1 << 18) -> None:
        if not 1 <= num_perm <= 4096:  # the probe table has num_perm**2 entries
            raise ValueError(f"num_perm must be in [1, 4096], not {num_perm}")
        rng = np.random.Generator(np.random.PCG64(seed))
        self.num_perm = num_perm
        self.seed = seed
        self.key = rng.integers(0, 2**64 - 1, dtype=np.uint64, endpoint=True)
        # densification probe order of each bin: row i is a random permutation of the bins
        self.probe = np.argsort(rng.random((num_perm, num_perm)), axis=1).astype(np.int16)
        self.batch_shingles = batch_shingles

    def document_signatures(
        self,
        docs: Sequence[str | Sequence[str]],
        k: int,
        *,
        return_sets: bool = False,
        batch_bytes: int = 1 << 20,
    ) -> np.ndarray | tuple[np.ndarray, list[np.ndarray]]:
        """Signatures of the ``k``-word shingles of documents (strings or word lists).

        The documents go through :func:`shingle_hashes_batch` and
        :meth:`signatures_flat` in batches of about ``batch_bytes`` of text: large enough
        to amortise numpy's per-call cost, small enough to stay in cache.  With
        ``return_sets``, also each document's sorted unique shingle hashes
        (:func:`shingle_sets`, for exact verification).
        """
        out = np.empty((len(docs), self.num_perm), dtype=np.uint32)
        sets: list[np.ndarray] = []
        for a, b in _doc_batches(docs, batch_bytes):
            h, off = shingle_hashes_batch(docs[a:b], k)
            out[a:b] = self.signatures_flat(h, off)
            if return_sets:
                sets.extend(shingle_sets(h, off))
        return (out, sets) if return_sets else out

    def signatures(self, sets: Sequence[np.ndarray]) -> np.ndarray:
        """``(len(sets), num_perm)`` uint32 signatures of uint64 hash sets; empty -> all ``EMPTY_BIN``."""
        sizes = np.fromiter(map(len, sets), dtype=np.int64, count=len(sets))
        offsets = np.zeros(len(sets) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        flat = np.concatenate(sets).astype(np.uint64, copy=False) if len(sets) else EMPTY
        return self.signatures_flat(flat, offsets)

    def signatures_flat(self, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Signatures of documents given flat: document ``d`` is ``hashes[offsets[d]:offsets[d + 1]]``.

        Repeated hashes within a document are harmless (a minimum ignores them), so the
        output of :func:`shingle_hashes_batch` goes in as it is.
        """
        n = len(offsets) - 1
        out = np.full((n, self.num_perm), EMPTY_BIN, dtype=np.uint32)
        start = 0
        while start < n:
            # whole documents, up to batch_shingles shingles (at least one document)
            end = int(np.searchsorted(offsets, offsets[start] + self.batch_shingles, "right")) - 1
            end = min(max(start + 1, end), n)
            self._fill(hashes[offsets[start] : offsets[end]], offsets[start : end + 1] - offsets[start],
                       out[start:end])
            start = end
        return out

    def _fill(self, hashes: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
        n, p = out.shape
        if len(hashes):
            x = _mix64_inplace(hashes ^ self.key)
            # a true minimum of 0xFFFFFFFF (p = 2**-32 per bin) reads as empty and is densified:
            # still a function of the set, so identical sets keep identical signatures
            value = x.astype(np.uint32)  # low 32 bits
            if p & (p - 1) == 0:  # the high bits choose the bin (numpy shifts by 64 to 0)
                x >>= np.uint64(65 - p.bit_length())
            else:
                x >>= _S32
                x *= np.uint64(p)
                x >>= _S32
            x += np.repeat(np.arange(0, n * p, p, dtype=np.uint64), np.diff(offsets))  # cell = doc * p + bin
            np.minimum.at(out.reshape(-1), x.view(np.int64), value)
        self._densify(out)

    def _densify(self, sig: np.ndarray) -> None:
        """Fill each empty bin of a non-empty document from the first non-empty bin of its probe order."""
        flat = sig.reshape(-1)
        p = self.num_perm
        cells = np.flatnonzero(flat == EMPTY_BIN)
        if not len(cells):
            return
        rows = cells // p
        all_empty = np.bincount(rows, minlength=sig.shape[0]) == p
        if all_empty.any():  # an empty document keeps an empty signature
            cells = cells[~all_empty[rows]]
            rows = cells // p
        base = rows * p
        cols = cells - base
        pending = np.arange(len(cells))
        fill = np.empty(len(cells), dtype=np.uint32)
        for attempt in range(p):  # a permutation reaches every bin: this ends
            v = flat[base[pending] + self.probe[cols[pending], attempt]]
            found = v != EMPTY_BIN
            fill[pending[found]] = v[found]
            pending = pending[~found]
            if not len(pending):
                break
        flat[cells] = fill


def band_key(sig: np.ndarray, b: int, rows: int, subset: np.ndarray | None = None) -> np.ndarray:
    """uint64 key of band ``b`` of each signature (of the rows ``subset``, if given).

    Mixes the band's ``rows`` columns and the band number.  One band at a time keeps
    memory at one column per band: all keys at once would be ``(n, bands)`` uint64,
    512 MB for a million documents.
    """
    if (b + 1) * rows > sig.shape[1]:
        raise ValueError(f"band {b} of {rows} rows needs {(b + 1) * rows} permutations, have {sig.shape[1]}")
    n = sig.shape[0] if subset is None else len(subset)
    k = np.full(n, ((b + 1) * 0x9E3779B97F4A7C15) & _MASK64, dtype=np.uint64)
    for c in range(b * rows, (b + 1) * rows):
        col = sig[:, c] if subset is None else sig[subset, c]
        k = mix64(k ^ np.asarray(col).astype(np.uint64))
    return k


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(n, bands)`` uint64 keys (:func:`band_key` of every band)."""
    if bands * rows > sig.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} permutations, have {sig.shape[1]}")
    keys = np.empty((sig.shape[0], bands), dtype=np.uint64)
    for b in range(bands):
        keys[:, b] = band_key(sig, b, rows)
    return keys


def _band_runs(col: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``order`` (ascending row numbers of ``col`` that may share their key, stably
    sorted by key) and the runs of equal keys of size >= 2 in it: ``starts``, ``sizes``."""
    rows = _maybe_shared(col)
    keys = col[rows]
    by_key = np.argsort(keys, kind="stable")
    order, sk = rows[by_key], keys[by_key]
    if not len(sk):
        return order, order, order
    new = np.empty(len(sk), dtype=bool)
    new[0] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, len(sk)))
    multi = sizes > 1
    return order, starts[multi], sizes[multi]


def _maybe_shared(keys: np.ndarray) -> np.ndarray:
    """Ascending row numbers whose key may occur twice: those whose low bits (a table of
    about four slots per key) another key shares.  Most band keys are unique; sorting
    only these is what makes the band step fast (a stable argsort of a million uint64
    keys takes 90 ms, counting their slots about 20)."""
    if len(keys) < 4096:
        return np.arange(len(keys))
    bits = (len(keys) * 4).bit_length()
    slots = (keys & np.uint64((1 << bits) - 1)).astype(np.intp)
    return np.flatnonzero(np.bincount(slots, minlength=1 << bits)[slots] > 1)


def _run_pairs(starts: np.ndarray, sizes: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of *sorted positions* ``(p, q)``, ``p < q``, inside runs ``[start, start + size)``.

    A run of up to ``max_bucket`` positions yields all its pairs; a larger one the star
    from its first position plus the chain of consecutive positions after it.
    """
    small = sizes <= max_bucket
    # all pairs of small runs: position p pairs with p+1 .. end-1 (a triangular expansion)
    s_st, s_sz = starts[small], sizes[small]
    pos = np.repeat(s_st, s_sz) + (np.arange(int(s_sz.sum())) - np.repeat(np.cumsum(s_sz) - s_sz, s_sz))
    after = np.repeat(s_st + s_sz, s_sz) - pos - 1  # partners of each position
    first = np.repeat(pos, after)
    total = len(first)
    step = np.arange(total) - np.repeat(np.cumsum(after) - after, after)
    second = first + 1 + step
    # big runs: star from the first position, chain from the second
    b_st, b_sz = starts[~small], sizes[~small]
    if len(b_st):
        members = np.repeat(b_st, b_sz - 1) + (
            np.arange(int((b_sz - 1).sum())) - np.repeat(np.cumsum(b_sz - 1) - (b_sz - 1), b_sz - 1)) + 1
        centre = np.repeat(b_st, b_sz - 1)
        link = members[members + 1 < np.repeat(b_st + b_sz, b_sz - 1)]  # chain p -> p + 1 inside the run
        first = np.concatenate([first, centre, link])
        second = np.concatenate([second, members, link + 1])
    return first, second


def lsh_candidates(
    sig: np.ndarray, bands: int, rows: int, *, max_bucket: int = 64, subset: np.ndarray | None = None
) -> np.ndarray:
    """Unique candidate pairs ``(m, 2)`` int64 (``i < j``, sorted) sharing any band key.

    With ``subset`` (row numbers of ``sig``), only those rows take part and ``i``, ``j``
    are positions in ``subset``.

    A bucket of up to ``max_bucket`` documents yields all its pairs; a larger one (a
    template or boilerplate shared by very many documents) yields a star from its first
    member plus the chain of consecutive members, so cost stays linear.

    Vectorised: per band, one stable argsort of the keys finds the buckets (runs of equal
    keys, members in index order); the pairs of all buckets come from one triangular
    expansion of positions; the pairs are kept as sorted unique ``i * n + j`` keys, each
    band's sorted keys merged in (memory bounded by the unique pairs plus one band;
    faster than one ``np.unique`` of all bands' keys, which sorts them all at once).
    """
    n = sig.shape[0] if subset is None else len(subset)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if bands * rows > sig.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} permutations, have {sig.shape[1]}")
    seen = np.zeros(0, dtype=np.int64)  # sorted unique pair keys i * n + j of the bands so far
    for b in range(bands):
        order, starts, sizes = _band_runs(band_key(sig, b, rows, subset))
        if not len(starts):
            continue
        p, q = _run_pairs(starts, sizes, max_bucket)
        # a stable sort keeps each run in index order: order[p] < order[q]
        k = order[p].astype(np.int64) * n + order[q]
        k.sort()
        # merging two sorted runs is linear in a stable (timsort) sort
        seen = _unique_sorted(np.sort(np.concatenate([seen, k]), kind="stable") if len(seen) else k)
    return np.stack([seen // n, seen % n], axis=1)


def _unique_sorted(s: np.ndarray) -> np.ndarray:
    """Drop repeats from a sorted array (``np.unique`` sorts again, and is slower)."""
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def lsh_candidates_between(
    new_sig: np.ndarray, old_sig: np.ndarray, bands: int, rows: int, *, max_bucket: int = 64,
    new_subset: np.ndarray | None = None, old_subset: np.ndarray | None = None,
) -> np.ndarray:
    """Unique pairs ``(i, j)`` (sorted) of a new document ``i`` and an old one ``j`` sharing a band key.

    For incremental runs: the old documents (an archive) are not paired among themselves,
    and the new ones are paired among themselves by :func:`lsh_candidates`.  A bucket of
    up to ``max_bucket`` documents (old and new) pairs every new member with every old
    one; in a larger bucket each new member pairs with the bucket's first old member only
    (the star of :func:`lsh_candidates`), so cost stays linear in both sizes.  Per band,
    the new keys are sorted once and the old keys looked up in them.  ``new_subset`` /
    ``old_subset``: only those rows take part; ``i`` / ``j`` are positions in them.
    """
    n_new = new_sig.shape[0] if new_subset is None else len(new_subset)
    n_old = old_sig.shape[0] if old_subset is None else len(old_subset)
    if not n_new or not n_old:
        return np.zeros((0, 2), dtype=np.int64)
    seen = np.zeros(0, dtype=np.int64)  # sorted unique keys i * n_old + j
    for b in range(bands):
        new_key = band_key(new_sig, b, rows, new_subset)
        order = np.argsort(new_key, kind="stable")
        sk = new_key[order]
        col = band_key(old_sig, b, rows, old_subset)
        pos = np.searchsorted(sk, col)
        pos[pos == n_new] = n_new - 1
        old = np.flatnonzero(sk[pos] == col)  # ascending old indices
        if not len(old):
            continue
        key = col[old]
        lo = pos[old]
        hi = np.searchsorted(sk, key, "right")
        # old members of the same bucket: grouped by key, in index order
        g = np.lexsort((old, key))
        old, key, lo, hi = old[g], key[g], lo[g], hi[g]
        first = np.empty(len(key), dtype=bool)
        first[0] = True
        np.not_equal(key[1:], key[:-1], out=first[1:])
        group = np.cumsum(first) - 1
        n_old_in = np.bincount(group)[group]
        keep = first | (n_old_in + hi - lo <= max_bucket)
        old, lo, hi = old[keep], lo[keep], hi[keep]
        cnt = hi - lo
        at = np.repeat(lo, cnt) + (np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt))
        k = order[at].astype(np.int64) * n_old + np.repeat(old, cnt)
        k.sort()
        seen = _unique_sorted(np.sort(np.concatenate([seen, k]), kind="stable") if len(seen) else k)
    return np.stack([seen // n_old, seen % n_old], axis=1)


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Share of equal signature positions: the MinHash estimate of Jaccard similarity."""
    return float(np.mean(sig_a == sig_b))

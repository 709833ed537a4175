"""Vectorised MinHash and LSH banding in numpy, with xxhash for the words.

* Words are hashed once each with xxh3-64 (cached per process); a k-word shingle is a
  64-bit value mixed from its words' hashes (splitmix64 finaliser), all in numpy.
* :class:`MinHasher` turns the shingle sets of many documents into an ``(n, num_perm)``
  ``uint32`` signature matrix.  Permutation ``p`` is ``x -> A[p] * x + B[p] mod 2**64``
  (``A`` odd) applied to the already-random 64-bit shingle hash; the minimum is taken
  per document with ``np.minimum.reduceat`` over a batch of documents at once and only
  the top 32 bits are kept (the order of the minimum is decided by the high bits).
* :func:`lsh_candidates` groups documents whose band keys are equal by sorting each
  band's keys, and returns the unique candidate pairs ``(i, j)``, ``i < j``, sorted.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xxhash

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_SHIFT32 = np.uint64(32)
EMPTY = np.zeros(0, dtype=np.uint64)

_word_cache: dict[str, int] = {}
_CACHE_LIMIT = 2_000_000


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, elementwise on a uint64 array (wrap-around arithmetic)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> _S30)) * _M1
        x = (x ^ (x >> _S27)) * _M2
        return x ^ (x >> _S31)


def word_hashes(tokens: Sequence[str]) -> np.ndarray:
    """xxh3-64 of each token (deterministic across processes), as uint64."""
    cache = _word_cache
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    get = cache.get
    out = []
    append = out.append
    for t in tokens:
        h = get(t)
        if h is None:
            h = cache[t] = xxhash.xxh3_64_intdigest(t.encode("utf-8", "surrogatepass"))
        append(h)
    return np.array(out, dtype=np.uint64)


def shingle_hashes(tokens: Sequence[str], k: int) -> np.ndarray:
    """Sorted unique 64-bit hashes of the k-word shingles (one shingle if fewer words)."""
    if not tokens:
        return EMPTY
    w = word_hashes(tokens)
    n = len(w) - k + 1
    if n <= 0:
        n, k = 1, len(w)
    with np.errstate(over="ignore"):
        h = mix64(w[:n] ^ _GOLDEN)
        for j in range(1, k):
            h = mix64((h * _GOLDEN) ^ w[j : j + n])
    return np.unique(h)


class MinHasher:
    """Signatures of shingle sets: ``num_perm`` multiply-add permutations of 64-bit hashes.

    >>> mh = MinHasher(64, seed=1)
    >>> s = mh.signatures([np.array([1, 2, 3], dtype=np.uint64)] * 2)
    >>> s.shape, bool((s[0] == s[1]).all())
    ((2, 64), True)
    """

    def __init__(self, num_perm: int = 128, seed: int = 1, batch_shingles: int = 1 << 10) -> None:
        rng = np.random.Generator(np.random.PCG64(seed))
        self.num_perm = num_perm
        self.a = rng.integers(0, 2**64 - 1, size=num_perm, dtype=np.uint64, endpoint=True) | np.uint64(1)
        self.b = rng.integers(0, 2**64 - 1, size=num_perm, dtype=np.uint64, endpoint=True)
        self.batch_shingles = batch_shingles

    def signatures(self, sets: Sequence[np.ndarray]) -> np.ndarray:
        """``(len(sets), num_perm)`` uint32; an empty set gets all ``0xFFFFFFFF``."""
        n = len(sets)
        out = np.full((n, self.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
        sizes = np.fromiter((len(s) for s in sets), dtype=np.int64, count=n)
        start = 0
        while start < n:
            # a batch of whole documents holding about batch_shingles shingles
            total, end = 0, start
            while end < n and (total == 0 or total + sizes[end] <= self.batch_shingles):
                total += sizes[end]
                end += 1
            idx = [i for i in range(start, end) if sizes[i] > 0]
            if idx:
                flat = np.concatenate([sets[i] for i in idx])
                offsets = np.zeros(len(idx), dtype=np.int64)
                np.cumsum(sizes[idx][:-1], out=offsets[1:])
                with np.errstate(over="ignore"):
                    perm = flat[:, None] * self.a[None, :] + self.b[None, :]
                mins = np.minimum.reduceat(perm, offsets, axis=0)
                out[idx] = (mins >> _SHIFT32).astype(np.uint32)
            start = end
        return out


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(n, bands)`` uint64 keys, each mixing ``rows`` signature columns and the band number."""
    n = sig.shape[0]
    if bands * rows > sig.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} permutations, have {sig.shape[1]}")
    keys = np.empty((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for b in range(bands):
            k = np.full(n, np.uint64(b + 1) * _GOLDEN, dtype=np.uint64)
            for c in range(b * rows, (b + 1) * rows):
                k = mix64(k ^ sig[:, c].astype(np.uint64))
            keys[:, b] = k
    return keys


def lsh_candidates(sig: np.ndarray, bands: int, rows: int, *, max_bucket: int = 64) -> np.ndarray:
    """Unique candidate pairs ``(m, 2)`` int64 (``i < j``, sorted) sharing any band key.

    A bucket of up to ``max_bucket`` documents yields all its pairs; a larger one (a
    template or boilerplate shared by very many documents) yields a star from its first
    member plus the chain of consecutive members, so cost stays linear.
    """
    n = sig.shape[0]
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    keys = band_keys(sig, bands, rows)
    chunks: list[np.ndarray] = []
    for b in range(bands):
        col = keys[:, b]
        order = np.argsort(col, kind="stable")
        sk = col[order]
        same = sk[1:] == sk[:-1]
        if not same.any():
            continue
        # runs of equal keys: [starts[r], ends[r])
        edges = np.flatnonzero(np.diff(np.concatenate(([False], same, [False])).astype(np.int8)))
        starts, ends = edges[0::2], edges[1::2] + 1
        for s, e in zip(starts.tolist(), ends.tolist()):
            members = np.sort(order[s:e])
            m = e - s
            if m <= max_bucket:
                ii, jj = np.triu_indices(m, 1)
                chunks.append(np.stack([members[ii], members[jj]], axis=1))
            else:
                star = np.stack([np.full(m - 1, members[0]), members[1:]], axis=1)
                chain = np.stack([members[1:-1], members[2:]], axis=1)
                chunks.append(np.concatenate([star, chain]))
    if not chunks:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(chunks).astype(np.int64)
    keys1 = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([keys1 // n, keys1 % n], axis=1)


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Share of equal signature positions: the MinHash estimate of Jaccard similarity."""
    return float(np.mean(sig_a == sig_b))

"""What near-duplicate clustering needs from each document, as flat arrays.

:func:`document_features` turns cleaned texts into :class:`Features`: word counts,
exact-text digests, MinHash signatures and the shingle sets that verify candidates.
It is a pure function of the texts and :class:`~newsclean.dedup.params.DedupParams`, so
shards of a corpus can be featurised anywhere (another process, a Dask worker) and
their :class:`Features` concatenated (:func:`concat_features`): the clustering of the
whole is the same as if it had been featurised at once.

Shingle sets are kept as sorted unique **32-bit** values (the high half of the 64-bit
shingle hash): half the memory of the full hashes, and two unrelated shingles of two
400-shingle documents collide with probability about 400 * 400 / 2**32 = 4e-5 — far
below what could move a containment ratio across a threshold.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import xxhash

from .arrays import ArrayFolder
from .minhash import EMPTY_BIN, MinHasher, _doc_batches, shingle_hashes_batch
from .text import skeleton_of_tokens, tokens

if TYPE_CHECKING:
    from .params import DedupParams

SIG_DTYPE = np.uint16


@dataclass
class Features(ArrayFolder):
    """Per-document comparison features, aligned with the documents (``n`` of them).

    * ``nwords`` int64 ``(n,)`` — normalised words;
    * ``digest`` uint8 ``(n, 16)`` — xxh3-128 of the normalised words (the exact rule);
    * ``wsig`` / ``ssig`` uint16 ``(n, num_perm)`` — MinHash of the word / skeleton
      shingles, low 16 bits of each bin (see below); all ``0xFFFF`` for documents under
      ``min_words`` (never compared);
    * ``wsets`` / ``ssets`` uint32 flat with ``woff`` / ``soff`` int64 ``(n + 1,)`` —
      sorted unique shingle values of document ``i`` at ``[off[i]:off[i + 1]]``
      (empty under ``min_words``).
    """

    nwords: np.ndarray
    digest: np.ndarray
    wsig: np.ndarray
    ssig: np.ndarray
    wsets: np.ndarray
    woff: np.ndarray
    ssets: np.ndarray
    soff: np.ndarray

    def __len__(self) -> int:
        return len(self.nwords)

    def wset(self, i: int) -> np.ndarray:
        return self.wsets[self.woff[i] : self.woff[i + 1]]

    def sset(self, i: int) -> np.ndarray:
        return self.ssets[self.soff[i] : self.soff[i + 1]]


def empty_features(num_perm: int) -> Features:
    return Features(
        nwords=np.zeros(0, np.int64), digest=np.zeros((0, 16), np.uint8),
        wsig=np.zeros((0, num_perm), SIG_DTYPE), ssig=np.zeros((0, num_perm), SIG_DTYPE),
        wsets=np.zeros(0, np.uint32), woff=np.zeros(1, np.int64),
        ssets=np.zeros(0, np.uint32), soff=np.zeros(1, np.int64),
    )


def sets32_flat(hashes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-document sorted unique high halves of 64-bit hashes, flat: ``(values, offsets)``.

    >>> v, off = sets32_flat(np.array([3 << 32, 1 << 32, 3 << 32, 2 << 32], dtype=np.uint64),
    ...                      np.array([0, 3, 3, 4]))
    >>> v.tolist(), off.tolist()
    ([1, 3, 2], [0, 2, 2, 3])
    """
    n = len(offsets) - 1
    out_off = np.zeros(n + 1, dtype=np.int64)
    if not len(hashes):
        return np.zeros(0, np.uint32), out_off
    doc = np.repeat(np.arange(n, dtype=np.uint64), np.diff(offsets))
    key = (doc << np.uint64(32)) | (hashes >> np.uint64(32))
    key.sort()
    keep = np.empty(len(key), dtype=bool)
    keep[0] = True
    np.not_equal(key[1:], key[:-1], out=keep[1:])
    key = key[keep]
    np.cumsum(np.bincount((key >> np.uint64(32)).astype(np.int64), minlength=n), out=out_off[1:])
    return key.astype(np.uint32), out_off


def _signed_sets(hasher: MinHasher, docs: Sequence[str | Sequence[str]], k: int,
                 batch_bytes: int = 1 << 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signatures and flat 32-bit shingle sets of documents, in batches of about ``batch_bytes``."""
    sig = np.empty((len(docs), hasher.num_perm), dtype=np.uint32)
    vals, offs = [], [np.zeros(1, np.int64)]
    total = 0
    for a, b in _doc_batches(docs, batch_bytes):
        h, off = shingle_hashes_batch(docs[a:b], k)
        sig[a:b] = hasher.signatures_flat(h, off)
        v, o = sets32_flat(h, off)
        vals.append(v)
        offs.append(o[1:] + total)
        total += len(v)
    values = np.concatenate(vals) if vals else np.zeros(0, np.uint32)
    return sig, values, np.concatenate(offs)


def _spread(n: int, rows: np.ndarray, sig: np.ndarray, values: np.ndarray, offs: np.ndarray, num_perm: int):
    """Signatures and sets of ``rows`` placed at their positions among ``n`` documents."""
    full = np.full((n, num_perm), EMPTY_BIN & 0xFFFF, dtype=SIG_DTYPE)
    full[rows] = sig.astype(SIG_DTYPE)  # low bits
    sizes = np.zeros(n, dtype=np.int64)
    sizes[rows] = np.diff(offs)
    out_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(sizes, out=out_off[1:])
    return full, values, out_off  # rows ascend, so values are already in document order


def document_features(texts: Sequence[str], params: DedupParams,
                      on_tokens: Callable[[list[str]], None] | None = None) -> Features:
    """:class:`Features` of cleaned texts.

    ``on_tokens`` receives each text's :func:`~.text.tokens` (in order), for other views
    that start from them (the terms of event clustering): one tokenisation for all.

    >>> from newsclean.dedup.params import DedupParams
    >>> t = " ".join(f"w{i}" for i in range(30))
    >>> f = document_features([t, t, "too short"], DedupParams())
    >>> f.nwords.tolist(), bool((f.digest[0] == f.digest[1]).all()), len(f.wset(0)), len(f.wset(2))
    ([30, 30, 2], True, 28, 0)
    """
    n = len(texts)
    norm: list[str] = []  # normalised words, as one string per text
    skel: list[list[str]] = []  # skeletons of the long-enough texts
    nwords = np.empty(n, dtype=np.int64)
    for i, t in enumerate(texts):
        tk = tokens(t)  # one tokenisation for both views
        nwords[i] = len(tk)
        norm.append(" ".join(tk).lower())
        if len(tk) >= params.min_words:
            skel.append(skeleton_of_tokens(tk))
        if on_tokens is not None:
            on_tokens(tk)
    digest = np.frombuffer(
        b"".join(xxhash.xxh3_128_digest(t.encode("utf-8", "surrogatepass")) for t in norm), dtype=np.uint8
    ).reshape(n, 16).copy()
    rows = np.flatnonzero(nwords >= params.min_words)
    hasher = MinHasher(params.num_perm, seed=params.seed)
    p = params.num_perm
    wsig, wsets, woff = _spread(n, rows, *_signed_sets(hasher, [norm[i] for i in rows], params.shingle), p)
    del norm
    ssig, ssets, soff = _spread(n, rows, *_signed_sets(hasher, skel, params.skeleton_shingle), p)
    return Features(nwords=nwords, digest=digest, wsig=wsig, ssig=ssig, wsets=wsets, woff=woff, ssets=ssets,
                    soff=soff)


def concat_features(parts: Sequence[Features | Callable[[], Features]], num_perm: int) -> Features:
    """The features of the documents of ``parts``, in order.

    A part may be a function that loads it (e.g. memory-mapped, :meth:`Features.load`):
    each is then opened only while it is copied, so the whole is never held twice.
    """
    if not parts:
        return empty_features(num_perm)

    def opened(part: Features | Callable[[], Features]) -> Features:
        return part() if callable(part) else part

    n = nw = ns = 0
    for part in parts:  # sizes first (a memory-mapped part reads a page or two for this)
        f = opened(part)
        n, nw, ns = n + len(f), nw + int(f.woff[-1]), ns + int(f.soff[-1])
        del f
    out = Features(
        nwords=np.empty(n, np.int64), digest=np.empty((n, 16), np.uint8),
        wsig=np.empty((n, num_perm), SIG_DTYPE), ssig=np.empty((n, num_perm), SIG_DTYPE),
        wsets=np.empty(nw, np.uint32), woff=np.zeros(n + 1, np.int64),
        ssets=np.empty(ns, np.uint32), soff=np.zeros(n + 1, np.int64),
    )
    at = aw = as_ = 0
    for part in parts:
        f = opened(part)
        k, kw, ks = len(f), int(f.woff[-1]), int(f.soff[-1])
        out.nwords[at : at + k] = f.nwords
        out.digest[at : at + k] = f.digest
        out.wsig[at : at + k] = f.wsig
        out.ssig[at : at + k] = f.ssig
        out.wsets[aw : aw + kw] = f.wsets
        out.ssets[as_ : as_ + ks] = f.ssets
        out.woff[at + 1 : at + k + 1] = np.asarray(f.woff[1:]) + aw
        out.soff[at + 1 : at + k + 1] = np.asarray(f.soff[1:]) + as_
        at, aw, as_ = at + k, aw + kw, as_ + ks
    return out

"""Vectorised word/shingle hashing and one-permutation MinHash (newsclean.dedup.minhash).

Everything here is built in the test: constructed sets with known overlap, and a scalar
reference of the word hash written independently of the module.
"""
from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from newsclean.dedup.minhash import (
    EMPTY,
    EMPTY_BIN,
    MinHasher,
    estimate_jaccard,
    shingle_hashes,
    shingle_hashes_batch,
    shingle_sets,
    word_hash,
    word_hashes_batch,
)
from newsclean.dedup.text import words

MASK = (1 << 64) - 1


def ref_mix64(x: int) -> int:
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def ref_word_hash(word: str) -> int:
    """Scalar reference: splitmix64 chained over the 8-byte little-endian chunks of the UTF-8 bytes."""
    b = word.encode("utf-8", "surrogatepass")
    h = 0
    for i in range(0, len(b), 8):
        h = ref_mix64(h ^ int.from_bytes(b[i : i + 8], "little"))
    return h


TRICKY = [
    "a", "i", "x", "7", "é", "ß", "€", "𝔘", "日本語", "café", "naïve", "straße", "zürich",
    "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmnop", "abcdefghijklmnopq",
    "x" * 63, "y" * 64, "z" * 65, "pneumonoultramicroscopicsilicovolcanoconiosis",
    "é" * 4, "é" * 5, "日" * 3, "日" * 11, "a_b", "2005", "3000", "4", "75",
    "ab\udcffcd",  # a lone surrogate (kept with surrogatepass)
]


def test_word_hash_batch_equals_scalar_reference():
    # one document per word, one document of all words, and words next to documents' ends
    docs = [[w] for w in TRICKY] + [TRICKY, TRICKY[::-1], []]
    h, off = word_hashes_batch(docs)
    flat = [w for d in docs for w in d]
    assert off.tolist() == np.cumsum([0] + [len(d) for d in docs]).tolist()
    assert h.tolist() == [ref_word_hash(w) for w in flat]
    assert [word_hash(w) for w in TRICKY] == [ref_word_hash(w) for w in TRICKY]


def test_word_hash_batch_strings_split_at_whitespace():
    h, off = word_hashes_batch(["  the\tcat \n sat  ", "", "\n", "x"])
    assert off.tolist() == [0, 3, 3, 3, 4]
    assert h.tolist() == [ref_word_hash(w) for w in ("the", "cat", "sat", "x")]


def test_short_words_never_collide():
    # words of up to 8 bytes: mix64 is a bijection of their zero-padded bytes
    vocab = sorted({w for w in words(" ".join(TRICKY)) if len(w.encode()) <= 8}
                   | {f"{i}" for i in range(5000)} | {chr(c) for c in range(0x61, 0x250)})
    h, _ = word_hashes_batch([vocab])
    assert len(np.unique(h)) == len(vocab)


def test_shingles_batch_matches_single_and_definition():
    docs = [words("The cat sat on the mat, and the cat sat again."), ["one"], [], ["two", "words"], ["a"] * 5]
    h, off = shingle_hashes_batch(docs, 3)
    assert np.diff(off).tolist() == [9, 1, 0, 1, 3]
    for d, (a, b) in zip(docs, itertools.pairwise(off)):
        assert np.array_equal(np.unique(h[a:b]), shingle_hashes(d, 3))
    sets = shingle_sets(h, off)
    assert [len(s) for s in sets] == [8, 1, 0, 1, 1]  # "the cat sat" repeats; "a a a" x3
    assert all((np.diff(s.astype(np.float64)) > 0).all() for s in sets)  # sorted unique
    # the same words in another document give the same shingle; order matters
    h2, _ = shingle_hashes_batch([["the", "cat", "sat"], ["sat", "cat", "the"]], 3)
    assert h2[0] == h[0] and h2[1] != h2[0]


def test_identical_sets_identical_signatures_any_batching():
    rng = np.random.default_rng(3)
    sets = [rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64, endpoint=True) for n in (1, 2, 5, 50, 500, 0, 3000)]
    sig = MinHasher(128, seed=5).signatures(sets + sets[::-1])
    assert sig.shape == (14, 128) and sig.dtype == np.uint32
    assert np.array_equal(sig[:7], sig[7:][::-1])
    assert np.array_equal(sig, MinHasher(128, seed=5, batch_shingles=3).signatures(sets + sets[::-1]))
    # a set's order and repeats do not matter
    shuffled = [np.concatenate([s, s])[rng.permutation(2 * len(s))] for s in sets]
    assert np.array_equal(MinHasher(128, seed=5).signatures(shuffled), sig[:7])


def test_empty_sets_and_documents():
    mh = MinHasher(64)
    sig = mh.signatures([EMPTY, np.array([9], dtype=np.uint64), EMPTY])
    assert (sig[0] == EMPTY_BIN).all() and (sig[2] == EMPTY_BIN).all()
    assert (sig[1] != EMPTY_BIN).all() and len(set(sig[1].tolist())) == 1  # one shingle fills every bin
    assert mh.signatures([]).shape == (0, 64)
    docs = ["", "   ", "one", "the cat sat on the mat"]
    s2, sets = mh.document_signatures(docs, 3, return_sets=True)
    assert (s2[:2] == EMPTY_BIN).all() and (s2[2:] != EMPTY_BIN).all()
    assert [len(s) for s in sets] == [0, 0, 1, 4]
    assert mh.document_signatures([], 3).shape == (0, 64)


def test_document_signatures_same_for_text_and_word_lists_and_batches():
    texts = ["The river burst its banks after two days of rain " * (i + 1) + f"story {i}" for i in range(40)]
    lists = [words(t) for t in texts]
    norm = [" ".join(w) for w in lists]
    mh = MinHasher(128, seed=2)
    a = mh.document_signatures(lists, 3)
    assert np.array_equal(a, mh.document_signatures(norm, 3))
    assert np.array_equal(a, mh.document_signatures(norm, 3, batch_bytes=50))  # one document a batch
    h, off = shingle_hashes_batch(norm, 3)
    assert np.array_equal(a, mh.signatures(shingle_sets(h, off)))


def test_deterministic_across_processes():
    code = (
        "from newsclean.dedup.minhash import MinHasher;"
        "s = MinHasher(64, seed=9).document_signatures(['the cat sat on the mat today', 'naïve café 2005'], 3);"
        "print(s.tobytes().hex())"
    )
    outs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed}).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(outs) == 1
    here = MinHasher(64, seed=9).document_signatures(["the cat sat on the mat today", "naïve café 2005"], 3)
    assert outs.pop().strip() == here.tobytes().hex()


def test_seed_changes_signatures():
    s = [np.arange(1, 200, dtype=np.uint64)]
    assert not np.array_equal(MinHasher(64, seed=1).signatures(s), MinHasher(64, seed=2).signatures(s))


@pytest.mark.parametrize("jaccard", [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0])
@pytest.mark.parametrize("size", [30, 300, 3000])
def test_jaccard_estimate_close_to_exact(jaccard, size):
    # sets of `size` consecutive integers (structured input, like shingle ids) with known overlap
    mh = MinHasher(128, seed=11)
    inter = round(2 * size * jaccard / (1 + jaccard))
    errors = []
    for trial in range(20):
        base = trial * 10**6
        a = np.arange(base, base + size, dtype=np.uint64)
        b = np.arange(base + size - inter, base + 2 * size - inter, dtype=np.uint64)
        exact = inter / (2 * size - inter)
        sig = mh.signatures([a, b])
        errors.append(estimate_jaccard(sig[0], sig[1]) - exact)
    # 128 bins: standard error <= sqrt(J(1-J)/128) ~ 0.044; bias must be small
    assert abs(float(np.mean(errors))) < 0.03
    assert max(abs(e) for e in errors) < 0.2
    if jaccard in (0.0, 1.0):
        assert max(abs(e) for e in errors) < 1e-6


def test_densified_short_sets_still_estimate_jaccard():
    # 10 elements in 128 bins: most bins are filled by densification
    mh = MinHasher(128, seed=4)
    est = []
    for t in range(200):
        a = np.arange(t * 100, t * 100 + 10, dtype=np.uint64)
        b = np.arange(t * 100 + 5, t * 100 + 15, dtype=np.uint64)  # J = 5/15
        s = mh.signatures([a, b])
        est.append(estimate_jaccard(s[0], s[1]))
    assert abs(float(np.mean(est)) - 1 / 3) < 0.03


# ------------------------------------------------------------------ LSH candidates


def ref_lsh_candidates(sig: np.ndarray, bands: int, rows: int, max_bucket: int) -> set[tuple[int, int]]:
    """Slow reference: buckets as dicts of band keys; all pairs of a small bucket, star + chain of a big one."""
    from newsclean.dedup.minhash import band_keys

    keys = band_keys(sig, bands, rows)
    out: set[tuple[int, int]] = set()
    for b in range(bands):
        buckets: dict[int, list[int]] = {}
        for i, k in enumerate(keys[:, b].tolist()):
            buckets.setdefault(k, []).append(i)
        for m in buckets.values():
            if len(m) <= max_bucket:
                out.update(itertools.combinations(m, 2))
            else:
                out.update((m[0], x) for x in m[1:])
                out.update(itertools.pairwise(m[1:]))
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_bucket", [2, 3, 7, 64])
def test_lsh_candidates_match_slow_reference(seed, max_bucket):
    from newsclean.dedup.minhash import lsh_candidates

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    # few distinct values per column: buckets of every size, big ones included
    sig = rng.integers(0, int(rng.integers(2, 6)), size=(n, 8)).astype(np.uint32)
    sig[rng.random(n) < 0.3] = EMPTY_BIN  # a large group of identical (empty) signatures
    dup = rng.integers(0, n, size=n // 4)
    sig[rng.integers(0, n, size=n // 4)] = sig[dup]  # exact copies
    got = lsh_candidates(sig, 4, 2, max_bucket=max_bucket)
    assert got.dtype == np.int64 and got.shape[1] == 2
    ref = sorted(ref_lsh_candidates(sig, 4, 2, max_bucket))
    assert got.tolist() == [list(p) for p in ref]


@pytest.mark.parametrize("seed", range(3))
def test_lsh_candidates_of_a_large_set_match_slow_reference(seed):
    # above 4,096 rows only keys whose slot another key shares are sorted: the same pairs
    from newsclean.dedup.minhash import lsh_candidates

    rng = np.random.default_rng(seed)
    n = 6000
    sig = rng.integers(0, 2**32, size=(n, 8), dtype=np.uint64).astype(np.uint32)
    src, dst = rng.integers(0, n, size=(2, 900))
    cols = rng.random((900, 8)) < 0.5
    sig[dst] = np.where(cols, sig[src], sig[dst])  # near copies sharing some bands
    sig[rng.random(n) < 0.02] = EMPTY_BIN  # one bucket larger than max_bucket
    got = lsh_candidates(sig, 4, 2, max_bucket=64)
    assert got.tolist() == [list(p) for p in sorted(ref_lsh_candidates(sig, 4, 2, 64))]


def test_lsh_candidates_small_inputs():
    from newsclean.dedup.minhash import lsh_candidates

    for n in (0, 1):
        assert lsh_candidates(np.zeros((n, 4), np.uint32), 2, 2).shape == (0, 2)
    distinct = np.arange(40, dtype=np.uint32).reshape(10, 4)
    assert lsh_candidates(distinct, 2, 2).shape == (0, 2)
    assert lsh_candidates(np.zeros((2, 4), np.uint32), 2, 2).tolist() == [[0, 1]]


def ref_lsh_between(new: np.ndarray, old: np.ndarray, bands: int, rows: int, max_bucket: int) -> set[tuple[int, int]]:
    """Slow reference of lsh_candidates_between: per bucket, every new x every old member, or x the first old one."""
    from newsclean.dedup.minhash import band_keys

    kn, ko = band_keys(new, bands, rows), band_keys(old, bands, rows)
    out: set[tuple[int, int]] = set()
    for b in range(bands):
        olds: dict[int, list[int]] = {}
        for j, k in enumerate(ko[:, b].tolist()):
            olds.setdefault(k, []).append(j)
        news: dict[int, list[int]] = {}
        for i, k in enumerate(kn[:, b].tolist()):
            news.setdefault(k, []).append(i)
        for k, ns in news.items():
            os_ = olds.get(k, [])
            if len(os_) + len(ns) > max_bucket:
                os_ = os_[:1]
            out.update((i, j) for i in ns for j in os_)
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_bucket", [2, 5, 64])
def test_lsh_candidates_between_match_slow_reference(seed, max_bucket):
    from newsclean.dedup.minhash import lsh_candidates_between

    rng = np.random.default_rng(100 + seed)
    sig = rng.integers(0, int(rng.integers(2, 6)), size=(int(rng.integers(2, 300)), 8)).astype(np.uint32)
    sig[rng.random(len(sig)) < 0.2] = EMPTY_BIN
    cut = int(rng.integers(1, len(sig)))
    old, new = sig[:cut], sig[cut:]
    got = lsh_candidates_between(new, old, 4, 2, max_bucket=max_bucket)
    assert got.dtype == np.int64 and got.shape[1] == 2
    assert got.tolist() == [list(p) for p in sorted(ref_lsh_between(new, old, 4, 2, max_bucket))]
    assert lsh_candidates_between(new[:0], old, 4, 2).shape == (0, 2)

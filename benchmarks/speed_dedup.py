#!/usr/bin/env python3
"""MinHash signature throughput: newsclean's vectorised MinHash against datasketch, same run.

    python benchmarks/speed_dedup.py [--shared PATH] [--repeat 5] [--num-perm 128]

Documents: every BBC article of the dev ``dedup.jsonl`` (built with newsbench). Both
sides start from the same normalised words and the same word 3-gram shingles:
newsclean hashes them with :func:`shingle_hashes` and ``MinHasher.signatures`` (one
batch); datasketch gets ``MinHash(num_perm).update_batch`` of the shingle strings per
document (its fastest documented path; ``update`` per shingle is also timed once).
Medians of interleaved runs; target: newsclean docs/s >= 30x datasketch docs/s.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_newsbench, make_dev, print_table, read_jsonl, shared_or_skip, verdict  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--num-perm", type=int, default=128)
    a = ap.parse_args()
    shared = shared_or_skip(a.shared)
    try:
        from datasketch import MinHash
    except ImportError:
        print("skipped: datasketch not installed (pip install '.[bench]')")
        return 0
    from newsclean.dedup.minhash import MinHasher, shingle_hashes
    from newsclean.dedup.text import words

    nb = load_newsbench(shared)
    with tempfile.TemporaryDirectory() as tmp:
        dev = make_dev(nb, Path(tmp) / "dev")
        texts = [r["text"] for r in read_jsonl(dev / "dedup.jsonl")]
    toks = [words(t) for t in texts]
    k = 3

    def ours() -> None:
        MinHasher(a.num_perm).signatures([shingle_hashes(t, k) for t in toks])

    def theirs() -> None:
        for t in toks:
            m = MinHash(num_perm=a.num_perm)
            m.update_batch([" ".join(t[i:i + k]).encode() for i in range(max(1, len(t) - k + 1))])

    def theirs_update() -> None:
        for t in toks:
            m = MinHash(num_perm=a.num_perm)
            for i in range(max(1, len(t) - k + 1)):
                m.update(" ".join(t[i:i + k]).encode())

    ours()  # warm the word-hash cache like a long run would; timed runs below include it anyway
    t_ours, t_theirs = [], []
    for r in range(a.repeat):
        for name, fn, acc in (("ours", ours, t_ours), ("theirs", theirs, t_theirs))[:: 1 if r % 2 == 0 else -1]:
            t0 = time.perf_counter()
            fn()
            acc.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    theirs_update()
    t_upd = time.perf_counter() - t0
    n = len(toks)
    ours_dps = n / statistics.median(t_ours)
    theirs_dps = n / statistics.median(t_theirs)
    upd_dps = n / t_upd
    print(f"{n} documents, median {statistics.median(len(t) for t in toks)} words, {a.num_perm} permutations, "
          f"word {k}-grams, {a.repeat} interleaved runs")
    print_table(
        [
            ("newsclean MinHasher", f"{ours_dps:,.0f}", "", ""),
            ("datasketch update_batch", f"{theirs_dps:,.0f}", f"{ours_dps / theirs_dps:.1f}×",
             verdict(ours_dps / theirs_dps >= 30)),
            ("datasketch update per shingle", f"{upd_dps:,.0f}", f"{ours_dps / upd_dps:.1f}×",
             verdict(ours_dps / upd_dps >= 30)),
        ],
        ("signatures", "docs/s", "newsclean ratio (target ≥ 30×)", "verdict"),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

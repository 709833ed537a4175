#!/usr/bin/env python3
"""MinHash signature throughput: newsclean's vectorised MinHash against datasketch, same run.

    python benchmarks/speed_dedup.py [--shared PATH] [--repeat 5] [--num-perm 128]

Documents: every BBC article of the dev ``dedup.jsonl`` (built with newsbench), turned
into normalised words with :func:`newsclean.dedup.text.words` *before* any timing.

What is timed, for both sides, is the same work: from the same input to a
``num_perm``-value signature of the document's word 3-gram shingles, for every document.

* input **word lists** (``words(text)``, one list per document):
  newsclean ``MinHasher(num_perm).document_signatures(word_lists, 3)`` (joins and
  UTF-8-encodes the words, hashes words and shingles, one-permutation MinHash with
  densification); datasketch ``MinHash(num_perm).update_batch`` of the shingle strings
  ``" ".join(words[i:i+3])`` per document (its fastest documented path).
* input **normalised text** (``" ".join(words(text))``, one string per document, the
  form newsclean's exact-duplicate step already builds): the same, except that
  datasketch first splits the text into words.
* ``datasketch update per shingle`` (word lists, timed once) and ``newsclean + shingle
  sets`` (also returns each document's sorted unique shingle hashes, which
  ``newsclean dedup`` needs for exact verification) are shown for information.

Medians of ``--repeat`` interleaved runs (order alternating); the ratio is newsclean
docs/s over datasketch docs/s; target >= 30x.
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
    from newsclean.dedup.minhash import MinHasher
    from newsclean.dedup.text import words

    nb = load_newsbench(shared)
    with tempfile.TemporaryDirectory() as tmp:
        dev = make_dev(nb, Path(tmp) / "dev")
        texts = [r["text"] for r in read_jsonl(dev / "dedup.jsonl")]
    toks = [words(t) for t in texts]
    norm = [" ".join(t) for t in toks]
    k, p = 3, a.num_perm

    def ours(docs) -> None:
        MinHasher(p).document_signatures(docs, k)

    def ours_sets(docs) -> None:
        MinHasher(p).document_signatures(docs, k, return_sets=True)

    def theirs_words(docs) -> None:
        for t in docs:
            m = MinHash(num_perm=p)
            m.update_batch([" ".join(t[i:i + k]).encode() for i in range(max(1, len(t) - k + 1))])

    def theirs_text(docs) -> None:
        theirs_words([d.split() for d in docs])

    def theirs_update(docs) -> None:
        for t in docs:
            m = MinHash(num_perm=p)
            for i in range(max(1, len(t) - k + 1)):
                m.update(" ".join(t[i:i + k]).encode())

    runs = {  # name: (function, input)
        "ours_words": (ours, toks),
        "theirs_words": (theirs_words, toks),
        "ours_text": (ours, norm),
        "theirs_text": (theirs_text, norm),
        "ours_sets": (ours_sets, toks),
    }
    for fn, docs in runs.values():  # warm-up (imports, first allocations), untimed
        if fn is ours or fn is ours_sets:
            fn(docs)
    times: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs)
    for r in range(a.repeat):
        for name in order if r % 2 == 0 else order[::-1]:
            fn, docs = runs[name]
            t0 = time.perf_counter()
            fn(docs)
            times[name].append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    theirs_update(toks)
    t_upd = time.perf_counter() - t0

    n = len(toks)
    dps = {name: n / statistics.median(ts) for name, ts in times.items()}
    upd = n / t_upd
    print(f"{n} documents, median {statistics.median(len(t) for t in toks)} words, {p} permutations, "
          f"word {k}-grams, median of {a.repeat} interleaved runs")
    rw = dps["ours_words"] / dps["theirs_words"]
    rt = dps["ours_text"] / dps["theirs_text"]
    print_table(
        [
            ("word lists: newsclean document_signatures", f"{dps['ours_words']:,.0f}", "", ""),
            ("word lists: datasketch update_batch", f"{dps['theirs_words']:,.0f}", f"{rw:.1f}×", verdict(rw >= 30)),
            ("normalised text: newsclean document_signatures", f"{dps['ours_text']:,.0f}", "", ""),
            ("normalised text: datasketch split + update_batch", f"{dps['theirs_text']:,.0f}", f"{rt:.1f}×",
             verdict(rt >= 30)),
            ("word lists: datasketch update per shingle (1 run)", f"{upd:,.0f}",
             f"{dps['ours_words'] / upd:.1f}×", verdict(None)),
            ("word lists: newsclean + shingle sets (info)", f"{dps['ours_sets']:,.0f}",
             f"{dps['ours_sets'] / dps['theirs_words']:.1f}×", verdict(None)),
        ],
        ("signatures", "docs/s", "newsclean ratio (target ≥ 30×)", "verdict"),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

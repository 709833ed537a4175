#!/usr/bin/env python3
"""Main-text extraction on the Scrapinghub/Zyte article-extraction benchmark.

    python benchmarks/eval_extraction.py [--shared PATH]

newsclean's HTML path (`.html` input: trafilatura extraction, then the cleaning
stages) against trafilatura alone on the 181 pages of
../shared/data/article-extraction-benchmark, with the benchmark's metric as its README
describes it: tokens are ``\\w+`` runs (punctuation ignored), each document's TP/FP/FN
are counted over 4-gram token shingles (multisets), precision and recall are averaged
over documents and F1 is computed from the two means.  Items whose gold keeps embedded
tweets are reported separately too, since newsclean can remove tweets (``--tweets all``).

Needs the [html] extra.  Without ../shared: "skipped: ../shared not found", exit 0.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOKEN = re.compile(r"\w+")
TWEET_SIGNATURE = re.compile(r"\(@\w+\) \w+ \d{1,2}, \d{4}")


def shingles(text: str, n: int = 4) -> Counter:
    toks = TOKEN.findall(text)
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


def prf(pred: str, gold: str) -> tuple[float, float]:
    p, g = shingles(pred), shingles(gold)
    tp = sum((p & g).values())
    fp = sum(p.values()) - tp
    fn = sum(g.values()) - tp
    precision = tp / (tp + fp) if tp + fp else (1.0 if not g else 0.0)
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def summary(scores: list[tuple[float, float]]) -> dict:
    if not scores:
        return {"docs": 0}
    p = sum(s[0] for s in scores) / len(scores)
    r = sum(s[1] for s in scores) / len(scores)
    return {"docs": len(scores), "precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", help="shared material (default ../shared next to the repository)")
    ap.add_argument("--json", help="write the figures to this JSON file")
    a = ap.parse_args(argv)
    shared = Path(a.shared) if a.shared else HERE.parent.parent / "shared"
    bench = shared / "data" / "article-extraction-benchmark"
    if not (bench / "ground-truth.json").exists():
        print("skipped: ../shared not found")
        return 0
    try:
        import trafilatura  # noqa: F401
    except ImportError:
        print("skipped: needs the [html] extra (trafilatura)")
        return 0
    from newsclean import Cleaner
    from newsclean.io.html import html_article

    gold = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    systems = {
        "trafilatura alone": None,
        "newsclean (trafilatura + cleaning)": Cleaner(),
        "newsclean --tweets all": Cleaner(tweets="all"),
    }
    scores: dict[str, list] = {name: [] for name in systems}
    tweet_items: set[str] = set()
    seconds = dict.fromkeys(systems, 0.0)
    for item_id in sorted(gold):
        html = gzip.decompress((bench / "html" / f"{item_id}.html.gz").read_bytes())
        truth = gold[item_id]["articleBody"]
        if TWEET_SIGNATURE.search(truth):
            tweet_items.add(item_id)
        t = time.perf_counter()
        record, _ = html_article(html, item_id, item_id)
        extract_s = time.perf_counter() - t
        extracted = record["text"] if record else ""
        for name, cleaner in systems.items():
            t = time.perf_counter()
            text = extracted if cleaner is None else cleaner.clean_text(extracted)
            seconds[name] += extract_s + time.perf_counter() - t
            scores[name].append((item_id, prf(text, truth)))
    rows = {}
    print(f"{len(gold)} pages; metric: 4-gram token shingles, per-document P/R averaged, F1 of the means")
    print(f"{'system':40s} {'P':>7s} {'R':>7s} {'F1':>7s}   F1 on {len(tweet_items)} pages whose gold keeps tweets")
    for name in systems:
        allv = summary([s for _, s in scores[name]])
        tw = summary([s for i, s in scores[name] if i in tweet_items])
        rows[name] = {"all": allv, "tweet_pages": tw, "seconds": round(seconds[name], 2)}
        print(f"{name:40s} {allv['precision']:7.4f} {allv['recall']:7.4f} {allv['f1']:7.4f}   {tw.get('f1', 0):.4f}")
    base = rows["trafilatura alone"]["all"]["f1"]
    ours = rows["newsclean (trafilatura + cleaning)"]["all"]["f1"]
    print(f"\nnewsclean F1 {ours:.4f} vs trafilatura {base:.4f}: {'PASS' if ours >= base else 'FAIL'} (target: at least trafilatura)")
    print("published figure for trafilatura 2.0.0 on this benchmark: F1 0.958")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

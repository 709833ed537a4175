#!/usr/bin/env python3
"""Same-event clustering on ECB+ with newsbench's own sets and scorer: dev and held-out topics.

    python benchmarks/eval_events.py [--shared PATH] [--holdout] [--keep-dir DIR] [--json FILE] [--speed N]

Sets, built by ``newsbench.build_events_set`` (the function ``make-dev`` writes
``events.jsonl`` with; gold ``event`` = topic x sub-topic):

* ``dev``: topics 1-22, the set the event parameters are tuned on;
* ``dev lone``: the dev set with half of its events (fixed seed) cut to one report each:
  those reports have no other report of their event, so putting one with others is a
  wrong join (what joining lone reports to their closest event costs);
* ``held-out`` (``--holdout``): topics > 22, never used for tuning; run it once, as a
  check, and say so when quoting it.

``--speed N`` also times the linkage step (:func:`~newsclean.dedup.events.event_labels`)
with and without its lone-report step, interleaved in one process, on N records of
scale_dedup.py's synthetic corpus (copies grouped with their original as near-duplicate
units): the medians and their ratio.

Each set runs through ``newsclean dedup SET -o OUT --events`` as a fresh process and is
scored by ``newsbench.score_clusters(gold, clusters, "event", "event")`` (ARI, pairwise
P/R/F1), plus counts from ``clusters.jsonl``: events mixing two gold events, events
spanning two topics (each topic's two sub-events are different events of one kind) and
single-report events.  Exits 0 printing "skipped: ../shared not found" without the
shared material.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, load_newsbench, print_table, read_jsonl, shared_or_skip, verdict, write_jsonl  # noqa: E402

TARGETS = {"dev": 0.90, "held-out": 0.88}
LONE_SEED = 17


def lone_reports_set(rows: list[dict], seed: int = LONE_SEED) -> tuple[list[dict], set[str]]:
    """Half of the events (chosen with ``seed``) cut to one of their reports; returns the
    rows and the ids of those lone reports."""
    rng = random.Random(seed)
    by_event: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_event[r["event"]].append(r)
    kept, lone = [], set()
    for event in sorted(by_event):
        reports = by_event[event]
        if rng.random() < 0.5:
            one = rng.choice(reports)
            kept.append(one)
            lone.add(one["id"])
        else:
            kept.extend(reports)
    order = {r["id"]: k for k, r in enumerate(rows)}
    return sorted(kept, key=lambda r: order[r["id"]]), lone


def run_events(gold: Path, out: Path) -> float:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "newsclean", "dedup", str(gold), "-o", str(out), "--events", "-q"],
                       cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        raise SystemExit(f"newsclean dedup failed with exit code {r.returncode}")
    return time.perf_counter() - t


def event_counts(rows: list[dict], clusters: Path, lone: set[str]) -> dict[str, int]:
    """Predicted events that mix gold events / topics, single-report events, lone reports joined."""
    gold = {r["id"]: r["event"] for r in rows}
    members: dict[str, list[str]] = defaultdict(list)
    for c in read_jsonl(clusters):
        members[str(c["event"])].append(str(c["id"]))
    size_of = {i: len(m) for m in members.values() for i in m}
    return {
        "events": len(members),
        "mixed": sum(len({gold[i] for i in m}) > 1 for m in members.values()),
        "cross_topic": sum(len({gold[i].split("_")[0] for i in m}) > 1 for m in members.values()),
        "single": sum(len(m) == 1 for m in members.values()),
        "lone_joined": sum(size_of[i] > 1 for i in lone),
        "lone": len(lone),
    }


def evaluate(nb, name: str, rows: list[dict], work: Path, lone: set[str] | None = None) -> dict:
    gold = work / f"{name.replace(' ', '_')}.jsonl"
    out = work / f"out_{name.replace(' ', '_')}"
    write_jsonl(gold, rows)
    seconds = run_events(gold, out)
    score = nb.score_clusters(gold, out / "clusters.jsonl", "event", "event")
    return {"set": name, "seconds": round(seconds, 2), **score,
            **event_counts(rows, out / "clusters.jsonl", lone or set())}


def linkage_speed(shared: Path, n: int, repeats: int = 9) -> dict[str, float]:
    """Median seconds of event_labels without / with the lone-report step (interleaved)."""
    import statistics
    from dataclasses import replace

    import numpy as np
    from scale_dedup import make_corpus

    from newsclean.dedup import events as ev

    bbc = [json.loads(line)["text"] for line in open(shared / "data" / "bbc-news-fulltext" / "bbc-news-2225.jsonl")]
    with tempfile.TemporaryDirectory() as tmp:
        make_corpus(Path(tmp) / "corpus.jsonl", n, bbc)
        records = read_jsonl(Path(tmp) / "corpus.jsonl")
    texts = [r["text"] for r in records]
    original: dict[str, int] = {}
    units = [original.setdefault(r["id"].removesuffix("-c"), i) for i, r in enumerate(records)]
    params = ev.EventParams()
    counts = ev.count_terms(texts, params.name_boost)
    (ids,), n_terms = ev.merge_vocabularies([counts.vocab])
    df = ev.document_frequencies([counts.df], [ids], n_terms)
    vectors, blocks = ev.weigh_documents(counts, ids, df, ev.inverse_document_frequency(df, n), 0, params.block_terms)
    first, second = ev.split_pairs(ev.candidate_pairs(blocks, n, params.max_posting), n)
    doc_unit, sizes = ev.unit_index(units)
    across = np.flatnonzero(doc_unit[first] != doc_unit[second])
    first, second = first[across], second[across]
    cos = ev.pair_cosines(vectors, first, second, n_terms)
    variants = {"without": replace(params, attach_threshold=None), "with": params}
    times: dict[str, list[float]] = {k: [] for k in variants}
    for params in variants.values():  # warm-up: first calls pay for allocations and caches
        ev.event_labels(doc_unit, sizes, first, second, cos, params)
    for r in range(repeats):
        for name in (list(variants) if r % 2 == 0 else list(reversed(variants))):
            t = time.perf_counter()
            ev.event_labels(doc_unit, sizes, first, second, cos, variants[name])
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"records": n, "pairs": int(len(first)), "without_s": round(med["without"], 4),
            "with_s": round(med["with"], 4), "ratio": round(med["with"] / med["without"], 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared")
    ap.add_argument("--holdout", action="store_true", help="also score the held-out topics (> 22): a check, not for tuning")
    ap.add_argument("--keep-dir", help="write the sets and outputs here instead of a temporary folder")
    ap.add_argument("--json", help="write the figures to this JSON file")
    ap.add_argument("--speed", type=int, metavar="N", help="also time the linkage step on N synthetic records")
    a = ap.parse_args(argv)
    shared = shared_or_skip(a.shared)
    nb = load_newsbench(shared)
    dev = nb.build_events_set("dev")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(a.keep_dir) if a.keep_dir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = [evaluate(nb, "dev", dev, work)]
        lone_rows, lone = lone_reports_set(dev)
        results.append(evaluate(nb, "dev lone", lone_rows, work, lone))
        if a.holdout:
            results.append(evaluate(nb, "held-out", nb.build_events_set("holdout"), work))
    rows = []
    for r in results:
        target = TARGETS.get(r["set"])
        rows.append((f"{r['set']} ARI", f"≥ {target}" if target else "", r["ari"],
                     verdict(r["ari"] >= target if target else None)))
        if target:  # whole ECB+ topics: no event may span two of them
            rows.append((f"{r['set']} events across topics", "0", r["cross_topic"], verdict(r["cross_topic"] == 0)))
        else:
            rows.append((f"{r['set']} events across topics", "", r["cross_topic"], verdict(None)))
        rows.append((f"{r['set']} pair P / R / F1", "", f"{r['precision']} / {r['recall']} / {r['f1']}", verdict(None)))
        rows.append((f"{r['set']} events / mixed / single", "", f"{r['events']} / {r['mixed']} / {r['single']}",
                     verdict(None)))
        if r["lone"]:
            rows.append((f"{r['set']} lone reports joined (wrong)", "", f"{r['lone_joined']} / {r['lone']}",
                         verdict(None)))
    print_table(rows, ("check", "target", "newsclean", "verdict"))
    print("\n" + "; ".join(f"{r['set']}: {r['docs']} docs in {r['seconds']:.1f} s" for r in results)
          + " (fresh processes, cleaning included)")
    if a.speed:
        speed = linkage_speed(shared, a.speed)
        print(f"\nlinkage step on {speed['records']:,} synthetic records ({speed['pairs']:,} candidate pairs), "
              f"medians: without the lone-report step {speed['without_s']:.3f} s, with it {speed['with_s']:.3f} s "
              f"(ratio {speed['ratio']:.2f})")
        results.append({"set": "linkage speed", **speed})
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Engines side by side: `newsclean run` with 1 worker, N workers and Dask, same corpus, same run.

    python benchmarks/speed_engine.py [--docs 100000] [--workers 2] [--repeats 3] [--work DIR]

The corpus is the synthetic one of scale_dedup.py (from ../shared's BBC texts).  Each
configuration runs as a fresh process (interleaved, ``--repeats`` times; medians
reported), and the outputs of all of them are checked to be byte-identical.  Prints
the speed-up of N workers over 1 (target >= 1.7x on 2 cores), the overhead of a
Dask LocalCluster over the local process pool (target <= 15 %), and the medians of
the main stages' times (shards, events, write) from each run's stats.json.

Without ../shared it prints "skipped: ../shared not found" and exits 0.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale_dedup import PEAK_RSS_LAUNCHER, make_corpus, shared_dir  # noqa: E402

OUTPUTS = ("clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz", "rejects.jsonl")


def digest(out: Path) -> str:
    h = hashlib.sha256()
    for name in OUTPUTS:
        h.update((out / name).read_bytes())
    return h.hexdigest()[:16]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared")
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--command", choices=["run", "dedup"], default="run")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--no-events", action="store_true", help="run --no-events: clean + dedup only")
    ap.add_argument("--work")
    a = ap.parse_args(argv)
    shared = shared_dir(a.shared)
    if shared is None:
        print("skipped: ../shared not found")
        return 0
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="newsclean-engine-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / f"corpus-{a.docs}.jsonl"
    if not corpus.exists():
        bbc = [json.loads(line)["text"] for line in open(shared / "data" / "bbc-news-fulltext" / "bbc-news-2225.jsonl")]
        make_corpus(corpus, a.docs, bbc)
    configs = {"1 worker": ["--workers", "1"], f"{a.workers} workers": ["--workers", str(a.workers)]}
    if not a.no_dask:
        try:
            import dask.distributed  # noqa: F401

            configs[f"dask {a.workers}"] = ["--engine", "dask", "--workers", str(a.workers)]
        except ImportError:
            print("dask.distributed not installed: the Dask row is skipped (pip install 'newsclean[dask]')")
    times: dict[str, list[float]] = {k: [] for k in configs}
    rss: dict[str, list[int]] = {k: [] for k in configs}
    stages: dict[str, list[dict[str, float]]] = {k: [] for k in configs}
    digests: dict[str, set[str]] = {k: set() for k in configs}
    for _ in range(a.repeats):
        for name, extra in configs.items():
            out = work / "out"
            shutil.rmtree(out, ignore_errors=True)
            cmd = [sys.executable, "-c", PEAK_RSS_LAUNCHER, a.command, str(corpus), "-o", str(out), "-q", *extra]
            cmd += ["--no-events"] if a.no_events and a.command == "run" else []
            t = time.perf_counter()
            res = subprocess.run(cmd, capture_output=True, text=True)
            times[name].append(time.perf_counter() - t)
            if res.returncode != 0:
                print(res.stderr[-2000:])
                raise SystemExit(f"{name}: exit {res.returncode}")
            stats = json.loads((out / "stats.json").read_text())
            rss[name].append(int(stats["timings"]["peak_rss_mb"]))
            stages[name].append(stats["timings"])
            digests[name].add(digest(out))
            print(f"{name:>12}: {times[name][-1]:7.1f} s", flush=True)
    print(f"\n`newsclean {a.command}{' --no-events' if a.no_events else ''}` on {a.docs:,} synthetic articles, medians of {a.repeats} interleaved runs")
    base = statistics.median(times["1 worker"])
    for name in configs:
        med = statistics.median(times[name])
        print(f"{name:>12}: {med:7.1f} s  {a.docs / med:8,.0f} docs/s  x{base / med:4.2f} vs 1 worker  "
              f"peak RSS {max(rss[name]):,} MB")
    shown = [k for k in ("shards", "events", "write") if k in stages["1 worker"][0]]
    print("stage medians (s, from stats.json): " + ", ".join(
        f"{name} " + " / ".join(f"{k} {statistics.median(t[k] for t in stages[name]):.1f}" for k in shown)
        for name in configs))
    pool = statistics.median(times[f"{a.workers} workers"])
    print(f"speed-up {a.workers} workers / 1 worker: {base / pool:.2f}x (target >= 1.7x on 2 cores)")
    if f"dask {a.workers}" in configs:
        dask = statistics.median(times[f"dask {a.workers}"])
        print(f"Dask LocalCluster overhead vs the process pool: {100 * (dask / pool - 1):+.1f} % (target <= 15 %)")
    identical = len(set().union(*digests.values())) == 1
    print(f"outputs byte-identical across engines and repeats: {identical}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())

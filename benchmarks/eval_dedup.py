#!/usr/bin/env python3
"""Near-duplicate and event clustering quality on the dev sets, with newsbench's own scorers.

    python benchmarks/eval_dedup.py [--shared PATH] [--keep-dir DIR] [--speed]

Builds the dev sets with ``newsbench.make_dev`` (in a temp dir), runs
``newsclean dedup dev/dedup.jsonl -o OUT``, ``newsclean dedup dev/composite.jsonl -o OUT``
(pages holding several stories) and ``newsclean dedup dev/events.jsonl -o OUT --events``
as fresh processes, scores ``clusters.jsonl`` with
``score_clusters(gold, clusters, "cluster", "cluster")`` / ``score_composite(gold,
clusters)`` / ``(..., "event", "event")`` and prints the targets. ``--speed`` also runs benchmarks/speed_dedup.py.
Exits 0 printing "skipped: ../shared not found" when the shared material is absent.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, load_newsbench, make_dev, print_table, shared_or_skip, verdict  # noqa: E402

KINDS = ("boiler", "truncate", "edit", "messy", "spun", "combo")


def run_cli(args: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "newsclean", "dedup", *args, "-q"], cwd=REPO,
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        raise SystemExit(f"newsclean dedup failed with exit code {r.returncode}")
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared")
    ap.add_argument("--keep-dir", help="build the dev sets and outputs here instead of a temp dir")
    ap.add_argument("--speed", action="store_true", help="also run speed_dedup.py")
    a = ap.parse_args()
    shared = shared_or_skip(a.shared)
    nb = load_newsbench(shared)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(a.keep_dir) if a.keep_dir else Path(tmp)
        dev = make_dev(nb, work / "dev")
        secs_d = run_cli([str(dev / "dedup.jsonl"), "-o", str(work / "out_dedup")])
        composite = dev / "composite.jsonl"
        if composite.exists():  # newsbench versions before composite pages do not write it
            run_cli([str(composite), "-o", str(work / "out_composite")])
            c = nb.score_composite(composite, work / "out_composite" / "clusters.jsonl")
        else:
            c = None
        secs_e = run_cli([str(dev / "events.jsonl"), "-o", str(work / "out_events"), "--events"])
        d = nb.score_clusters(dev / "dedup.jsonl", work / "out_dedup" / "clusters.jsonl", "cluster", "cluster")
        e = nb.score_clusters(dev / "events.jsonl", work / "out_events" / "clusters.jsonl", "event", "event")
        ed = nb.score_clusters(dev / "events.jsonl", work / "out_events" / "clusters.jsonl", "event", "cluster")
    rows = [
        ("dedup pair F1", "≥ 0.99", d["f1"], verdict(d["f1"] >= 0.99)),
        ("dedup precision", "≥ 0.995", d["precision"], verdict(d["precision"] >= 0.995)),
        ("dedup recall", "", d["recall"], verdict(None)),
        ("dedup ARI", "", d["ari"], verdict(None)),
    ]
    for k in KINDS:
        v = d.get("copy_recall_by_kind", {}).get(k)
        rows.append((f"copy recall: {k}", "≥ 0.98", v, verdict(v is not None and v >= 0.98)))
    if c is not None:
        rows += [
            ("composite: stories merged", "≤ 1", c["stories_merged"], verdict(c["stories_merged"] <= 1)),
            ("composite: removed, not contained in their survivor", "0", c["removed_not_contained"],
             verdict(c["removed_not_contained"] == 0)),
            ("composite: copy recall", "≥ 0.98", c["copy_recall"], verdict(c["copy_recall"] >= 0.98)),
        ]
    rows += [
        ("events ARI", "≥ 0.88", e["ari"], verdict(e["ari"] >= 0.88)),
        ("events pair F1", "", e["f1"], verdict(None)),
        ("events: near-dup clusters ARI (MinHash-like ref ≈ 0.31)", "", ed["ari"], verdict(None)),
    ]
    print_table(rows, ("check", "target", "newsclean", "verdict"))
    print(f"\nnewsclean dedup: {d['docs']} docs in {secs_d:.2f} s; --events: {e['docs']} docs in {secs_e:.2f} s "
          "(fresh processes, cleaning included)")
    if a.speed:
        subprocess.run([sys.executable, str(Path(__file__).with_name("speed_dedup.py"))]
                       + (["--shared", a.shared] if a.shared else []), check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

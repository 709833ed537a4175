#!/usr/bin/env python3
"""Throughput of newsclean against ftfy alone, on the same documents in the same run.

    python benchmarks/speed_clean.py [--shared PATH] [--repeat 5] [--json speed.json] [--no-cli]

Two document sets:
  clean    BBC articles (all 2,225) + clean.jsonl gold        target newsclean/ftfy >= 1.0
  damaged  clean.jsonl `text` + lossy_ascii.jsonl `text`      target newsclean/ftfy >= 0.5

Library timing: Cleaner().clean_text vs ftfy.fix_text(uncurl_quotes=False) per document.
CLI timing (when `python -m newsclean clean --help` works): `newsclean clean IN -o OUT`
end to end vs an equivalent JSONL-in/JSONL-out ftfy script, both as fresh processes,
so interpreter start-up is paid by both sides.
Each measurement is repeated (>= 5) with the systems interleaved and their order
alternated, and the medians are reported.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ftfy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (REPO, cli_available, load_cleaner, load_newsbench, make_dev, print_table,  # noqa: E402
                     read_jsonl, shared_or_skip, verdict, write_jsonl)

TARGETS = {"clean": 1.0, "damaged": 0.5}  # brief: newsclean docs/s divided by ftfy docs/s

# The ftfy side of the end-to-end comparison: same JSONL in/out work as the CLI.
FTFY_JSONL = """
import json, sys, ftfy
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], "w", encoding="utf-8") as g:
    for line in f:
        r = json.loads(line)
        r["text"] = ftfy.fix_text(r["text"], uncurl_quotes=False)
        g.write(json.dumps(r, ensure_ascii=False) + "\\n")
"""


def ftfy_fn(t: str) -> str:
    return ftfy.fix_text(t, uncurl_quotes=False)


def one_pass(fn, texts: list[str], errors: list | None, loops: int = 1) -> float:
    """Seconds to run fn over all texts `loops` times; a raising record is counted, not fatal."""
    gc.collect()  # don't bill one system for the other's garbage
    t0 = time.perf_counter()
    for _ in range(loops):
        for i, t in enumerate(texts):
            try:
                fn(t)
            except Exception as exc:  # noqa: BLE001
                if errors is not None:
                    errors.append((i, f"{type(exc).__name__}: {exc}"[:200]))  # i: index in the set
                    errors = None if len(errors) > 1000 else errors  # enough to report
    return time.perf_counter() - t0


def interleaved(systems: dict, run, repeat: int) -> dict[str, list[float]]:
    """Time each system `repeat` times, alternating order so drift hits both alike."""
    times = {k: [] for k in systems}
    names = list(systems)
    for i in range(repeat):
        for name in names if i % 2 == 0 else names[::-1]:
            times[name].append(run(name, systems[name], i))
    return times


def summarise(times: dict[str, list[float]], n_docs: int) -> dict:
    """n_docs: documents processed per timed run (set size x loops)."""
    return {k: {"runs_s": [round(t, 4) for t in v], "median_s": round(statistics.median(v), 4),
                "docs_per_s": round(n_docs / statistics.median(v), 1)} for k, v in times.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", help="shared material dir (default: ../shared next to the repo)")
    ap.add_argument("--dev", help="reuse dev sets already built by newsbench make-dev (default: build afresh)")
    ap.add_argument("--repeat", type=int, default=5, help="timed repetitions per system (min 5)")
    ap.add_argument("--min-time", type=float, default=1.0,
                    help="loop small sets so one timed ftfy run lasts at least this many seconds")
    ap.add_argument("--no-cli", action="store_true", help="skip the end-to-end CLI timing")
    ap.add_argument("--cli-docs", type=int, default=8000,
                    help="repeat each set up to this many documents for the end-to-end CLI timing")
    ap.add_argument("--json", help="write all figures to this JSON file")
    a = ap.parse_args(argv)
    repeat = max(5, a.repeat)

    shared = shared_or_skip(a.shared)
    cleaner, import_error = load_cleaner()
    if cleaner is None:
        print("newsclean could not be imported:\n" + import_error, file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="newsclean-speed-") as tmp:
        tmp = Path(tmp)
        if a.dev:
            dev = Path(a.dev)
        else:
            dev = make_dev(load_newsbench(shared), tmp / "dev")
        clean_rows = read_jsonl(dev / "clean.jsonl")
        bbc = read_jsonl(shared / "data" / "bbc-news-fulltext" / "bbc-news-2225.jsonl")
        sets = {
            "clean": [r["text"] for r in bbc] + [r["gold"] for r in clean_rows],
            "damaged": [r["text"] for r in clean_rows] + [r["text"] for r in read_jsonl(dev / "lossy_ascii.jsonl")],
        }

        # Warm-up: the first newsclean call loads word lists, ftfy builds its caches.
        for t in sets["damaged"][:20] + sets["clean"][:20]:
            for fn in (cleaner.clean_text, ftfy_fn):
                try:
                    fn(t)
                except Exception:  # noqa: BLE001 - counted in the timed passes
                    pass

        results: dict = {"ftfy_version": ftfy.__version__, "repeat": repeat, "targets": TARGETS, "sets": {}}
        table = []
        for set_name, texts in sets.items():
            errors: list = []
            systems = {"newsclean": cleaner.clean_text, "ftfy": ftfy_fn}
            # small sets finish in a fraction of a second: loop them so timer noise stays small
            loops = max(1, math.ceil(a.min_time / max(1e-6, one_pass(ftfy_fn, texts, None))))
            # record errors on the first newsclean run only, so they are not counted `repeat` times
            times = interleaved(systems, lambda n, fn, i: one_pass(
                fn, texts, errors if (n == "newsclean" and i == 0) else None, loops), repeat)
            errors = sorted(set(errors))  # the same record fails on every loop
            s = summarise(times, len(texts) * loops)
            ratio = s["newsclean"]["docs_per_s"] / s["ftfy"]["docs_per_s"]
            results["sets"][set_name] = {"docs": len(texts), "chars": sum(map(len, texts)), "loops": loops,
                                         "library": s,
                                         "ratio": round(ratio, 3), "errors": len(errors),
                                         "error_examples": errors[:10]}
            table.append((set_name, "library", len(texts), s["newsclean"]["docs_per_s"], s["ftfy"]["docs_per_s"],
                          f"{ratio:.2f}x", f">= {TARGETS[set_name]}x", verdict(ratio >= TARGETS[set_name])))
            if errors:
                print(f"{set_name}: {len(errors)} records raised in newsclean, e.g. {errors[0]}", file=sys.stderr)

        if not a.no_cli:
            if cli_available():
                for set_name, texts in sets.items():
                    # A corpus run, not a start-up test: repeat the set up to --cli-docs
                    # documents so interpreter and word-list start-up are amortised.
                    texts = texts * max(1, math.ceil(a.cli_docs / len(texts)))
                    inp = tmp / f"{set_name}.in.jsonl"
                    write_jsonl(inp, ({"id": i, "text": t} for i, t in enumerate(texts)))
                    cmds = {"newsclean": [sys.executable, "-m", "newsclean", "clean", str(inp), "-q",
                                          "-o", str(tmp / f"{set_name}.nc.jsonl")],
                            "ftfy": [sys.executable, "-c", FTFY_JSONL, str(inp), str(tmp / f"{set_name}.ftfy.jsonl")]}
                    failures: list = []

                    def run_cmd(name, cmd, _i):
                        t0 = time.perf_counter()
                        r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
                        dt = time.perf_counter() - t0
                        if r.returncode != 0:
                            failures.append(f"{name} exit {r.returncode}: {r.stderr.strip()[-300:]}")
                        return dt

                    times = interleaved(cmds, run_cmd, repeat)
                    s = summarise(times, len(texts))
                    ratio = s["newsclean"]["docs_per_s"] / s["ftfy"]["docs_per_s"]
                    results["sets"][set_name]["cli"] = {**s, "ratio": round(ratio, 3), "failures": failures[:3]}
                    ok = None if failures else ratio >= TARGETS[set_name]
                    table.append((set_name, "CLI e2e", len(texts), s["newsclean"]["docs_per_s"],
                                  s["ftfy"]["docs_per_s"], f"{ratio:.2f}x", f">= {TARGETS[set_name]}x",
                                  "ERROR" if failures else verdict(ok)))
                    if failures:
                        print(f"CLI run failed on {set_name}: {failures[0]}", file=sys.stderr)
            else:
                results["cli"] = "skipped: `python -m newsclean clean --help` did not return 0"
                print("CLI timing skipped: `python -m newsclean clean --help` did not return 0")

    print_table(table, ("set", "mode", "docs", "newsclean docs/s", "ftfy docs/s", "ratio", "target", "verdict"))
    print(f"medians of {repeat} interleaved runs; ftfy {ftfy.__version__}")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

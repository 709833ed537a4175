#!/usr/bin/env python3
"""`newsclean run` unspinning by itself: the dev recipe, and what learning costs.

    python benchmarks/eval_unspin_run.py [--lm MODEL] [--cost 100000] [--repeats 3]

1. The dev recipe: a corpus of the development dedup set (`newsbench.py make-dev`)
   without the stories of the spin sets, plus the spun paragraphs (`spin.jsonl`, ids
   prefixed `spin:`) and the never-spun ones (`spin_clean_control.jsonl`, `ctl:`);
   `newsclean run corpus.jsonl -o OUT` with no spin option (and with `--spin-lm` when a
   model is given); the archived texts of the `spin:` and `ctl:` records scored by
   `newsbench.py score-spin` (gap closed, words changed in never-spun text).
2. With `--cost N`: `run` on N records of `scale_dedup.py`'s synthetic corpus, learning
   (the default) against `--unspin off`, interleaved, medians and their ratio.

Nothing from ../shared is written into the repository; without it the script prints
"skipped: ../shared not found" and exits 0.
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
NEWSBENCH = SHARED / "bench" / "newsbench.py"


def recipe_corpus(dev: Path, path: Path) -> tuple[list[dict], list[dict]]:
    spun = [json.loads(line) for line in open(dev / "spin.jsonl", encoding="utf-8")]
    control = [json.loads(line) for line in open(dev / "spin_clean_control.jsonl", encoding="utf-8")]
    held_out = {r["id"] for r in spun + control}
    base = [json.loads(line) for line in open(dev / "dedup.jsonl", encoding="utf-8")]
    with open(path, "w", encoding="utf-8") as f:
        for r in base:
            if r["cluster"] not in held_out:
                f.write(json.dumps({"id": r["id"], "text": r["text"]}) + "\n")
        for prefix, rows in (("spin:", spun), ("ctl:", control)):
            for r in rows:
                f.write(json.dumps({"id": prefix + r["id"], "text": r["text"]}) + "\n")
    return spun, control


def archived_texts(outdir: Path) -> dict[str, str]:
    texts = {}
    for name in ("kept.jsonl.gz", "duplicates.jsonl.gz"):
        with gzip.open(outdir / name, "rt", encoding="utf-8") as f:
            texts.update((r["id"], r["text"]) for r in map(json.loads, f))
    return texts


def score_recipe(work: Path, dev: Path, extra: list[str]) -> dict:
    corpus = work / "recipe.jsonl"
    spun, control = recipe_corpus(dev, corpus)
    out = work / "recipe-out"
    started = time.perf_counter()
    subprocess.run(["newsclean", "run", str(corpus), "-o", str(out), "-q", "--force", "--no-events", *extra],
                   check=True)
    seconds = time.perf_counter() - started
    texts = archived_texts(out)
    for prefix, rows, name in (("spin:", spun, "spin.out.jsonl"), ("ctl:", control, "ctl.out.jsonl")):
        with open(work / name, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps({"id": r["id"], "text": texts[prefix + r["id"]]}) + "\n")
    scored = subprocess.run([sys.executable, str(NEWSBENCH), "score-spin", str(dev / "spin.jsonl"),
                             str(work / "spin.out.jsonl"), "--clean-gold", str(dev / "spin_clean_control.jsonl"),
                             "--clean-out", str(work / "ctl.out.jsonl")], capture_output=True, text=True, check=True)
    result = json.loads(scored.stdout)
    result["run_seconds"] = round(seconds, 1)
    result["spin"] = json.loads((out / "stats.json").read_text())["spin"]
    return result


def learning_cost(work: Path, n: int, repeats: int) -> dict:
    sys.path.insert(0, str(HERE))
    import scale_dedup

    corpus = work / f"corpus-{n}.jsonl"
    bbc = [json.loads(line)["text"] for line in open(SHARED / "data" / "bbc-news-fulltext" / "bbc-news-2225.jsonl")]
    scale_dedup.make_corpus(corpus, n, bbc)
    times: dict[str, list[float]] = {"learning": [], "unspin off": []}
    for _ in range(repeats):
        for label, extra in (("learning", []), ("unspin off", ["--unspin", "off"])):
            started = time.perf_counter()
            subprocess.run(["newsclean", "run", str(corpus), "-o", str(work / "cost"), "-q", "--force", *extra],
                           check=True)
            times[label].append(time.perf_counter() - started)
    medians = {label: round(statistics.median(ts), 1) for label, ts in times.items()}
    return {"records": n, "median_seconds": medians, "ratio": round(medians["learning"] / medians["unspin off"], 3),
            "runs": {label: [round(t, 1) for t in ts] for label, ts in times.items()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lm", help="a GGUF model: also score the recipe with --spin-lm")
    ap.add_argument("--lm-backend", default="numpy", help="what runs --lm: numpy (default) or torch")
    ap.add_argument("--cost", type=int, metavar="N", help="also time run with learning vs --unspin off on N records")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--work", help="scratch folder (default: a temporary one)")
    a = ap.parse_args(argv)
    if not NEWSBENCH.exists():
        print("skipped: ../shared not found")
        return 0
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="newsclean-unspin-"))
    dev = work / "dev"
    if not (dev / "spin.jsonl").exists():
        subprocess.run([sys.executable, str(NEWSBENCH), "make-dev", str(dev)], check=True, capture_output=True)
    print(json.dumps({"recipe": score_recipe(work, dev, [])}))
    if a.lm:
        print(json.dumps({f"recipe with --spin-lm ({a.lm_backend})":
                          score_recipe(work, dev, ["--spin-lm", a.lm, "--spin-lm-backend", a.lm_backend])}))
    if a.cost:
        print(json.dumps({"cost": learning_cost(work, a.cost, a.repeats)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

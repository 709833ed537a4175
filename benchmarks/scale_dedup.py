#!/usr/bin/env python3
"""Growth of `newsclean dedup` (or `run`) with corpus size: time, docs/s and peak memory.

    python benchmarks/scale_dedup.py [--sizes 10000 100000 1000000] [--command dedup] [--events]
                                     [--splices 0.7]

Synthetic news corpus built from the BBC articles (../shared/data/bbc-news-fulltext):
distinct stories of sentences drawn at random from the articles, and altered
copies of half of them — a header or footer added, the tail cut, a few words dropped
or changed — so that about a third of the records are near-duplicates.  The file is written once per
size into --work (default a temporary folder); the command then runs as a fresh
process, which reports its own peak resident memory at exit (``getrusage``).

Nothing from ../shared is written into the repository; without it the script prints
"skipped: ../shared not found" and exits 0.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

CITIES = ["LONDON", "PARIS", "NEW YORK", "BERLIN", "TOKYO", "SYDNEY", "NAIROBI", "LIMA", "OSLO", "DELHI"]
PEAK_RSS_LAUNCHER = (
    "import resource, runpy, sys\n"
    "sys.argv = ['newsclean'] + sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_module('newsclean', run_name='__main__')\n"
    "finally:\n"
    "    print('peak_rss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)
HEADERS = ["(Reuters) - ", "(AP) \u2014 ", "UPDATED: ", ""]
FOOTERS = ["\n\nCopyright Associated Press. All rights reserved.", "\n\n(Editing by the desk)", ""]


def shared_dir(arg: str | None) -> Path | None:
    p = Path(arg) if arg else REPO.parent / "shared"
    return p if (p / "data" / "bbc-news-fulltext" / "bbc-news-2225.jsonl").exists() else None


def variant(text: str, rng: random.Random) -> str:
    kind = rng.randrange(4)
    paras = text.split("\n\n")
    if kind == 0:
        return rng.choice(HEADERS) + text + rng.choice(FOOTERS)
    if kind == 1:
        return "\n\n".join(paras[: max(2, int(len(paras) * rng.uniform(0.5, 0.8)))])
    if kind == 2:
        words = text.split(" ")
        return " ".join(w for w in words if rng.random() > 0.04)
    words = text.split(" ")
    return " ".join(w[::-1] if rng.random() < 0.03 and len(w) > 3 else w for w in words)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"])")
_TOKEN = re.compile(r"[A-Za-z]+|\d+|[^A-Za-z\d]+")
# Words a story keeps as they are: the closed classes (a substitute would not be news-like).
_KEEP = frozenset(
    "a an the of to in on at for from by with and or but not no is are was were be been has have had "
    "it its he she they we you i his her their our this that these those which who what as than "
    "said says will would could should may can do does did".split()
)


def fresh_sentence(sentence: str, vocab: dict[str, list[str]], rng: random.Random, rate: float = 0.5) -> str:
    """A new sentence with the shape of a BBC one: each other word, name or number is
    swapped, with probability ``rate``, for a random one of the same kind.

    Drawing whole BBC sentences would make every sentence recur ~300 times in a
    million stories (the BBC has ~40k): unrelated stories would then share sentences
    at a rate no real corpus shows, and the corpus would measure that, not growth.
    """
    out = []
    for tok in _TOKEN.findall(sentence):
        if tok[0].isalnum() and tok.lower() not in _KEEP and rng.random() < rate:
            kind = "num" if tok[0].isdigit() else "cap" if tok[0].isupper() else "low"
            tok = rng.choice(vocab[kind])
        out.append(tok)
    return "".join(out)


def make_corpus(path: Path, n: int, bbc: list[str], seed: int = 7, splices: float = 0.0) -> int:
    """Write n records: distinct synthetic stories and ~1/3 altered copies of them.

    A story is 3-5 paragraphs of 2-4 sentences drawn at random from all BBC
    sentences, half of their words swapped (:func:`fresh_sentence`), under a numbered
    dateline: two stories share a phrase only by chance (far below the near-duplicate
    threshold), so the corpus grows without repeating itself.

    With ``splices`` (a share of the records, e.g. 0.7), that share are pages made of
    several stories already written: two whole stories, a story followed by the
    openings of two others, or a roundup of three to five openings.  Every story
    then sits in several pages: union-find over containment would join them all.
    """
    rng = random.Random(seed)
    sentences = [s for t in bbc for s in _SENTENCE_END.split(t.replace("\n\n", " ")) if len(s.split()) >= 6]
    vocab: dict[str, set[str]] = {"num": set(), "cap": set(), "low": set()}
    for s in sentences:
        for tok in _TOKEN.findall(s):
            if tok[0].isalnum() and tok.lower() not in _KEEP:
                vocab["num" if tok[0].isdigit() else "cap" if tok[0].isupper() else "low"].add(tok)
    words = {k: sorted(v) for k, v in vocab.items()}
    recent: list[str] = []  # the stories a page may hold (bounded: memory stays flat)
    written = slot = pages = 0
    with open(path, "w", encoding="utf-8") as f:
        while written < n:
            if len(recent) >= 5 and rng.random() < splices:
                f.write(json.dumps({"id": f"page{pages}", "text": page_of(recent, rng)}, ensure_ascii=False) + "\n")
                written, pages = written + 1, pages + 1
                continue
            paras = [" ".join(fresh_sentence(s, words, rng) for s in rng.sample(sentences, rng.randint(2, 4)))
                     for _ in range(rng.randint(3, 5))]
            original = f"{rng.choice(CITIES)}, report {slot} \u2014 " + "\n\n".join(paras)
            f.write(json.dumps({"id": f"s{slot}", "text": original}, ensure_ascii=False) + "\n")
            written += 1
            recent = (recent + [original])[-2000:]
            if rng.random() < 0.5 and written < n:
                f.write(json.dumps({"id": f"s{slot}-c", "text": variant(original, rng)}, ensure_ascii=False) + "\n")
                written += 1
            slot += 1
    return written


def opening(text: str, words: int = 45) -> str:
    return " ".join(text.split()[:words])


def page_of(stories: list[str], rng: random.Random) -> str:
    """A page holding several of ``stories``: two whole ones, one with two others'
    openings in a related block, or a roundup of openings."""
    kind = rng.randrange(3)
    if kind == 0:
        a, b = rng.sample(stories, 2)
        return a + "\n\n" + b
    if kind == 1:
        a, b, c = rng.sample(stories, 3)
        return a + "\n\nRelated stories\n\n" + opening(b) + "\n\n" + opening(c)
    return "News in brief\n\n" + "\n\n".join(opening(t, 70) for t in rng.sample(stories, rng.randint(3, 5)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", help="shared material (default ../shared next to the repository)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--command", choices=["dedup", "run"], default="dedup")
    ap.add_argument("--events", action="store_true", help="add --events (dedup)")
    ap.add_argument("--workers", type=int, help="--workers for the command (default: its own, all cores)")
    ap.add_argument("--work", help="folder for the corpora and outputs (default: a temporary folder)")
    ap.add_argument("--json", help="write the figures to this JSON file")
    ap.add_argument("--splices", type=float, default=0.0, metavar="SHARE",
                    help="share of the records that are pages holding several stories (e.g. 0.7)")
    a = ap.parse_args(argv)
    shared = shared_dir(a.shared)
    if shared is None:
        print("skipped: ../shared not found")
        return 0
    bbc = [json.loads(line)["text"] for line in open(shared / "data" / "bbc-news-fulltext" / "bbc-news-2225.jsonl")]
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="newsclean-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in a.sizes:
        corpus = work / (f"corpus-{n}.jsonl" if not a.splices else f"corpus-{n}-splices{a.splices:g}.jsonl")
        if not corpus.exists():
            make_corpus(corpus, n, bbc, splices=a.splices)
        out = work / f"out-{a.command}-{n}"
        shutil.rmtree(out, ignore_errors=True)  # a fresh run, not a resumed one
        args = [a.command, str(corpus), "-o", str(out), "-q"] + (["--events"] if a.events else [])
        args += ["--workers", str(a.workers)] if a.workers else []
        # The command runs in a fresh interpreter that reports its own peak RSS at exit.
        cmd = [sys.executable, "-c", PEAK_RSS_LAUNCHER, *args]
        t = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t
        peak_kb = int(res.stderr.strip().splitlines()[-1].split()[-1]) if "peak_rss_kb" in res.stderr else 0
        stats = json.loads((out / "stats.json").read_text()) if res.returncode == 0 else {}
        row = {
            "docs": n,
            "seconds": round(seconds, 1),
            "docs_per_s": round(n / seconds),
            "peak_rss_mb": round(peak_kb / 1024),
            "exit": res.returncode,
            "duplicates": stats.get("duplicates"),
            "composite_pages": stats.get("composite_pages"),
            "largest_cluster": max((int(k) for k in stats.get("cluster_size_histogram", {})), default=None),
            "timings": stats.get("timings"),
        }
        if res.returncode != 0:
            row["stderr"] = res.stderr[-500:]
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{a.command}{' --events' if a.events else ''}: docs, seconds, docs/s, peak RSS")
    for r in rows:
        print(f"{r['docs']:>10,}  {r['seconds']:>8.1f} s  {r['docs_per_s']:>7,}/s  {r['peak_rss_mb']:>6,} MB")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        growth = (last["seconds"] / first["seconds"]) / (last["docs"] / first["docs"])
        print(f"time growth relative to linear from {first['docs']:,} to {last['docs']:,}: {growth:.2f}x")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Site boilerplate learned from real scraped corpora: what is removed, and whether any of
it is article text.

    python benchmarks/eval_boilerplate.py [--shared PATH] [--show 20] [--min-pages 5] [--min-share 0.05]
                                          [--json FILE]

Corpora (../shared/data):

* ``scraped-news-samples/fake_or_real_news/articles.jsonl``: 197 articles from many
  sites with no url field, so the whole file is one "site" (what ``newsclean run`` does
  with such a file);
* the article-extraction benchmark's extractor outputs (``output/<tool>.json``), one
  corpus per extractor, each page's site the host of its gold url; and all ten pooled
  (every page then appears ten times, extracted differently: the copies must not make
  its own lines look like furniture).

For each: pages, lines learned, lines and records changed, and for the extraction
benchmark the removed lines that are article text by its gold (a removed line found in
the page's ``articleBody``): the figure that must be 0.  ``--show`` prints the most
removed lines and a deterministic sample of the others to read by hand; lower
``--min-pages`` / ``--min-share`` than the defaults show what a bolder setting would
take (none of these corpora has five articles of one site with a url).  Without
../shared: "skipped: ../shared not found", exit 0.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


def learn_and_remove(pages: list[tuple[str, str, str]], min_pages: int, min_share: float,
                     ) -> tuple[dict, dict[str, list[str]]]:
    """``pages``: (id, site, text).  Returns the figures and the removed lines per page id."""
    from newsclean.clean.boilerplate import remove_boilerplate_and_explain
    from newsclean.clean.sites import SiteCounts

    started = time.perf_counter()
    counts = SiteCounts()
    for _, site, text in pages:
        counts.add(site, text)
    sites = counts.learn(min_pages, min_share)
    counted = time.perf_counter() - started
    removed: dict[str, list[str]] = {}
    for page_id, site, text in pages:
        _, edits = remove_boilerplate_and_explain(text, sites.boilerplate, site)
        if edits:
            removed.setdefault(page_id, []).extend(e.before.strip() for e in edits)
    per_site = Counter(site for _, site, _ in pages)
    figures = {"pages": len(pages), "sites": len(per_site), "sites_with_5_pages": sum(n >= 5 for n in per_site.values()),
               "lines_learned": len(sites.boilerplate), "lines_removed": sum(map(len, removed.values())),
               "records_changed": len(removed), "count_seconds": round(counted, 3)}
    return figures, removed


def in_gold(removed: dict[str, list[str]], gold: dict[str, str]) -> list[tuple[str, str]]:
    """Removed lines that the page's gold article holds: article text removed."""
    def norm(s: str) -> str:
        return " ".join(s.split()).casefold()

    return [(pid.split("#")[0], line) for pid, lines in removed.items() for line in lines
            if norm(line) and norm(line) in norm(gold[pid.split("#")[0]])]


def show(name: str, removed: dict[str, list[str]], n: int) -> None:
    lines = Counter(line for v in removed.values() for line in v)
    print(f"  most removed lines of {name}:")
    for line, count in lines.most_common(n):
        print(f"    {count:5d}  {line[:110]!r}")
    rare = sorted((zlib.crc32(line.encode()), line) for line in lines if lines[line] < 3)
    if rare:
        print(f"  a sample of the lines removed fewer than 3 times ({len(rare)}):")
        for _, line in rare[:n]:
            print(f"           {line[:110]!r}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", help="shared material (default ../shared next to the repository)")
    ap.add_argument("--show", type=int, default=15, help="lines shown per corpus (0: none)")
    ap.add_argument("--min-pages", type=int, default=5, help="--boilerplate-min-pages")
    ap.add_argument("--min-share", type=float, default=0.05, help="--boilerplate-min-share")
    ap.add_argument("--json", help="write the figures to this JSON file")
    a = ap.parse_args(argv)
    shared = Path(a.shared) if a.shared else HERE.parent.parent / "shared"
    fake = shared / "data" / "scraped-news-samples" / "fake_or_real_news" / "articles.jsonl"
    bench = shared / "data" / "article-extraction-benchmark"
    if not fake.exists() or not (bench / "ground-truth.json").exists():
        print("skipped: ../shared not found")
        return 0
    from newsclean.clean.boilerplate import site_of

    rows = {}
    records = [json.loads(line) for line in fake.open(encoding="utf-8")]
    pages = [(str(r["id"]), site_of(r, str(fake)), r["text"]) for r in records]
    thresholds = (a.min_pages, a.min_share)
    rows["fake_or_real_news"], removed = learn_and_remove(pages, *thresholds)
    print("fake_or_real_news:", json.dumps(rows["fake_or_real_news"]))
    if a.show:
        show("fake_or_real_news", removed, a.show)

    truth = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    gold = {k: v["articleBody"] for k, v in truth.items()}
    pooled: list[tuple[str, str, str]] = []
    for path in sorted((bench / "output").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc = doc.get("output", doc)
        pages = [(k, site_of({"url": truth[k]["url"]}), (doc.get(k) or {}).get("articleBody") or "") for k in truth]
        pooled += [(f"{k}#{path.stem}", site, text) for k, site, text in pages]
        figures, removed = learn_and_remove(pages, *thresholds)
        figures["article_lines_removed"] = len(in_gold(removed, gold))
        rows[path.stem] = figures
        print(f"{path.stem}:", json.dumps(figures))
        if a.show and removed:
            show(path.stem, removed, a.show)
    figures, removed = learn_and_remove(pooled, *thresholds)
    wrong = in_gold(removed, gold)
    figures["article_lines_removed"] = len(wrong)
    rows["all extractors pooled"] = figures
    print("all extractors pooled:", json.dumps(figures))
    if a.show:
        show("all extractors pooled", removed, a.show)
        for pid, line in wrong[: a.show]:
            print(f"  ARTICLE TEXT REMOVED from {pid[:12]}: {line[:110]!r}")
    total_wrong = sum(r.get("article_lines_removed", 0) for r in rows.values())
    print(f"\narticle lines removed (by the gold): {total_wrong} (target 0)")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

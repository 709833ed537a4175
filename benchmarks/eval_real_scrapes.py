#!/usr/bin/env python3
"""Cleaning on real scrapes that no dev generator wrote (issue 18's checks).

    python benchmarks/eval_real_scrapes.py [--shared PATH] [--out bench-out/real] [--json FILE]

Sections:
  1. tweets: fake_or_real_news (197 real articles) through the default cleaner — tweet
     signatures, t.co and pic.twitter.com links left, empty records, records that lost
     most of their text; a before/after file of the 9 articles that embed tweets, for
     reading by hand;
  2. lossy: the real lossy set (fake_or_real_news with every non-ASCII character turned
     into "?", gold = the original), scored by newsbench's own score_lossy, plus the
     characters invented: a currency sign or a letter where the original had none;
  3. tokenised: ECB+ documents (real tokenised text): real " ? " changed;
  4. glued: the 10 extractor outputs of the extraction benchmark — documents with a
     sentence glued at a full stop ("said.The") before and after, and each glued-word
     split checked against the gold text;
  5. layout: the extraction gold's line breaks joined by cleaning (lists, tables);
  6. boilerplate: lines learned as site boilerplate on fake_or_real_news by source file;
  7. with ``--speed-against REF`` (a git ref, e.g. main): the lost_chars stage of this
     tree and of REF (its lost_chars.py read with ``git show``) timed on the damaged
     texts (the real lossy set and the dev lossy sets), interleaved, medians and ratio.

Skips cleanly (exit 0) without ../shared.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_newsbench, print_table, read_jsonl, shared_or_skip, write_jsonl  # noqa: E402

SIGNATURE = re.compile(r"\(@\w{1,30}\)\s{0,3}\w+\.? \d{1,2},? \d{4}")
TWEET_LINK = re.compile(r"t\.co/\w|pic\.twitter\.com/\w")
SENTENCE_GLUE = re.compile(r"(?<![\w.])[A-Za-z][a-z]+[.!?][\"\u201d\u2019)]?[A-Z][a-z]+\b")
TARGETS = {"lossy_restored": 0.95, "lossy_kept": 0.995, "invented": 0, "tokenised_changed": 0}


def fake_or_real_news(shared: Path) -> list[dict]:
    return read_jsonl(shared / "data" / "scraped-news-samples" / "fake_or_real_news" / "articles.jsonl")


# ---------------------------------------------------------------- 1. tweets


def eval_tweets(records: list[dict], out: Path) -> dict:
    from newsclean import Cleaner
    from newsclean.clean.embeds import kept_share

    cleaner = Cleaner(spin_table=None)
    res = Counter()
    lines = []
    for r in records:
        before = r["text"]
        after = cleaner.clean_text(before)
        res["records"] += 1
        res["signatures_before"] += len(SIGNATURE.findall(before))
        res["signatures_left"] += len(SIGNATURE.findall(after))
        res["tweet_links_before"] += len(TWEET_LINK.findall(before))
        res["tweet_links_left"] += len(TWEET_LINK.findall(after))
        res["empty"] += not after.strip()
        res["kept_under_half"] += kept_share(before, after) < 0.5
        if SIGNATURE.search(before):
            res["records_with_tweets"] += 1
            lines += [f"=============== {r['id']}  kept {kept_share(before, after):.2f}", "--- before", before,
                      "--- after", after, ""]
    (out / "tweets_before_after.txt").write_text("\n".join(lines), encoding="utf-8")
    return dict(res)


# ---------------------------------------------------------------- 2. lossy


def real_lossy_set(records: list[dict]) -> list[dict]:
    rows = []
    for r in records:
        if not r["text"].isascii():
            rows.append({"id": r["id"], "text": r["text"].encode("ascii", "replace").decode("ascii"), "gold": r["text"]})
    return rows


def invented(gold: str, lossy: str, out: str) -> Counter:
    """Characters put where the original had none like them: a currency sign where it
    had no currency sign, a letter where it had no letter (compared where lengths agree)."""
    found = Counter()
    if len(out) != len(gold):
        return found
    for g, bad, o in zip(gold, lossy, out):
        if bad != "?" or o == g or o == "?":
            continue
        if unicodedata.category(o) == "Sc" and unicodedata.category(g) != "Sc":
            found["currency"] += 1
        elif o.isalpha() and not g.isalpha():
            found["letter"] += 1
    return found


def eval_lossy(nb, records: list[dict], out: Path) -> dict:
    from newsclean import Cleaner
    from newsclean.clean.lost_chars import restore_lost_characters

    rows = real_lossy_set(records)
    gold_path = out / "real_lossy.jsonl"
    write_jsonl(gold_path, rows)
    res = {}
    systems = {
        "lost_chars stage": restore_lost_characters,
        # the whole cleaner, tweets kept: a removed tweet is no failed restoration
        "newsclean clean (--tweets keep)": Cleaner(tweets="keep", spin_table=None).clean_text,
    }
    for name, fn in systems.items():
        outs = [{"id": r["id"], "text": fn(r["text"])} for r in rows]
        path = out / f"real_lossy.{name.split()[0]}.jsonl"
        write_jsonl(path, outs)
        score = nb.score_lossy(gold_path, path)
        inv = Counter()
        for r, o in zip(rows, outs):
            inv += invented(r["gold"], r["text"], o["text"])
        score["invented_currency"] = inv["currency"]
        score["invented_letters"] = inv["letter"]
        res[name] = score
    _write_wrong_restorations(rows, out)
    return res


def _write_wrong_restorations(rows: list[dict], out: Path) -> None:
    from newsclean.clean.lost_chars import restore_lost_characters

    wrong = Counter()
    examples: dict = {}
    for r in rows:
        gold, bad = r["gold"], r["text"]
        got = restore_lost_characters(bad)
        if len(got) != len(gold):
            continue
        for i, (g, b, o) in enumerate(zip(gold, bad, got)):
            if b == "?" and g != o:
                wrong[(g, o)] += 1
                examples.setdefault((g, o), []).append(f"{gold[max(0, i - 30):i]}[{g}>{o}]{gold[i + 1:i + 30]}")
    with open(out / "real_lossy_wrong.txt", "w", encoding="utf-8") as f:
        for (g, o), n in wrong.most_common():
            f.write(f"{n:5d}  {g!r} -> {o!r}\n")
            f.writelines(f"         {e!r}\n" for e in examples[(g, o)][:5])


# ---------------------------------------------------------------- 3. tokenised text


def eval_tokenised(shared: Path) -> dict:
    from rapidfuzz.distance import Levenshtein

    from newsclean import Cleaner

    cleaner = Cleaner(spin_table=None)
    with gzip.open(shared / "data" / "ecbplus" / "docs.jsonl.gz", "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]
    total = changed = docs_changed = 0
    for d in docs:
        text = d["text"]
        if "?" not in text:
            continue
        got = cleaner.clean_text(text)
        docs_changed += got != text
        kept = set()
        for op in Levenshtein.opcodes(text, got):
            if op.tag == "equal":
                kept.update(range(op.src_start, op.src_end))
        for i, c in enumerate(text):
            if c == "?":
                total += 1
                changed += i not in kept
    return {"docs": len(docs), "real_question_marks": total, "changed": changed, "docs_changed": docs_changed}


# ---------------------------------------------------------------- 4. glued words


def extractor_outputs(shared: Path) -> list[tuple[str, str, str]]:
    out = []
    for path in sorted((shared / "data" / "article-extraction-benchmark" / "output").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data.get("output"), dict):
            data = data["output"]
        for item_id, v in data.items():
            text = (v or {}).get("articleBody") or ""
            if text.strip():
                out.append((path.stem, item_id, text))
    return out


def eval_glued(shared: Path, gold: dict, out: Path) -> dict:
    from newsclean.clean.glued import split_glued_words_and_explain

    fold = lambda s: re.sub(r"\s+", " ", s)  # noqa: E731
    res = Counter()
    wrong = []
    for tool, item_id, text in extractor_outputs(shared):
        after, edits = split_glued_words_and_explain(text)
        res["outputs"] += 1
        res["with_sentence_glue_before"] += bool(SENTENCE_GLUE.search(text))
        res["with_sentence_glue_after"] += bool(SENTENCE_GLUE.search(after))
        g = fold(gold[item_id]["articleBody"])
        for e in edits:
            if e.what != "glued words":
                res["sentence_splits"] += 1
                continue
            res["word_splits"] += 1
            if fold(e.after) in g:
                res["word_splits_in_gold"] += 1
            elif e.before in g:
                res["word_splits_gold_keeps_whole"] += 1
                wrong.append(f"{tool} {item_id[:12]} {e.before!r} -> {e.after!r}")
    (out / "glued_gold_keeps_whole.txt").write_text("\n".join(wrong), encoding="utf-8")
    return dict(res)


# ---------------------------------------------------------------- 5. layout


def eval_layout(gold: dict) -> dict:
    from newsclean import Cleaner

    cleaner = Cleaner(spin_table=None)
    breaks = joined = 0
    docs = set()
    for item_id, v in gold.items():
        text = v["articleBody"]
        after = "\n" + cleaner.clean_text(text) + "\n"
        for a, b in zip(text.split("\n"), text.split("\n")[1:]):
            a, b = a.strip(), b.strip()
            if not a or not b:
                continue
            breaks += 1
            if f"\n{a}\n" in after and f"\n{b}\n" in after or (a not in after or b not in after):
                continue  # kept as lines, or one of them removed
            if f"{a} {b}" in after:
                joined += 1
                docs.add(item_id)
    return {"single_line_breaks": breaks, "joined": joined, "docs_with_joins": len(docs)}


# ---------------------------------------------------------------- 6. boilerplate


def eval_boilerplate(records: list[dict]) -> dict:
    from newsclean import Cleaner
    from newsclean.clean.boilerplate import BoilerplateStats, LineCounts, remove_boilerplate_and_explain, site_of

    cleaner = Cleaner(spin_table=None)
    cleaned = [(site_of(r, r.get("source_file")), cleaner.clean_text(r["text"])) for r in records]
    counts = LineCounts()
    for site, text in cleaned:
        counts.add(site, text)
    table = counts.boilerplate()
    stats = BoilerplateStats()
    for site, text in cleaned:
        stats.add(remove_boilerplate_and_explain(text, table, site)[1])
    return {"sites": len(counts.site_pages), "line_pairs_counted": len(counts), "lines_learned": len(table),
            "removed": stats.most_common(20)}


# ---------------------------------------------------------------- 7. speed against older code


def lost_chars_at(ref: str):
    """The lost_chars module as it was at git ``ref``, importable beside the current one."""
    import importlib.util
    import subprocess

    repo = Path(__file__).resolve().parent.parent
    source = subprocess.run(["git", "show", f"{ref}:src/newsclean/clean/lost_chars.py"], cwd=repo,
                            capture_output=True, text=True, check=True).stdout
    name = "newsclean.clean._lost_chars_at_ref"
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader=None))
    module.__package__ = "newsclean.clean"
    sys.modules[name] = module
    exec(compile(source, f"{ref}:lost_chars.py", "exec"), module.__dict__)  # noqa: S102 - our own file
    return module


def eval_speed(ref: str, texts: list[str], repeat: int) -> dict:
    import statistics

    from newsclean.clean import lost_chars

    old = lost_chars_at(ref)
    stages = {"this tree": lost_chars.restore_lost_characters_and_explain,
              ref: old.restore_lost_characters_and_explain}
    for fn in stages.values():  # warm up: word lists, regexes
        fn(texts[0])
    times: dict[str, list[float]] = {k: [] for k in stages}
    for _ in range(repeat):
        for name, fn in stages.items():  # interleaved: the machine's noise falls on both
            t0 = time.perf_counter()
            for text in texts:
                fn(text)
            times[name].append(time.perf_counter() - t0)
    median = {k: statistics.median(v) for k, v in times.items()}
    return {"texts": len(texts), "chars": sum(map(len, texts)), "repeat": repeat,
            "median_s": {k: round(v, 4) for k, v in median.items()},
            "ratio_new_over_old": round(median["this tree"] / median[ref], 3)}


# ----------------------------------------------------------------


def summary_rows(r: dict) -> list[tuple]:
    rows = []
    t = r["tweets"]
    rows += [
        ("fake_or_real_news: tweet signatures left", "0", f"{t['signatures_left']} of {t['signatures_before']}",
         "PASS" if t["signatures_left"] == 0 else "FAIL"),
        ("  t.co / pic.twitter.com links left", "0", f"{t['tweet_links_left']} of {t['tweet_links_before']}",
         "PASS" if t["tweet_links_left"] == 0 else "FAIL"),
        ("  empty records", "0", str(t["empty"]), "PASS" if t["empty"] == 0 else "FAIL"),
        ("  records keeping < 50 % of their text", "", str(t["kept_under_half"]), "info"),
    ]
    for name, s in r["lossy"].items():
        ok = s["restored_exact"] >= TARGETS["lossy_restored"]
        rows.append((f"real lossy set, {name}: restored exactly", f">= {TARGETS['lossy_restored']}",
                     f"{s['restored_exact']:.4f} of {s['lost_chars']}", "PASS" if ok else "FAIL"))
        rows.append(("  real '?' kept", f">= {TARGETS['lossy_kept']}", f"{s['kept']:.4f} of {s['real_question_marks']}",
                     "PASS" if s["kept"] >= TARGETS["lossy_kept"] else "FAIL"))
        inv = s["invented_currency"] + s["invented_letters"]
        rows.append(("  currency signs / letters invented", "0 / 0",
                     f"{s['invented_currency']} / {s['invented_letters']}", "PASS" if inv == 0 else "FAIL"))
    e = r["tokenised"]
    rows.append(("ECB+ tokenised: real '?' changed", "0", f"{e['changed']} of {e['real_question_marks']}",
                 "PASS" if e["changed"] == 0 else "FAIL"))
    g = r["glued"]
    rows += [
        ("extractor outputs with 'said.The' glue", "", f"{g['with_sentence_glue_before']} -> "
         f"{g['with_sentence_glue_after']} of {g['outputs']}", "info"),
        ("  glued-word splits the gold keeps whole", "", f"{g.get('word_splits_gold_keeps_whole', 0)} of "
         f"{g.get('word_splits', 0)}", "info"),
    ]
    lay = r["layout"]
    rows.append(("extraction gold: line breaks joined", "0", f"{lay['joined']} of {lay['single_line_breaks']}",
                 "PASS" if lay["joined"] == 0 else "FAIL"))
    b = r["boilerplate"]
    rows.append(("boilerplate lines learned (fake_or_real_news)", "", str(b["lines_learned"]), "info"))
    if "speed" in r:
        sp = r["speed"]
        ref = next(k for k in sp["median_s"] if k != "this tree")
        rows.append((f"lost_chars on damaged text: time vs {ref}", "", f"{sp['median_s']['this tree']:.3f} s / "
                     f"{sp['median_s'][ref]:.3f} s = {sp['ratio_new_over_old']:.2f}x", "info"))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", help="shared material dir (default: ../shared next to the repo)")
    ap.add_argument("--out", default="bench-out/real", help="where outputs go (default bench-out/real)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--speed-against", metavar="REF", help="also time the lost_chars stage against git REF")
    ap.add_argument("--repeat", type=int, default=5, help="interleaved timing runs for --speed-against")
    a = ap.parse_args(argv)
    shared = shared_or_skip(a.shared)
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    nb = load_newsbench(shared)
    t0 = time.perf_counter()
    records = fake_or_real_news(shared)
    gold = json.loads((shared / "data" / "article-extraction-benchmark" / "ground-truth.json").read_text("utf-8"))
    results = {
        "tweets": eval_tweets(records, out),
        "lossy": eval_lossy(nb, records, out),
        "tokenised": eval_tokenised(shared),
        "glued": eval_glued(shared, gold, out),
        "layout": eval_layout(gold),
        "boilerplate": eval_boilerplate(records),
    }
    if a.speed_against:
        damaged = [r["text"] for r in real_lossy_set(records)]
        for kind in ("ascii", "fffd"):  # the dev lossy sets, built by newsbench itself
            damaged += [r["text"] for r in nb.build_lossy_set("dev", kind)]
        results["speed"] = eval_speed(a.speed_against, damaged, a.repeat)
    results["wall_seconds"] = round(time.perf_counter() - t0, 1)
    print_table(summary_rows(results), ("check", "target", "measured", "verdict"))
    print(f"\nboilerplate removed: {results['boilerplate']['removed'][:10]}")
    print(f"read by hand: {out / 'tweets_before_after.txt'}, {out / 'real_lossy_wrong.txt'}, "
          f"{out / 'glued_gold_keeps_whole.txt'}  ({results['wall_seconds']} s)")
    payload = json.dumps(results, ensure_ascii=False, indent=1, default=str)
    (out / "eval_real_scrapes.json").write_text(payload, encoding="utf-8")
    if a.json:
        Path(a.json).write_text(payload, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

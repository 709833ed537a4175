#!/usr/bin/env python3
"""Quality of newsclean's cleaning against the shared dev sets and ftfy's own test cases.

    python benchmarks/eval_clean.py [--shared PATH] [--out bench-out] [--json results.json]

Sections (see benchmarks/README.md):
  1. dev sets built by newsbench `make-dev`, scored by newsbench's own scorers;
     ftfy alone and identity are scored on clean.jsonl in the same run for reference;
  2. ftfy test cases: negative.json must stay unchanged, in-the-wild.json mojibake
     that ftfy fixes must be fixed too;
  3. no-harm: clean text (clean.jsonl gold + all BBC articles) must come out unchanged.

The extraction gold keeps the tweets its pages embed, which newsclean removes by
default: the sets are also scored against the gold without its tweets (cut by the
gold's own layout), and with ``--tweets embedded`` against the gold as it is.

Exits 0 unless --strict is given and a check fails (or ../shared is missing: skipped, 0).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import ftfy
from ftfy.badness import is_bad
from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _common when imported elsewhere
from _common import (load_cleaner, load_newsbench, make_dev, print_table, read_jsonl,  # noqa: E402
                     shared_or_skip, verdict, write_jsonl)

# Targets, as set by the issue (#2) that introduced the cleaning stages.
TARGETS = {
    "clean_error_removed": 0.90,   # ftfy alone: 0.135
    "lossy_restored_exact": 0.97,
    "lossy_kept": 0.995,           # real '?' must survive restoration
    "negative_changed": 0,         # ftfy's negative cases: no change at all
    "wild_fixed_share": 1.0,       # every in-the-wild case ftfy's fix_encoding fixes
    "noharm_word_change": 0.0005,  # clean gold + BBC: at most 0.05 % of words changed
    "errors": 0,                   # records that made the cleaner raise
}
N_WORST = 30


# ---------------------------------------------------------------------------
# running a system over records without letting one bad record stop the run


class Runner:
    """Wrap a text -> text function: collect exceptions per record and, for newsclean, edits per stage."""

    def __init__(self, name: str, fn, with_edits: bool = False):
        self.name, self.fn, self.with_edits = name, fn, with_edits
        self.errors: list[dict] = []
        self.stage_edits: Counter = Counter()
        self.seconds = 0.0

    def __call__(self, doc_id: str, text: str, where: str) -> str:
        t0 = time.perf_counter()
        try:
            if self.with_edits:
                res = self.fn(text)
                # edits are optional extra detail: the result API may still be changing
                for e in getattr(res, "edits", None) or ():
                    self.stage_edits[getattr(e, "stage", "?")] += 1
                return res.text
            return self.fn(text)
        except Exception as exc:  # noqa: BLE001 - report and pass the input through
            self.errors.append({"set": where, "id": doc_id, "error": f"{type(exc).__name__}: {exc}"[:300]})
            return text
        finally:
            self.seconds += time.perf_counter() - t0


def run_file(runner: Runner, rows: list[dict], out_path: Path, where: str) -> list[str]:
    outs = [runner(str(r["id"]), r.get("text") or "", where) for r in rows]
    write_jsonl(out_path, ({"id": r["id"], "text": o} for r, o in zip(rows, outs)))
    return outs


# ---------------------------------------------------------------------------
# gold without its tweets
#
# The extraction benchmark's human gold keeps the tweets an article embeds (its README:
# 9 of 181 items), while newsclean removes tweet embeds by default (what users of a
# cleaned corpus want).  Scoring the default against that gold counts every removed
# tweet as damage, so the sets are also scored against a copy of the gold without its
# tweets.  The copy is cut by the gold's own layout, independently of newsclean: each
# tweet is a paragraph holding the signature "— Name (@handle) Month D, YYYY" and the
# paragraph before it (the tweet's text).

GOLD_SIGNATURE = re.compile(r"^\u2014 .{1,80}\(@\w{1,30}\) \w+ \d{1,2}, \d{4}$")


def gold_tweet_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the tweets in a gold text (body paragraph and signature)."""
    spans: list[tuple[int, int]] = []
    paras = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+(?:\n[^\n]+)*", text)]
    for k, (a, b) in enumerate(paras):
        if GOLD_SIGNATURE.match(text[a:b]):
            start = paras[k - 1][0] if k > 0 and not GOLD_SIGNATURE.match(text[slice(*paras[k - 1])]) else a
            spans.append((start, b))
    return spans


def without_spans(text: str, spans: list[tuple[int, int]]) -> str:
    parts, pos = [], 0
    for a, b in spans:
        parts.append(text[pos:a])
        pos = b
    return "".join(parts) + text[pos:]


def tweet_free_set(rows: list[dict], lossy: bool) -> list[dict]:
    """The set with the gold's tweets cut out of the gold (and, for the lossy sets, out of
    the input at the same places: their input is the gold character for character)."""
    out = []
    for r in rows:
        spans = gold_tweet_spans(r["gold"])
        row = dict(r, gold=without_spans(r["gold"], spans))
        if lossy:
            row["text"] = without_spans(r["text"], spans)
        out.append(row)
    return out


# ---------------------------------------------------------------------------
# 1. dev sets


def eval_dev_sets(nb, dev: Path, out: Path, newsclean: Runner | None,
                  quoted_tweets_kept: Runner | None = None) -> dict:
    res: dict = {}
    refs = {
        "identity": Runner("identity", lambda t: t),
        "ftfy": Runner("ftfy", lambda t: ftfy.fix_text(t, uncurl_quotes=False)),
    }
    for name, scorer in (("clean", nb.score_clean), ("lossy_ascii", nb.score_lossy), ("lossy_fffd", nb.score_lossy)):
        gold = dev / f"{name}.jsonl"
        rows = read_jsonl(gold)
        res[name] = {}
        systems = ([newsclean] if newsclean else []) + (list(refs.values()) if name == "clean" else [])
        for sysr in systems:
            o = out / f"{sysr.name}.{name}.jsonl"
            run_file(sysr, rows, o, name)
            res[name][sysr.name] = scorer(gold, o)
        if newsclean is None:
            continue
        # the default against the gold without its tweets
        lossy = name != "clean"
        free = tweet_free_set(rows, lossy)
        free_gold = out / f"{name}.gold-without-tweets.jsonl"
        write_jsonl(free_gold, free)
        o = out / f"newsclean.{name}.gold-without-tweets.jsonl"
        if lossy:
            run_file(newsclean, free, o, name)
        else:
            o = out / f"newsclean.{name}.jsonl"  # same input: the same output
        res[name]["newsclean, gold without tweets"] = scorer(free_gold, o)
        # like for like with the figures before tweets were removed by default
        if quoted_tweets_kept is not None:
            o = out / f"{quoted_tweets_kept.name}.{name}.jsonl"
            run_file(quoted_tweets_kept, rows, o, name)
            res[name]["newsclean --tweets embedded"] = scorer(gold, o)
    return res


# ---------------------------------------------------------------------------
# 2. ftfy's own cases


def eval_ftfy_cases(cases_dir: Path, newsclean: Runner) -> dict:
    neg = json.loads((cases_dir / "negative.json").read_text(encoding="utf-8"))
    neg_fail = []
    for c in neg:
        got = newsclean(c["label"], c["original"], "ftfy-negative")
        if got != c["original"]:
            neg_fail.append({"label": c["label"], "original": c["original"], "newsclean": got})

    wild = json.loads((cases_dir / "in-the-wild.json").read_text(encoding="utf-8"))
    n_ftfy = n_fixed = 0
    wild_fail = []
    for c in wild:
        orig = c["original"]
        want = ftfy.fix_encoding(orig)
        if want == orig:
            continue  # only cases ftfy itself fixes count
        n_ftfy += 1
        got = newsclean(c["label"], orig, "ftfy-in-the-wild")
        # same as ftfy, or a different repair that leaves no detectable mojibake
        if got == want or (got != orig and not is_bad(got)):
            n_fixed += 1
        else:
            wild_fail.append({"label": c["label"], "original": orig, "ftfy": want, "newsclean": got})
    return {
        "negative": {"cases": len(neg), "changed": len(neg_fail), "failures": neg_fail},
        "in_the_wild": {"cases": len(wild), "ftfy_fixes": n_ftfy, "newsclean_fixes": n_fixed,
                        "share": round(n_fixed / max(1, n_ftfy), 4), "failures": wild_fail},
    }


# ---------------------------------------------------------------------------
# 3. no-harm on clean text


def changed_runs(a, b) -> list[tuple[int, int, int, int]]:
    """Levenshtein opcodes with adjacent non-equal ops merged, so 'McCririck' -> 'Mc Cririck'
    reads as one change instead of an insert plus a replace."""
    runs: list[list[int]] = []
    for op in Levenshtein.opcodes(a, b):
        if op.tag == "equal":
            continue
        if runs and runs[-1][1] == op.src_start and runs[-1][3] == op.dest_start:
            runs[-1][1], runs[-1][3] = op.src_end, op.dest_end
        else:
            runs.append([op.src_start, op.src_end, op.dest_start, op.dest_end])
    return [tuple(r) for r in runs]


def word_diff(a: list[str], b: list[str], ctx: int = 4, max_spans: int = 6) -> list[str]:
    """Short '… ctx [-old-] {+new+} ctx …' snippets for each changed word span."""
    spans = []
    for s1, s2, d1, d2 in changed_runs(a, b):
        left = " ".join(a[max(0, s1 - ctx): s1])
        right = " ".join(a[s2: s2 + ctx])
        spans.append(f"… {left} [-{' '.join(a[s1:s2])}-] {{+{' '.join(b[d1:d2])}+}} {right} …")
    # capped: a doc with many edits is already obvious from the first few
    extra = len(spans) - max_spans
    return spans[:max_spans] + ([f"(+{extra} more spans)"] if extra > 0 else [])


def char_diff(a: str, b: str, ctx: int = 15, max_spans: int = 3) -> list[str]:
    """For changes that leave the words intact (whitespace, invisible chars): show reprs."""
    spans = []
    for s1, s2, d1, d2 in changed_runs(a, b)[:max_spans]:
        spans.append(f"{a[max(0, s1 - ctx): s1]!r} [-{a[s1:s2]!r}-] {{+{b[d1:d2]!r}+}} {a[s2: s2 + ctx]!r}")
    return spans


def eval_no_harm(corpora: dict[str, list[tuple]], newsclean: Runner, out: Path) -> dict:
    """Words changed in clean text: ``(id, text)`` must come out as ``text``, ``(id, text,
    expected)`` as ``expected`` (the gold without its tweets)."""
    res: dict = {}
    changed_docs: list[dict] = []
    tot_d = tot_n = 0
    for name, docs in corpora.items():
        dist = words = n_changed = n_word_changed = 0
        for doc in docs:
            doc_id, text, expected = doc if len(doc) == 3 else (*doc, doc[1])
            got = newsclean(doc_id, text, f"noharm-{name}")
            a, b = expected.split(), got.split()
            text = expected
            d = Levenshtein.distance(a, b)
            dist += d
            words += len(a)
            if got != text:
                n_changed += 1
                n_word_changed += d > 0
                changed_docs.append({"corpus": name, "id": doc_id, "word_dist": d, "words": len(a),
                                     "char_dist": Levenshtein.distance(text, got),
                                     "diff": word_diff(a, b) if d else char_diff(text, got)})
        res[name] = {"docs": len(docs), "words": words, "word_dist": dist,
                     "word_change": round(dist / max(1, words), 6),
                     "docs_changed": n_changed, "docs_words_changed": n_word_changed}
        tot_d += dist
        tot_n += words
    res["all"] = {"words": tot_n, "word_dist": tot_d, "word_change": round(tot_d / max(1, tot_n), 6),
                  "docs_changed": sum(r["docs_changed"] for r in res.values())}
    # worst first: most words changed, then most characters changed
    changed_docs.sort(key=lambda r: (-r["word_dist"], -r["char_dist"]))
    worst = changed_docs[:N_WORST]
    res["worst"] = worst
    with open(out / "noharm_worst.txt", "w", encoding="utf-8") as f:
        for r in worst:
            f.write(f"## {r['corpus']} {r['id']}  words changed {r['word_dist']}/{r['words']}, "
                    f"chars {r['char_dist']}\n")
            f.writelines(f"   {s}\n" for s in r["diff"])
            f.write("\n")
    write_jsonl(out / "noharm_changed.jsonl", changed_docs)
    return res


def no_harm_corpora(shared: Path, dev: Path) -> tuple[dict, dict]:
    """Clean text that must come out unchanged: the dev gold (less its tweets, which the
    default removes) and every BBC article; and how many gold words the tweets hold."""
    gold_rows = read_jsonl(dev / "clean.jsonl")
    without_tweets = {str(r["id"]): without_spans(r["gold"], gold_tweet_spans(r["gold"])) for r in gold_rows}
    bbc_path = shared / "data" / "bbc-news-fulltext" / "bbc-news-2225.jsonl"
    corpora = {
        "clean.jsonl gold without tweets": [(str(r["id"]), r["gold"], without_tweets[str(r["id"])]) for r in gold_rows],
        "BBC 2225": [(str(r["id"]), r["text"]) for r in read_jsonl(bbc_path)],
    }
    words = sum(len(r["gold"].split()) for r in gold_rows)
    kept = sum(len(t.split()) for t in without_tweets.values())
    return corpora, {"words": words - kept, "of": words}


# ---------------------------------------------------------------------------


def fmt(x) -> str:
    return "n/a" if x is None else (f"{x:.4f}" if isinstance(x, float) else str(x))


def summary_rows(r: dict) -> list[tuple]:
    rows = [("newsclean importable", "yes", "no" if "import_error" in r else "yes",
             verdict("import_error" not in r))]
    dev = r.get("dev", {})
    nc = lambda s: dev.get(s, {}).get("newsclean")  # noqa: E731
    if "clean" in dev:
        ft = dev["clean"]["ftfy"]["error_removed"]
        idn = dev["clean"]["identity"]["error_removed"]
        m = nc("clean")
        target = TARGETS["clean_error_removed"]
        rows.append(("clean.jsonl error_removed", f">= {target}", fmt(m and m["error_removed"]),
                     verdict(m and m["error_removed"] >= target)))
        rows.append(("  cer in -> out (newsclean)", "", f"{m['cer_input']} -> {m['cer_output']}" if m else "n/a", "info"))
        for variant in ("newsclean, gold without tweets", "newsclean --tweets embedded"):
            v = dev["clean"].get(variant)
            if v:
                rows.append((f"  {variant}", f">= {target}", fmt(v["error_removed"]), verdict(v["error_removed"] >= target)))
        rows.append(("  reference: identity / ftfy", "", f"{idn:.4f} / {ft:.4f}", "info"))
    for s in ("lossy_ascii", "lossy_fffd"):
        m = nc(s)
        rows.append((f"{s} restored_exact", f">= {TARGETS['lossy_restored_exact']}", fmt(m and m["restored_exact"]),
                     verdict(m and m["restored_exact"] >= TARGETS["lossy_restored_exact"])))
        rows.append((f"{s} kept (real '?')", f">= {TARGETS['lossy_kept']}", fmt(m and m["kept"]),
                     verdict(m and m["kept"] >= TARGETS["lossy_kept"])))
        for variant in ("newsclean, gold without tweets", "newsclean --tweets embedded"):
            v = dev.get(s, {}).get(variant)
            if v:
                rows.append((f"  {variant}: restored / kept", "", f"{fmt(v['restored_exact'])} / {fmt(v['kept'])}",
                             verdict(v["restored_exact"] >= TARGETS["lossy_restored_exact"]
                                     and v["kept"] >= TARGETS["lossy_kept"])))
    if "ftfy_cases" in r:
        neg, wild = r["ftfy_cases"]["negative"], r["ftfy_cases"]["in_the_wild"]
        rows.append(("ftfy negative.json changed", f"== {TARGETS['negative_changed']}",
                     f"{neg['changed']}/{neg['cases']}", verdict(neg["changed"] <= TARGETS["negative_changed"])))
        rows.append(("ftfy in-the-wild fixed", f"{wild['ftfy_fixes']}/{wild['ftfy_fixes']}",
                     f"{wild['newsclean_fixes']}/{wild['ftfy_fixes']}",
                     verdict(wild["share"] >= TARGETS["wild_fixed_share"])))
    if "no_harm" in r:
        for name, v in r["no_harm"].items():
            if name == "worst":
                continue
            rows.append((f"no-harm {name}: words changed", f"<= {TARGETS['noharm_word_change']}",
                         f"{v['word_change']:.6f} ({v['docs_changed']} docs)",
                         verdict(v["word_change"] <= TARGETS["noharm_word_change"])))
    if "gold_tweet_words" in r:
        g = r["gold_tweet_words"]
        rows.append(("  clean.jsonl gold: words in tweets (removed by default)", "",
                     f"{g['words']} of {g['of']}", "info"))
    if "errors" in r:
        rows.append(("records that raised", f"== {TARGETS['errors']}", str(len(r["errors"])),
                     verdict(len(r["errors"]) <= TARGETS["errors"])))
    return rows


def print_details(results: dict, out: Path) -> None:
    fc = results["ftfy_cases"]
    for title, fails, keys in (("ftfy negative.json changed", fc["negative"]["failures"], ("original", "newsclean")),
                               ("ftfy in-the-wild not fixed", fc["in_the_wild"]["failures"],
                                ("original", "ftfy", "newsclean"))):
        if fails:
            print(f"\n{title}:")
            for f in fails:
                print(f"  - {f['label']}")
                for k in keys:
                    print(f"      {k:9} {f[k][:160]!r}")
    for e in results["errors"][:10]:
        print(f"  raised: {e['set']} {e['id']}: {e['error']}")
    print(f"\nedits by stage: {results['newsclean_edits_by_stage']}")
    print(f"worst no-harm examples: {out / 'noharm_worst.txt'}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", help="shared material dir (default: ../shared next to the repo)")
    ap.add_argument("--out", default="bench-out", help="where dev sets, outputs and diffs go (default bench-out)")
    ap.add_argument("--json", help="also write all figures to this JSON file")
    ap.add_argument("--strict", action="store_true", help="exit 1 when any check fails")
    a = ap.parse_args(argv)

    shared = shared_or_skip(a.shared)
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    nb = load_newsbench(shared)
    t0 = time.perf_counter()
    dev = make_dev(nb, out / "dev")

    cleaner, import_error = load_cleaner()
    results: dict = {"shared": str(shared), "ftfy_version": ftfy.__version__, "targets": TARGETS}
    newsclean = quoted_tweets_kept = None
    if cleaner is None:
        print("newsclean could not be imported; only reference systems are measured:\n" + import_error,
              file=sys.stderr)
        results["import_error"] = import_error
    else:
        newsclean = Runner("newsclean", cleaner.clean, with_edits=True)
        from newsclean import Cleaner

        quoted_tweets_kept = Runner("newsclean-tweets-embedded", Cleaner(tweets="embedded").clean, with_edits=True)
        try:  # first call loads word lists; not a record, so neither timed nor reported
            cleaner.clean_text("Microsoft?s plan")
        except Exception:  # noqa: BLE001
            pass

    results["dev"] = eval_dev_sets(nb, dev, out, newsclean, quoted_tweets_kept)
    if newsclean:
        results["ftfy_cases"] = eval_ftfy_cases(shared / "data" / "ftfy-cases", newsclean)
        corpora, results["gold_tweet_words"] = no_harm_corpora(shared, dev)
        results["no_harm"] = eval_no_harm(corpora, newsclean, out)
        results["errors"] = newsclean.errors
        results["newsclean_edits_by_stage"] = dict(newsclean.stage_edits)
        results["newsclean_seconds"] = round(newsclean.seconds, 2)
    results["wall_seconds"] = round(time.perf_counter() - t0, 2)

    rows = summary_rows(results)
    print()
    print_table(rows, ("check", "target", "measured", "verdict"))
    if newsclean:
        print_details(results, out)
    print(f"outputs in {out}  ({results['wall_seconds']} s)")

    payload = json.dumps(results, ensure_ascii=False, indent=1)
    (out / "eval_clean.json").write_text(payload, encoding="utf-8")
    if a.json:
        Path(a.json).write_text(payload, encoding="utf-8")
    failed = cleaner is None or any(row[3] == "FAIL" for row in rows)
    return 1 if (a.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())

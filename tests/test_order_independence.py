"""Deduplication does not depend on input order, hashing or worker count (issue #6).

Where the order of the input is not meaningful, ids decide: the same records split
over two files given in either order, or shuffled inside their files, must give the
same clusters, survivors and ``duplicate_of`` for every id, and the same archived
records (compared line by line, sorted).  ``--keep first`` is about input order by
definition and is not tested here.  The corpus is generated here: unrelated stories
plus copies of several kinds, among them exact copies and equally clean copies,
whose survivor can only be decided by a tie-break.
"""
from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

NAMES = ["Carlisle", "Bath", "Leeds", "Cardiff", "Dundee", "Exeter", "Norwich", "Preston", "Swansea", "Truro"]
PEOPLE = ["Mike Tindall", "Eric Martlew", "Anna Price", "John Connolly", "Sarah Hughes", "Tom Reid"]
VERBS = ["said", "warned", "agreed", "announced", "denied", "confirmed", "argued", "reported"]
NOUNS = ["council", "budget", "bridge", "hospital", "school", "river", "station", "market", "stadium", "library"]
ADJ = ["new", "old", "local", "national", "delayed", "expensive", "popular", "closed", "flooded", "rebuilt"]


def story(rng: random.Random, n: int) -> str:
    """A made-up news story of ``n`` sentences; different seeds give unrelated stories."""
    sentences = []
    for _ in range(n):
        town, who = rng.choice(NAMES), rng.choice(PEOPLE)
        sentences.append(
            f"{who} {rng.choice(VERBS)} on {rng.choice(['Monday', 'Tuesday', 'Friday'])} that the "
            f"{rng.choice(ADJ)} {rng.choice(NOUNS)} in {town} would cost {rng.randint(2, 900)} million pounds "
            f"and the {rng.choice(NOUNS)}'s {rng.choice(ADJ)} {rng.choice(NOUNS)} was {rng.choice(ADJ)}."
        )
    paras = [" ".join(sentences[i : i + 3]) for i in range(0, n, 3)]
    return "\n\n".join(paras)


def corpus() -> list[dict[str, Any]]:
    """Unique ids; clusters whose survivor needs every rule of the tie-break."""
    rng = random.Random(2024)
    records: list[dict[str, Any]] = []
    for s in range(12):
        text = story(rng, 9)
        base = f"s{s:02d}"
        date = f"2020-06-{10 + s % 3:02d}T12:00:00Z"
        records.append({"id": f"{base}-orig", "text": text, "date": date})
        kind = s % 4
        if kind == 0:  # exact copies: same text, same edits, same length, same date
            records += [{"id": f"{base}-copy{k}", "text": text, "date": date} for k in (1, 2)]
        elif kind == 1:  # a truncated copy and a copy with boilerplate around it
            records.append({"id": f"{base}-trunc", "text": text.split("\n\n")[0] + "\n\n" + text.split("\n\n")[1],
                            "date": date})
            records.append({"id": f"{base}-boiler", "text": "LONDON (Reuters) - " + text + "\n\nAll rights reserved.",
                            "date": date})
        elif kind == 2:  # damaged copies (lost apostrophes, empty links): the clean one survives
            damaged = text.replace("'", "?").replace(". ", ". [] ", 2)
            records += [{"id": f"{base}-dmg{k}", "text": damaged, "date": date} for k in (1, 2)]
        else:  # copies that differ only in whitespace: equally clean, equally long
            records.append({"id": f"{base}-ws", "text": text.replace("\n\n", "\n\n\n"), "date": date})
            records.append({"id": f"{base}-sp", "text": text.replace(". ", ".  "), "date": date})
    records += [{"id": f"short{k}", "text": "Storm warning for Friday."} for k in range(3)]  # exact short copies
    records += [{"id": f"empty{k}", "text": ""} for k in range(2)]
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    return records


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def run_cli(command: str, inputs: list[Path], outdir: Path, *args: str, workers: str = "1") -> None:
    """In this process; one worker unless asked (a process pool costs seconds to start)."""
    from typer.testing import CliRunner

    from newsclean.cli import app

    if command != "clean" and "--workers" not in args:
        args = ("--workers", workers, *args)
    res = CliRunner().invoke(app, [command, *map(str, inputs), "-o", str(outdir), "-q", *args])
    assert res.exit_code == 0, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)


def lines(path: Path) -> list[dict[str, Any]]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return [json.loads(line) for line in data.splitlines()]


def per_id(outdir: Path) -> dict[str, Any]:
    """Everything an id's verdict consists of, keyed by id; archives as sorted lines."""
    clusters = {c["id"]: (c["cluster"], c["duplicate_of"], c["similarity"]) for c in lines(outdir / "clusters.jsonl")}
    kept = sorted(gzip.decompress((outdir / "kept.jsonl.gz").read_bytes()).splitlines())
    dups = sorted(gzip.decompress((outdir / "duplicates.jsonl.gz").read_bytes()).splitlines())
    return {
        "clusters": dict(sorted(clusters.items())),
        "survivors": sorted(json.loads(k)["id"] for k in kept),
        "kept.jsonl.gz (sorted)": kept,
        "duplicates.jsonl.gz (sorted)": dups,
    }


def diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    """The first few ids whose verdicts differ, for a readable failure."""
    out = []
    for key, va in a.items():
        vb = b[key]
        if va != vb:
            if key == "clusters":
                bad = [(i, va.get(i), vb.get(i)) for i in sorted(set(va) | set(vb)) if va.get(i) != vb.get(i)]
                out.append(f"clusters differ for {len(bad)} ids, e.g. {bad[:4]}")
            else:
                out.append(f"{key} differ")
    return "; ".join(out)


@pytest.fixture(scope="module")
def split_inputs(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("order")
    records = corpus()
    rng = random.Random(5)
    first, second = records[: len(records) // 2], records[len(records) // 2 :]
    # copies land in both files: the later file holds some originals' copies and vice versa
    first, second = first[::2] + second[1::2], second[::2] + first[1::2]
    shuffled1, shuffled2 = first[:], second[:]
    rng.shuffle(shuffled1)
    rng.shuffle(shuffled2)
    return {
        "a": write(tmp / "a.jsonl", first),
        "b": write(tmp / "b.jsonl", second),
        "a_shuffled": write(tmp / "a_shuffled.jsonl", shuffled1),
        "b_shuffled": write(tmp / "b_shuffled.jsonl", shuffled2),
        "reversed": write(tmp / "reversed.jsonl", (first + second)[::-1]),
    }


ORDERS = {
    "files-swapped": ("b", "a"),
    "shuffled-inside-files": ("a_shuffled", "b_shuffled"),
    "swapped-and-shuffled": ("b_shuffled", "a_shuffled"),
    "one-file-reversed": ("reversed",),
}


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("keep", ["cleanest", "longest", "earliest"])
@pytest.mark.parametrize("command", ["dedup", "run"])
def test_input_order_does_not_change_the_verdicts(split_inputs, tmp_path, command, keep, order):
    base, other = tmp_path / "base", tmp_path / "other"
    args = ["--keep", keep] + (["--no-events"] if command == "run" else [])
    run_cli(command, [split_inputs["a"], split_inputs["b"]], base, *args)
    run_cli(command, [split_inputs[name] for name in ORDERS[order]], other, *args)
    a, b = per_id(base), per_id(other)
    # the corpus really has clusters to get right: 12 stories with copies, shorts, empties
    assert len(a["survivors"]) == 12 + 1 + 1
    assert a == b, diff(a, b)


@pytest.mark.parametrize("order", ["files-swapped", "swapped-and-shuffled"])
def test_input_order_does_not_change_the_events(split_inputs, tmp_path, order):
    base, other = tmp_path / "base", tmp_path / "other"
    run_cli("dedup", [split_inputs["a"], split_inputs["b"]], base, "--events")
    run_cli("dedup", [split_inputs[name] for name in ORDERS[order]], other, "--events")
    ev_a = {c["id"]: c["event"] for c in lines(base / "clusters.jsonl")}
    ev_b = {c["id"]: c["event"] for c in lines(other / "clusters.jsonl")}

    def groups(ev: dict[str, str]) -> set[frozenset[str]]:
        by: dict[str, set[str]] = {}
        for i, e in ev.items():
            by.setdefault(e, set()).add(i)
        return {frozenset(g) for g in by.values()}

    assert groups(ev_a) == groups(ev_b)  # the same grouping ...
    assert dict(sorted(ev_a.items())) == dict(sorted(ev_b.items()))  # ... under the same names


def test_output_is_byte_identical_across_runs_with_the_same_order(split_inputs, tmp_path):
    outs = []
    for name in ("x", "y"):
        run_cli("run", [split_inputs["a"], split_inputs["b"]], tmp_path / name)
        outs.append(tmp_path / name)
    _same_outputs(*outs)


@pytest.mark.parametrize("command", ["dedup", "run"])
def test_output_is_byte_identical_across_hash_seeds(split_inputs, tmp_path, command):
    outs = []
    for seed in ("0", "12345", "random"):
        out = tmp_path / f"out-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        extra = ["--events"] if command == "dedup" else []
        proc = subprocess.run(
            [sys.executable, "-m", "newsclean", command, str(split_inputs["a"]), str(split_inputs["b"]),
             "-o", str(out), "-q", "--workers", "1", *extra],
            env=env, capture_output=True, text=True, timeout=300, check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs.append(out)
    for out in outs[1:]:
        _same_outputs(outs[0], out)


def _help(command: str) -> str:
    from typer.testing import CliRunner

    from newsclean.cli import app

    return CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output


OUTPUTS = ("clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz", "rejects.jsonl")


def _same_outputs(a: Path, b: Path, *, content_only: bool = False) -> None:
    """Byte-identical outputs (``content_only``: the same lines; gzip members may differ)."""
    for f in OUTPUTS:
        da, db = (a / f).read_bytes(), (b / f).read_bytes()
        if content_only and f.endswith(".gz"):
            da, db = gzip.decompress(da), gzip.decompress(db)
        assert da == db, f
    sa, sb = (json.loads((o / "stats.json").read_text()) for o in (a, b))
    for s in (sa, sb):
        for how in ("timings", "run", "shards"):  # how it ran, not what came out
            s.pop(how, None)
    assert sa == sb


@pytest.mark.parametrize("command", ["clean", "dedup", "run"])
def test_worker_count_does_not_change_output(split_inputs, tmp_path, command):
    """1 and 2 workers over many small shards (and a bad line): byte-identical outputs."""
    if "--workers" not in _help(command):
        pytest.skip(f"newsclean {command} has no --workers option yet")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"id": "x", "text": 3}\nnot json\n')
    inputs = [split_inputs["a"], bad, split_inputs["b"]]
    shards = ["--shard-size", "0.004"] if "--shard-size" in _help(command) else []
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / (f"w{workers}.jsonl" if command == "clean" else f"w{workers}")
        run_cli(command, inputs, out, "--workers", workers, *shards)
        outs.append(out)
    if command == "clean":
        assert outs[0].read_bytes() == outs[1].read_bytes()
    else:
        _same_outputs(*outs)


@pytest.mark.parametrize("command", ["dedup", "run"])
def test_shard_size_does_not_change_output(split_inputs, tmp_path, command):
    if "--shard-size" not in _help(command):
        pytest.skip(f"newsclean {command} has no --shard-size option yet")
    inputs = [split_inputs["a"], split_inputs["b"]]
    run_cli(command, inputs, tmp_path / "one", "--shard-size", "16")
    run_cli(command, inputs, tmp_path / "many", "--shard-size", "0.002")
    _same_outputs(tmp_path / "one", tmp_path / "many", content_only=True)

"""Robustness figures (issues #6 and #20): bad and random inputs through cleaning and
dedup, and faults of the machine and the user around a run.

    python benchmarks/robustness.py [-n 2000] [--seed 0] [--no-dedup] [--no-faults | --faults-only]
                                    [--save DIR] [--json FILE]

Inputs: every case of the bad-input matrix (``tests/test_bad_input_matrix.py``, one
file each) plus ``-n`` random inputs made here from a seed: random bytes, mutated JSONL
(flipped, cut, repeated bytes; NUL, BOM, broken UTF-8, deep brackets...) and valid
records whose texts are piled up from damage patterns (lost ``?``, empty links,
entities, tags, tweets, glued words, mojibake, long words, odd Unicode).

Two paths:

* ``clean`` (library): the reader and engine that ``newsclean clean`` drives
  (``read_inputs`` -> ``run_clean`` -> ``dumps_line``), one input at a time, each
  record timed;
* ``dedup`` (CLI): ``newsclean dedup`` in this process (typer's runner, one worker),
  each matrix input alone and the random inputs in batches; a batch that fails is
  re-run file by file to name the culprit.

Printed: inputs tried, crashes (an exception out of the path, or a nonzero exit; plus
stage errors the engine contained as rejects), records lost (records neither written
nor rejected, in runs that finished; records of crashed runs are counted apart) and
the slowest document.

The fault section runs the CLI in processes of its own on a corpus of copies, random
records and bad lines: ``dedup`` and ``run`` killed at every named step and point
(``NEWSCLEAN_KILL_AT``) and between two shards, then run again; ``clean`` killed at its
steps; ``clean`` and ``dedup`` with their largest output cut at a quarter, a half and
nine tenths by a file size limit (``ulimit -f``: a full disk), then run again with
room; OUTDIR's manifest replaced by what is no manifest (refused, then ``--force``);
the ``--against`` index damaged in each way ``tests/test_index_validation.py`` knows;
two runs started at once into one OUTDIR.  It counts faults tried, crashes (a
traceback, or an exit code other than the one the fault calls for), records lost
and wrong outputs (bytes that differ from an undisturbed run's, an output a failed
run put in place, temporary or work files left behind).

Exit status 1 if there was a crash, a lost record or a wrong output.  Needs nothing
outside the repository (pytest is imported for the matrix table and the index
damages).
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):
    # the test modules import their conftest's helpers as pytest would find them
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ inputs


@dataclass
class Input:
    name: str  # "matrix:<case>" or "random:<k>:<kind>"
    filename: str
    data: bytes
    records: tuple[int, int] | None  # acceptable range of input records; None: unknown
    args: tuple[str, ...] = ()


def matrix_inputs() -> list[Input]:
    matrix = _load("bad_input_matrix", REPO / "tests" / "test_bad_input_matrix.py")
    out = []
    for case in matrix.CASES:
        data = case.make()
        expects = case.expected(data)
        counts = []
        for e in expects:
            counts += [e.at_least + 1, e.records] if e.at_least is not None else [e.records]
        out.append(Input(f"matrix:{case.name}", case.filename, data, (min(counts), max(counts)), tuple(case.args)))
    return out


FRAGMENTS = [
    "it?s", " ?We said,? ", "caf?", "\ufffd", "[]", " [] ", "&amp;", "&#8217;", "&amp;amp;", "<p>", "</p>", "<div>",
    "<script>x()</script>", "[caption]c[/caption]", "[link](http://a.b)", "fromAmazonandIBM", "iPhone", "McDonald",
    "\n\n> tweet body #tag\n\u2014 Name (@handle) June 11, 2020\n\n", "Facebook Twitter Pinterest Email",
    "Advertisement", "Read more: x", "Microsoftâ€™s", "Ã©", "\u00a0", "\u200b", "\u202e", "\U0001f600", "\t", "\r\n",
    "...", "?", "??", "--", " - ", "'", '"', "\\", "pic.twitter.com/x",
    "http://" + "a" * 200, "x" * 500,
    "The council met on Tuesday and agreed the budget.", "\n", "\u2028", "\x0b", "\x7f", "\ud800",
]
TOKENS = [b"\x00", b"\xff", b"\xc3", b'"', b"\\", b"\\u", b"\\ud800", b"{", b"}", b"[", b"]", b",", b":", b"\n", b"\r",
          b"\xef\xbb\xbf", b"NaN", b"1e999", b"12345678901234567890123", b"[" * 64, b'{"a":' * 32, b"null", b"true"]


def _text(rng: random.Random) -> str:
    parts = [rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 40))]
    if rng.random() < 0.3:
        parts += [chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(1, 30))]
    if rng.random() < 0.05:
        parts.append(rng.choice(FRAGMENTS) * rng.randint(100, 5000))  # a long repetitive run
    return "".join(parts)


def _record(rng: random.Random, k: int) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": f"r{k}-{rng.randint(0, 9)}"}
    field_name = rng.choice(["text", "text", "text", "maintext", "content", "body"])
    roll = rng.random()
    rec[field_name] = _text(rng) if roll < 0.9 else rng.choice([None, 1, [], {}, True, ""])
    if rng.random() < 0.3:
        rec["date"] = rng.choice(["2020-06-11", "2020-06-11T12:00:00Z", "yesterday", 1591833600, None])
    return rec


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n" for r in records)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(4)
        pos = rng.randint(0, len(b))
        if op == 0 and b:
            b[min(pos, len(b) - 1)] = rng.randrange(256)
        elif op == 1:
            del b[pos : pos + rng.randint(1, 20)]
        elif op == 2:
            b[pos:pos] = rng.choice(TOKENS)
        elif b:
            chunk = b[pos : pos + rng.randint(1, 50)]
            b[pos:pos] = chunk * rng.randint(1, 20)
    return bytes(b)


def non_blank_lines(data: bytes) -> int:
    n = 0
    for k, line in enumerate(data.split(b"\n"), 1):
        line = line.removesuffix(b"\r")
        if k == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        n += bool(line) and not line.isspace()
    return n


def random_inputs(n: int, seed: int) -> list[Input]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        kind = ("bytes", "mutated", "records")[k % 3]
        if kind == "bytes":
            data = rng.randbytes(rng.randint(0, 4096))
        elif kind == "mutated":
            data = _mutate(rng, _jsonl([_record(rng, j) for j in range(rng.randint(1, 6))]))
        else:
            data = _jsonl([_record(rng, j) for j in range(rng.randint(1, 6))])
        lines = non_blank_lines(data)
        out.append(Input(f"random:{k}:{kind}", f"rand{k:05d}.jsonl", data, (lines, lines)))
    return out


# ------------------------------------------------------------------ the two paths


@dataclass
class Tally:
    inputs: int = 0
    records: int = 0
    written: int = 0
    rejected: int = 0
    crashes: list[tuple[str, str]] = field(default_factory=list)  # (input, error)
    stage_errors: list[tuple[str, str]] = field(default_factory=list)
    lost: list[tuple[str, int]] = field(default_factory=list)  # (input, records lost)
    extra: list[tuple[str, int]] = field(default_factory=list)  # (input, more records out than there were)
    lost_in_crashes: int = 0
    slowest: tuple[float, str] = (0.0, "")
    seconds: float = 0.0


def _max_bytes(args: tuple[str, ...]) -> int:
    from newsclean.io.readers import DEFAULT_MAX_BYTES

    return int(args[args.index("--max-bytes") + 1]) if "--max-bytes" in args else DEFAULT_MAX_BYTES


def _check(t: Tally, label: str, counted: int, out: int, expected: tuple[int, int] | None) -> None:
    """``counted``: input records by the run's own count; ``out``: records written or rejected."""
    lo, hi = expected if expected is not None else (counted, counted)
    if out < lo or out < counted:  # at least this many records were neither written nor rejected
        t.lost.append((label, max(lo, counted) - out))
    elif out > hi or counted != out:
        t.extra.append((label, out - hi if out > hi else out - counted))


def clean_path(inputs: list[Input], workdir: Path) -> Tally:
    from newsclean.clean.pipeline import Cleaner
    from newsclean.engine.local import Stats, run_clean
    from newsclean.io.readers import expand_inputs, read_inputs
    from newsclean.io.writers import dumps_line

    cleaner = Cleaner()
    t = Tally()
    started = time.perf_counter()
    for inp in inputs:
        t.inputs += 1
        path = workdir / "clean" / inp.name.replace(":", "_") / inp.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(inp.data)
        stats = Stats()
        written = rejected = 0
        try:
            items = read_inputs(expand_inputs([str(path)]), max_bytes=_max_bytes(inp.args))
            outcomes = run_clean(items, cleaner, stats=stats, doc_timeout=60.0)
            while True:
                t0 = time.perf_counter()
                oc = next(outcomes, None)
                elapsed = time.perf_counter() - t0
                if oc is None:
                    break
                if elapsed > t.slowest[0]:
                    t.slowest = (elapsed, f"{inp.name} line {oc.item.line} (id {str(oc.id)[:40]})")
                if oc.rejected:
                    dumps_line(oc.reject_record())
                    rejected += 1
                    if oc.reason and oc.reason.startswith("cleaning failed"):
                        t.stage_errors.append((f"{inp.name} line {oc.item.line}", oc.reason[:300]))
                else:
                    dumps_line(oc.record, stdlib=oc.item.stdlib_json)
                    written += 1
        except Exception as e:  # noqa: BLE001 - a crash: the CLI would have died here
            t.crashes.append((inp.name, f"{type(e).__name__}: {str(e)[:200]}"))
            if inp.records is not None:
                t.lost_in_crashes += max(inp.records[0] - written - rejected, 0)
            continue
        t.records += stats.input_records
        t.written += written
        t.rejected += rejected
        _check(t, inp.name, stats.input_records, written + rejected, inp.records)
    t.seconds = time.perf_counter() - started
    return t


def _dedup_once(paths: list[Path], outdir: Path, args: tuple[str, ...]) -> tuple[str | None, dict[str, int]]:
    """Run the CLI; return (error or None, counts read back from the output files)."""
    from typer.testing import CliRunner

    from newsclean.cli import app

    res = CliRunner().invoke(app, ["dedup", *map(str, paths), "-o", str(outdir), "-q", "--workers", "1", *args])
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        tb = traceback.format_exception(res.exception)
        where = " ".join(tb[-2].split())[:200]
        return f"{type(res.exception).__name__}: {str(res.exception)[:200]} ({where})", {}
    if res.exit_code != 0:
        return f"exit {res.exit_code}: {res.output.strip()[-300:]}", {}

    def count(name: str) -> int:
        p = outdir / name
        data = gzip.decompress(p.read_bytes()) if name.endswith(".gz") else p.read_bytes()
        return len(data.splitlines())

    stats = json.loads((outdir / "stats.json").read_text())
    return None, {"input": stats["input_records"], "kept": count("kept.jsonl.gz"),
                  "duplicates": count("duplicates.jsonl.gz"), "rejects": count("rejects.jsonl")}


def dedup_path(inputs: list[Input], workdir: Path, batch: int) -> Tally:
    t = Tally()
    started = time.perf_counter()
    groups: list[list[Input]] = []
    for inp in inputs:  # matrix inputs (and any with options) alone, random ones in batches
        if inp.name.startswith("matrix:") or inp.args or not groups or len(groups[-1]) >= batch or \
                groups[-1][0].name.startswith("matrix:") or groups[-1][0].args:
            groups.append([inp])
        else:
            groups[-1].append(inp)
    for g, group in enumerate(groups):
        folder = workdir / "dedup" / f"g{g:04d}"
        paths = []
        for k, inp in enumerate(group):
            p = folder / "in" / f"{k:04d}-{inp.filename}"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(inp.data)
            paths.append(p)
        t0 = time.perf_counter()
        error, counts = _dedup_once(paths, folder / "out", group[0].args)
        elapsed = time.perf_counter() - t0
        label = group[0].name if len(group) == 1 else f"batch of {len(group)} from {group[0].name}"
        if elapsed > t.slowest[0]:
            t.slowest = (elapsed, label)
        t.inputs += len(group)
        if error is not None:
            culprits = [(inp, p) for inp, p in zip(group, paths)] if len(group) > 1 else [(group[0], paths[0])]
            for inp, p in culprits:
                e = error if len(group) == 1 else _dedup_once([p], folder / f"single-{p.stem}", inp.args)[0]
                if e is not None:
                    t.crashes.append((inp.name, e))
                    t.lost_in_crashes += inp.records[0] if inp.records else 0
            continue
        expected_lo = sum(i.records[0] for i in group if i.records)
        expected_hi = sum(i.records[1] for i in group if i.records)
        out = counts["kept"] + counts["duplicates"] + counts["rejects"]
        t.records += counts["input"]
        t.written += counts["kept"] + counts["duplicates"]
        t.rejected += counts["rejects"]
        _check(t, label, counts["input"], out, (expected_lo, expected_hi))
        shutil.rmtree(folder, ignore_errors=True)
    t.seconds = time.perf_counter() - started
    return t


# ------------------------------------------------------------------ faults

# where a run can be made to die (NEWSCLEAN_KILL_AT, newsclean.engine.steps); "shards:2"
# is NEWSCLEAN_STOP_AFTER_SHARDS=2 (killed between two shards)
KILL_POINTS = ("check", "open", "shards", "shards:2", "events", "load", "cluster", "spin", "index", "write",
               "concatenate", "publish", "cleanup")
CLEAN_KILL_POINTS = ("check", "clean", "commit", "publish")
ARCHIVE = ("clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz", "rejects.jsonl")
RUN_ARGS = ("--shard-size", "0.004", "-q", "--workers", "1")
RUN_SPECIFIC = ("stats.json", "report.html")  # outputs that differ between two identical runs
BAD_MANIFESTS = {"a list": b"[1, 2]", "a string": b'"run"', "null": b"null", "a number": b"42",
                 "not UTF-8": b"\xff\xfe{", "params a list": b'{"format": 3, "params": [1]}', "cut short": b'{"hash": "',
                 "nested 5,000 deep": b"[" * 5000}


@dataclass
class FaultTally:
    tried: Counter = field(default_factory=Counter)  # faults tried, by kind
    crashes: list[tuple[str, str]] = field(default_factory=list)  # a traceback, or an exit code not expected
    lost: list[tuple[str, int]] = field(default_factory=list)  # records neither archived nor rejected
    wrong: list[tuple[str, str]] = field(default_factory=list)  # outputs that differ from a clean run's
    seconds: float = 0.0


def _newsclean(*args: Any, env: dict[str, str] | None = None, limit: int | None = None,
               cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m newsclean ARGS`` in a process of its own; ``limit``: the largest file
    it may write (``ulimit -f``: what a full disk does to the file that fills it)."""
    def preexec() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "newsclean", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, preexec_fn=preexec, cwd=cwd, timeout=600)


def fault_corpus(folder: Path, seed: int) -> Path:
    """Copies of real stories (the dedup tests' fixture), random records and bad lines."""
    fixture = _load("test_dedup_fixture", REPO / "tests" / "test_dedup.py").fixture_records()
    rng = random.Random(seed)
    records = fixture + [_record(rng, k) for k in range(200)] + [dict(r, id=f"{r['id']}-again") for r in fixture]
    data = _jsonl(records) + b"{broken json\n" + b'{"id": "no text"}\n'
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_bytes(data)
    return folder / "corpus.jsonl"


def _archive(out: Path) -> dict[str, bytes | None]:
    return {name: (out / name).read_bytes() if (out / name).exists() else None for name in ARCHIVE}


def _lost(out: Path) -> int:
    """Records the run counted but wrote nowhere (its stats against its files)."""
    def lines(name: str) -> int:
        data = (out / name).read_bytes()
        return len((gzip.decompress(data) if name.endswith(".gz") else data).splitlines())

    stats = json.loads((out / "stats.json").read_text())
    return stats["input_records"] - sum(lines(n) for n in ("kept.jsonl.gz", "duplicates.jsonl.gz", "rejects.jsonl"))


def _judge(t: FaultTally, label: str, run: subprocess.CompletedProcess, out: Path,
           ref: dict[str, bytes | None]) -> None:
    """A run that should have finished: no crash, nothing lost, the reference's bytes,
    no temporary or work files left."""
    if run.returncode != 0 or "Traceback" in run.stderr:
        t.crashes.append((label, f"exit {run.returncode}: {run.stderr.strip()[-300:]}"))
        return
    if lost := _lost(out):
        t.lost.append((label, lost))
    if _archive(out) != ref:
        t.wrong.append((label, "outputs differ from an undisturbed run's"))
    left = [p.name for p in out.iterdir() if p.name.endswith(".tmp") or p.name in ("work", ".stdin.input")]
    if left:
        t.wrong.append((label, f"left behind: {', '.join(left)}"))


def kill_faults(t: FaultTally, source: Path, workdir: Path) -> None:
    """Each command killed at each named point, then run again: the same bytes."""
    for command in ("dedup", "run"):
        ref_dir = workdir / f"{command}-ref"
        _newsclean(command, source, "-o", ref_dir, *RUN_ARGS, "--events")
        ref = _archive(ref_dir)
        for point in KILL_POINTS:
            t.tried["kill"] += 1
            out = workdir / f"{command}-kill-{point.replace(':', '-')}"
            name, _, after = point.partition(":")
            env = {"NEWSCLEAN_STOP_AFTER_SHARDS": after} if after else {"NEWSCLEAN_KILL_AT": name}
            killed = _newsclean(command, source, "-o", out, *RUN_ARGS, "--events", env=env)
            if killed.returncode not in (0, 137):  # 0: the point is not on this run's way
                t.crashes.append((f"{command} killed at {point}", f"exit {killed.returncode}"))
                continue
            t.tried["killed"] += killed.returncode == 137
            again = _newsclean(command, source, "-o", out, *RUN_ARGS, "--events")
            _judge(t, f"{command} killed at {point}, run again", again, out, ref)
    _clean_kill_faults(t, source, workdir)


def _clean_kill_faults(t: FaultTally, source: Path, workdir: Path) -> None:
    ref_out = workdir / "clean-ref" / "out.jsonl"
    ref_out.parent.mkdir(parents=True)
    _newsclean("clean", source, "-o", ref_out, "-q", cwd=ref_out.parent)
    for point in CLEAN_KILL_POINTS:
        t.tried["kill"] += 1
        out = workdir / f"clean-kill-{point}" / "out.jsonl"
        out.parent.mkdir(parents=True)
        killed = _newsclean("clean", source, "-o", out, "-q", env={"NEWSCLEAN_KILL_AT": point}, cwd=out.parent)
        t.tried["killed"] += killed.returncode == 137
        again = _newsclean("clean", source, "-o", out, "-q", cwd=out.parent)
        label = f"clean killed at {point}, run again"
        if killed.returncode != 137 or again.returncode != 0:
            t.crashes.append((label, f"exit {killed.returncode}, then {again.returncode}: {again.stderr[-300:]}"))
        elif out.read_bytes() != ref_out.read_bytes():
            t.wrong.append((label, "output differs from an undisturbed run's"))
        elif any(p.name.endswith(".tmp") for p in out.parent.iterdir()):
            t.wrong.append((label, "temporary files left behind"))


def disk_full_faults(t: FaultTally, source: Path, workdir: Path) -> None:
    """Each command with its largest output cut at a quarter, half and nine tenths of its
    size (``ulimit -f``): exit 1 and no output in place, then the same bytes once there
    is room."""
    for command in ("clean", "dedup"):
        probe = workdir / f"{command}-disk-probe"
        probe.mkdir(parents=True)
        args = ["-o", probe / "out.jsonl", "--rejects", probe / "rejects.jsonl"] if command == "clean" else \
            ["-o", probe, *RUN_ARGS[:2]]
        _newsclean(command, source, *args, "-q", cwd=probe)
        # stats.json and report.html hold the run's timings (the report also OUTDIR's name)
        ref = {p.name: p.read_bytes() for p in probe.iterdir() if p.is_file() and p.name not in RUN_SPECIFIC}
        largest = max(len(data) for data in ref.values())
        for share in (0.25, 0.5, 0.9):
            t.tried["disk full"] += 1
            out = workdir / f"{command}-disk-{share}"
            out.mkdir(parents=True)
            args = ["-o", out / "out.jsonl", "--rejects", out / "rejects.jsonl"] if command == "clean" else \
                ["-o", out, *RUN_ARGS[:2]]
            label = f"{command}, disk full at {share:.0%} of its largest output"
            full = _newsclean(command, source, *args, "-q", limit=int(largest * share), cwd=out)
            placed = [p.name for p in out.iterdir() if (p.name in ref or p.name in RUN_SPECIFIC)
                      and p.name != "manifest.json"]
            if full.returncode != 1 or "Traceback" in full.stderr:
                t.crashes.append((label, f"exit {full.returncode}: {full.stderr.strip()[-300:]}"))
            elif placed:
                t.wrong.append((label, f"outputs put in place by a run that failed: {', '.join(placed)}"))
            again = _newsclean(command, source, *args, "-q", cwd=out)
            now = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.name in ref}
            if again.returncode != 0:
                t.crashes.append((label + ", run again", f"exit {again.returncode}: {again.stderr[-300:]}"))
            elif now != ref:
                t.wrong.append((label + ", run again", "outputs differ from an undisturbed run's"))


def manifest_faults(t: FaultTally, source: Path, workdir: Path) -> None:
    """OUTDIR/manifest.json replaced by what is no manifest: refused without --force,
    the same bytes with it."""
    ref_dir = workdir / "manifest-ref"
    _newsclean("dedup", source, "-o", ref_dir, *RUN_ARGS)
    ref = _archive(ref_dir)
    for name, content in [*BAD_MANIFESTS.items(), ("a folder", None)]:
        t.tried["crafted manifest"] += 1
        out = workdir / f"manifest-{name.replace(' ', '-')}"
        out.mkdir(parents=True)
        (out / "manifest.json").mkdir() if content is None else (out / "manifest.json").write_bytes(content)
        refused = _newsclean("dedup", source, "-o", out, *RUN_ARGS)
        if refused.returncode != 2 or "Traceback" in refused.stderr:
            t.crashes.append((f"manifest {name}", f"exit {refused.returncode}: {refused.stderr.strip()[-300:]}"))
            continue
        _judge(t, f"manifest {name}, --force", _newsclean("dedup", source, "-o", out, *RUN_ARGS, "--force"), out, ref)


def index_faults(t: FaultTally, source: Path, workdir: Path) -> None:
    """The ``--against`` index damaged every way tests/test_index_validation.py knows:
    refused (exit 2, the damage named), nothing written."""
    damages = _load("index_validation", REPO / "tests" / "test_index_validation.py").CORRUPTIONS
    lines = source.read_bytes().splitlines(keepends=True)
    first, second = workdir / "first.jsonl", workdir / "second.jsonl"
    first.write_bytes(b"".join(lines[: len(lines) // 2]))
    second.write_bytes(b"".join(lines[len(lines) // 2:]))
    previous = workdir / "previous"
    _newsclean("dedup", first, "-o", previous, *RUN_ARGS)
    for name, damage in sorted(damages.items()):
        t.tried["crafted index"] += 1
        copy = workdir / f"previous-{len(t.tried)}-{t.tried['crafted index']}"
        shutil.copytree(previous, copy)
        damage(copy)
        out = workdir / f"against-{t.tried['crafted index']}"
        run = _newsclean("dedup", second, "-o", out, *RUN_ARGS, "--against", copy)
        if run.returncode != 2 or "Traceback" in run.stderr or "--against" not in run.stderr:
            t.crashes.append((f"index {name}", f"exit {run.returncode}: {run.stderr.strip()[-300:]}"))
        elif (out / "clusters.jsonl").exists():
            t.wrong.append((f"index {name}", "outputs written against a damaged index"))


def concurrent_faults(t: FaultTally, source: Path, workdir: Path, rounds: int = 4) -> None:
    """Two runs started at once into one OUTDIR: one refused at once (exit 2, naming the
    other) or both finishing one after the other; the same bytes in the end."""
    ref_dir = workdir / "concurrent-ref"
    _newsclean("dedup", source, "-o", ref_dir, *RUN_ARGS)
    ref = _archive(ref_dir)
    command = [sys.executable, "-m", "newsclean", "dedup", str(source), *RUN_ARGS]
    for k in range(rounds):
        t.tried["concurrent runs"] += 1
        out = workdir / f"concurrent-{k}"
        procs = [subprocess.Popen([*command, "-o", str(out)], stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
        codes = sorted(code for code, _ in results)
        refused = [err for code, err in results if code == 2]
        label = f"two runs at once, round {k + 1}"
        if codes not in ([0, 0], [0, 2]) or any("another newsclean run" not in err for err in refused):
            t.crashes.append((label, f"exits {codes}: {' | '.join(err.strip()[-200:] for _, err in results)}"))
            continue
        t.tried["refused at once"] += bool(refused)
        if _archive(out) != ref or _lost(out):
            t.wrong.append((label, "outputs differ from an undisturbed run's"))


def fault_path(workdir: Path, seed: int) -> FaultTally:
    t = FaultTally()
    started = time.perf_counter()
    source = fault_corpus(workdir / "faults", seed)
    for section in (kill_faults, disk_full_faults, manifest_faults, index_faults, concurrent_faults):
        section(t, source, workdir / "faults")
    t.seconds = time.perf_counter() - started
    return t


NOT_KINDS = ("refused at once", "killed")  # outcomes counted in FaultTally.tried, not kinds of fault


def fault_report(t: FaultTally) -> list[str]:
    tried = sum(n for kind, n in t.tried.items() if kind not in NOT_KINDS)
    kinds = ", ".join(f"{n} {kind}" for kind, n in t.tried.items() if kind not in NOT_KINDS)
    lines = [
        f"faults: {tried} tried ({kinds}) in {t.seconds:.1f} s; {t.tried['killed']} of the kills hit a point on "
        f"the run's way (the others' runs finished), {t.tried['refused at once']} of the concurrent rounds "
        "refused the second run at once",
        f"  crashes: {len(t.crashes)}",
        f"  records lost: {sum(n for _, n in t.lost)}",
        f"  wrong outputs: {len(t.wrong)}",
    ]
    for what, items in (("crash", t.crashes), ("lost", t.lost), ("wrong", t.wrong)):
        lines += [f"    {what}: {label}: {detail}" for label, detail in items[:10]]
    return lines


# ------------------------------------------------------------------ report


def report(name: str, t: Tally) -> list[str]:
    lost = sum(n for _, n in t.lost)
    lines = [
        (f"{name}: {t.inputs:,} inputs, {t.records:,} records ({t.written:,} written, {t.rejected:,} rejected) "
         f"in {t.seconds:.1f} s"),
        f"  crashes: {len(t.crashes)}" + (f" (records in crashed runs: {t.lost_in_crashes:,})" if t.crashes else ""),
        f"  stage errors contained as rejects: {len(t.stage_errors)}",
        f"  records lost: {lost}",
        f"  records out beyond the input (phantom records, miscounts): {sum(n for _, n in t.extra)}",
        f"  slowest {'document' if name.startswith('clean') else 'run'}: {t.slowest[0]:.2f} s  {t.slowest[1]}",
    ]
    for what, items in (("crash", t.crashes), ("stage error", t.stage_errors), ("lost", t.lost),
                        ("beyond input", t.extra)):
        for label, detail in items[:10]:
            lines.append(f"    {what}: {label}: {detail}")
        if len(items) > 10:
            lines.append(f"    ... {len(items) - 10} more")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--random", type=int, default=2000, help="random inputs (default 2000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-matrix", action="store_true", help="random inputs only")
    ap.add_argument("--no-dedup", action="store_true", help="library cleaning path only")
    ap.add_argument("--no-faults", action="store_true", help="no fault section (kills, full disks, crafted "
                    "OUTDIRs, concurrent runs)")
    ap.add_argument("--faults-only", action="store_true", help="the fault section only")
    ap.add_argument("--batch", type=int, default=100, help="random inputs per dedup run (default 100)")
    ap.add_argument("--save", type=Path, help="keep the inputs and outputs here (default: a temp folder, removed)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = ap.parse_args(argv)

    workdir = args.save or Path(tempfile.mkdtemp(prefix="newsclean-robustness-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        figures = {} if args.faults_only else input_section(args, workdir)
        bad = figures.get("crashes", 0) + figures.get("records_lost", 0)
        if not args.no_faults:
            faults = fault_path(workdir, args.seed)
            print("\n".join(fault_report(faults)))
            figures["faults"] = {"tried": dict(faults.tried), "crashes": faults.crashes, "lost": faults.lost,
                                 "wrong_outputs": faults.wrong, "seconds": round(faults.seconds, 1)}
            bad += len(faults.crashes) + len(faults.lost) + len(faults.wrong)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
        return 1 if bad else 0
    finally:
        if args.save is None:
            shutil.rmtree(workdir, ignore_errors=True)


def input_section(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """The matrix and the random inputs through the two paths; printed, and returned as figures."""
    inputs = ([] if args.no_matrix else matrix_inputs()) + random_inputs(args.random, args.seed)
    n_matrix = sum(i.name.startswith("matrix:") for i in inputs)
    print(f"inputs tried: {len(inputs):,} ({n_matrix} matrix cases + {len(inputs) - n_matrix:,} random, "
          f"seed {args.seed})")
    tallies = {"clean (library)": clean_path(inputs, workdir)}
    if not args.no_dedup:
        tallies["dedup (CLI)"] = dedup_path(inputs, workdir, args.batch)
    for name, t in tallies.items():
        print("\n".join(report(name, t)))
    crashes = sum(len(t.crashes) for t in tallies.values())
    lost = sum(sum(n for _, n in t.lost) for t in tallies.values())
    slow = tallies["clean (library)"].slowest

    def per_path(figure) -> str:
        return " + ".join(f"{figure(t)} {name.split()[0]}" for name, t in tallies.items())

    print(f"TOTAL: inputs tried {len(inputs):,}; crashes {per_path(lambda t: len(t.crashes))}; "
          f"records lost {per_path(lambda t: sum(n for _, n in t.lost))}; "
          f"slowest document {slow[0]:.2f} s ({slow[1]})")
    return {
        "inputs": len(inputs), "seed": args.seed, "crashes": crashes, "records_lost": lost,
        "slowest_document": {"seconds": round(slow[0], 3), "which": slow[1]},
        "paths": {name: {"inputs": t.inputs, "records": t.records, "written": t.written,
                         "rejected": t.rejected, "crashes": t.crashes, "stage_errors": t.stage_errors,
                         "lost": t.lost, "records_in_crashed_runs": t.lost_in_crashes,
                         "seconds": round(t.seconds, 2),
                         "slowest": {"seconds": round(t.slowest[0], 3), "which": t.slowest[1]}}
                  for name, t in tallies.items()},
    }


if __name__ == "__main__":
    sys.exit(main())

"""Robustness figures (issue #6): bad and random inputs through cleaning and dedup.

    python benchmarks/robustness.py [-n 2000] [--seed 0] [--no-dedup] [--save DIR] [--json FILE]

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
the slowest document.  Exit status 1 if there was a crash or a lost record.  Needs
nothing outside the repository (pytest is imported for the matrix table).
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import random
import shutil
import sys
import tempfile
import time
import traceback
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
    ap.add_argument("--batch", type=int, default=100, help="random inputs per dedup run (default 100)")
    ap.add_argument("--save", type=Path, help="keep the inputs and outputs here (default: a temp folder, removed)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = ap.parse_args(argv)

    inputs = ([] if args.no_matrix else matrix_inputs()) + random_inputs(args.random, args.seed)
    workdir = args.save or Path(tempfile.mkdtemp(prefix="newsclean-robustness-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
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
        if args.json:
            args.json.write_text(json.dumps({
                "inputs": len(inputs), "seed": args.seed, "crashes": crashes, "records_lost": lost,
                "slowest_document": {"seconds": round(slow[0], 3), "which": slow[1]},
                "paths": {name: {"inputs": t.inputs, "records": t.records, "written": t.written,
                                 "rejected": t.rejected, "crashes": t.crashes, "stage_errors": t.stage_errors,
                                 "lost": t.lost, "records_in_crashed_runs": t.lost_in_crashes,
                                 "seconds": round(t.seconds, 2),
                                 "slowest": {"seconds": round(t.slowest[0], 3), "which": t.slowest[1]}}
                          for name, t in tallies.items()},
            }, indent=2))
        return 1 if crashes or lost else 0
    finally:
        if args.save is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

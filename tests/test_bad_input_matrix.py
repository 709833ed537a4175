"""The bad-input matrix of issue #6, run through all three commands: clean, dedup, run.

Every case is a row of ``CASES``: a name, the input file's name (its extension picks
the reader), a producer of the file's bytes, and the expected outcome (:class:`Expect`:
which record ids come out and which lines are rejected, with what reason).  For every
case and every command the run must:

* exit 0 (2 under ``--strict`` when the case has a bad record), with no traceback;
* balance its accounting, ``input = output + rejects`` (clean, from ``--stats``) or
  ``input = kept + duplicates + rejects`` (dedup/run, from ``OUTDIR/stats.json``), and
  the counts must match what is actually in the output files;
* lose nothing: each expected id comes out, each bad record is in the rejects file
  (default location: ``<OUTPUT>.rejects.jsonl`` for clean, ``OUTDIR/rejects.jsonl``
  for dedup and run) with its source, line, reason and raw text.

To add a case, add a row.  ``NEWSCLEAN_BIG_MB=50`` runs the large-record row at the
issue's 50 MB (dedup alone takes about 16 s and 1.5 GB RSS for it); the default is 5 MB.
"""
from __future__ import annotations

import codecs
import gzip
import json
import os
import random
import re
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import jsonl_lines

COMMANDS = ("clean", "dedup", "run")
RAW_CHARS = 10_000  # a reject keeps this many characters of its raw input
BIG_MB = float(os.environ.get("NEWSCLEAN_BIG_MB", "5"))

DAMAGED = "Microsoft?s announcement follows similar statements fromAmazonandIBM. []"
CLEAN = "The council met on Tuesday and agreed the budget for next year."
PARA = "The council met on Tuesday and agreed on the budget for next year, the mayor said.\n\n"
G1 = {"id": "g1", "text": DAMAGED}
G2 = {"id": "g2", "text": CLEAN}


# ------------------------------------------------------------------ the table


@dataclass(frozen=True)
class Expect:
    """What a case must produce, whatever the command.

    ``good``: ids of the records that come out (clean: output; dedup/run: kept or
    duplicates), in input order.  ``rejects``: line number -> regular expression the
    reject's reason must match; these are all the rejects there are.  ``raw``: how to
    check a reject's raw text: ``"line"`` (the input line itself, decoded as UTF-8
    with replacement, first 10,000 characters), ``"file"`` (the file's content) or
    ``"any"`` (a string; e.g. the partial line before a truncation).  ``at_least``:
    for a stream that breaks where a decoder cannot pin down the last good byte, only
    the first ``at_least`` of ``good`` must come out (in order, as a prefix); the one
    reject then covers the rest, on the line after the last good record.
    """

    good: tuple[str, ...] = ()
    rejects: dict[int, str] = field(default_factory=dict)
    raw: str = "line"
    at_least: int | None = None

    @property
    def records(self) -> int:
        return len(self.good) + len(self.rejects)


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    make: Callable[[], bytes]  # the input file's bytes
    # the outcome, or a tuple of acceptable outcomes, or a function of the bytes
    expect: Expect | tuple[Expect, ...] | Callable[[bytes], Expect]
    args: tuple[str, ...] = ()  # extra command-line options

    def expected(self, data: bytes) -> tuple[Expect, ...]:
        expect = self.expect(data) if callable(self.expect) else self.expect
        return expect if isinstance(expect, tuple) else (expect,)


def jsonl(*rows: Any, end: bytes = b"\n") -> Callable[[], bytes]:
    """Producer of a JSONL file: dicts are dumped, bytes/str lines go in as they are."""

    def make() -> bytes:
        return b"\n".join(jsonl_lines(list(rows))) + end

    return make


def around(bad: bytes | str | dict) -> Callable[[], bytes]:
    """A bad line between two good records (the run has to go on past it)."""
    return jsonl(G1, bad, G2)


def rejected_between(reason: str) -> Expect:
    return Expect(good=("g1", "g2"), rejects={2: reason})


def every_line_rejected(reason: str) -> Callable[[bytes], Expect]:
    """Expectation for files where each non-blank line is a bad record."""

    def expect(data: bytes) -> Expect:
        lines = data.split(b"\n")
        bad = {n: reason for n, line in enumerate(lines, 1) if line.rstrip(b"\r") and not line.isspace()}
        return Expect(rejects=bad)

    return expect


def random_bytes(n: int, seed: int, prefix: bytes = b"") -> Callable[[], bytes]:
    return lambda: prefix + random.Random(seed).randbytes(n)


def utf16(rows: list[dict], codec: str) -> Callable[[], bytes]:
    bom = codecs.BOM_UTF16_LE if codec == "utf-16-le" else codecs.BOM_UTF16_BE
    return lambda: bom + "".join(json.dumps(r) + "\n" for r in rows).encode(codec)


def nested_json(depth: int) -> bytes:
    return b'{"id": "deep%d", "text": "Deep.", "meta": ' % depth + b"[" * depth + b"]" * depth + b"}"


def nested_html(depth: int, tag: str = "div", closed: bool = True) -> str:
    inner = "The mayor said the vote was close."
    return f"<{tag}>" * depth + inner + (f"</{tag}>" * depth if closed else "")


def big_text(mb: float) -> str:
    body = PARA * (int(mb * 1024 * 1024) // len(PARA) + 1)
    return "Read the full report [] here.\n\n" + body + "The mayor [] agreed."


# -- compressed inputs: many rows of incompressible-ish text so a cut lands mid-stream

COMPRESSED_ROWS = 1500


def _rows_bytes() -> bytes:
    rng = random.Random(7)
    rows = [{"id": f"r{i}", "text": " ".join(str(rng.random()) for _ in range(20))} for i in range(COMPRESSED_ROWS)]
    return b"".join(orjson.dumps(r) + b"\n" for r in rows)


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


def gz_cut(fraction: float) -> Callable[[], bytes]:
    def make() -> bytes:
        packed = gzip.compress(_rows_bytes(), mtime=0)
        return packed[: int(len(packed) * fraction)]

    return make


def zst_cut(fraction: float) -> Callable[[], bytes]:
    def make() -> bytes:
        packed = _zstd(_rows_bytes())
        return packed[: int(len(packed) * fraction)]

    return make


def gz_bad_crc(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data, mtime=0))
    packed[-8] ^= 0xFF  # the CRC32 of the trailer: every byte decodes, the check fails
    return bytes(packed)


SMALL_ROWS = [{"id": f"s{i}", "text": f"Record {i} of a small file."} for i in range(20)]


def decompressed_prefix(data: bytes, name: str) -> bytes:
    """What a streaming decoder gets out of a (possibly broken) compressed file."""
    if name.endswith(".gz"):
        d = zlib.decompressobj(wbits=31)
        try:
            return d.decompress(data)
        except zlib.error:
            return b""
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def cut_stream(data: bytes, name: str) -> Expect:
    """Complete lines before the break come out; one reject covers the rest."""
    complete = decompressed_prefix(data, name).count(b"\n")
    assert 0 < complete < COMPRESSED_ROWS, "the cut must land mid-stream"
    good = tuple(f"r{i}" for i in range(complete))
    return Expect(good=good, rejects={complete + 1: "truncated or corrupt compressed stream"}, raw="any")


ALL_ROWS = tuple(f"r{i}" for i in range(COMPRESSED_ROWS))
NOT_JSON = "not valid JSON"
BINARY_LINE = "NUL byte|invalid UTF-8|not valid JSON|not an object"

CASES = [
    # --- malformed JSON
    Case("json-unterminated-string", "in.jsonl", around(b'{"id": "b", "text": "unterminated'),
         rejected_between(NOT_JSON)),
    Case("json-trailing-comma", "in.jsonl", around(b'{"id": "b", "text": "x",}'), rejected_between(NOT_JSON)),
    Case("json-single-quotes", "in.jsonl", around(b"{'id': 'b', 'text': 'x'}"), rejected_between(NOT_JSON)),
    Case("json-two-objects-one-line", "in.jsonl", around(b'{"id": "b", "text": "x"} {"id": "c", "text": "y"}'),
         rejected_between(NOT_JSON)),
    Case("plain-prose-line", "in.jsonl", around("The council met on Tuesday."), rejected_between(NOT_JSON)),
    Case("json-scalars", "in.jsonl", jsonl(G1, "null", "42", '"a string"', "true", G2),
         Expect(good=("g1", "g2"), rejects={2: "not an object", 3: "not an object", 4: "not an object",
                                            5: "not an object"})),
    # deeper than orjson reads or writes (1024/255 levels), not too deep for the stdlib
    Case("json-nested-1000", "in.jsonl", around(nested_json(1000)),
         (Expect(good=("g1", "deep1000", "g2")), rejected_between("nest|deep|recursion"))),
    Case("json-nested-100000", "in.jsonl", around(nested_json(100_000)), rejected_between(NOT_JSON)),
    Case("json-nan-bigint-surrogate", "in.jsonl",
         jsonl(b'{"id": 123456789012345678901234567890, "text": "A big id.", "score": NaN}',
               b'{"id": "sur", "text": "A lone \\ud800 surrogate."}'),
         Expect(good=("123456789012345678901234567890", "sur"))),
    # --- a JSON array instead of JSONL
    Case("json-array-one-line", "in.jsonl", lambda: json.dumps([G1, G2]).encode() + b"\n",
         Expect(rejects={1: "array, not an object"})),
    Case("json-array-pretty", "in.jsonl", lambda: json.dumps([G1, G2], indent=2).encode() + b"\n",
         every_line_rejected(f"{NOT_JSON}|not an object")),
    Case("json-object-pretty", "in.jsonl", lambda: json.dumps(G1, indent=2).encode(),
         every_line_rejected(f"{NOT_JSON}|not an object")),
    # --- encodings
    Case("invalid-utf8-in-text", "in.jsonl", around(b'{"id": "b", "text": "caf\xe9 au lait"}'),
         rejected_between("invalid UTF-8")),
    Case("invalid-utf8-overlong-and-continuation", "in.jsonl", around(b'{"id": "b", "text": "\xc0\xaf \x80 x"}'),
         rejected_between("invalid UTF-8")),
    Case("invalid-utf8-in-other-field", "in.jsonl", around(b'{"id": "b", "text": "ok", "by": "\xff"}'),
         rejected_between("invalid UTF-8")),
    Case("utf8-bom-crlf-no-final-newline", "in.jsonl",
         lambda: codecs.BOM_UTF8 + json.dumps(G1).encode() + b"\r\n" + json.dumps(G2).encode(),
         Expect(good=("g1", "g2"))),
    # JSONL is UTF-8; a UTF-16 file gets one reject per record that says so (no
    # phantom record for the high byte of the last newline), unless it is decoded.
    Case("utf16-le-bom", "in.jsonl", utf16([G1, G2], "utf-16-le"),
         (Expect(rejects={1: "UTF-16", 2: "UTF-16"}, raw="any"), Expect(good=("g1", "g2")))),
    Case("utf16-be-bom", "in.jsonl", utf16([G1, G2], "utf-16-be"),
         (Expect(rejects={1: "UTF-16", 2: "UTF-16"}, raw="any"), Expect(good=("g1", "g2")))),
    Case("utf16-bom-txt", "article.txt", lambda: codecs.BOM_UTF16_LE + DAMAGED.encode("utf-16-le"),
         Expect(good=("article",))),
    # --- NUL bytes and binary data
    Case("nul-byte-in-line", "in.jsonl", around(b'{"id": "b", "text": "a\x00b"}'), rejected_between("NUL")),
    Case("escaped-nul-is-fine", "in.jsonl", around(b'{"id": "n", "text": "The council\\u0000 met."}'),
         Expect(good=("g1", "n", "g2"))),
    Case("binary-random-jsonl", "in.jsonl", random_bytes(64 * 1024, seed=1), every_line_rejected(BINARY_LINE)),
    Case("binary-png-jsonl", "in.jsonl", random_bytes(4096, seed=2, prefix=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
         every_line_rejected(BINARY_LINE)),
    Case("binary-txt", "image.txt", random_bytes(8192, seed=3), Expect(rejects={1: "binary"}, raw="file")),
    # --- empty files
    Case("empty-file", "in.jsonl", lambda: b"", Expect()),
    Case("blank-lines-only", "in.jsonl", lambda: b"\n \n\t\n\r\n   ", Expect()),
    Case("empty-gz", "in.jsonl.gz", lambda: gzip.compress(b"", mtime=0), Expect()),
    Case("zero-byte-gz", "in.jsonl.gz", lambda: b"", Expect()),
    Case("empty-zst", "in.jsonl.zst", lambda: _zstd(b""), Expect()),
    Case("empty-txt", "empty.txt", lambda: b"", Expect(good=("empty",))),
    # --- empty, whitespace-only and missing texts
    Case("empty-and-whitespace-texts", "in.jsonl",
         jsonl({"id": "e1", "text": ""}, {"id": "e2", "text": "   \n\t  \n"},
               {"id": "e3", "text": "\u00a0\u2003\u3000"},
               {"id": "e4", "text": "\r\n\r\n"}, G1),
         Expect(good=("e1", "e2", "e3", "e4", "g1"))),
    Case("missing-or-null-text", "in.jsonl",
         jsonl(G1, {"id": "m", "title": "no text"}, {"id": "n", "text": None}, {"id": "b", "text": None, "body": CLEAN},
               {}, G2),
         Expect(good=("g1", "b", "g2"), rejects={2: "no text field", 3: "null", 5: "no text field"})),
    # --- non-string text
    Case("non-string-text", "in.jsonl",
         jsonl(G1, {"id": "i", "text": 42}, {"id": "f", "text": 4.5}, {"id": "t", "text": True},
               {"id": "l", "text": ["a", "b"]}, {"id": "o", "text": {"en": CLEAN}}, G2),
         Expect(good=("g1", "g2"), rejects={n: "not a string" for n in range(2, 7)})),
    # --- ids: duplicates and odd types
    Case("duplicate-ids", "in.jsonl",
         jsonl({"id": "d", "text": DAMAGED}, {"id": "d", "text": CLEAN}, {"id": "d", "text": DAMAGED},
               {"id": "d#2", "text": "Another text entirely, about the weather."}),
         Expect(good=("d", "d", "d", "d#2"))),
    Case("odd-id-types", "in.jsonl",
         jsonl({"id": 7, "text": CLEAN}, {"id": 7.5, "text": DAMAGED}, {"id": True, "text": "Yes."},
               {"id": ["x", 1], "text": "A list id."}, {"id": {"k": "v"}, "text": "A dict id."},
               {"id": "", "text": "Blank."}),
         Expect(good=("7", "7.5", "True", "['x', 1]", "{'k': 'v'}", ""))),
    # --- large records
    Case("large-record", "in.jsonl",
         jsonl({"id": "big", "text": big_text(BIG_MB), "tail": "kept"}, G2), Expect(good=("big", "g2"))),
    Case("record-over-max-bytes", "in.jsonl",
         jsonl(G1, {"id": "big", "text": big_text(0.3)}, G2),
         Expect(good=("g1", "g2"), rejects={2: "max-bytes"}), args=("--max-bytes", "100000")),
    Case("last-line-over-max-bytes-no-newline", "in.jsonl",
         jsonl(G1, {"id": "big", "text": big_text(0.3)}, end=b""),
         Expect(good=("g1",), rejects={2: "max-bytes"}), args=("--max-bytes", "100000")),
    # --- 1 M-character lines without spaces
    Case("million-char-words", "in.jsonl",
         jsonl({"id": "letters", "text": "a" * 1_000_000}, {"id": "camel", "text": "fromAmazon" * 100_000},
               {"id": "holes", "text": "?" * 1_000_000}, {"id": "entities", "text": "&amp;" * 200_000},
               {"id": "brackets", "text": "[]" * 500_000}, {"id": "url", "text": "http://" + "a/" * 500_000}),
         Expect(good=("letters", "camel", "holes", "entities", "brackets", "url"))),
    Case("million-char-line-not-json", "in.jsonl", around(b"x" * 1_000_000), rejected_between(NOT_JSON)),
    # --- deeply nested HTML
    Case("nested-html-in-text", "in.jsonl",
         jsonl({"id": "div", "text": nested_html(30_000)}, {"id": "unknown", "text": nested_html(20_000, "x-y")},
               {"id": "unclosed", "text": nested_html(20_000, "b", closed=False)}),
         Expect(good=("div", "unknown", "unclosed"))),
    Case("nested-html-page", "deep.html",
         lambda: (f"<html><head><title>Deep</title></head><body><article><p>{CLEAN}</p>"
                  f"{nested_html(20_000)}</article></body></html>").encode(),
         Expect(good=("deep",))),
    Case("nested-html-page-no-text", "deep.html",
         lambda: ("<html><body>" + "<div><span>" * 20_000 + "x</body></html>").encode(),
         Expect(rejects={1: "no article text"}, raw="file")),
    # --- truncated and corrupt compressed files
    Case("gz-truncated", "cut.jsonl.gz", gz_cut(0.6), lambda data: cut_stream(data, ".gz")),
    Case("gz-truncated-in-header", "cut.jsonl.gz", lambda: gzip.compress(_rows_bytes(), mtime=0)[:5],
         Expect(rejects={1: "truncated or corrupt compressed stream"}, raw="any")),
    # every byte decodes, only the trailer's check fails: (nearly) all records come out
    Case("gz-bad-crc", "crc.jsonl.gz", lambda: gz_bad_crc(_rows_bytes()),
         Expect(good=ALL_ROWS, rejects={COMPRESSED_ROWS + 1: "truncated or corrupt compressed stream"}, raw="any",
                at_least=COMPRESSED_ROWS * 9 // 10)),
    Case("gz-bad-crc-small-file", "crc.jsonl.gz", lambda: gz_bad_crc(jsonl(*SMALL_ROWS)()),
         Expect(good=tuple(r["id"] for r in SMALL_ROWS), rejects={21: "truncated or corrupt compressed stream"},
                raw="any", at_least=18)),
    Case("gz-trailing-garbage", "tail.jsonl.gz", lambda: gzip.compress(jsonl(G1, G2)(), mtime=0) + b"garbage",
         Expect(good=("g1", "g2"), rejects={3: "truncated or corrupt compressed stream"}, raw="any")),
    Case("gz-not-gzip", "fake.jsonl.gz", jsonl(G1), Expect(rejects={1: "truncated or corrupt"}, raw="any")),
    Case("zst-truncated", "cut.jsonl.zst", zst_cut(0.6), lambda data: cut_stream(data, ".zst")),
    Case("zst-not-zstd", "fake.jsonl.zst", jsonl(G1), Expect(rejects={1: "truncated or corrupt"}, raw="any")),
]



# ------------------------------------------------------------------ running a case


@dataclass
class Ran:
    """What a command left behind, read back into one shape for all three commands."""

    exit_code: int
    output: str = field(repr=False)
    exception: BaseException | None
    good: list[str]  # ids that came out, input order
    rejects: list[dict[str, Any]] = field(repr=False)
    input_records: int
    out_records: int  # clean: output_records; dedup/run: kept + duplicates
    rejected: int
    balanced: bool
    files: dict[str, int]  # output file -> records actually in it


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def run_command(cli, tmp_path: Path, command: str, src: Path, *args: str) -> Ran:
    if command == "clean":
        out, stats = tmp_path / "out.jsonl", tmp_path / "stats.json"
        res = cli("clean", src, "-o", out, "--stats", stats, "-q", *args)
        st = json.loads(stats.read_text()) if stats.exists() else {}
        got = _lines(out)
        rejects = _lines(tmp_path / "out.jsonl.rejects.jsonl")
        return Ran(
            res.exit_code, res.output, res.exception, [str(r.get("id")) for r in got], rejects,
            st.get("input_records", -1), st.get("output_records", -1), st.get("rejected", -1),
            bool(st) and st["input_records"] == st["output_records"] + st["rejected"],
            {"output": len(got), "rejects": len(rejects)},
        )
    outdir = tmp_path / "out"
    res = cli(command, src, "-o", outdir, "-q", *args)
    st = json.loads((outdir / "stats.json").read_text()) if (outdir / "stats.json").exists() else {}
    clusters = _lines(outdir / "clusters.jsonl")
    kept, dups = _lines(outdir / "kept.jsonl.gz"), _lines(outdir / "duplicates.jsonl.gz")
    rejects = _lines(outdir / "rejects.jsonl")
    balanced = bool(st) and st["balanced"] is True and (
        st["input_records"] == st["kept"] + st["duplicates"] + st["rejected"])
    return Ran(
        res.exit_code, res.output, res.exception, [str(c["id"]) for c in clusters], rejects,
        st.get("input_records", -1), st.get("kept", 0) + st.get("duplicates", 0), st.get("rejected", -1), balanced,
        {"clusters": len(clusters), "kept+duplicates": len(kept) + len(dups), "rejects": len(rejects),
         "kept": len(kept), "stats.kept": st.get("kept", -1)},
    )


def expected_raw(data: bytes, filename: str, line: int) -> str:
    if filename.endswith((".gz", ".zst")):
        data = decompressed_prefix(data, filename)
    raw = data.split(b"\n")[line - 1].removesuffix(b"\r")
    if line == 1:
        raw = raw.removeprefix(codecs.BOM_UTF8)
    return raw[: RAW_CHARS * 4].decode("utf-8", errors="replace")[:RAW_CHARS]


def no_traceback(ran: Ran) -> None:
    assert ran.exception is None or isinstance(ran.exception, SystemExit), repr(ran.exception)
    assert "Traceback" not in ran.output, ran.output[-3000:]


def pick(expects: tuple[Expect, ...], ran: Ran) -> Expect:
    """The acceptable outcome the run produced (by ids out and lines rejected), else the first."""
    for e in expects:
        if e.at_least is not None:
            k = len(ran.good)
            if e.at_least <= k <= len(e.good) and len(e.rejects) == 1:
                (reason,) = e.rejects.values()
                return Expect(good=e.good[:k], rejects={k + 1: reason}, raw=e.raw)
            continue
        if ran.good == list(e.good) and [r["line"] for r in ran.rejects] == sorted(e.rejects):
            return e
    return expects[0]


def write_case(tmp_path: Path, case: Case) -> tuple[Path, bytes, tuple[Expect, ...]]:
    if case.filename.endswith((".html", ".htm")):
        pytest.importorskip("trafilatura")
    data = case.make()
    src = tmp_path / "input" / case.filename
    src.parent.mkdir()
    src.write_bytes(data)
    return src, data, case.expected(data)


# ------------------------------------------------------------------ the tests


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input(cli, tmp_path, case: Case, command: str):
    src, data, expects = write_case(tmp_path, case)
    ran = run_command(cli, tmp_path, command, src, *case.args)
    expect = pick(expects, ran)

    no_traceback(ran)
    assert ran.exit_code == 0, ran.output[-3000:]
    # accounting: the stats add up, and say what the files hold
    assert ran.balanced, ran
    assert ran.input_records == expect.records
    assert ran.out_records == len(expect.good)
    assert ran.rejected == len(expect.rejects)
    if command == "clean":
        assert ran.files == {"output": len(expect.good), "rejects": len(expect.rejects)}
    else:
        n = len(expect.good)
        assert ran.files["clusters"] == ran.files["kept+duplicates"] == n
        assert ran.files["rejects"] == len(expect.rejects)
        assert ran.files["kept"] == ran.files["stats.kept"]
    # nothing lost: every good record came out, in input order ...
    assert ran.good == list(expect.good)
    # ... and every bad one is in the rejects file with where, why and what
    assert [r["line"] for r in ran.rejects] == sorted(expect.rejects)
    for rej in ran.rejects:
        assert rej["source"] == str(src)
        assert re.search(expect.rejects[rej["line"]], rej["reason"]), (rej["line"], rej["reason"])
        assert isinstance(rej["raw"], str)
        if expect.raw == "line":
            assert rej["raw"] == expected_raw(data, case.filename, rej["line"])
        elif expect.raw == "file":
            assert rej["raw"] == data[: RAW_CHARS * 4].decode("utf-8", errors="replace")[:RAW_CHARS]


# --strict on the cases that have (or may have) a bad record, and on two that have none
STRICT_CASES = [c for c in CASES if not isinstance(c.expect, Expect) or c.expect.rejects
                or c.name in ("empty-file", "escaped-nul-is-fine")]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", STRICT_CASES, ids=lambda c: c.name)
def test_bad_input_strict(cli, tmp_path, case: Case, command: str):
    """--strict: exit 2 naming the first bad record and write nothing; exit 0 if there is none."""
    src, _, expects = write_case(tmp_path, case)
    target = tmp_path / ("out.jsonl" if command == "clean" else "out")
    res = cli(command, src, "-o", target, "-q", "--strict", *case.args)
    # of several acceptable outcomes, the one with rejects if the run stopped, else without
    expect = next((e for e in expects if bool(e.rejects) == (res.exit_code != 0)), expects[0])
    if expect.at_least is not None:  # the break comes after at least that many good records
        m = re.search(rf"{re.escape(str(src))}:(\d+)", res.stderr)
        assert m and int(m.group(1)) > expect.at_least, res.stderr
        expect = Expect(rejects={int(m.group(1)): next(iter(expect.rejects.values()))})
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    if not expect.rejects:
        assert res.exit_code == 0, res.output[-3000:]
        return
    assert res.exit_code == 2, res.output[-3000:]
    first = min(expect.rejects)
    assert f"{src}:{first}" in res.stderr
    assert re.search(expect.rejects[first], res.stderr)
    written = [target] if command == "clean" else [target / name for name in ("clusters.jsonl", "kept.jsonl.gz")]
    assert not any(p.exists() for p in written)
    assert not (tmp_path / "out.jsonl.rejects.jsonl").exists() and not (target / "rejects.jsonl").exists()


# ------------------------------------------------------------------ around the matrix


def _mixed_input(tmp_path: Path) -> Path:
    src = tmp_path / "mixed.jsonl"
    src.write_bytes(jsonl(G1, b"not json", {"id": "n", "text": 3}, G2)())
    return src


@pytest.mark.parametrize("command", COMMANDS)
def test_rejects_option_on_every_command(cli, tmp_path, command):
    """``--rejects PATH`` puts the rejects where asked, for every command."""
    src = _mixed_input(tmp_path)
    rejects = tmp_path / "elsewhere" / "bad.jsonl"
    rejects.parent.mkdir()
    target = tmp_path / ("out.jsonl" if command == "clean" else "out")
    res = cli(command, src, "-o", target, "--rejects", rejects, "-q")
    assert res.exit_code == 0, res.output
    got = _lines(rejects)
    assert [(r["line"], r["source"]) for r in got] == [(2, str(src)), (3, str(src))]
    assert [r["raw"] for r in got] == ["not json", '{"id": "n", "text": 3}']
    default = tmp_path / "out.jsonl.rejects.jsonl" if command == "clean" else target / "rejects.jsonl"
    assert not default.exists() or not _lines(default)


@pytest.mark.parametrize("command", COMMANDS)
def test_rejects_default_next_to_output(cli, tmp_path, command):
    src = _mixed_input(tmp_path)
    target = tmp_path / ("out.jsonl" if command == "clean" else "out")
    assert cli(command, src, "-o", target, "-q").exit_code == 0
    default = tmp_path / "out.jsonl.rejects.jsonl" if command == "clean" else target / "rejects.jsonl"
    assert [r["line"] for r in _lines(default)] == [2, 3]


@pytest.mark.parametrize("command", COMMANDS)
def test_summary_states_the_accounting(cli, tmp_path, command):
    """Without -q every run ends with its accounting on stderr."""
    src = _mixed_input(tmp_path)
    target = tmp_path / ("out.jsonl" if command == "clean" else "out")
    res = cli(command, src, "-o", target)
    assert res.exit_code == 0, res.output
    err = re.sub(r"\s+", " ", res.stderr)
    if command == "clean":
        assert re.search(r"rejected\W+2\b", err) and re.search(r"input total\W+4\b", err), err
    else:
        assert "4 input = 2 kept + 0 duplicates + 2 rejects" in err


@pytest.mark.parametrize("command", COMMANDS)
def test_several_files_keep_their_own_sources_and_lines(cli, tmp_path, command):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz"
    a.write_bytes(jsonl(G1, "bad a")())
    b.write_bytes(gzip.compress(jsonl("bad b", {"id": "x"}, G2)(), mtime=0))
    target = tmp_path / ("out.jsonl" if command == "clean" else "out")
    res = cli(command, a, b, "-o", target, "-q")
    assert res.exit_code == 0, res.output
    default = tmp_path / "out.jsonl.rejects.jsonl" if command == "clean" else target / "rejects.jsonl"
    got = [(r["source"], r["line"], r["raw"]) for r in _lines(default)]
    assert got == [(str(a), 2, "bad a"), (str(b), 1, "bad b"), (str(b), 2, '{"id": "x"}')]


# A few cases again in a real process: what a user sees, including rich tracebacks.
SUBPROCESS_CASES = ["utf16-le-bom", "gz-truncated", "json-nested-1000"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_bad_input_in_a_real_process(tmp_path, name, command):
    case = next(c for c in CASES if c.name == name)
    src, _, expects = write_case(tmp_path, case)
    expect = expects[0]
    target = tmp_path / ("out.jsonl" if command == "clean" else "out")
    proc = subprocess.run(
        [sys.executable, "-m", "newsclean", command, str(src), "-o", str(target), *case.args],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stderr[-3000:]
    err = re.sub(r"\s+", " ", proc.stderr)
    if command == "clean":
        assert f"{expect.records:,} records in" in err
    else:
        assert f"{expect.records:,} input = " in err


def test_long_token_with_holes_cleans_within_the_doc_timeout(cli, tmp_path):
    """A 100,000-character link-like token full of ``?`` holes is cleaned, not timed out.

    Each hole looks up to 2,048 characters either way for a link around it, so such a
    token costs about 4,000 steps per character (1 M characters: minutes).
    """
    src = tmp_path / "in.jsonl"
    src.write_bytes(jsonl({"id": "holes", "text": "See http://x/" + "a?" * 50_000}, G2)())
    ran = run_command(cli, tmp_path, "clean", src, "--doc-timeout", "3")
    no_traceback(ran)
    assert ran.exit_code == 0
    assert [r["reason"] for r in ran.rejects] == []
    assert ran.good == ["holes", "g2"]

"""Fuzz target for the record parser: arbitrary bytes -> JSONL reader -> text/id lookup -> cleaning -> writer.

Run it with atheris (``pip install atheris``)::

    python fuzz/fuzz_records.py -max_total_time=60 -timeout=10 CORPUS_DIR fuzz/seeds

and replay inputs (a crash file, or any file) without atheris::

    python fuzz/fuzz_records.py --replay FILE...

The first two bytes of an input choose how the rest (the payload) is fed in; every way
checks the invariants of the reading path (an ``AssertionError`` or any other exception
is a finding):

* byte 0 % 5 selects the mode: ``0`` the payload is a JSONL file; ``1`` the payload
  (decoded as UTF-8 with replacement) is the text of one record, so every input
  reaches the cleaning stages; ``2``/``3`` the payload gzip/zstd-compressed and cut at
  a point taken from byte 1; ``4`` the payload read as if it were gzip (corrupt);
* byte 1 also selects the read chunk size and ``--max-bytes`` (line-boundary and
  over-size handling inside the streaming reader).

Invariants:

* the reader never raises on data, and gives exactly one item per non-blank line,
  in order, each either a record (a dict) or a reject reason (a string); a broken
  compressed stream ends with one reject;
* looking up the id never raises, looking up the text raises only ``BadRecord``;
* cleaning never raises, and its output stays bounded (at most twice the input plus a
  little: stages remove, restore single characters or add single spaces);
* the cleaned record and every reject can be written as one JSON line that reads back.
"""
from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Iterator
from typing import Any

MODES = ("jsonl", "text", "gzip-cut", "zstd-cut", "corrupt-gzip")
CHUNK_SIZES = (1, 2, 3, 7, 64, 4096, 1 << 20)
MAX_BYTES = (8, 100, 4096, 64 * 1024 * 1024)


def _import_newsclean() -> None:
    global BadRecord, Outcome, dumps_line, find_id, find_text, read_jsonl, decompressed_chunks, _CLEANER
    from newsclean.clean.pipeline import Cleaner
    from newsclean.engine.local import BadRecord, Outcome, find_id, find_text
    from newsclean.io.readers import decompressed_chunks, read_jsonl
    from newsclean.io.writers import dumps_line

    _CLEANER = Cleaner()


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _rechunk(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """The same bytes in pieces of ``size``; errors surface where the source raises them."""
    for chunk in chunks:
        yield from _chunks(chunk, size)


def _decompressed(packed: bytes, compression: str, size: int) -> Iterator[bytes]:
    return _rechunk(decompressed_chunks(io.BytesIO(packed), compression), size)


def expected_lines(payload: bytes) -> tuple[list[int], set[int]]:
    """Line numbers the reader must report, and whitespace-only lines it may report.

    A whitespace-only line is no record, but one longer than ``--max-bytes`` may be
    rejected as over-size while it streams past (the reader cannot look at all of it).
    """
    if payload.startswith((b"\xff\xfe", b"\xfe\xff")) and not payload.startswith(b"\xff\xfe\x00\x00"):
        # a UTF-16 file (BOM first) is read re-encoded as UTF-8: its lines are that text's
        payload = payload.decode("utf-16", errors="replace").encode("utf-8", "surrogatepass")
    must, may = [], set()
    for n, line in enumerate(payload.split(b"\n"), 1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if n == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if line and not line.isspace():
            must.append(n)
        elif line:
            may.add(n)
    return must, may


def _writes_back(obj: dict[str, Any], stdlib: bool) -> None:
    line = dumps_line(obj, stdlib=stdlib)
    assert line.endswith(b"\n") and line.count(b"\n") == 1, line[:200]
    back = json.loads(line.decode("utf-8"))
    assert isinstance(back, dict) and list(back) == list(obj), (list(back)[:5], list(obj)[:5])


def check(data: bytes) -> dict[str, Any]:
    """Run one input through the reading path and check the invariants; return counts."""
    if "_CLEANER" not in globals():
        _import_newsclean()
    mode = MODES[data[0] % len(MODES)] if data else "jsonl"
    knob = data[1] if len(data) > 1 else 0
    payload = data[2:]
    chunk = CHUNK_SIZES[knob % len(CHUNK_SIZES)]
    max_bytes = MAX_BYTES[(knob // len(CHUNK_SIZES)) % len(MAX_BYTES)]
    text_in: str | None = None
    if mode == "text":
        text_in = payload.decode("utf-8", errors="replace")
        payload = json.dumps({"id": "fuzz", "text": text_in}, ensure_ascii=False).encode("utf-8")
        max_bytes = MAX_BYTES[-1]

    if mode in ("jsonl", "text"):
        chunks: Iterator[bytes] = _chunks(payload, chunk)
    elif mode == "gzip-cut":
        packed = gzip.compress(payload, mtime=0)
        chunks = _decompressed(packed[: len(packed) * (knob + 1) // 256 or len(packed)], "gzip", chunk)
    elif mode == "zstd-cut":
        import zstandard

        packed = zstandard.ZstdCompressor().compress(payload)
        chunks = _decompressed(packed[: len(packed) * (knob + 1) // 256 or len(packed)], "zstd", chunk)
    else:
        chunks = _decompressed(payload, "gzip", chunk)

    items = list(read_jsonl(chunks, "fuzz", max_bytes=max_bytes))  # must not raise

    lines = [it.line for it in items]
    assert lines == sorted(set(lines)), f"line numbers not strictly increasing: {lines[:20]}"
    for it in items:
        assert (it.record is None) != (it.error is None), (it.line, it.error)
        assert it.record is None or isinstance(it.record, dict)
        assert it.error is None or (isinstance(it.error, str) and it.error)
    if mode in ("jsonl", "text"):
        must, may = expected_lines(payload)
        got = set(lines)
        missing = [n for n in must if n not in got]
        extra = sorted(got - set(must) - may)
        assert not missing and not extra, f"lines not accounted for: missing {missing[:10]}, extra {extra[:10]}"
        assert all(it.error is None or "NUL" in it.error or "UTF-8" in it.error or "JSON" in it.error
                   or "max-bytes" in it.error for it in items), [it.error for it in items][:5]
    else:
        broken = [k for k, it in enumerate(items) if it.error and "compressed" in it.error]
        assert broken in ([], [len(items) - 1]), "a broken stream must end the file with one reject"
    if mode == "text":
        assert len(items) == 1 and items[0].record is not None and items[0].record["text"] == text_in

    cleaned = rejected = 0
    for it in items:
        if it.record is None:
            _writes_back(Outcome(it, f"fuzz:{it.line}", reason=it.error).reject_record(), False)
            rejected += 1
            continue
        find_id(it.record)  # must not raise
        try:
            name, text = find_text(it.record)
        except BadRecord as e:
            _writes_back(Outcome(it, f"fuzz:{it.line}", reason=e.reason).reject_record(), False)
            rejected += 1
            continue
        result = _CLEANER.clean(text)  # must not raise
        assert isinstance(result.text, str)
        assert len(result.text) <= 2 * len(text) + 64, (len(text), len(result.text))
        out = dict(it.record)
        out[name] = result.text
        _writes_back(out, it.stdlib_json)
        cleaned += 1
    assert cleaned + rejected == len(items)
    return {"items": len(items), "cleaned": cleaned, "rejected": rejected}


def test_one_input(data: bytes) -> None:
    check(data)


def main(argv: list[str]) -> int:
    if len(argv) > 1 and argv[1] == "--replay":
        failures = 0
        for path in argv[2:]:
            with open(path, "rb") as f:
                data = f.read()
            try:
                print(path, check(data))
            except Exception as e:  # noqa: BLE001 - report every file, then fail
                failures += 1
                print(f"{path}: {type(e).__name__}: {e}"[:2000])
        return 1 if failures else 0

    import atheris

    # Heavy dependencies first, uninstrumented; newsclean itself instrumented for coverage.
    import ftfy  # noqa: F401
    import numpy  # noqa: F401
    import orjson  # noqa: F401
    import zstandard  # noqa: F401

    with atheris.instrument_imports(include=["newsclean"]):
        _import_newsclean()
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""JSON lines: the reader (plain, ``.gz``, ``.zst``, standard input) and the line writer.

Every line is parsed on its own, so one bad line rejects that record only; a line
over ``max_bytes`` streams past without being held (its head is kept for the report).
orjson parses, and the stdlib takes over exactly where orjson would change a record
(NaN, lone surrogates, integers beyond 64 bits): such records are marked
``stdlib_json`` and written back with the stdlib too (:func:`dumps_line`).
"""
from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from .base import DEFAULT_MAX_BYTES, InputFile, Item, oversized
from .compression import CorruptStream, decompressed_chunks

SUFFIXES = (".jsonl", ".ndjson")

_RAW_KEEP = 40_000  # bytes kept of an oversized/broken record: enough for 10,000 chars
_BOM = codecs.BOM_UTF8
# orjson turns integers beyond 64 bits into floats: a float of 2**63 or more in what it
# read sends the line to the exact stdlib parser (which reads a float literal that large
# the same way, so nothing else changes).  A scan of the line for 19 digits in a row cost
# ~35 us on a 4 kB record, ~25 times orjson's own parse.
_ROUNDED_FROM = float(2**63)


def read(f: InputFile, stream: BinaryIO, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """The records of a JSONL file (or standard input), compressed or not."""
    return read_jsonl(decompressed_chunks(stream, f.compression), f.source, max_bytes=max_bytes)


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "a number"


def _utf8_error(line: bytes) -> str | None:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"invalid UTF-8 at byte {e.start} (0x{line[e.start]:02x})"
    return None


def parse_line(line: bytes, source: str, lineno: int) -> Item:
    """Parse one JSONL line (without its newline) into an :class:`Item`."""
    if b"\x00" in line:
        # A NUL *byte* never occurs in JSON text (inside strings it is \u0000).
        return Item(source, lineno, None, "raw NUL byte in line (binary data, not JSON text)", line)
    stdlib = False
    try:
        value = orjson.loads(line)
        if _holds_rounded_integer(value):
            raise ValueError("integer beyond 64 bits: parse exactly")
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        # orjson refuses NaN/Infinity and lone surrogates and rounds big ints; the
        # stdlib accepts them exactly, so only a line both refuse is bad.
        bad_utf8 = _utf8_error(line)
        if bad_utf8:
            return Item(source, lineno, None, bad_utf8, line)
        try:
            value = json.loads(line.decode("utf-8"))
        except (ValueError, RecursionError) as e:
            return Item(source, lineno, None, f"not valid JSON: {e}", line)
        stdlib = True
    if not isinstance(value, dict):
        return Item(source, lineno, None, f"JSON value is {_json_kind(value)}, not an object", line)
    if line.count(b"[") + line.count(b"{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        return Item(source, lineno, None, f"JSON nested deeper than {MAX_DEPTH} levels", line)
    return Item(source, lineno, value, None, line, stdlib)


MAX_DEPTH = 200  # JSON writers give up at 255 (orjson) or at the recursion limit (json)


def _holds_rounded_integer(value: object) -> bool:
    """Whether a value orjson read holds a float of 2**63 or more (an integer literal it
    rounded); iterative, no recursion limit.

    >>> _holds_rounded_integer(orjson.loads(b'{"a": [1, {"b": 12345678901234567890123}]}'))
    True
    >>> _holds_rounded_integer(orjson.loads(b'{"a": 18446744073709551615, "b": 1.5, "t": "12345678901234567890"}'))
    False
    """
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, float):
            if abs(v) >= _ROUNDED_FROM:
                return True
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def _depth(value: object) -> int:
    """Nesting depth of a parsed JSON value (iterative: no recursion limit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in v if isinstance(x, (dict, list)))
    return deepest



UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _utf16_as_utf8(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks as they are, or re-encoded as UTF-8 when they start with a UTF-16 BOM
    (Windows tools save "Unicode" text that way; its NUL bytes would read as binary)."""
    # the first four bytes decide (a UTF-32 BOM starts like UTF-16's), however the
    # stream is cut into chunks
    first = b""
    for chunk in chunks:
        first += chunk
        if len(first) >= 4:
            break
    if not first.startswith(UTF16_BOMS) or first.startswith(b"\xff\xfe\x00\x00"):  # not UTF-32
        if first:
            yield first
        yield from chunks
        return
    decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
    yield decoder.decode(first).encode("utf-8", "surrogatepass")
    for chunk in chunks:
        yield decoder.decode(chunk).encode("utf-8", "surrogatepass")
    yield decoder.decode(b"", final=True).encode("utf-8", "surrogatepass")


def _line_item(line: bytes, source: str, lineno: int, max_bytes: int) -> Item | None:
    """The item of one line (None for a blank line): its ``\\r`` and a leading BOM dropped."""
    if line.endswith(b"\r"):
        line = line[:-1]
    if lineno == 1 and line.startswith(_BOM):
        line = line[len(_BOM) :]
    if not line or line.isspace():
        return None
    if len(line) > max_bytes:
        return oversized(source, lineno, len(line), line[:_RAW_KEEP], max_bytes)
    return parse_line(line, source, lineno)


def read_jsonl(chunks: Iterator[bytes], source: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """Split decompressed chunks into lines and parse each; blank lines are skipped.

    Memory stays bounded by ``max_bytes``: a longer line is skipped as it streams
    past (only its head is kept for the reject report).  If the compressed stream
    breaks, the lines read so far are kept and one reject covers the rest.
    """
    chunks = _utf16_as_utf8(chunks)
    buf = bytearray()
    scan = 0  # buf[:scan] is known to hold no newline
    lineno = 0
    skipped: int | None = None  # bytes of an oversized line seen so far
    head = b""

    while True:
        try:
            chunk = next(chunks, None)
        except CorruptStream as e:
            partial = head if skipped is not None else bytes(buf[:_RAW_KEEP])
            yield Item(source, lineno + 1, None, e.reason, partial)
            return
        except OSError as e:
            yield Item(source, lineno + 1, None, f"read error: {e}", bytes(buf[:_RAW_KEEP]))
            return
        if chunk is None:
            break
        if skipped is not None:
            nl = chunk.find(b"\n")
            if nl < 0:
                skipped += len(chunk)
                continue
            lineno += 1
            yield oversized(source, lineno, skipped + nl, head, max_bytes)
            skipped, chunk = None, chunk[nl + 1 :]
        buf += chunk
        start = 0
        while (nl := buf.find(b"\n", max(start, scan))) >= 0:
            lineno += 1
            item = _line_item(bytes(buf[start:nl]), source, lineno, max_bytes)
            start = nl + 1
            if item is not None:
                yield item
        del buf[:start]  # once per chunk: deleting per line would be quadratic
        scan = len(buf)
        if len(buf) > max_bytes + 1:  # +1: room for a trailing "\r"
            skipped, head = len(buf), bytes(buf[:_RAW_KEEP])
            buf.clear()
            scan = 0
    if skipped is not None:
        yield oversized(source, lineno + 1, skipped, head, max_bytes)
    elif buf:
        lineno += 1
        item = _line_item(bytes(buf), source, lineno, max_bytes)
        if item is not None:
            yield item


def _stdlib_dumps(obj: Any) -> bytes:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (legal in JSON, not in UTF-8): escape them, exact round trip.
        return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def dumps_line(obj: Any, *, stdlib: bool = False) -> bytes:
    """One compact JSON line (UTF-8, non-ASCII kept) ending in ``\\n``.

    ``stdlib=True`` is for records that only the stdlib parsed: orjson would write
    NaN as null and refuses ints beyond 64 bits, which would change the record.
    """
    if not stdlib:
        try:
            return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # orjson.JSONEncodeError: big int, surrogate, odd type
            pass
    return _stdlib_dumps(obj) + b"\n"

"""Streaming readers: JSONL (plain, .gz, .zst), stdin and ``.txt`` articles -> :class:`Item`.

CSV, HTML, WARC and Parquet inputs are read by :mod:`newsclean.io.formats`.

Readers never raise on bad data: every problem becomes an :class:`Item` with ``error``
set, so a long run keeps going and the caller decides (reject file or ``--strict``).
Only argument problems (a missing path) raise :class:`InputError`, before any reading.
"""
from __future__ import annotations

import codecs
import json
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

import orjson

Compression = Literal["none", "gzip", "zstd"]
Format = Literal["jsonl", "txt", "csv", "html", "parquet", "warc"]

STDIN = "<stdin>"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
TRUNCATED = "truncated or corrupt compressed stream"

_READ_SIZE = 1 << 20  # plain/gzip input chunk
_ZSTD_READ_SIZE = 1 << 16  # zstd has no output cap per call, so feed it smaller bites
_GZIP_MAX_OUT = 1 << 22  # cap per zlib call so a zip bomb cannot blow up one chunk
# zlib copies the input left after a gzip member (unused_data); feeding it 64 KB at a
# time keeps that copy small when a file has thousands of members (a .warc.gz).
_GZIP_FEED = 1 << 16
# Text and JSONL compress 3-20x; beyond MAX_EXPANSION (once past EXPANSION_FLOOR bytes,
# so small repetitive files pass) a stream is refused rather than unpacked.
MAX_EXPANSION = 1000
EXPANSION_FLOOR = 256 << 20
_RAW_KEEP = 40_000  # bytes kept of an oversized/broken record: enough for 10,000 chars
_BINARY_RATIO = 0.30  # share of undecodable bytes above which a .txt file is "binary"

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BOM = codecs.BOM_UTF8
# orjson silently turns integers beyond 64 bits into floats; any run of 19+ digits
# (even inside a string) sends the line to the exact stdlib parser instead.
_LONG_DIGITS = re.compile(rb"\d{19}")

_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_TXT_SUFFIXES = (".txt",)
_CSV_SUFFIXES = (".csv", ".tsv")
_HTML_SUFFIXES = (".html", ".htm")
_PARQUET_SUFFIXES = (".parquet",)
_WARC_SUFFIXES = (".warc", ".arc")
_COMPRESSION_SUFFIXES: dict[str, Compression] = {".gz": "gzip", ".zst": "zstd"}


class InputError(Exception):
    """An input argument that cannot be used at all (missing path, ...)."""


class CorruptStream(Exception):
    """A compressed stream ended early or could not be decoded."""

    reason = TRUNCATED


class ExpansionLimit(CorruptStream):
    """A compressed stream expands far beyond what text compresses to: a decompression bomb."""

    reason = (
        f"decompressed data over {MAX_EXPANSION}x its compressed size "
        "(a decompression bomb?); the rest of the file is refused"
    )


@dataclass(slots=True)
class Item:
    """One input record as read: either ``record`` (a dict) or ``error`` (a reason).

    ``line`` is 1-based; a ``.txt`` article is line 1 of its file.  ``raw`` is the
    undecoded line (or file content) for reject reports.  ``stdlib_json`` marks records
    that orjson could not parse exactly, so writers must dump them with the stdlib too.
    """

    source: str
    line: int
    record: dict[str, Any] | None
    error: str | None
    raw: bytes | str
    stdlib_json: bool = False


@dataclass(frozen=True, slots=True)
class InputFile:
    """A resolved input: a file (or stdin when ``path`` is None) and how to read it."""

    path: Path | None
    source: str
    fmt: Format = "jsonl"
    compression: Compression | None = None  # None: sniff (stdin)
    doc_id: str = ""  # id given to a .txt article


# --------------------------------------------------------------------------- paths


def split_compression(name: str) -> tuple[str, Compression]:
    """``"a.jsonl.gz"`` -> ``("a.jsonl", "gzip")``; no known suffix -> ``(name, "none")``."""
    lower = name.lower()
    for suffix, kind in _COMPRESSION_SUFFIXES.items():
        if lower.endswith(suffix):
            return name[: -len(suffix)], kind
    return name, "none"


_FORMAT_SUFFIXES: tuple[tuple[tuple[str, ...], Format], ...] = (
    (_TXT_SUFFIXES, "txt"), (_JSONL_SUFFIXES, "jsonl"), (_CSV_SUFFIXES, "csv"), (_HTML_SUFFIXES, "html"),
    (_PARQUET_SUFFIXES, "parquet"), (_WARC_SUFFIXES, "warc"),
)


def _format_of(name: str) -> Format | None:
    inner = split_compression(name)[0].lower()
    for suffixes, fmt in _FORMAT_SUFFIXES:
        if inner.endswith(suffixes):
            return fmt
    return None


def _strip_txt(name: str) -> str:
    """The id of a one-article file: its name without .txt/.html/.htm (and compression)."""
    inner = split_compression(name)[0]
    for suffix in (".txt", ".html", ".htm"):
        if inner.lower().endswith(suffix):
            return inner[: -len(suffix)]
    return inner


def expand_inputs(inputs: Sequence[str]) -> list[InputFile]:
    """Resolve CLI inputs: ``-``/nothing is stdin, folders are walked recursively.

    Folder members are ``.txt``, ``.jsonl``/``.ndjson``, ``.csv``/``.tsv``,
    ``.html``/``.htm``, ``.warc``/``.arc`` and ``.parquet`` files (optionally .gz/.zst), hidden files
    skipped, sorted by path so runs are deterministic.  A file given directly is read
    by its extension, as JSONL when it has none of these.
    """
    if not inputs:
        return [InputFile(None, STDIN)]
    files: list[InputFile] = []
    for arg in inputs:
        if arg == "-":
            files.append(InputFile(None, STDIN))
            continue
        path = Path(arg)
        if path.is_dir():
            files.extend(_walk_folder(path))
        elif path.is_file():
            fmt = _format_of(path.name) or "jsonl"
            compression = split_compression(path.name)[1]
            files.append(InputFile(path, arg, fmt, compression, _strip_txt(path.name)))
        elif path.exists():
            raise InputError(f"input is not a regular file or folder: {arg}")
        else:
            raise InputError(f"input not found: {arg}")
    return files


def _walk_folder(root: Path) -> list[InputFile]:
    found: list[tuple[tuple[str, ...], InputFile]] = []
    try:
        candidates = list(root.rglob("*"))
    except OSError as e:
        raise InputError(f"cannot list folder {root}: {e}") from e
    for path in candidates:
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        fmt = _format_of(path.name)
        if fmt is None:
            continue
        doc_id = _strip_txt(rel.as_posix())
        compression = split_compression(path.name)[1]
        found.append((rel.parts, InputFile(path, str(path), fmt, compression, doc_id)))
    found.sort(key=lambda pair: pair[0])
    return [f for _, f in found]


# ------------------------------------------------------------------ byte streams


def _read_chunk(stream: BinaryIO, size: int) -> bytes:
    # read1 returns what is available, so a slow pipe is processed as it arrives.
    read1 = getattr(stream, "read1", None)
    return read1(size) if read1 is not None else stream.read(size)


def _raw_chunks(stream: BinaryIO, size: int, first: bytes = b"") -> Iterator[bytes]:
    if first:
        yield first
    while chunk := _read_chunk(stream, size):
        yield chunk


def _gunzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Decompress (multi-member) gzip; raise CorruptStream if it ends mid-member."""
    d: Any = None  # None between members
    try:
        for data in _pieces(chunks, _GZIP_FEED):
            buf = data
            while True:
                if d is None:
                    # Trailing zero padding is tolerated (buf may be a memoryview).
                    if not buf or (buf[0] == 0 and not bytes(buf).strip(b"\0")):
                        break
                    d = zlib.decompressobj(wbits=31)
                saved = d.copy()
                try:
                    out = d.decompress(buf, _GZIP_MAX_OUT)
                except zlib.error:
                    # Salvage what this piece held before the fault (a bad checksum sits
                    # at the very end of a member: all of its data is still readable).
                    yield from _salvage(saved, buf)
                    raise
                if out:
                    yield out
                if d.eof:
                    buf, d = d.unused_data, None
                    continue
                buf = d.unconsumed_tail
                # A full output means zlib may hold more even with no input left.
                if not buf and len(out) < _GZIP_MAX_OUT:
                    break
    except zlib.error as e:
        raise CorruptStream(str(e)) from e
    if d is not None and not d.eof:
        raise CorruptStream("gzip stream ended before its end marker")


def _salvage(d: Any, buf: bytes | memoryview, step: int = 1) -> Iterator[bytes]:
    """What ``d`` decompresses from ``buf`` fed byte by byte, up to the fault (zlib drops
    the output of the call that fails; only on a fault, so the cost does not matter)."""
    for at in range(0, len(buf), step):
        try:
            out = d.decompress(buf[at : at + step])
        except zlib.error:
            return
        if out:
            yield out
        if d.eof:
            return


def _pieces(chunks: Iterable[bytes], size: int) -> Iterator[bytes | memoryview]:
    """Chunks cut into views of at most ``size`` bytes (no copying)."""
    for chunk in chunks:
        if len(chunk) <= size:
            yield chunk
            continue
        view = memoryview(chunk)
        for start in range(0, len(chunk), size):
            yield view[start : start + size]


def _unzstd(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Decompress (multi-frame) zstd; raise CorruptStream if it ends mid-frame.

    zstandard's stream_reader silently accepts a truncated frame, so frames are
    decoded with decompressobj and ``eof`` is checked at the end.
    """
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    d: Any = None
    try:
        for data in chunks:
            buf = data
            while buf:
                if d is None:
                    d = dctx.decompressobj()
                out = d.decompress(buf)
                if out:
                    yield out
                if d.eof:
                    buf, d = d.unused_data, None
                else:
                    buf = b""
    except zstandard.ZstdError as e:
        raise CorruptStream(str(e)) from e
    if d is not None and not d.eof:
        raise CorruptStream("zstd stream ended before the end of its frame")


def decompressed_chunks(stream: BinaryIO, compression: Compression | None) -> Iterator[bytes]:
    """Chunks of the decompressed content; ``compression=None`` sniffs magic bytes.

    A generator, so read errors surface while iterating, where readers handle them.
    """
    first = b""
    if compression is None:
        first = _read_chunk(stream, _ZSTD_READ_SIZE)
        if first.startswith(_GZIP_MAGIC):
            compression = "gzip"
        elif first.startswith(_ZSTD_MAGIC):
            compression = "zstd"
        else:
            compression = "none"
    if compression == "gzip":
        yield from _bounded(_gunzip, _raw_chunks(stream, _READ_SIZE, first))
    elif compression == "zstd":
        yield from _bounded(_unzstd, _raw_chunks(stream, _ZSTD_READ_SIZE, first))
    else:
        yield from _raw_chunks(stream, _READ_SIZE, first)


def _bounded(decompress: Callable[[Iterable[bytes]], Iterator[bytes]], raw: Iterator[bytes]) -> Iterator[bytes]:
    """Decompress while checking the expansion ratio; raise ExpansionLimit past it."""
    consumed = [0]

    def counted() -> Iterator[bytes]:
        for chunk in raw:
            consumed[0] += len(chunk)
            yield chunk

    produced = 0
    for out in decompress(counted()):
        produced += len(out)
        if produced > EXPANSION_FLOOR and produced > MAX_EXPANSION * max(1, consumed[0]):
            raise ExpansionLimit()
        yield out


# ------------------------------------------------------------------------ JSONL


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
        if _LONG_DIGITS.search(line):
            raise ValueError("long number: parse exactly")
        value = orjson.loads(line)
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


def _oversized(source: str, lineno: int, size: int, head: bytes, max_bytes: int) -> Item:
    reason = f"record is {size:,} bytes, over the --max-bytes limit of {max_bytes:,}"
    return Item(source, lineno, None, reason, head)


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _utf16_as_utf8(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks as they are, or re-encoded as UTF-8 when they start with a UTF-16 BOM
    (Windows tools save "Unicode" text that way; its NUL bytes would read as binary)."""
    import codecs

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

    def emit(line: bytes) -> Item | None:
        if line.endswith(b"\r"):
            line = line[:-1]
        if lineno == 1 and line.startswith(_BOM):
            line = line[len(_BOM) :]
        if not line or line.isspace():
            return None
        if len(line) > max_bytes:
            return _oversized(source, lineno, len(line), line[:_RAW_KEEP], max_bytes)
        return parse_line(line, source, lineno)

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
            yield _oversized(source, lineno, skipped + nl, head, max_bytes)
            skipped, chunk = None, chunk[nl + 1 :]
        buf += chunk
        start = 0
        while (nl := buf.find(b"\n", max(start, scan))) >= 0:
            lineno += 1
            item = emit(bytes(buf[start:nl]))
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
        yield _oversized(source, lineno + 1, skipped, head, max_bytes)
    elif buf:
        lineno += 1
        item = emit(bytes(buf))
        if item is not None:
            yield item


# -------------------------------------------------------------------------- txt


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    # Stray legacy bytes in an otherwise UTF-8 file are almost always Windows-1252
    # (what browsers assume for Latin-1 too); decode just those bytes that way.
    assert isinstance(err, UnicodeDecodeError)
    bad = err.object[err.start : err.end]
    return bytes(bad).decode("cp1252", errors="replace"), err.end


codecs.register_error("newsclean.cp1252", _cp1252_fallback)


def decode_text_file(data: bytes) -> tuple[str | None, str | None]:
    """Decode a ``.txt`` article: ``(text, None)`` or ``(None, reason)`` when it is binary."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            return None, "binary file (UTF-16 byte order mark but not valid UTF-16)"
    if b"\x00" in data:
        return None, "binary file (contains NUL bytes), not a text article"
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    undecodable = len(data) - len(data.decode("utf-8", errors="ignore").encode("utf-8"))
    ratio = undecodable / len(data)
    if ratio > _BINARY_RATIO:
        return None, f"binary file ({ratio:.0%} of bytes are not valid UTF-8), not a text article"
    return data.decode("utf-8", errors="newsclean.cp1252"), None


def read_txt(f: InputFile, stream: BinaryIO, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """One article per file: ``{"id": doc_id, "text": ..., "source": path}``."""
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in decompressed_chunks(stream, f.compression):
            size += len(chunk)
            if size > max_bytes:
                head = b"".join(parts)[:_RAW_KEEP]
                yield _oversized(f.source, 1, size, head, max_bytes)
                return
            parts.append(chunk)
    except CorruptStream as e:
        yield Item(f.source, 1, None, e.reason, b"".join(parts)[:_RAW_KEEP])
        return
    except OSError as e:
        yield Item(f.source, 1, None, f"read error: {e}", b"".join(parts)[:_RAW_KEEP])
        return
    data = b"".join(parts)
    if f.fmt == "html":
        from .formats import html_article

        record, reason = html_article(data, f.source, f.doc_id)
        if record is None:
            yield Item(f.source, 1, None, reason, data[:_RAW_KEEP])
        else:
            yield Item(f.source, 1, record, None, data)
        return
    text, reason = decode_text_file(data)
    if text is None:
        yield Item(f.source, 1, None, reason, data[:_RAW_KEEP])
        return
    yield Item(f.source, 1, {"id": f.doc_id, "text": text, "source": f.source}, None, data)


# ------------------------------------------------------------------------ all


def read_file(f: InputFile, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """Items of one input; an unreadable file becomes a single reject item."""
    if f.path is None:
        stream: BinaryIO = sys.stdin.buffer  # looked up late: tests swap sys.stdin
        yield from read_jsonl(decompressed_chunks(stream, f.compression), f.source, max_bytes=max_bytes)
        return
    try:
        fh = open(f.path, "rb")  # noqa: SIM115 - closed below; only open errors are caught here
    except OSError as e:
        yield Item(f.source, 1, None, f"cannot open file: {e.strerror or e}", b"")
        return
    with fh:
        if f.fmt in ("txt", "html"):
            yield from read_txt(f, fh, max_bytes=max_bytes)
        elif f.fmt == "csv":
            from .formats import read_csv

            yield from read_csv(f, fh, max_bytes=max_bytes)
        elif f.fmt == "parquet":
            from .formats import read_parquet

            yield from read_parquet(f, max_bytes=max_bytes)
        elif f.fmt == "warc":
            from .formats import read_warc

            yield from read_warc(f, fh, max_bytes=max_bytes)
        else:
            yield from read_jsonl(decompressed_chunks(fh, f.compression), f.source, max_bytes=max_bytes)


def read_inputs(files: Iterable[InputFile], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """All items of all inputs, in order."""
    for f in files:
        yield from read_file(f, max_bytes=max_bytes)

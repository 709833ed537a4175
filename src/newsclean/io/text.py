"""Plain-text articles: one ``.txt`` file is one record, ``{"id", "text", "source"}``.

The id is the file's name without ``.txt`` (its path below the folder given, for a
file found in a folder).  Text is UTF-8 (a BOM is dropped; UTF-16 with a BOM is
read too); stray legacy bytes in otherwise UTF-8 text are read as Windows-1252, and
a file that is mostly not text is rejected as binary.
"""
from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

from .base import DEFAULT_MAX_BYTES, InputFile, Item, article_item, oversized
from .compression import CorruptStream, decompressed_chunks

SUFFIXES = (".txt",)

_RAW_KEEP = 40_000  # bytes kept of an oversized/broken file for the reject report
_BINARY_RATIO = 0.30  # share of undecodable bytes above which a .txt file is "binary"
_BOM = codecs.BOM_UTF8


def read(f: InputFile, stream: BinaryIO, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """One article per file: ``{"id": doc_id, "text": ..., "source": path}``."""
    data = whole_file(f, stream, max_bytes=max_bytes)
    if isinstance(data, Item):
        yield data
        return
    text, reason = decode_text_file(data)
    if text is None:
        yield Item(f.source, 1, None, reason, data[:_RAW_KEEP])
        return
    yield article_item(f.source, 1, {"id": f.doc_id, "text": text, "source": f.source}, data)


def whole_file(f: InputFile, stream: BinaryIO, *, max_bytes: int) -> bytes | Item:
    """The decompressed bytes of a one-record file, or the reject item that says why not
    (over ``max_bytes``, a cut compressed stream, a read error)."""
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in decompressed_chunks(stream, f.compression):
            size += len(chunk)
            if size > max_bytes:
                return oversized(f.source, 1, size, b"".join(parts)[:_RAW_KEEP], max_bytes)
            parts.append(chunk)
    except CorruptStream as e:
        return Item(f.source, 1, None, e.reason, b"".join(parts)[:_RAW_KEEP])
    except OSError as e:
        return Item(f.source, 1, None, f"read error: {e}", b"".join(parts)[:_RAW_KEEP])
    return b"".join(parts)


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

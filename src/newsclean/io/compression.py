"""Compressed input streams: gzip and zstd by name or by their magic bytes, bounded.

:func:`decompressed_chunks` is what every reader reads through.  It reports a stream
that ends early or cannot be decoded as :class:`CorruptStream` while it is iterated
(the readers turn that into one reject after the records read so far), and refuses
to unpack a stream that expands far beyond what text compresses to (a decompression
bomb, :class:`ExpansionLimit`).
"""
from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

from .base import Compression

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

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_COMPRESSION_SUFFIXES: dict[str, Compression] = {".gz": "gzip", ".zst": "zstd"}


class CorruptStream(Exception):
    """A compressed stream ended early or could not be decoded."""

    reason = TRUNCATED


class ExpansionLimit(CorruptStream):
    """A compressed stream expands far beyond what text compresses to: a decompression bomb."""

    reason = (
        f"decompressed data over {MAX_EXPANSION}x its compressed size "
        "(a decompression bomb?); the rest of the file is refused"
    )


def split_compression(name: str) -> tuple[str, Compression]:
    """``"a.jsonl.gz"`` -> ``("a.jsonl", "gzip")``; no known suffix -> ``(name, "none")``."""
    lower = name.lower()
    for suffix, kind in _COMPRESSION_SUFFIXES.items():
        if lower.endswith(suffix):
            return name[: -len(suffix)], kind
    return name, "none"



def sniff_compression(head: bytes) -> Compression:
    """The compression a stream's first bytes show: gzip, zstd, or none.

    >>> sniff_compression(b"\\x1f\\x8b\\x08"), sniff_compression(b'{"id": 1}')
    ('gzip', 'none')
    """
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return "none"


def compression_for(path: str | os.PathLike[str]) -> Compression:
    """Compression chosen by file extension: ``.gz`` gzip, ``.zst`` zstd, else none."""
    return split_compression(os.fspath(path))[1]


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
        compression = sniff_compression(first)
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

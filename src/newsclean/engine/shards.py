"""Cutting the inputs into shards: units of work any process can read on its own.

A shard is a byte range of one uncompressed JSONL file, cut at line boundaries, or
a run of whole files (compressed files, CSV, Parquet, HTML, WARC, ``.txt`` articles:
those cannot be entered in the middle).  Shards are numbered in input order and know
the line number they start at, so a worker reports the same source and line for a
record as a single-process run would, and outputs assembled shard by shard come out
in input order.

Standard input cannot be read by other processes: it is first spooled to a file in
the run's work folder (:func:`spool_stdin`).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..io.base import Compression
from ..io.compression import sniff_compression
from ..io.readers import InputFile, Item, read_file, read_jsonl, stdin_stream

DEFAULT_SHARD_BYTES = 16 * 1024 * 1024
_SCAN = 1 << 22


@dataclass(frozen=True)
class ShardSpec:
    """Shard ``index``: whole ``files``, or ``files[0]`` from byte ``start`` to ``end``."""

    index: int
    files: tuple[InputFile, ...]
    start: int = 0
    end: int | None = None  # None: whole files
    first_line: int = 1

    def describe(self) -> str:
        if self.end is None:
            names = ", ".join(f.source for f in self.files[:3]) + (" ..." if len(self.files) > 3 else "")
            return f"shard {self.index} ({names})"
        return f"shard {self.index} ({self.files[0].source} bytes {self.start}-{self.end}, from line {self.first_line})"


def _splittable(f: InputFile) -> bool:
    """Uncompressed JSONL in UTF-8 (UTF-16 newlines are two bytes: such files stay whole)."""
    if f.path is None or f.fmt != "jsonl" or f.compression != "none":
        return False
    try:
        with open(f.path, "rb") as fh:
            return not fh.read(2).startswith((b"\xff\xfe", b"\xfe\xff"))
    except OSError:
        return False


def _cuts(path: Path, shard_bytes: int) -> list[tuple[int, int, int]]:
    """``(start, end, first_line)`` ranges of about ``shard_bytes``, ending after a newline.

    The file is scanned in blocks, never read a line at a time: a line of gigabytes
    (a file of zeros) costs one block of memory, and ends up inside one shard whose
    reader skips it.
    """
    size = path.stat().st_size
    if size <= shard_bytes:
        return [(0, size, 1)]
    ranges = []
    with open(path, "rb") as fh:
        start, line = 0, 1
        while start < size:
            target = start + shard_bytes
            end = size if target >= size else _after_newline(fh, target, size)
            ranges.append((start, end, line))
            start, line = end, line + _newlines(fh, start, end)
    return ranges


def _after_newline(fh: BinaryIO, at: int, size: int) -> int:
    """The offset just past the first newline at or after ``at`` (``size`` if none)."""
    fh.seek(at)
    while block := fh.read(min(_SCAN, size - at)):
        nl = block.find(b"\n")
        if nl >= 0:
            return at + nl + 1
        at += len(block)
    return size


def _newlines(fh: BinaryIO, start: int, end: int) -> int:
    """The newlines in ``[start, end)``, counted block by block."""
    fh.seek(start)
    count, at = 0, start
    while at < end:
        block = fh.read(min(_SCAN, end - at))
        if not block:
            break
        count += block.count(b"\n")
        at += len(block)
    return count


def plan_shards(files: list[InputFile], shard_bytes: int = DEFAULT_SHARD_BYTES) -> list[ShardSpec]:
    """Shards of ``files`` in input order (deterministic for the same files and size)."""
    specs: list[ShardSpec] = []
    group: list[InputFile] = []
    group_bytes = 0

    def flush() -> None:
        nonlocal group, group_bytes
        if group:
            specs.append(ShardSpec(len(specs), tuple(group)))
            group, group_bytes = [], 0

    for f in files:
        if _splittable(f):
            flush()
            for start, end, line in _cuts(f.path, shard_bytes):
                specs.append(ShardSpec(len(specs), (f,), start, end, line))
            continue
        try:
            size = f.path.stat().st_size if f.path is not None else 0
        except OSError:
            size = 0  # read_file reports it as a reject
        group.append(f)
        group_bytes += size
        if group_bytes >= shard_bytes:
            flush()
    flush()
    return specs


def _range_chunks(path: Path, start: int, end: int, size: int = 1 << 20) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        fh.seek(start)
        left = end - start
        while left > 0:
            block = fh.read(min(size, left))
            if not block:
                return
            left -= len(block)
            yield block


def read_shard(spec: ShardSpec, *, max_bytes: int) -> Iterator[Item]:
    """The items of one shard, with the sources and line numbers of a whole-file read."""
    if spec.end is None:
        for f in spec.files:
            yield from read_file(f, max_bytes=max_bytes)
        return
    f = spec.files[0]
    try:
        chunks = _range_chunks(f.path, spec.start, spec.end)
        for item in read_jsonl(chunks, f.source, max_bytes=max_bytes):
            item.line += spec.first_line - 1
            yield item
    except OSError as e:
        yield Item(f.source, spec.first_line, None, f"read error: {e}", b"")


def spool_stdin(files: list[InputFile], folder: Path, name: str = "stdin.input") -> list[InputFile]:
    """``files`` with standard input replaced by a copy of it, ``folder/name`` (same source name).

    The copy is uncompressed JSONL unless its first bytes say gzip or zstd: it is then
    cut into shards like any JSONL file.  Raises :class:`~newsclean.io.base.InputError`
    when standard input is closed.
    """
    out = []
    for f in files:
        if f.path is not None:
            out.append(f)
            continue
        stream = stdin_stream()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        with open(target, "wb") as fh:
            while block := stream.read(1 << 20):
                fh.write(block)
            fh.flush()
            os.fsync(fh.fileno())
        out.append(InputFile(target, f.source, "jsonl", _sniffed_compression(target)))
    return out


def _sniffed_compression(path: Path) -> Compression:
    with open(path, "rb") as fh:
        return sniff_compression(fh.read(4))

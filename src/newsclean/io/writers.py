"""Writers: atomic output files (compressed by extension), stdout, JSON lines.

A file is written to a hidden temp file in its own directory and renamed over the
target only on success, so a failed or aborted run never leaves half an output.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from .readers import Compression, split_compression

StrPath = str | os.PathLike[str]


def compression_for(path: StrPath) -> Compression:
    """Compression chosen by file extension: ``.gz`` gzip, ``.zst`` zstd, else none."""
    return split_compression(os.fspath(path))[1]


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


class AtomicWriter:
    """A binary output that appears at ``path`` only when :meth:`commit` is called.

    ``path=None`` (or ``"-"``) writes to stdout instead, uncompressed and unbuffered
    by us; commit then just flushes.
    """

    def __init__(self, path: StrPath | None) -> None:
        self.path: Path | None = None if path is None or os.fspath(path) == "-" else Path(path)
        self._tmp: Path | None = None
        self._raw: BinaryIO | None = None
        self._stream: Any = None
        self.bytes_written = 0

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    def open(self) -> AtomicWriter:
        if self._stream is not None:
            return self
        if self.path is None:
            sys.stdout.flush()  # text written earlier must come first
            self._stream = sys.stdout.buffer
            return self
        directory = self.path.parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        self._tmp = Path(tmp)
        self._raw = os.fdopen(fd, "wb", buffering=1 << 20)
        kind = compression_for(self.path)
        if kind == "gzip":
            import gzip

            # mtime=0 and no name: identical input gives byte-identical output.
            self._stream = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
        elif kind == "zstd":
            import zstandard

            self._stream = zstandard.ZstdCompressor().stream_writer(self._raw, closefd=False)
        else:
            self._stream = self._raw
        return self

    def write(self, data: bytes) -> None:
        if self._stream is None:
            self.open()
        self._stream.write(data)
        self.bytes_written += len(data)

    def commit(self) -> None:
        """Finish the file and move it into place (creating it even if empty)."""
        if self._stream is None:
            self.open()
        if self.path is None:
            self._stream.flush()
            self._stream = None
            return
        assert self._raw is not None and self._tmp is not None
        if self._stream is not self._raw:
            self._stream.close()  # writes the gzip trailer / ends the zstd frame
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.chmod(self._tmp, 0o666 & ~_umask())  # mkstemp makes it 0600
        os.replace(self._tmp, self.path)
        self._stream = self._raw = self._tmp = None

    def discard(self) -> None:
        """Drop everything written; the target path is left as it was."""
        if self.path is None:
            if self._stream is not None:
                self._stream.flush()
            self._stream = None
            return
        try:
            if self._stream is not None and self._stream is not self._raw:
                self._stream.close()
            if self._raw is not None:
                self._raw.close()
        except OSError:
            pass
        finally:
            if self._tmp is not None:
                self._tmp.unlink(missing_ok=True)
            self._stream = self._raw = self._tmp = None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def open_output(path: StrPath | None) -> Iterator[AtomicWriter]:
    """Atomic output: committed when the block ends normally, discarded on any exception.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with open_output(os.path.join(d, "out.jsonl")) as out:
    ...     out.write(b'{"id":1}\\n')
    >>> open(os.path.join(d, "out.jsonl"), "rb").read()
    b'{"id":1}\\n'
    """
    writer = AtomicWriter(path).open()
    try:
        yield writer
    except BaseException:
        writer.discard()
        raise
    writer.commit()

"""Atomic output files: written beside the target and renamed over it on success.

A failed or aborted run never leaves half an output; identical input gives
byte-identical files (gzip without a name or a time stamp).  ``.gz`` and ``.zst``
targets are compressed by their extension; no path (or ``"-"``) is standard output.
"""
from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from .compression import compression_for
from .jsonl import dumps_line

StrPath = str | os.PathLike[str]


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

    def write_record(self, record: Any, *, stdlib: bool = False) -> None:
        """One record as a JSON line (see :func:`~newsclean.io.jsonl.dumps_line`)."""
        self.write(dumps_line(record, stdlib=stdlib))

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
        os.chmod(self._tmp, file_mode())
        os.replace(self._tmp, self.path)
        self._stream = self._raw = self._tmp = None

    def discard(self) -> None:
        """Drop everything written; the target path is left as it was."""
        if self.path is None:
            if self._stream is not None:
                self._stream.flush()
            self._stream = None
            return
        compressor = self._stream if self._stream is not self._raw else None
        try:
            close_and_remove([compressor, self._raw], self._tmp)
        finally:
            self._stream = self._raw = self._tmp = None


def close_and_remove(handles: list[Any], tmp: Path | None) -> None:
    """Close ``handles`` in order (errors ignored: the output is dropped anyway), then
    remove the temporary file ``tmp``."""
    try:
        for handle in handles:
            if handle is not None:
                handle.close()
    except OSError:
        pass
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def file_mode() -> int:
    """The mode of a new file under this process's umask (mkstemp makes files 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


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


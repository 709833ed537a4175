"""Atomic output files: written beside the target and renamed over it on success.

A failed or aborted run never leaves half an output; identical input gives
byte-identical files (gzip without a name or a time stamp).  ``.gz`` and ``.zst``
targets are compressed by their extension; no path (or ``"-"``) is standard output.

The outputs of one run appear together or not at all (:func:`commit_all`): every
one is first written to its temporary file and synced (:meth:`AtomicWriter.finish`),
and only when all of them are complete are they renamed into place
(:meth:`AtomicWriter.publish`); a failure before that (a full disk, a folder that
cannot be written) discards them all, so an old output is never half replaced by a
run that failed.  Temporaries are named ``.NAME.PID.XXXXXXXX.tmp``: one that a killed
process left beside an output is removed by the next writer of that output once no
process of that id runs on this machine (:func:`remove_dead_temporaries`).
"""
from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from ..engine.steps import kill_point
from .compression import compression_for
from .jsonl import dumps_line

StrPath = str | os.PathLike[str]
TMP_SUFFIX = ".tmp"


class OutputFailed(OSError):
    """An output file that could not be written (a full disk, a folder that refuses
    files); the message names it.  Nothing of the run was put in place."""

    @classmethod
    def of(cls, path: Path, error: OSError) -> OutputFailed:
        failed = cls(f"cannot write {path}: {error.strerror or error}; no output of this run was put in place")
        failed.errno = error.errno
        return failed


class Committable(Protocol):
    """An output that is written first and made visible later (:func:`commit_all`)."""

    def finish(self) -> None: ...

    def publish(self) -> None: ...

    def discard(self) -> None: ...


def new_temporary(target: Path) -> tuple[int, Path]:
    """A new hidden file beside ``target`` (``.NAME.PID.XXXXXXXX.tmp``): ``(fd, path)``.

    Temporaries that dead processes left for the same target are removed first.
    """
    remove_dead_temporaries(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=TMP_SUFFIX, dir=target.parent)
    return fd, Path(tmp)


def temporary_owner(target: Path, name: str) -> int | None:
    """The process id in ``name`` if it is one of ``target``'s temporaries, else None.

    >>> temporary_owner(Path("out.jsonl"), ".out.jsonl.4242.k2j3h4x_.tmp")
    4242
    >>> temporary_owner(Path("out"), ".out.jsonl.4242.k2j3h4x_.tmp") is None  # another output's
    True
    """
    prefix = f".{target.name}."
    if not (name.startswith(prefix) and name.endswith(TMP_SUFFIX)):
        return None
    pid, dot, rest = name[len(prefix):-len(TMP_SUFFIX)].partition(".")
    if not (pid.isdigit() and dot and rest and "." not in rest):
        return None
    return int(pid)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a zombie counts as running)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return True  # cannot tell: keep its files
    return True


def remove_dead_temporaries(target: Path) -> list[Path]:
    """Remove the temporaries of ``target`` whose process is gone (a killed run's);
    returns what was removed.  Those of running processes are left alone."""
    try:
        names = os.listdir(target.parent if str(target.parent) else ".")
    except OSError:
        return []
    removed = []
    for name in names:
        pid = temporary_owner(target, name)
        if pid is None or process_alive(pid):
            continue
        path = target.parent / name
        try:
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


class AtomicWriter:
    """A binary output that appears at ``path`` only when :meth:`commit` is called
    (or :meth:`finish`, then :meth:`publish`: see :func:`commit_all`).

    ``path=None`` (or ``"-"``) writes to stdout instead, uncompressed and unbuffered
    by us; commit then just flushes.  ``compress=False`` writes the bytes as they are
    whatever the name (parts that are already compressed).
    """

    def __init__(self, path: StrPath | None, *, compress: bool = True) -> None:
        self.path: Path | None = None if path is None or os.fspath(path) == "-" else Path(path)
        self.compress = compress
        self._tmp: Path | None = None
        self._raw: BinaryIO | None = None
        self._stream: Any = None
        self._finished = False
        self.bytes_written = 0

    @property
    def is_open(self) -> bool:
        return self._stream is not None or self._finished

    @property
    def temporary(self) -> Path | None:
        """Where the output is being written until it is published."""
        return self._tmp

    def open(self) -> AtomicWriter:
        if self._stream is not None:
            return self
        if self.path is None:
            stdout = sys.stdout
            if stdout is None:
                raise OSError("standard output is closed")
            stdout.flush()  # text written earlier must come first
            self._stream = stdout.buffer
            return self
        try:
            fd, self._tmp = new_temporary(self.path)
        except OSError as e:
            raise OutputFailed.of(self.path, e) from e
        self._raw = os.fdopen(fd, "wb", buffering=1 << 20)
        kind = compression_for(self.path) if self.compress else "none"
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
        if self.path is None:
            self._stream.write(data)  # a closed pipe stays a BrokenPipeError
        else:
            try:
                self._stream.write(data)
            except OSError as e:
                raise OutputFailed.of(self.path, e) from e
        self.bytes_written += len(data)

    def write_record(self, record: Any, *, stdlib: bool = False) -> None:
        """One record as a JSON line (see :func:`~newsclean.io.jsonl.dumps_line`)."""
        self.write(dumps_line(record, stdlib=stdlib))

    def finish(self) -> None:
        """Complete the temporary file (compression ended, flushed, synced to disk),
        without making it visible; an error here (a full disk) leaves the target as it was."""
        if self._finished:
            return
        if self._stream is None:
            self.open()
        if self.path is None:
            self._stream.flush()
            self._stream = None
            return
        assert self._raw is not None and self._tmp is not None
        try:
            if self._stream is not self._raw:
                self._stream.close()  # writes the gzip trailer / ends the zstd frame
            self._raw.flush()
            os.fsync(self._raw.fileno())
            self._raw.close()
        except OSError as e:
            raise OutputFailed.of(self.path, e) from e
        self._stream = self._raw = None
        self._finished = True

    def publish(self) -> None:
        """Move the finished temporary file into place (creating it even if empty)."""
        if not self._finished:
            self.finish()
        if self.path is None or self._tmp is None:
            return
        os.chmod(self._tmp, file_mode())
        os.replace(self._tmp, self.path)
        self._tmp = None

    def commit(self) -> None:
        """Finish the file and move it into place (creating it even if empty)."""
        self.finish()
        self.publish()

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
            self._finished = False


def commit_all(outputs: Iterable[Committable]) -> None:
    """Every output in place, or none: all are written out to their temporary files
    before any is renamed; if one cannot be (a full disk), all are discarded.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> a, b = AtomicWriter(os.path.join(d, "a")), AtomicWriter(os.path.join(d, "b"))
    >>> a.write(b"1"); b.write(b"2")
    >>> commit_all([a, b])
    >>> sorted(os.listdir(d))
    ['a', 'b']
    """
    outputs = list(outputs)
    try:
        for output in outputs:
            output.finish()
        kill_point("publish")
    except BaseException:
        for output in outputs:
            output.discard()
        raise
    for output in outputs:
        output.publish()


def close_and_remove(handles: list[Any], tmp: Path | None) -> None:
    """Close ``handles`` in order (errors ignored: the output is dropped anyway), then
    remove the temporary file ``tmp``."""
    try:
        for handle in handles:
            if handle is not None:
                try:
                    handle.close()
                except (OSError, ValueError):
                    pass  # a full disk refuses the last bytes: the file goes anyway
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def file_mode() -> int:
    """The mode of a new file under this process's umask (mkstemp makes files 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def open_output(path: StrPath | None, *, compress: bool = True) -> Iterator[AtomicWriter]:
    """Atomic output: committed when the block ends normally, discarded on any exception.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with open_output(os.path.join(d, "out.jsonl")) as out:
    ...     out.write(b'{"id":1}\\n')
    >>> open(os.path.join(d, "out.jsonl"), "rb").read()
    b'{"id":1}\\n'
    """
    writer = AtomicWriter(path, compress=compress).open()
    try:
        yield writer
        writer.commit()
    except BaseException:
        writer.discard()
        raise


def hash_file(path: Path, digest: Any) -> str:
    """``digest`` (a hashlib or xxhash object) fed a whole file by blocks; its hex digest."""
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()

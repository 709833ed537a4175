"""Writers: atomic output files (compressed by extension), stdout, JSON lines, Parquet.

A file is written to a hidden temp file in its own directory and renamed over the
target only on success, so a failed or aborted run never leaves half an output.
Cleaned records go through :func:`record_writer`: JSON lines, or Parquet when the
output is named ``*.parquet`` (the ``[parquet]`` extra).
"""
from __future__ import annotations

import json
import os
import re
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

    def write_record(self, record: Any, *, stdlib: bool = False) -> None:
        """One record as a JSON line (see :func:`dumps_line`)."""
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


# ---------------------------------------------------------------------- Parquet

PARQUET_SUFFIX = ".parquet"
ROWS_PER_GROUP = 10_000
BYTES_PER_GROUP = 32 << 20  # JSON size of a row group's records: bounds memory on commit
# Schema metadata key naming the columns that hold nested values as JSON text.
JSON_COLUMNS_KEY = b"newsclean.json_columns"

# Kinds of values seen in a column (a bit mask); None adds nothing.
_STR, _INT, _FLOAT, _BOOL, _NESTED, _BIG = 1, 2, 4, 8, 16, 32
_INT64 = (-(1 << 63), (1 << 63) - 1)


class OutputError(Exception):
    """An output that cannot be written as asked (wrong name, missing optional extra)."""


def is_parquet(path: StrPath | None) -> bool:
    """Whether cleaned records for ``path`` are written as Parquet (by its extension)."""
    return path is not None and os.fspath(path).lower().endswith(PARQUET_SUFFIX)


def check_record_output(path: StrPath | None, *, as_text: bool = False) -> None:
    """Raise :class:`OutputError` if records cannot be written to ``path`` as asked.

    Called before any reading, so a missing extra fails at once, not after the run.
    """
    if path is None or os.fspath(path) == "-":
        return
    inner, kind = split_compression(os.fspath(path))
    if kind != "none" and inner.lower().endswith(PARQUET_SUFFIX):
        raise OutputError(f"Parquet compresses its own columns: name the output {Path(inner).name}, without .gz/.zst")
    if not is_parquet(path):
        return
    if as_text:
        raise OutputError("--format text cannot be written to a .parquet file")
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise OutputError("writing Parquet needs the [parquet] extra (pip install 'newsclean[parquet]')") from None


def record_writer(path: StrPath | None) -> AtomicWriter | ParquetWriter:
    """The writer for cleaned records at ``path`` (None/"-": stdout): Parquet by extension, else JSONL.

    Both have ``open``, ``write_record(record, stdlib=...)``, ``commit`` and ``discard``.
    """
    check_record_output(path)
    return ParquetWriter(path) if path is not None and is_parquet(path) else AtomicWriter(path)


def _kind(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return _STR
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, int):
        return _INT if _INT64[0] <= value <= _INT64[1] else _BIG
    if isinstance(value, float):
        return _FLOAT
    return _NESTED


class ParquetWriter:
    """Cleaned records to a Parquet file that appears at ``path`` only on :meth:`commit`.

    Records can differ in their fields, and a field can first appear in the last
    record, while a Parquet file has one schema.  So records are spooled as JSON
    lines to an unnamed temp file beside the output while the schema is collected,
    and :meth:`commit` writes them in row groups of at most ``rows_per_group`` rows
    or ``bytes_per_group`` bytes of JSON: memory stays bounded whatever the size.

    The schema is the union of all fields, in order of first appearance.  A column
    whose values are all strings, all booleans, all 64-bit integers or all numbers
    gets that type (ints and floats mixed: float64); nulls are nulls.  Objects and
    lists become JSON text, listed in the schema metadata under
    ``newsclean.json_columns`` (the Parquet reader turns them back).  A column that
    mixes kinds (``"id": 2`` next to ``"id": "a3"``), or holds integers beyond 64
    bits, is a string column with the non-strings as JSON text.  Identical input
    gives byte-identical files (with the same pyarrow).
    """

    def __init__(
        self, path: StrPath, *, rows_per_group: int = ROWS_PER_GROUP, bytes_per_group: int = BYTES_PER_GROUP
    ) -> None:
        self.path = Path(path)
        self.rows_per_group = rows_per_group
        self.bytes_per_group = bytes_per_group
        self._spool: Any = None
        self._tmp: Path | None = None
        self._kinds: dict[str, int] = {}
        self.records = 0
        self.bytes_written = 0  # JSON bytes spooled

    @property
    def is_open(self) -> bool:
        return self._spool is not None

    def open(self) -> ParquetWriter:
        if self._spool is None:
            # Unnamed (O_TMPFILE where possible): gone even if the process is killed.
            self._spool = tempfile.TemporaryFile(  # noqa: SIM115 - closed by commit/discard
                prefix=f".{self.path.name}.", suffix=".spool", dir=self.path.parent
            )
        return self

    def write(self, data: bytes) -> None:
        raise TypeError("a Parquet output takes records (write_record), not bytes")

    def write_record(self, record: dict[str, Any], *, stdlib: bool = False) -> None:
        if self._spool is None:
            self.open()
        kinds = self._kinds
        for key, value in record.items():
            kinds[key] = kinds.get(key, 0) | _kind(value)
        line = dumps_line(record, stdlib=stdlib)
        self._spool.write(line)
        self.records += 1
        self.bytes_written += len(line)

    def _schema(self) -> Any:
        import pyarrow as pa

        fields = []
        json_columns = []
        for name, kinds in self._kinds.items():
            if kinds == _BOOL:
                kind = pa.bool_()
            elif kinds == _INT:
                kind = pa.int64()
            elif kinds in (_FLOAT, _INT | _FLOAT):
                kind = pa.float64()
            else:
                kind = pa.string()
                if kinds == _NESTED:
                    json_columns.append(name)
            fields.append(pa.field(name, kind))
        meta = {JSON_COLUMNS_KEY: dumps_line(json_columns)[:-1]} if json_columns else None
        return pa.schema(fields, metadata=meta)

    def _table(self, rows: list[dict[str, Any]], schema: Any) -> Any:
        import pyarrow as pa

        arrays = []
        for field in schema:
            values = [row.get(field.name) for row in rows]
            if pa.types.is_string(field.type):
                values = [v if v is None or isinstance(v, str) else _json_text(v) for v in values]
            elif pa.types.is_floating(field.type):
                values = [None if v is None else float(v) for v in values]
            try:
                arrays.append(pa.array(values, type=field.type))
            except (pa.ArrowException, UnicodeEncodeError):
                # Lone surrogates (legal in JSON, not in UTF-8) become U+FFFD.
                arrays.append(pa.array([_utf8_safe(v) for v in values], type=field.type))
        return pa.Table.from_arrays(arrays, schema=schema)

    def commit(self) -> None:
        """Write the Parquet file and move it into place (a file with no rows if none came)."""
        import pyarrow.parquet as pq

        from .readers import parse_line

        if self._spool is None:
            self.open()
        spool = self._spool
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        try:
            schema = self._schema()
            writer = pq.ParquetWriter(tmp, schema, compression="zstd")
            try:
                spool.seek(0)
                rows: list[dict[str, Any]] = []
                size = 0
                for line in spool:
                    record = parse_line(line[:-1], "", 0).record
                    assert record is not None  # we wrote it
                    rows.append(record)
                    size += len(line)
                    if len(rows) >= self.rows_per_group or size >= self.bytes_per_group:
                        writer.write_table(self._table(rows, schema), row_group_size=len(rows))
                        rows, size = [], 0
                if rows:
                    writer.write_table(self._table(rows, schema), row_group_size=len(rows))
            finally:
                writer.close()
            with open(tmp, "rb") as written:
                os.fsync(written.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600
            os.replace(tmp, self.path)
            self._tmp = None
        finally:
            self.discard()

    def discard(self) -> None:
        """Drop everything written; the target path is left as it was."""
        try:
            if self._spool is not None:
                self._spool.close()
        except OSError:
            pass
        finally:
            if self._tmp is not None:
                self._tmp.unlink(missing_ok=True)
            self._spool = self._tmp = None


def _json_text(value: Any) -> str:
    return dumps_line(value, stdlib=True)[:-1].decode("utf-8")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _utf8_safe(value: Any) -> Any:
    return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value

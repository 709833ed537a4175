"""Parquet (``.parquet``, the ``[parquet]`` extra: pyarrow): rows in, records out, and back.

Reading goes row by row; columns that newsclean's own Parquet output holds as JSON
text (nested values, listed in the schema metadata) are decoded.  Writing
(:class:`ParquetWriter`) collects the union schema of all records first, so records
may differ in their fields.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .atomic import OutputFailed, StrPath, close_and_remove, file_mode, new_temporary
from .base import DEFAULT_MAX_BYTES, InputFile, Item, oversized
from .jsonl import dumps_line, parse_line

SUFFIXES = (".parquet",)

ROWS_PER_GROUP = 10_000
BYTES_PER_GROUP = 32 << 20  # JSON size of a row group's records: bounds memory on commit
# Schema metadata key naming the columns that hold nested values as JSON text.
JSON_COLUMNS_KEY = b"newsclean.json_columns"

# Kinds of values seen in a column (a bit mask); None adds nothing.
_STR, _INT, _FLOAT, _BOOL, _NESTED, _BIG = 1, 2, 4, 8, 16, 32
_INT64 = (-(1 << 63), (1 << 63) - 1)


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
        self._finished = False
        self.records = 0
        self.bytes_written = 0  # JSON bytes spooled

    @property
    def is_open(self) -> bool:
        return self._spool is not None or self._finished

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

    def finish(self) -> None:
        """Write the Parquet file to its temporary name, synced, not yet in place (a file
        with no rows if none came); an error here leaves the target as it was."""
        import pyarrow.parquet as pq

        if self._finished:
            return
        if self._spool is None:
            self.open()
        try:
            self._write_file(pq)
        except OSError as e:
            raise OutputFailed.of(self.path, e) from e
        close_and_remove([self._spool], None)
        self._spool = None
        self._finished = True

    def _write_file(self, pq: Any) -> None:
        """The spooled records as a Parquet file at a new temporary name, synced."""
        spool = self._spool
        fd, self._tmp = new_temporary(self.path)
        os.close(fd)
        tmp = str(self._tmp)
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

    def publish(self) -> None:
        """Move the finished file into place."""
        if not self._finished:
            self.finish()
        assert self._tmp is not None
        os.chmod(self._tmp, file_mode())  # mkstemp makes it 0600
        os.replace(self._tmp, self.path)
        self._tmp = None
        self._finished = False

    def commit(self) -> None:
        """Write the Parquet file and move it into place (a file with no rows if none came)."""
        try:
            self.finish()
            self.publish()
        finally:
            self.discard()

    def discard(self) -> None:
        """Drop everything written; the target path is left as it was."""
        try:
            close_and_remove([self._spool], self._tmp)
        finally:
            self._spool = self._tmp = None
            self._finished = False


def _json_text(value: Any) -> str:
    return dumps_line(value, stdlib=True)[:-1].decode("utf-8")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _utf8_safe(value: Any) -> Any:
    return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


# ---------------------------------------------------------------------- reading


def read(f: InputFile, stream: BinaryIO | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """Rows of a Parquet file as records (needs the ``[parquet]`` extra); it is read by its
    path, ``stream`` is not used."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        reason = "reading Parquet needs the [parquet] extra (pip install newsclean[parquet])"
        yield Item(f.source, 1, None, reason, b"")
        return
    row = 0
    try:
        table = pq.ParquetFile(f.path)
        json_columns = _json_columns(table.schema_arrow.metadata)
        for batch in table.iter_batches(batch_size=1024):
            for values in batch.to_pylist():
                row += 1
                record = {k: _jsonable(v) for k, v in values.items()}
                for name in json_columns:
                    if isinstance(record.get(name), str):
                        record[name] = json.loads(record[name])
                size = sum(len(v) for v in record.values() if isinstance(v, str))
                if size > max_bytes:
                    yield oversized(f.source, row, size, b"", max_bytes)
                else:
                    yield Item(f.source, row, record, None, b"")
    except Exception as e:  # noqa: BLE001 - pyarrow raises many types for a damaged file
        yield Item(f.source, row + 1, None, f"cannot read Parquet file: {type(e).__name__}: {e}", b"")


def _json_columns(metadata: dict[bytes, bytes] | None) -> list[str]:
    """Columns that newsclean's Parquet writer filled with nested values as JSON text."""
    try:
        names = json.loads((metadata or {}).get(JSON_COLUMNS_KEY, b"[]"))
    except ValueError:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def _jsonable(value: Any) -> Any:
    """Parquet values as JSON can carry them: dates as ISO strings, bytes as text or hex."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)

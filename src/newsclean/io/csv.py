"""CSV and TSV files (``.csv``, ``.tsv``; gzip/zstd ok): a header row names the fields,
each following row is a record.

Quoted fields may span lines; ``line`` is the row's first line in the file.  A row
with another number of fields than the header is rejected; invalid UTF-8, a line
over ``max_bytes`` or malformed quoting refuse the rest of the file (one reject).
"""
from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import BinaryIO

from .base import DEFAULT_MAX_BYTES, InputFile, Item, oversized
from .compression import CorruptStream, decompressed_chunks

SUFFIXES = (".csv", ".tsv")

_RAW_KEEP = 10_000


class _LineTooLong(Exception):
    pass


def _decoded_lines(chunks: Iterator[bytes], max_bytes: int) -> Iterator[str]:
    """UTF-8 lines (ends kept) decoded one at a time, so rows before a bad byte survive."""
    pending = b""
    first = True
    for chunk in chunks:
        pending += chunk
        if len(pending) > max_bytes and b"\n" not in pending:
            raise _LineTooLong()
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if first:
                line, first = line.removeprefix(b"\xef\xbb\xbf"), False
            yield (line + b"\n").decode("utf-8")
    if pending:
        yield (pending.removeprefix(b"\xef\xbb\xbf") if first else pending).decode("utf-8")


def read(f: InputFile, stream: BinaryIO, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """Rows of a CSV/TSV file as records; a row with the wrong number of fields is rejected."""
    delimiter = "\t" if f.source.lower().split(".gz")[0].split(".zst")[0].endswith(".tsv") else ","
    text = _decoded_lines(decompressed_chunks(stream, f.compression), max_bytes)
    # Fields may be as large as a record may be.
    csv.field_size_limit(max(csv.field_size_limit(), max_bytes))
    reader = csv.reader(text, delimiter=delimiter)
    line = 1
    try:
        header = next(reader, None)
        if header is None:
            return
        line = reader.line_num + 1
        for row in reader:
            raw = delimiter.join(row).encode("utf-8", "replace")
            if not row:
                line = reader.line_num + 1
                continue
            if len(row) != len(header):
                reason = f"row has {len(row)} fields, the header has {len(header)}"
                yield Item(f.source, line, None, reason, raw[:_RAW_KEEP])
            elif len(raw) > max_bytes:
                yield oversized(f.source, line, len(raw), raw[:_RAW_KEEP], max_bytes)
            else:
                yield Item(f.source, line, dict(zip(header, row)), None, raw)
            line = reader.line_num + 1
    except UnicodeDecodeError as e:
        yield Item(f.source, line, None, f"invalid UTF-8 in CSV ({e.reason}); the rest of the file is refused", b"")
    except CorruptStream as e:
        yield Item(f.source, line, None, e.reason, b"")
    except _LineTooLong:
        reason = f"a CSV line over the --max-bytes limit of {max_bytes:,}; the rest of the file is refused"
        yield Item(f.source, line, None, reason, b"")
    except csv.Error as e:
        yield Item(f.source, line, None, f"malformed CSV: {e}; the rest of the file is refused", b"")

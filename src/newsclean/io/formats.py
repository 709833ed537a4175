"""Corpus formats beyond JSONL and text: CSV, HTML pages and Parquet.

Each reader yields :class:`~newsclean.io.readers.Item` s like the JSONL reader does,
so the engines account for every row the same way: a row that cannot be used becomes
a reject item with its row number and the reason, and the run goes on.

* CSV (``.csv``, ``.tsv``; gzip/zstd ok): a header row names the fields; each
  following row is a record.  Quoted fields may span lines; ``line`` is the row's
  first line in the file.
* HTML (``.html``, ``.htm``): one article per page.  With the ``[html]`` extra the
  main text is extracted by trafilatura, and ``url``, ``title`` and ``date`` are kept
  from the page; without it the whole page's text is used (scripts, styles and tags
  dropped) and the record says so in ``extraction``.
* Parquet (``.parquet``): with the ``[parquet]`` extra (pyarrow), row by row.
"""
from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any, BinaryIO

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


def read_csv(f: Any, stream: BinaryIO, *, max_bytes: int) -> Iterator[Any]:
    """Rows of a CSV/TSV file as records; a row with the wrong number of fields is rejected."""
    from .readers import CorruptStream, Item, decompressed_chunks

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
                reason = f"record is {len(raw):,} bytes, over the --max-bytes limit of {max_bytes:,}"
                yield Item(f.source, line, None, reason, raw[:_RAW_KEEP])
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


def html_article(data: bytes, source: str, doc_id: str) -> tuple[dict[str, Any] | None, str | None]:
    """``(record, None)`` for an HTML page, or ``(None, reason)``."""
    from bs4 import UnicodeDammit

    html = UnicodeDammit(data, is_html=True).unicode_markup
    if html is None:
        return None, "cannot decode the HTML page"
    try:
        import trafilatura
    except ImportError:
        from ..clean.markup import html_to_text

        text = html_to_text(html)
        if text is None:
            return None, "cannot parse the HTML page"
        note = "page text (install newsclean[html] for main-text extraction)"
        return {"id": doc_id, "text": text, "source": source, "extraction": note}, None
    doc = trafilatura.bare_extraction(html, include_comments=False, include_tables=False, with_metadata=True)
    if doc is not None and hasattr(doc, "as_dict"):  # trafilatura >= 2 returns a Document
        doc = doc.as_dict()
    if not doc or not (doc.get("text") or "").strip():
        return None, "no article text found in the HTML page"
    record: dict[str, Any] = {"id": doc_id, "text": doc["text"], "source": source}
    for key in ("url", "title", "date"):
        if doc.get(key):
            record[key] = doc[key]
    record["extraction"] = "trafilatura"
    return record, None


def read_parquet(f: Any, *, max_bytes: int) -> Iterator[Any]:
    """Rows of a Parquet file as records (needs the ``[parquet]`` extra)."""
    from .readers import Item

    try:
        import pyarrow.parquet as pq
    except ImportError:
        reason = "reading Parquet needs the [parquet] extra (pip install newsclean[parquet])"
        yield Item(f.source, 1, None, reason, b"")
        return
    row = 0
    try:
        table = pq.ParquetFile(f.path)
        for batch in table.iter_batches(batch_size=1024):
            for values in batch.to_pylist():
                row += 1
                record = {k: _jsonable(v) for k, v in values.items()}
                size = sum(len(v) for v in record.values() if isinstance(v, str))
                if size > max_bytes:
                    reason = f"record is {size:,} bytes, over the --max-bytes limit of {max_bytes:,}"
                    yield Item(f.source, row, None, reason, b"")
                else:
                    yield Item(f.source, row, record, None, b"")
    except Exception as e:  # pyarrow raises many types for a damaged file
        yield Item(f.source, row + 1, None, f"cannot read Parquet file: {type(e).__name__}: {e}", b"")


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

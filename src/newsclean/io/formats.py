"""Corpus formats beyond JSONL and text: CSV, HTML pages, WARC archives and Parquet.

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
* WARC (``.warc``, ``.warc.gz``; also old ``.arc``/``.arc.gz``): with the ``[warc]``
  extra (warcio).  Every ``response`` record is one input record: an HTML page with
  a 2xx status becomes an article like an HTML file (``id`` and ``url`` from
  WARC-Target-URI, else ``id`` = WARC-Record-ID; WARC-Date is the fallback ``date``);
  any other response (an image, a PDF, robots.txt, a redirect) is rejected with the
  reason.  ``request``, ``metadata``, ``warcinfo``, ``revisit``, ``resource`` and
  ``conversion`` records are not articles and are skipped without a trace.  ``line``
  is the record's ordinal in the file (every record type counts).  A file that ends
  mid-record (or whose gzip is cut) keeps the records before and adds one reject.
* Parquet (``.parquet``): with the ``[parquet]`` extra (pyarrow), row by row.  Columns
  that newsclean's own Parquet output holds as JSON text (nested values) are decoded.
"""
from __future__ import annotations

import csv
import json
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


def html_article(
    data: bytes, source: str, doc_id: str, *, encoding: str | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """``(record, None)`` for an HTML page, or ``(None, reason)``.

    ``encoding`` is a charset the page was served with (HTTP Content-Type); it is
    tried first and dropped if the bytes do not decode with it.
    """
    from bs4 import UnicodeDammit

    known = [encoding] if encoding else None
    try:
        html = UnicodeDammit(data, known_definite_encodings=known, is_html=True).unicode_markup
    except LookupError:  # an unknown charset name
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
                    reason = f"record is {size:,} bytes, over the --max-bytes limit of {max_bytes:,}"
                    yield Item(f.source, row, None, reason, b"")
                else:
                    yield Item(f.source, row, record, None, b"")
    except Exception as e:  # noqa: BLE001 - pyarrow raises many types for a damaged file
        yield Item(f.source, row + 1, None, f"cannot read Parquet file: {type(e).__name__}: {e}", b"")


def _json_columns(metadata: dict[bytes, bytes] | None) -> list[str]:
    """Columns that newsclean's Parquet writer filled with nested values as JSON text."""
    from .writers import JSON_COLUMNS_KEY

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


# ------------------------------------------------------------------------- WARC

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SNIFF = 1024  # bytes looked at when a response has no Content-Type
_BODY_READ = 1 << 16


class _MalformedWarc(Exception):
    """The file cannot be read on past this point."""


class _ChunkStream:
    """A read-only file over decompressed chunks, for warcio (which would unpack gzip itself).

    Reading through :func:`~newsclean.io.readers.decompressed_chunks` keeps the
    decompression bomb guard and reports a cut gzip/zstd stream as ``CorruptStream``.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""
        self._off = 0  # self._buf[:self._off] was handed out already
        self._pos = 0  # bytes handed out so far

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        # Like read1: what is at hand, pulling one more chunk only when nothing is, so
        # a record is parsed before the stream past it is decompressed (and refused).
        # Slices are taken at an offset: cutting the front off a 1 MB chunk per 16 KB
        # read would copy the chunk over and over.
        if size < 0:
            rest = [self._buf[self._off :], *self._chunks]
            self._buf, self._off = b"", 0
            out = b"".join(rest)
            self._pos += len(out)
            return out
        while self._off >= len(self._buf):
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buf, self._off = chunk, 0
        end = min(len(self._buf), self._off + size)
        out = self._buf[self._off : end]
        self._off = end
        self._pos += len(out)
        return out


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """``"text/html; charset=UTF-8"`` -> ``("text/html", "UTF-8")``."""
    if not content_type:
        return "", None
    kind, _, params = content_type.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip("\"'"):
            charset = value.strip().strip("\"'")
    return kind.strip().lower(), charset


def _looks_like_html(head: bytes) -> bool:
    lower = head[:_SNIFF].lower()
    return b"<!doctype html" in lower or b"<html" in lower or b"<body" in lower


def read_warc(f: Any, stream: BinaryIO, *, max_bytes: int) -> Iterator[Any]:
    """Articles from the HTML responses of a WARC (or ARC) file (needs the ``[warc]`` extra).

    Every ``response`` record yields exactly one item (article or reject); other record
    types yield none.  Damage that stops the reading (a cut gzip stream, a file that
    ends inside a record, bytes that are not a WARC record) yields one more reject
    after the records read so far, with ``line`` = the ordinal of the record it hit.
    """
    from .readers import CorruptStream, Item, decompressed_chunks

    try:
        from warcio.archiveiterator import ArchiveIterator
        from warcio.exceptions import ArchiveLoadFailed
    except ImportError:
        reason = "reading WARC needs the [warc] extra (pip install 'newsclean[warc]')"
        yield Item(f.source, 1, None, reason, b"")
        return

    class _Quiet(ArchiveIterator):  # type: ignore[misc]
        INC_RECORD = ""  # warcio prints this to stderr; a bad record is reported by us

    # Compression is sniffed, not taken from the name: many ".warc" files are gzipped.
    records = _Quiet(_ChunkStream(decompressed_chunks(stream, None)), no_record_parse=True, arc2warc=True)
    ordinal = 0  # records started (all types)
    current = 0  # the record whose body is being read, if any
    try:
        for rec in records:
            ordinal += 1
            if rec.rec_type != "response":
                continue
            current = ordinal
            yield _warc_response(rec, records.loader, f.source, ordinal, max_bytes)
            current = 0
    except CorruptStream as e:
        yield Item(f.source, current or ordinal + 1, None, e.reason, b"")
    except OSError as e:
        yield Item(f.source, current or ordinal + 1, None, f"read error: {e}", b"")
    except _MalformedWarc as e:
        yield Item(f.source, current or ordinal + 1, None, f"{e}; the rest of the file is refused", b"")
    except ArchiveLoadFailed as e:
        msg = " ".join(str(e).split())[:300]
        what = "not a WARC file" if ordinal == 0 else "malformed WARC record"
        yield Item(f.source, ordinal + 1, None, f"{what} ({msg}); the rest of the file is refused", b"")
    except Exception as e:  # noqa: BLE001 - warcio raises assorted errors on damaged headers
        reason = f"malformed WARC record ({type(e).__name__}: {e}); the rest of the file is refused"
        yield Item(f.source, current or ordinal + 1, None, reason, b"")


def _warc_response(rec: Any, loader: Any, source: str, ordinal: int, max_bytes: int) -> Any:
    """The item for one WARC ``response`` record (its body is consumed here)."""
    from .readers import CorruptStream, Item

    headers = rec.rec_headers
    uri = (headers.get_header("WARC-Target-URI") or "").strip()
    head = headers.to_bytes() if hasattr(headers, "to_bytes") else str(headers).encode("utf-8", "replace")
    length = rec.length
    if length is None:
        raise _MalformedWarc("WARC record without a Content-Length")

    def reject(reason: str, raw: bytes = b"") -> Any:
        return Item(source, ordinal, None, reason, (head + raw)[:_RAW_KEEP])

    if length > max_bytes:
        # Its body streams past unread when the iterator moves on.
        return reject(f"record is {length:,} bytes, over the --max-bytes limit of {max_bytes:,}")
    http = None
    if uri.lower().startswith(("http:", "https:")):
        try:
            http = loader.load_http_headers("response", uri, rec.raw_stream, length)
        except EOFError:
            return _after_body(rec, reject("WARC response has an empty body"))
        except (CorruptStream, OSError):
            raise  # the file, not this record: read_warc reports it
        except Exception as e:  # noqa: BLE001 - warcio's parser raises several kinds
            return _after_body(rec, reject(f"WARC response has no valid HTTP header ({type(e).__name__}: {e})"))
        rec.http_headers = http  # so content_stream() undoes chunking and Content-Encoding
    if http is not None:
        head += http.to_bytes() if hasattr(http, "to_bytes") else str(http).encode("utf-8", "replace")
        status = http.get_statuscode() or ""
        if not status.startswith("2"):
            return _after_body(rec, reject(f"WARC response is HTTP {status or '(no status)'}, not a page"))
        kind, charset = _media_type(http.get_header("Content-Type"))
    else:
        kind, charset = _media_type(headers.get_header("Content-Type"))
        if kind == "application/http":  # an HTTP block that could not be parsed as such
            kind = ""
    if kind and kind not in _HTML_TYPES:
        return _after_body(rec, reject(f"WARC response is not HTML ({kind})"))

    body = bytearray()
    try:
        content = rec.content_stream()
        while len(body) <= max_bytes and (part := content.read(_BODY_READ)):
            body += part
    except (CorruptStream, OSError):
        raise
    except Exception as e:  # noqa: BLE001 - chunked/gzip/brotli decoders raise several kinds
        return _after_body(rec, reject(f"cannot decode the HTTP body ({type(e).__name__}: {e})"))
    missing = _drain(rec)
    if missing:
        return reject(f"WARC record is cut short: the file ends {missing:,} bytes before its end", bytes(body))
    if len(body) > max_bytes:
        reason = f"page is over the --max-bytes limit of {max_bytes:,} once decoded (Content-Encoding)"
        return reject(reason, bytes(body[:_RAW_KEEP]))
    if not kind and not _looks_like_html(bytes(body[:_SNIFF])):
        return reject("WARC response is not HTML (no Content-Type, and the body is not HTML)", bytes(body))

    doc_id = uri or (headers.get_header("WARC-Record-ID") or "").strip() or f"{source}:{ordinal}"
    try:
        record, reason = html_article(bytes(body), source, doc_id, encoding=charset)
    except (Exception, RecursionError) as e:  # noqa: BLE001 - one odd page must not end the file
        return reject(f"cannot extract the article ({type(e).__name__}: {e})", bytes(body))
    if record is None:
        return reject(reason or "no article text found", bytes(body))
    if uri:
        record["url"] = uri
    warc_date = (headers.get_header("WARC-Date") or "").strip()
    if not record.get("date") and warc_date:
        record["date"] = warc_date[:10]
    return Item(source, ordinal, record, None, bytes(body))


def _drain(rec: Any) -> int:
    """Read the rest of a record's block; return how many of its bytes the file lacks."""
    raw = rec.raw_stream
    while raw.read(_BODY_READ):
        pass
    return max(0, getattr(raw, "limit", 0))


def _after_body(rec: Any, item: Any) -> Any:
    """``item``, unless the record turns out to be cut short (then that is the reason)."""
    missing = _drain(rec)
    if missing:
        from .readers import Item

        reason = f"WARC record is cut short: the file ends {missing:,} bytes before its end"
        return Item(item.source, item.line, None, reason, item.raw)
    return item

"""WARC archives (``.warc``, ``.warc.gz``; also old ``.arc``/``.arc.gz``; the ``[warc]``
extra: warcio).

Every ``response`` record is one input record: an HTML page with a 2xx status becomes
an article as an HTML file does (:func:`~newsclean.io.html.html_article`; ``id`` and
``url`` from WARC-Target-URI, else ``id`` = WARC-Record-ID; WARC-Date is the fallback
``date``); any other response (an image, a PDF, robots.txt, a redirect) is rejected
with the reason.  ``request``, ``metadata``, ``warcinfo``, ``revisit``, ``resource``
and ``conversion`` records are not articles and are skipped without a trace.
``line`` is the record's ordinal in the file (every record type counts).  A file that
ends mid-record (or whose gzip is cut) keeps the records before and adds one reject.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from .base import DEFAULT_MAX_BYTES, InputFile, Item, article_item
from .compression import CorruptStream, decompressed_chunks
from .html import html_article

SUFFIXES = (".warc", ".arc")

_RAW_KEEP = 10_000
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SNIFF = 1024  # bytes looked at when a response has no Content-Type
_BODY_READ = 1 << 16


class _MalformedWarc(Exception):
    """The file cannot be read on past this point."""


class _ChunkStream:
    """A read-only file over decompressed chunks, for warcio (which would unpack gzip itself).

    Reading through :func:`~newsclean.io.compression.decompressed_chunks` keeps the
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


def read(f: InputFile, stream: BinaryIO, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """Articles from the HTML responses of a WARC (or ARC) file (needs the ``[warc]`` extra).

    Every ``response`` record yields exactly one item (article or reject); other record
    types yield none.  Damage that stops the reading (a cut gzip stream, a file that
    ends inside a record, bytes that are not a WARC record) yields one more reject
    after the records read so far, with ``line`` = the ordinal of the record it hit.
    """
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
        for warc_record in records:
            ordinal += 1
            if warc_record.rec_type != "response":
                continue
            current = ordinal
            yield _warc_response(warc_record, records.loader, f.source, ordinal, max_bytes)
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


def _warc_response(warc_record: Any, loader: Any, source: str, ordinal: int, max_bytes: int) -> Item:
    """The item for one WARC ``response`` record (its body is consumed here)."""
    headers = warc_record.rec_headers
    uri = (headers.get_header("WARC-Target-URI") or "").strip()
    head = _header_bytes(headers)
    if warc_record.length is None:
        raise _MalformedWarc("WARC record without a Content-Length")
    if warc_record.length > max_bytes:
        # Its body streams past unread when the iterator moves on.
        return _reject(source, ordinal, head, f"record is {warc_record.length:,} bytes, over the --max-bytes limit of "
                       f"{max_bytes:,}")
    http_head, reason, kind, charset = _http_part(warc_record, loader, uri)
    head += http_head
    if reason is not None:
        return _after_body(warc_record, _reject(source, ordinal, head, reason))
    body = bytearray()
    try:
        content = warc_record.content_stream()
        while len(body) <= max_bytes and (part := content.read(_BODY_READ)):
            body += part
    except (CorruptStream, OSError):
        raise
    except Exception as e:  # noqa: BLE001 - chunked/gzip/brotli decoders raise several kinds
        reason = f"cannot decode the HTTP body ({type(e).__name__}: {e})"
        return _after_body(warc_record, _reject(source, ordinal, head, reason))
    missing = _drain(warc_record)
    if missing:
        reason = f"WARC record is cut short: the file ends {missing:,} bytes before its end"
        return _reject(source, ordinal, head, reason, bytes(body))
    if len(body) > max_bytes:
        reason = f"page is over the --max-bytes limit of {max_bytes:,} once decoded (Content-Encoding)"
        return _reject(source, ordinal, head, reason, bytes(body[:_RAW_KEEP]))
    if not kind and not _looks_like_html(bytes(body[:_SNIFF])):
        reason = "WARC response is not HTML (no Content-Type, and the body is not HTML)"
        return _reject(source, ordinal, head, reason, bytes(body))
    return _article(headers, uri, bytes(body), charset, source, ordinal, head)


def _header_bytes(headers: Any) -> bytes:
    return headers.to_bytes() if hasattr(headers, "to_bytes") else str(headers).encode("utf-8", "replace")


def _reject(source: str, ordinal: int, head: bytes, reason: str, raw: bytes = b"") -> Item:
    return Item(source, ordinal, None, reason, (head + raw)[:_RAW_KEEP])


def _http_part(warc_record: Any, loader: Any, uri: str) -> tuple[bytes, str | None, str, str | None]:
    """``(HTTP header bytes, why it is no page or None, media type, charset)`` of a response.

    The HTTP header is parsed here where the record holds one, and set on the record so
    that ``content_stream()`` undoes chunking and Content-Encoding.
    """
    http = None
    if uri.lower().startswith(("http:", "https:")):
        try:
            http = loader.load_http_headers("response", uri, warc_record.raw_stream, warc_record.length)
        except EOFError:
            return b"", "WARC response has an empty body", "", None
        except (CorruptStream, OSError):
            raise  # the file, not this record: read_warc reports it
        except Exception as e:  # noqa: BLE001 - warcio's parser raises several kinds
            return b"", f"WARC response has no valid HTTP header ({type(e).__name__}: {e})", "", None
        warc_record.http_headers = http
    if http is None:
        head = b""
        kind, charset = _media_type(warc_record.rec_headers.get_header("Content-Type"))
        if kind == "application/http":  # an HTTP block that could not be parsed as such
            kind = ""
    else:
        head = _header_bytes(http)
        status = http.get_statuscode() or ""
        if not status.startswith("2"):
            return head, f"WARC response is HTTP {status or '(no status)'}, not a page", "", None
        kind, charset = _media_type(http.get_header("Content-Type"))
    if kind and kind not in _HTML_TYPES:
        return head, f"WARC response is not HTML ({kind})", kind, charset
    return head, None, kind, charset


def _article(headers: Any, uri: str, body: bytes, charset: str | None, source: str, ordinal: int,
             head: bytes) -> Item:
    """The article of an HTML response (or its reject), with its url and date from the WARC header."""
    doc_id = uri or (headers.get_header("WARC-Record-ID") or "").strip() or f"{source}:{ordinal}"
    try:
        record, reason = html_article(body, source, doc_id, encoding=charset)
    except (Exception, RecursionError) as e:  # noqa: BLE001 - one odd page must not end the file
        return _reject(source, ordinal, head, f"cannot extract the article ({type(e).__name__}: {e})", body)
    if record is None:
        return _reject(source, ordinal, head, reason or "no article text found", body)
    if uri:
        record["url"] = uri
    warc_date = (headers.get_header("WARC-Date") or "").strip()
    if not record.get("date") and warc_date:
        record["date"] = warc_date[:10]
    return article_item(source, ordinal, record, body)


def _drain(warc_record: Any) -> int:
    """Read the rest of a record's block; return how many of its bytes the file lacks."""
    raw = warc_record.raw_stream
    while raw.read(_BODY_READ):
        pass
    return max(0, getattr(raw, "limit", 0))


def _after_body(warc_record: Any, item: Item) -> Item:
    """``item``, unless the record turns out to be cut short (then that is the reason)."""
    missing = _drain(warc_record)
    if missing:
        reason = f"WARC record is cut short: the file ends {missing:,} bytes before its end"
        return Item(item.source, item.line, None, reason, item.raw)
    return item

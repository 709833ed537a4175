"""HTML pages: one ``.html``/``.htm`` file is one article.

With the ``[html]`` extra the main text is extracted by trafilatura, and ``url``,
``title`` and ``date`` are kept from the page; without it the whole page's text is
used (scripts, styles and tags dropped) and the record says so in ``extraction``.
The WARC reader (:mod:`.warc`) hands its HTML responses to :func:`html_article` too.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from .base import DEFAULT_MAX_BYTES, InputFile, Item, article_item
from .text import whole_file

SUFFIXES = (".html", ".htm")

_RAW_KEEP = 40_000  # bytes kept of a page that yields no article, for the reject report


def read(f: InputFile, stream: BinaryIO, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """The article of one HTML page, or its reject."""
    data = whole_file(f, stream, max_bytes=max_bytes)
    if isinstance(data, Item):
        yield data
        return
    record, reason = html_article(data, f.source, f.doc_id)
    if record is None:
        yield Item(f.source, 1, None, reason, data[:_RAW_KEEP])
    else:
        yield article_item(f.source, 1, record, data)


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

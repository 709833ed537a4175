"""HTML pages: one ``.html``/``.htm`` file is one article.

With the ``[html]`` extra the main text is extracted by trafilatura, and ``url``,
``title`` and ``date`` are kept from the page; without it the whole page's text is
used (scripts, styles and tags dropped) and the record says so in ``extraction``.
The WARC reader (:mod:`.warc`) hands its HTML responses to :func:`html_article` too.

Tables in the article (standings, results, schedules, figures) are content in news:
they are kept as text, a row a line and its cells joined by `` | ``
(``--no-html-tables`` leaves them out, as trafilatura does by default).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, BinaryIO

from .base import DEFAULT_MAX_BYTES, InputFile, Item, article_item
from .text import whole_file

SUFFIXES = (".html", ".htm")

_RAW_KEEP = 40_000  # bytes kept of a page that yields no article, for the reject report

# Whether tables are kept, for the pages read in this context (--html-tables): the
# readers take no options, so the commands set it around their reading.
TABLES: ContextVar[bool] = ContextVar("html_tables", default=True)
# trafilatura writes a table as Markdown: "| a | b | " rows and a "|---|---|" rule
_TABLE_ROW = re.compile(r"[ \t]*\| ?(.*?) ?\|[ \t]*")
_TABLE_RULE = re.compile(r"[ \t]*\|(?:-+\|)+[ \t]*")


@contextmanager
def tables(keep: bool) -> Iterator[None]:
    """Read HTML pages with their tables kept as text (``keep``) or left out."""
    token = TABLES.set(keep)
    try:
        yield
    finally:
        TABLES.reset(token)


def table_rows_as_lines(text: str) -> str:
    """trafilatura's Markdown tables as plain lines: a row a line, cells joined by `` | ``,
    no rule, no blank lines between rows.

    >>> table_rows_as_lines("Standings:\\n| Team | Pts | \\n|---|---|\\n\\n| Rovers | 12 | \\nNext round.")
    'Standings:\\nTeam | Pts\\nRovers | 12\\nNext round.'
    """
    if "| " not in text:
        return text
    out: list[str] = []
    after_row: list[str] = []  # blank lines after a row: dropped when another row follows
    last_was_row = False
    for line in text.split("\n"):
        if _TABLE_RULE.fullmatch(line):
            continue
        if not line.strip():
            (after_row if last_was_row else out).append(line)
            continue
        row = _TABLE_ROW.fullmatch(line)
        if row is None:
            out.extend(after_row)
        after_row = []
        out.append(row.group(1) if row else line)
        last_was_row = row is not None
    return "\n".join(out + after_row)


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
    data: bytes, source: str, doc_id: str, *, encoding: str | None = None, tables: bool | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """``(record, None)`` for an HTML page, or ``(None, reason)``.

    ``encoding`` is a charset the page was served with (HTTP Content-Type); it is
    tried first and dropped if the bytes do not decode with it.  ``tables``: keep the
    article's tables as text (default: :data:`TABLES`, on).
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
    keep_tables = TABLES.get() if tables is None else tables
    doc = trafilatura.bare_extraction(html, include_comments=False, include_tables=keep_tables, with_metadata=True)
    if doc is not None and hasattr(doc, "as_dict"):  # trafilatura >= 2 returns a Document
        doc = doc.as_dict()
    if not doc or not (doc.get("text") or "").strip():
        return None, "no article text found in the HTML page"
    text = table_rows_as_lines(doc["text"]) if keep_tables else doc["text"]
    record: dict[str, Any] = {"id": doc_id, "text": text, "source": source}
    for key in ("url", "title", "date"):
        if doc.get(key):
            record[key] = doc[key]
    record["extraction"] = "trafilatura"
    return record, None

"""What every reader yields and every format module shares.

A reader turns one input file into :class:`Item` s and never raises on bad data:
a problem becomes an item with ``error`` set, so a long run keeps going and the
caller decides (rejects file or ``--strict``).  Each format lives in a module of its
own (:mod:`.jsonl`, :mod:`.text`, :mod:`.html`, :mod:`.csv`, :mod:`.parquet`,
:mod:`.warc`) with the same two names: ``SUFFIXES`` (the file names it reads) and
``read(f, stream, *, max_bytes)``; :mod:`.readers` keeps the registry of them.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

from ..config import DEFAULT_MAX_BYTES

Compression = Literal["none", "gzip", "zstd"]
Format = Literal["jsonl", "txt", "csv", "html", "parquet", "warc"]

STDIN = "<stdin>"

__all__ = ["DEFAULT_MAX_BYTES", "STDIN", "Compression", "Format", "InputError", "InputFile", "Item", "Reader",
           "article_item", "oversized"]


class InputError(Exception):
    """An input argument that cannot be used at all (missing path, ...)."""


@dataclass(slots=True)
class Item:
    """One input record as read: either ``record`` (a dict) or ``error`` (a reason).

    ``line`` is 1-based; a ``.txt`` article is line 1 of its file.  ``raw`` is the
    undecoded line (or file content) for reject reports.  ``stdlib_json`` marks records
    that orjson could not parse exactly, so writers must dump them with the stdlib too.
    """

    source: str
    line: int
    record: dict[str, Any] | None
    error: str | None
    raw: bytes | str
    stdlib_json: bool = False


@dataclass(frozen=True, slots=True)
class InputFile:
    """A resolved input: a file (or stdin when ``path`` is None) and how to read it."""

    path: Path | None
    source: str
    fmt: Format = "jsonl"
    compression: Compression | None = None  # None: sniff (stdin)
    doc_id: str = ""  # id given to a .txt article


class Reader(Protocol):
    """``read`` of a format module: the items of one opened input file."""

    def __call__(self, f: InputFile, stream: BinaryIO, *, max_bytes: int) -> Iterator[Item]: ...


def oversized(source: str, line: int, size: int, head: bytes, max_bytes: int) -> Item:
    """The reject item of a record over the ``--max-bytes`` limit (``head``: what is kept of it)."""
    reason = f"record is {size:,} bytes, over the --max-bytes limit of {max_bytes:,}"
    return Item(source, line, None, reason, head)


def article_item(source: str, line: int, record: dict[str, Any], raw: bytes) -> Item:
    """The item of a record a reader made itself (a ``.txt``, ``.html`` or WARC article).

    Its id and source come from a file name, which may hold bytes that are not UTF-8
    (read as lone surrogates, ``surrogateescape``): such a record is marked
    ``stdlib_json``, so that it is written with the stdlib, which escapes them, and
    read back the same way.
    """
    return Item(source, line, record, None, raw, stdlib_json=not _utf8_strings(record))


def _utf8_strings(record: dict[str, Any]) -> bool:
    """Whether every string value of ``record`` (top level) can be written as UTF-8.

    >>> _utf8_strings({"id": "a", "n": 1}), _utf8_strings({"source": "bad\\udcff.txt"})
    (True, False)
    """
    for value in record.values():
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True

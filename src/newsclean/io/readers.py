"""Reading inputs: the paths given (files, folders, standard input) and the registry of formats.

:func:`expand_inputs` resolves what the command line names into :class:`InputFile` s;
:func:`read_file` reads one with the reader its format registers in :data:`READERS`
(one module per format: :mod:`.jsonl`, :mod:`.text`, :mod:`.html`, :mod:`.csv`,
:mod:`.parquet`, :mod:`.warc`).  Readers never raise on bad data (:mod:`.base`);
only argument problems (a missing path) raise :class:`InputError`, before any reading.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from . import csv, html, jsonl, parquet, text, warc
from .base import DEFAULT_MAX_BYTES, STDIN, Compression, Format, InputError, InputFile, Item, Reader
from .compression import (
    EXPANSION_FLOOR,
    MAX_EXPANSION,
    TRUNCATED,
    CorruptStream,
    ExpansionLimit,
    decompressed_chunks,
    split_compression,
)
from .jsonl import MAX_DEPTH, parse_line, read_jsonl

StrPath = str | os.PathLike[str]
from .text import decode_text_file

__all__ = [
    "DEFAULT_MAX_BYTES", "EXPANSION_FLOOR", "MAX_DEPTH", "MAX_EXPANSION", "READERS", "STDIN", "TRUNCATED",
    "Compression", "CorruptStream", "ExpansionLimit", "Format", "InputError", "InputFile", "Item",
    "decode_text_file", "decompressed_chunks", "expand_inputs", "parse_line", "read_file", "read_inputs",
    "read_jsonl", "split_compression", "stdin_stream",
]

# The reader of each format, and the file names that select it.  A new format is a
# module with SUFFIXES and read(), and a line here.
_MODULES = {"txt": text, "jsonl": jsonl, "csv": csv, "html": html, "parquet": parquet, "warc": warc}
READERS: dict[str, Reader] = {fmt: module.read for fmt, module in _MODULES.items()}
_FORMAT_SUFFIXES: tuple[tuple[tuple[str, ...], Format], ...] = tuple(
    (module.SUFFIXES, fmt) for fmt, module in _MODULES.items()  # type: ignore[misc]
)


def _format_of(name: str) -> Format | None:
    inner = split_compression(name)[0].lower()
    for suffixes, fmt in _FORMAT_SUFFIXES:
        if inner.endswith(suffixes):
            return fmt
    return None


def _strip_txt(name: str) -> str:
    """The id of a one-article file: its name without .txt/.html/.htm (and compression)."""
    inner = split_compression(name)[0]
    for suffix in (".txt", ".html", ".htm"):
        if inner.lower().endswith(suffix):
            return inner[: -len(suffix)]
    return inner


def expand_inputs(inputs: Sequence[str], *, skip: Iterable[StrPath] = ()) -> list[InputFile]:
    """Resolve CLI inputs: ``-``/nothing is stdin, folders are walked recursively.

    Folder members are ``.txt``, ``.jsonl``/``.ndjson``, ``.csv``/``.tsv``,
    ``.html``/``.htm``, ``.warc``/``.arc`` and ``.parquet`` files (optionally .gz/.zst), hidden files
    skipped, sorted by path so runs are deterministic.  A file given directly is read
    by its extension, as JSONL when it has none of these.  ``skip``: files and folders
    a walk leaves out (a run's own outputs and work files, when its OUTDIR lies inside
    an input folder); a file given directly is never skipped.
    """
    if not inputs:
        return [InputFile(None, STDIN)]
    files: list[InputFile] = []
    skipped = {os.path.realpath(p) for p in skip}
    for arg in inputs:
        if arg == "-":
            files.append(InputFile(None, STDIN))
            continue
        path = Path(arg)
        if path.is_dir():
            files.extend(_walk_folder(path, skipped))
        elif path.is_file():
            fmt = _format_of(path.name) or "jsonl"
            compression = split_compression(path.name)[1]
            files.append(InputFile(path, arg, fmt, compression, _strip_txt(path.name)))
        elif path.exists():
            raise InputError(f"input is not a regular file or folder: {arg}")
        else:
            raise InputError(f"input not found: {arg}")
    return files


def _walk_folder(root: Path, skipped: set[str]) -> list[InputFile]:
    found: list[tuple[tuple[str, ...], InputFile]] = []
    try:
        candidates = list(root.rglob("*"))
    except OSError as e:
        raise InputError(f"cannot list folder {root}: {e}") from e
    for path in candidates:
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        fmt = _format_of(path.name)
        if fmt is None or (skipped and _inside(path, skipped)):
            continue
        doc_id = _strip_txt(rel.as_posix())
        compression = split_compression(path.name)[1]
        found.append((rel.parts, InputFile(path, str(path), fmt, compression, doc_id)))
    found.sort(key=lambda pair: pair[0])
    return [f for _, f in found]


def _inside(path: Path, skipped: set[str]) -> bool:
    """Whether ``path`` is one of ``skipped`` (real paths) or lies in one of them."""
    real = os.path.realpath(path)
    while True:
        if real in skipped:
            return True
        parent = os.path.dirname(real)
        if parent == real:
            return False
        real = parent


def stdin_stream() -> BinaryIO:
    """Standard input as bytes (looked up late: tests swap ``sys.stdin``); raises
    :class:`InputError` when it is closed (``newsclean clean - <&-``)."""
    stdin = sys.stdin
    stream = getattr(stdin, "buffer", None) if stdin is not None else None
    if stream is None:
        raise InputError("standard input is closed: give the input as files or folders, or pipe it in")
    return stream


def read_file(f: InputFile, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """Items of one input; an unreadable file becomes a single reject item."""
    if f.path is None:
        try:
            stream = stdin_stream()
        except InputError as e:
            yield Item(f.source, 1, None, str(e), b"")
            return
        yield from jsonl.read(f, stream, max_bytes=max_bytes)
        return
    try:
        fh = open(f.path, "rb")  # noqa: SIM115 - closed below; only open errors are caught here
    except OSError as e:
        yield Item(f.source, 1, None, f"cannot open file: {e.strerror or e}", b"")
        return
    with fh:
        yield from READERS.get(f.fmt, jsonl.read)(f, fh, max_bytes=max_bytes)


def read_inputs(files: Iterable[InputFile], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """All items of all inputs, in order."""
    for f in files:
        yield from read_file(f, max_bytes=max_bytes)

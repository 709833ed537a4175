"""Writing records: the writer an output's name selects, and the checks made before a run.

Cleaned records go through :func:`record_writer`: JSON lines (:class:`AtomicWriter`,
compressed by a ``.gz``/``.zst`` extension), or Parquet when the output is named
``*.parquet`` (:class:`~newsclean.io.parquet.ParquetWriter`, the ``[parquet]`` extra).
Every writer appears at its path only when committed (:mod:`.atomic`).
"""
from __future__ import annotations

import os
from pathlib import Path

from .atomic import AtomicWriter, StrPath, open_output
from .compression import compression_for, split_compression
from .jsonl import dumps_line
from .parquet import JSON_COLUMNS_KEY, ParquetWriter

__all__ = ["JSON_COLUMNS_KEY", "PARQUET_SUFFIX", "WRITERS", "AtomicWriter", "OutputError", "ParquetWriter",
           "check_record_output", "compression_for", "dumps_line", "is_parquet", "open_output", "record_writer"]

PARQUET_SUFFIX = ".parquet"
# The record writer of each output name ending; JSON lines for any other name.
WRITERS: dict[str, type[ParquetWriter]] = {PARQUET_SUFFIX: ParquetWriter}


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
    if path is not None:
        for suffix, writer in WRITERS.items():
            if os.fspath(path).lower().endswith(suffix):
                return writer(path)
    return AtomicWriter(path)

"""Input and output: one module per format over a small base, and atomic writers.

:mod:`.readers` resolves inputs and reads them with the reader each format
registers; :mod:`.writers` picks the record writer an output's name asks for.
"""
from __future__ import annotations

from .base import DEFAULT_MAX_BYTES, InputError, InputFile, Item
from .readers import expand_inputs, read_file, read_inputs, read_jsonl
from .writers import AtomicWriter, dumps_line, open_output

__all__ = [
    "DEFAULT_MAX_BYTES",
    "AtomicWriter",
    "InputError",
    "InputFile",
    "Item",
    "dumps_line",
    "expand_inputs",
    "open_output",
    "read_file",
    "read_inputs",
    "read_jsonl",
]

"""Input and output: streaming JSONL/.txt readers and atomic, compressed writers."""
from __future__ import annotations

from .readers import (
    DEFAULT_MAX_BYTES,
    InputError,
    InputFile,
    Item,
    expand_inputs,
    read_file,
    read_inputs,
    read_jsonl,
)
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

"""Spin: find the work of a synonym "spinner" and put the original words back.

A spinner rewrites a copied article word by word from its thesaurus ("The
Washington Post first reported" -> "The Washington Put up very first noted") to hide
the copy.  Undoing it needs to know what the spinner swaps; newsclean takes that
knowledge as a :class:`SpinTable`:

* from a TSV file the user names (:func:`read_table`; CLI ``--spin-table``);
* learned from a corpus where spun copies and their originals both occur
  (:func:`learn_table`; CLI ``newsclean spin-table``).

With a table, :func:`spin_report` scores a text (document and sentences) and
:func:`unspin_and_explain` restores the originals in texts it flags, each change
an :class:`~newsclean.edits.Edit` with its confidence; an optional language model
(:mod:`.lm`, extra ``[lm]``) weighs the ambiguous swaps in context.

Two spin-invariant views of a text are available to other code: the restored text
(:func:`unspin`), and, with no table at all, the skeleton near-duplicate detection
compares (:func:`newsclean.dedup.text.skeleton`: names, numbers and function words,
which a spinner leaves alone).
"""
from __future__ import annotations

from .restore import MODES, SpinReport, spin_report, unspin, unspin_and_explain, unspin_many_and_explain
from .table import SpinTable, TableError, builtin_table, read_table

__all__ = ["MODES", "SpinReport", "SpinTable", "TableError", "builtin_table", "read_table", "spin_report", "unspin",
           "unspin_and_explain", "unspin_many_and_explain"]

"""Engines that run the cleaning pipeline over many records."""
from __future__ import annotations

from .local import BadRecord, Outcome, Stats, clean_records, run_clean

__all__ = ["BadRecord", "Outcome", "Stats", "clean_records", "run_clean"]

"""Running newsclean over many records: the record loop of ``clean`` (:mod:`.local`),
the executor of per-shard tasks on local processes or Dask (:mod:`.executors`), shards,
time limits, run manifests and timed steps.

The names below are imported when first used, so that :mod:`.limits` can be imported
on its own.
"""
from __future__ import annotations

import importlib
from typing import Any

__all__ = ["BadRecord", "Outcome", "Stats", "clean_records", "run_clean"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(".local", __name__), name)
    globals()[name] = value
    return value

"""Near-duplicate and same-event clustering of news records.

>>> from newsclean.dedup import dedup_records
>>> text = " ".join(f"word{i}" for i in range(40))
>>> rs = dedup_records([{"id": "a", "text": text}, {"id": "b", "text": text[:150]}])
>>> [(r.id, r.cluster, r.duplicate_of) for r in rs]
[('a', 'a', None), ('b', 'a', 'a')]

See :mod:`newsclean.dedup.core` for the comparison rules, the survivor policies
(``keep``) and how short texts and repeated ids are handled, and
:mod:`newsclean.dedup.events` for the event clustering.

The names below are imported when first used: ``import newsclean.dedup.params``
(what the configuration needs) does not load numpy and the clustering.
"""
from __future__ import annotations

import importlib
from typing import Any

from .params import KEEP_POLICIES, DedupParams

__all__ = [
    "KEEP_POLICIES",
    "ClusterInfo",
    "DedupParams",
    "DedupResult",
    "Document",
    "EventParams",
    "Index",
    "IndexMismatch",
    "cluster_documents",
    "dedup_documents",
    "dedup_records",
    "load_index",
]

_HOMES = {
    "ClusterInfo": "core", "DedupResult": "core", "Document": "core", "cluster_documents": "core",
    "EventParams": "events", "Index": "index", "IndexMismatch": "index", "load_index": "index",
    "dedup_documents": "batch", "dedup_records": "batch",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value

"""Deduplication of records held in memory: the library's front of the clustering.

:func:`dedup_records` cleans each record's text as ``newsclean clean`` does and
clusters them; :func:`dedup_documents` clusters texts already cleaned.  The command
line's driver for files and folders of any size is :mod:`.run`.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ..records import find_id, find_text
from .core import ClusterInfo, DedupResult, Document, cluster_documents, unique_names
from .events import EventParams, event_groups, event_names
from .index import Index
from .params import DedupParams, record_date


def dedup_documents(
    docs: list[Document],
    *,
    events: bool = False,
    keep: str = "cleanest",
    params: DedupParams | None = None,
    event_params: EventParams | None = None,
    info: ClusterInfo | None = None,
    previous: Index | None = None,
    build_index: bool = False,
) -> list[DedupResult]:
    """Cluster already-cleaned :class:`Document` s (their ``name`` s must be unique).

    ``previous`` / ``build_index``: see :func:`cluster_documents`.  Events are computed
    within ``docs`` only (the previous run's records are not consulted): a document that
    joined an archived cluster takes part as a member of that cluster's group of new
    documents, and an event id is the smallest cluster id among the event's documents.
    """
    info = info if info is not None else ClusterInfo()
    results = cluster_documents(docs, keep=keep, params=params, info=info, previous=previous,
                                build_index=build_index)
    if events:
        t = time.perf_counter()
        labels, ncand = event_groups([d.text for d in docs], _units(results), event_params,
                                     dates=[d.date for d in docs])
        info.event_candidates = ncand
        for r, name in zip(results, event_names(labels, [r.cluster for r in results])):
            r.event = name
        info.timings["events"] = time.perf_counter() - t
    return results


def _units(results: list[DedupResult]) -> list[int]:
    """Near-duplicate group of each document: its cluster's first document in the batch."""
    first: dict[str, int] = {}
    return [first.setdefault(r.cluster, r.index) for r in results]


def dedup_records(
    records: Iterable[dict[str, Any]],
    *,
    events: bool = False,
    keep: str = "cleanest",
    threshold: float | None = None,
    text_field: str | None = None,
    id_field: str | None = None,
    cleaner: Any = None,
    params: DedupParams | None = None,
    event_params: EventParams | None = None,
    info: ClusterInfo | None = None,
    previous: Index | None = None,
) -> list[DedupResult]:
    """One :class:`DedupResult` per record, in order.

    Texts are found like ``newsclean clean`` does (``text_field`` or the first of text,
    maintext, content, body) and cleaned with ``cleaner`` (default ``Cleaner()``: spin flagged and
    restored with the built-in table, as ``newsclean clean`` does) before comparison; the records
    themselves are not modified.  A record's cleaning edits and spin score weigh in the choice of
    survivors (``keep="cleanest"``).  A record without usable text
    raises :class:`newsclean.records.BadRecord`.  ``threshold`` overrides the word
    containment threshold of ``params``.  ``previous``: deduplicate against a previous
    run's index (:func:`newsclean.dedup.index.load_index`), see :func:`cluster_documents`.
    """
    if cleaner is None:
        from ..clean.pipeline import Cleaner

        cleaner = Cleaner()
    params = params or DedupParams()
    if threshold is not None:
        params = replace(params, threshold=threshold)
    recs = list(records)
    docs = []
    ids = []
    for rec in recs:
        _, text = find_text(rec, text_field)
        result = cleaner.clean(text)
        ids.append(find_id(rec, id_field)[1] if isinstance(rec, dict) else None)
        docs.append(Document(id=ids[-1], text=result.text, edits=len(result.edits), date=record_date(rec),
                             spin=result.spun_score))
    for d, name in zip(docs, unique_names(ids, taken=set(previous.names) if previous is not None else ())):
        d.name = name
    return dedup_documents(docs, events=events, keep=keep, params=params, event_params=event_params, info=info,
                           previous=previous)

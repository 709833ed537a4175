"""The event steps of ``dedup`` / ``run`` over the shards, with the run's engine.

:func:`start_event_groups` / :meth:`PendingEvents.finish` do the same-event clustering
of :mod:`.events` over the shards' term counts (left in each shard folder by
:func:`~newsclean.dedup.shard.prepare_shard`): the global steps (vocabulary, candidate
pairs, linkage) in this process on compact arrays, the per-document ones
(:func:`weigh_shard`: weights and blocking terms, per shard; :func:`pair_cosines_task`:
cosines, per range of candidate pairs) on the workers — the cosines while this process
clusters near-duplicates.  Their files go to ``WORK/events/``; tasks receive paths and
ranges, never arrays.  The other per-shard steps are in :mod:`.shard`.
"""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .events import (
    DocVectors,
    EventParams,
    TermCounts,
    candidate_pairs,
    document_frequencies,
    event_labels,
    inverse_document_frequency,
    merge_vocabularies,
    pair_cosines,
    split_pairs,
    unit_index,
    weigh_documents,
)


def load_shard_terms(folder: Path, mmap: bool = False) -> TermCounts:
    return TermCounts.load(folder / "events", mmap=mmap)



# ------------------------------------------------------------------ events over the shards

EVENT_ROWS = "rows"  # WORK/events/rows/: every document's DocVectors, concatenated
COSINE_WINDOW = 16_384  # pairs per memory map of the rows: bounds the pages a task keeps mapped


@dataclass(frozen=True)
class WeighJob:
    shard: str  # the shard's folder
    events: str  # WORK/events
    part: int  # the shard's position among the run's shards
    first_doc: int  # its first document's index in the run
    block_terms: int


def weigh_shard(job: WeighJob) -> int:
    """A shard's document rows and blocking keys, saved as ``rows-NNNNN/`` and
    ``blocks-NNNNN.npy``; returns how many keys."""
    events = Path(job.events)
    counts = load_shard_terms(Path(job.shard), mmap=True)
    ids = np.load(events / f"ids-{job.part:05d}.npy")
    df = np.load(events / "df.npy", mmap_mode="r")
    idf = np.load(events / "idf.npy", mmap_mode="r")
    vectors, keys = weigh_documents(counts, ids, df, idf, job.first_doc, job.block_terms)
    vectors.save(events / f"rows-{job.part:05d}")
    np.save(events / f"blocks-{job.part:05d}.npy", keys)
    return len(keys)


@dataclass(frozen=True)
class CosineJob:
    events: str  # WORK/events
    start: int  # pairs start:stop of first.npy / second.npy
    stop: int


def pair_cosines_task(job: CosineJob) -> None:
    """Cosines of candidate pairs ``start:stop``, saved as ``cos-START.npy`` (kept out of
    the parent's memory until it needs them)."""
    events = Path(job.events)
    n_terms = len(np.load(events / "idf.npy", mmap_mode="r"))
    out = np.empty(job.stop - job.start, dtype=np.float64)
    for a in range(job.start, job.stop, COSINE_WINDOW):
        b = min(a + COSINE_WINDOW, job.stop)
        vectors = DocVectors.load(events / EVENT_ROWS, mmap=True)  # mapped afresh: pages let go
        first = np.load(events / "first.npy", mmap_mode="r")[a:b]
        second = np.load(events / "second.npy", mmap_mode="r")[a:b]
        out[a - job.start : b - job.start] = pair_cosines(vectors, first, second, n_terms)
        del vectors
    tmp = events / f".cos-{job.start:012d}.{os.getpid()}.npy"
    np.save(tmp, out)
    os.replace(tmp, events / f"cos-{job.start:012d}.npy")  # whole, even if a retried task wrote it too


def _concat_npy(target: Path, parts: list[Path], dtype: Any) -> None:
    """``target`` = the 1-d arrays ``parts`` end to end, streamed (never held in memory)."""
    maps = [np.load(p, mmap_mode="r") for p in parts]  # only the headers are read
    assert all(m.dtype == dtype and m.ndim == 1 for m in maps)
    where = [(p, m.offset) for p, m in zip(parts, maps)]
    total = sum(len(m) for m in maps)
    del maps
    with open(target, "wb") as out:
        np.lib.format.write_array_header_1_0(
            out, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
                  "shape": (total,)})
        for p, offset in where:
            with open(p, "rb") as f:
                f.seek(offset)
                shutil.copyfileobj(f, out, 1 << 22)


def _concat_rows(events: Path, n_parts: int) -> None:
    parts = [events / f"rows-{k:05d}" for k in range(n_parts)]
    rows = events / EVENT_ROWS
    rows.mkdir()
    _concat_npy(rows / "gid.npy", [p / "gid.npy" for p in parts], np.int32)
    _concat_npy(rows / "weight.npy", [p / "weight.npy" for p in parts], np.float64)
    offs, at = [np.zeros(1, np.int64)], 0
    for p in parts:
        off = np.load(p / "off.npy")
        offs.append(off[1:] + at)
        at += int(off[-1])
    np.save(rows / "off.npy", np.concatenate(offs))
    for p in parts:
        shutil.rmtree(p)


def _cosine_ranges(n_pairs: int, workers: int) -> list[tuple[int, int]]:
    """A few ranges per worker (balance), none tiny (per-task overhead) or huge (memory)."""
    size = min(max(n_pairs // (4 * max(1, workers)) + 1, 100_000), 2_000_000)
    return [(a, min(a + size, n_pairs)) for a in range(0, n_pairs, size)]


@dataclass
class PendingEvents:
    """Same-event clustering under way (:func:`start_event_groups`): the cosines of the
    candidate pairs are being computed by the workers; :meth:`finish` takes them."""

    events: Path  # WORK/events
    n_candidates: int
    ranges: list[tuple[int, int]]  # of the pairs, one per cosine task
    cosines: Iterator[tuple[int, None]]  # the tasks, as they finish
    params: EventParams
    timings: dict[str, float]

    def finish(self, units: list[int], dates: np.ndarray | None = None) -> list[int]:
        """Event label per document (its event's smallest document index), given each
        document's near-duplicate unit (any int per cluster) and, optionally, its record
        date (epoch seconds, NaN when unknown: documents further apart than the window
        are not compared)."""
        clock = time.perf_counter()
        n_pairs = self.ranges[-1][1] if self.ranges else 0
        cos = np.empty(n_pairs, dtype=np.float64)
        for k, _ in self.cosines:
            a, b = self.ranges[k]
            cos[a:b] = np.load(self.events / f"cos-{a:012d}.npy")
        first, second = np.load(self.events / "first.npy"), np.load(self.events / "second.npy")
        self.timings["events_cosines"] = time.perf_counter() - clock
        clock = time.perf_counter()
        doc_unit, unit_sizes = unit_index(units)
        across = np.flatnonzero(doc_unit[first] != doc_unit[second])  # pairs within a unit do not count
        labels = event_labels(doc_unit, unit_sizes, first[across], second[across], cos[across], self.params,
                              dates)
        shutil.rmtree(self.events, ignore_errors=True)
        self.timings["events_linkage"] = time.perf_counter() - clock
        return labels


def start_event_groups(runner: Any, folders: list[Path], work: Path, params: EventParams,
                       timings: dict[str, float]) -> PendingEvents:
    """:func:`~newsclean.dedup.events.event_groups` of the shards' documents (in order),
    from their term counts, with ``runner`` (an :class:`~newsclean.engine.executors.Engine`):
    vocabulary, weights (on the workers) and candidate pairs now; the cosines are left
    running on the workers (all candidate pairs: the near-duplicate clusters need not
    be known yet), so that this process can cluster near-duplicates meanwhile.
    ``timings`` receives the seconds of each step (``events_*``)."""
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[f"events_{name}"] = now - clock
        clock = now

    events = Path(work) / "events"
    shutil.rmtree(events, ignore_errors=True)  # nothing of an interrupted attempt is reused
    events.mkdir(parents=True)
    parts = [load_shard_terms(f, mmap=True) for f in folders]
    ids, n_terms = merge_vocabularies([p.vocab for p in parts])
    sizes = [len(p) for p in parts]
    n = sum(sizes)
    df = document_frequencies([p.df for p in parts], ids, n_terms)
    del parts
    np.save(events / "df.npy", df)
    np.save(events / "idf.npy", inverse_document_frequency(df, n))
    del df
    for k, part_ids in enumerate(ids):
        np.save(events / f"ids-{k:05d}.npy", part_ids)
    del ids
    step("vocabulary")
    starts = np.cumsum([0] + sizes[:-1]).tolist()
    jobs = [WeighJob(str(f), str(events), k, first_doc, params.block_terms)
            for k, (f, first_doc) in enumerate(zip(folders, starts))]
    for _ in runner.map(weigh_shard, jobs):
        pass
    _concat_rows(events, len(jobs))
    step("weigh")
    blocks = [np.load(events / f"blocks-{k:05d}.npy") for k in range(len(jobs))]
    keys = candidate_pairs(np.concatenate([np.zeros(0, np.int64)] + blocks), n, params.max_posting)
    del blocks
    first, second = split_pairs(keys, n)
    np.save(events / "first.npy", first)
    np.save(events / "second.npy", second)
    ranges = _cosine_ranges(len(keys), getattr(runner, "workers", 1))
    cosines = runner.map(pair_cosines_task, [CosineJob(str(events), a, b) for a, b in ranges])
    step("pairs")
    return PendingEvents(events=events, n_candidates=len(keys), ranges=ranges, cosines=cosines, params=params,
                         timings=timings)

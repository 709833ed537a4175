"""The per-shard stages of ``dedup`` / ``run``: pure functions of a shard and the parameters.

:func:`prepare_shard` reads one shard, cleans each record, and leaves in
``WORK/shard-NNNNN/`` everything the global clustering and the final writing need:

* ``features/*.npy`` — :class:`~newsclean.dedup.features.Features` of the accepted records;
* ``meta.npz`` — edits, text length, date, spin score (of texts flagged as spun, else 0),
  stdlib-JSON flag per record;
* ``ids.json`` — the id of each accepted record (``source:line`` when it has none);
* ``records.jsonl.zst`` — the accepted records as they will be archived (cleaned text
  in its field for ``run``);
* ``events/*.npy`` (with events) — :class:`~newsclean.dedup.events.TermCounts`: each
  record's distinct terms and their counts, and the shard's vocabulary (term hashes);
* ``rejects.jsonl`` — reject reports; ``summary.json`` — counts and time.

The folder is built under a temporary name and renamed when complete: its presence
is the shard's completion marker, so an interrupted run resumes where it stopped.

:func:`write_shard` turns a shard's records and their verdicts (``verdicts.json``,
:func:`save_verdicts`) into its part of
``clusters.jsonl``, ``kept.jsonl.gz`` and ``duplicates.jsonl.gz`` (gzip members, which
concatenate into one valid gzip file).  Both run the same anywhere: inline, in a
process pool or on a Dask worker.

:func:`start_event_groups` / :meth:`PendingEvents.finish` do the same-event clustering
of :mod:`.events` over the shards' term counts, with the engine: the global steps
(vocabulary, candidate pairs, linkage) in this process on compact arrays, the
per-document ones (:func:`weigh_shard`: weights and blocking terms, per shard;
:func:`pair_cosines_task`: cosines, per range of candidate pairs) on the workers —
the cosines while this process clusters near-duplicates.  Their files go to
``WORK/events/``; tasks receive paths and ranges, never arrays.
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from .params import DedupParams, record_date
from .events import (
    DocVectors,
    EventParams,
    TermCounter,
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
from .features import Features, document_features

GZIP_LEVEL = 1  # archives: ~14 % larger than level 6 and 3-4x faster to write; recompress at leisure


class StrictStop(Exception):
    """``--strict``: the first bad record stops the run."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason

    def __reduce__(self):  # crosses process boundaries with its two arguments
        return (StrictStop, (self.where, self.reason))


@dataclass(frozen=True)
class StageConfig:
    """Everything a shard's result depends on, besides the shard itself."""

    params: DedupParams
    cleaner: Any
    text_field: str | None = None
    id_field: str | None = None
    max_bytes: int = 64 * 1024 * 1024
    doc_timeout: float | None = 60.0
    strict: bool = False
    cleaned_archive: bool = False
    events: bool = False
    event_name_boost: int = 1  # EventParams.name_boost: the shard's term counts depend on it


@dataclass(frozen=True)
class ShardJob:
    spec: Any  # engine.shards.ShardSpec
    work: str  # the run's work folder
    config: StageConfig


def shard_folder(work: str | Path, index: int) -> Path:
    return Path(work) / f"shard-{index:05d}"


def shard_done(folder: Path, config: StageConfig) -> bool:
    """Whether a shard folder is complete for this run (a folder left by a version that
    kept texts instead of term counts is not)."""
    return (folder / "summary.json").exists() and (not config.events or (folder / "events").is_dir())


def _dumps(obj: Any, stdlib: bool) -> bytes:
    from ..io.writers import dumps_line

    return dumps_line(obj, stdlib=stdlib)


def prepare_shard(job: ShardJob) -> dict[str, Any]:
    """Read, clean and featurise one shard into its folder; returns its summary."""
    import zstandard

    from ..engine.limits import DocTimeout, time_limit
    from ..engine.local import BadRecord, Outcome, find_id, find_text
    from ..engine.shards import read_shard

    cfg = job.config
    final = shard_folder(job.work, job.spec.index)
    if shard_done(final, cfg):
        return json.loads((final / "summary.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    texts: list[str] = []
    ids: list[Any] = []
    edits: list[int] = []
    dates: list[float] = []
    stdlib: list[bool] = []
    spin: list[float] = []
    n_input = n_rejected = 0
    cctx = zstandard.ZstdCompressor(level=3)
    with open(tmp / "records.jsonl.zst", "wb") as rec_raw, open(tmp / "rejects.jsonl", "wb") as rej, \
            cctx.stream_writer(rec_raw) as records:
        for item in read_shard(job.spec, max_bytes=cfg.max_bytes):
            n_input += 1
            fallback = f"{item.source}:{item.line}"
            reason = None
            shown = fallback
            if item.record is None:
                reason = item.error or "unreadable record"
            else:
                id_name, id_value = find_id(item.record, cfg.id_field)
                shown = fallback if id_name is None else str(id_value)
                try:
                    field_name, text = find_text(item.record, cfg.text_field)
                    with time_limit(cfg.doc_timeout):
                        result = cfg.cleaner.clean(text)
                except BadRecord as e:
                    reason = e.reason
                except DocTimeout as e:
                    reason = f"cleaning {e} (--doc-timeout)"
                except Exception as e:  # a cleaning bug must not take the run down
                    reason = f"cleaning failed: {type(e).__name__}: {e}"
            if reason is not None:
                if cfg.strict:
                    raise StrictStop(fallback, reason)
                rej.write(_dumps(Outcome(item, shown, reason=reason).reject_record(), False))
                n_rejected += 1
                continue
            rec = item.record
            if cfg.cleaned_archive:
                rec = dict(rec)
                rec[field_name] = result.text
            records.write(_dumps(rec, item.stdlib_json))
            texts.append(result.text)
            ids.append(id_value if id_name is not None else fallback)
            edits.append(len(result.edits))
            spin.append(result.spun_score)
            d = record_date(item.record)
            dates.append(np.nan if d is None else d)
            stdlib.append(item.stdlib_json)
    terms = TermCounter(cfg.event_name_boost) if cfg.events else None
    features = document_features(texts, cfg.params, on_tokens=terms.add if terms is not None else None)
    features.save(tmp / "features")
    np.savez(tmp / "meta.npz", edits=np.array(edits, dtype=np.int64),
             length=np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)),
             date=np.array(dates, dtype=np.float64), spin=np.array(spin, dtype=np.float64),
             stdlib=np.array(stdlib, dtype=bool))
    (tmp / "ids.json").write_bytes(_dumps(ids, any(stdlib)))
    if terms is not None:
        terms.counts().save(tmp / "events")
    summary = {"shard": job.spec.index, "input_records": n_input, "accepted": len(texts),
               "rejected": n_rejected, "seconds": round(time.perf_counter() - started, 4)}
    (tmp / "summary.json").write_text(json.dumps(summary) + "\n", encoding="utf-8")
    if final.exists() and not shard_done(final, cfg):
        shutil.rmtree(final, ignore_errors=True)  # debris of an attempt that never completed
    try:
        os.rename(tmp, final)  # the completion marker
    except OSError:
        if not (final / "summary.json").exists():
            raise
        # another attempt at this shard (a retried task) finished first: same result
        shutil.rmtree(tmp, ignore_errors=True)
    return summary


def read_lines_zst(path: Path) -> list[bytes]:
    import zstandard

    with open(path, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as r:
        data = r.read()
    lines = data.split(b"\n")
    return lines[:-1] if lines and lines[-1] == b"" else lines


def load_shard_meta(folder: Path) -> tuple[list[Any], dict[str, np.ndarray]]:
    ids = json.loads((folder / "ids.json").read_bytes())
    with np.load(folder / "meta.npz", allow_pickle=False) as z:
        meta = {k: z[k] for k in z.files}
    return ids, meta


def load_shard_features(folder: Path, mmap: bool = False) -> Features:
    return Features.load(folder / "features", mmap=mmap)


def load_shard_terms(folder: Path, mmap: bool = False) -> TermCounts:
    return TermCounts.load(folder / "events", mmap=mmap)


def save_verdicts(folder: Path, cluster: list[str], duplicate_of: list[str | None], similarity: list[float],
                  event: list[str] | None, contains: dict[int, list[str]] | None = None) -> None:
    """The verdicts on a shard's records (``event`` None without events; ``contains``: the
    names each composite page holds, by position in the shard), for :func:`write_shard`:
    in its folder, so that the task carries a path, not the data."""
    doc = {"cluster": cluster, "duplicate_of": duplicate_of, "similarity": similarity, "event": event,
           "contains": {str(k): v for k, v in (contains or {}).items()}}
    # cluster names are record ids, which may hold a lone surrogate ("\ud800" in the input):
    # orjson refuses those, the stdlib writes them escaped (as ids.json does)
    (folder / "verdicts.json").write_bytes(_dumps(doc, False))


@dataclass(frozen=True)
class WriteJob:
    folder: str  # a shard folder with its verdicts.json (save_verdicts)


def write_shard(job: WriteJob) -> dict[str, int]:
    """This shard's part of clusters.jsonl, kept.jsonl.gz and duplicates.jsonl.gz (in its folder)."""
    folder = Path(job.folder)
    ids, meta = load_shard_meta(folder)
    stdlib = meta["stdlib"]
    lines = read_lines_zst(folder / "records.jsonl.zst")
    raw = (folder / "verdicts.json").read_bytes()
    try:
        verdicts = orjson.loads(raw)
    except orjson.JSONDecodeError:  # an escaped lone surrogate in an id (see save_verdicts)
        verdicts = json.loads(raw)
    cluster, duplicate_of, similarity, event = (verdicts[k] for k in ("cluster", "duplicate_of", "similarity", "event"))
    contains = verdicts.get("contains") or {}
    events = event is not None
    clusters, kept, dups = bytearray(), bytearray(), bytearray()
    n_kept = n_dup = 0
    for i, line in enumerate(lines):
        flag = bool(stdlib[i])
        row = {"id": ids[i], "cluster": cluster[i], "duplicate_of": duplicate_of[i],
               "similarity": similarity[i]}
        rec = json.loads(line) if flag else orjson.loads(line)
        rec["cluster"] = cluster[i]
        held = contains.get(str(i))
        if held is not None:  # a page that holds several stories: routed by users
            row["composite"] = rec["composite"] = True
            row["contains"] = rec["contains"] = held
        if events:
            row["event"] = event[i]
            rec["event"] = event[i]
        clusters += _dumps(row, flag)
        if duplicate_of[i] is None:
            kept += _dumps(rec, flag)
            n_kept += 1
        else:
            rec["duplicate_of"] = duplicate_of[i]
            rec["similarity"] = similarity[i]
            dups += _dumps(rec, flag)
            n_dup += 1
    parts = {"part.clusters": bytes(clusters),
             "part.kept.gz": gzip.compress(bytes(kept), GZIP_LEVEL, mtime=0) if kept else b"",
             "part.duplicates.gz": gzip.compress(bytes(dups), GZIP_LEVEL, mtime=0) if dups else b""}
    for name, data in parts.items():
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)
    return {"kept": n_kept, "duplicates": n_dup}


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

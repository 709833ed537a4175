"""The ``newsclean dedup`` driver: read, reject, clean, cluster, write OUTDIR.

Outputs (all atomic; identical input gives byte-identical clusters/kept/duplicates;
``stats.json`` differs only in its ``timings``):

* ``clusters.jsonl`` — one line per accepted record, input order: id, cluster,
  duplicate_of, similarity (+ event);
* ``kept.jsonl.gz`` — survivors as they came, plus ``cluster`` (and ``event``);
* ``duplicates.jsonl.gz`` — the other records as they came, plus ``cluster``,
  ``duplicate_of``, ``similarity`` (and ``event``);
* ``rejects.jsonl`` — records that could not be read or have no usable text, with
  source, line, id, reason and raw text (always created, possibly empty);
* ``stats.json`` — counts, cluster size histogram, timings, parameters;
* ``index/`` — what ``--against OUTDIR`` needs to deduplicate a later batch against
  this run (:mod:`.index`): every record's name, cluster, exact-text digest, MinHash
  signatures and shingle sets, and the parameters.

With ``against`` (a previous run's OUTDIR, same parameters), the new records are also
compared with that run's index: one that matches an archived record joins its cluster
(the archived survivor stays the survivor).  The outputs cover the new records only;
``index/`` holds the previous records and the new ones, so runs chain.  Events are
computed within the new batch.

The stages, on the engine's workers where they are per shard (:mod:`.stages`):
shards (read, clean, featurise, count event terms) -> event weights and candidate
pairs, whose cosines the workers compute while this process clusters near-duplicates
-> event linkage -> each shard's part of the outputs.  This process only holds
compact arrays: features (memory-mapped while copied), verdicts, event pairs.
"""
from __future__ import annotations

import gzip
import os
import resource
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from . import ClusterInfo, DedupParams, EventParams
from .core import DocMeta, cluster_features, unique_names
from .index import empty_index, load_index, write_index
from .stages import (
    ShardJob,
    StageConfig,
    StrictStop,
    WriteJob,
    load_shard_features,
    load_shard_meta,
    prepare_shard,
    save_verdicts,
    shard_done,
    shard_folder,
    start_event_groups,
    write_shard,
)

OUTPUT_NAMES = ("clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz", "rejects.jsonl", "stats.json")
STOP_AFTER_ENV = "NEWSCLEAN_STOP_AFTER_SHARDS"  # tests: die abruptly after N shards, to test resuming

__all__ = ["OUTPUT_NAMES", "DedupStats", "StrictStop", "run_dedup"]


@dataclass
class DedupStats:
    input_records: int = 0
    kept: int = 0
    duplicates: int = 0
    rejected: int = 0
    clusters: int = 0
    events: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    resumed_shards: int = 0

    @property
    def balanced(self) -> bool:
        return self.input_records == self.kept + self.duplicates + self.rejected


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def _concat_into(target: Path, parts: list[Path], empty: bytes = b"") -> None:
    """``target`` = the parts' bytes in order, written atomically."""
    tmp = target.with_name(f".{target.name}.tmp")
    wrote = 0
    with open(tmp, "wb") as out:
        for p in parts:
            with open(p, "rb") as f:
                wrote += shutil.copyfileobj(f, out, 1 << 20) or p.stat().st_size
        if not wrote and empty:
            out.write(empty)
    os.replace(tmp, target)


def run_dedup(
    files: list[Any],
    outdir: Path,
    *,
    events: bool = False,
    keep: str = "cleanest",
    params: DedupParams | None = None,
    event_params: EventParams | None = None,
    text_field: str | None = None,
    id_field: str | None = None,
    max_bytes: int = 64 * 1024 * 1024,
    strict: bool = False,
    cleaner: Any = None,
    cleaned_archive: bool = False,
    doc_timeout: float | None = 60.0,
    against: Path | None = None,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    force: bool = False,
    rejects_path: Path | None = None,
    shard_bytes: int | None = None,
    keep_work: bool = False,
    progress: Any = None,
) -> tuple[DedupStats, dict[str, Any]]:
    """Run the whole command; returns the stats and the stats.json document.

    With ``cleaned_archive`` (``newsclean run``) the archived records carry their
    cleaned text, in the field it was read from.  Raises
    :class:`~newsclean.engine.manifest.RunConflict` when OUTDIR holds another run and
    ``force`` is not set, :class:`StrictStop` on a bad record with ``strict``.
    """
    from ..engine.executors import Engine
    from ..engine.manifest import WORK, describe_inputs, open_run, write_manifest
    from ..engine.shards import DEFAULT_SHARD_BYTES, plan_shards, spool_stdin

    if cleaner is None:
        from ..clean.pipeline import Cleaner

        cleaner = Cleaner()
    params = params or DedupParams()
    event_params = event_params or EventParams()
    shard_bytes = shard_bytes or DEFAULT_SHARD_BYTES
    # before reading anything: a mismatching index raises IndexMismatch
    previous = load_index(against, params, keep) if against is not None else None
    started = time.perf_counter()
    outdir.mkdir(parents=True, exist_ok=True)
    spool = outdir / ".stdin.input"
    files = spool_stdin(files, spool.parent, spool.name)
    inputs = describe_inputs(files)
    for f, entry in zip(files, inputs):
        if f.path is not None and Path(f.path) == spool:
            import hashlib

            h = hashlib.sha256()
            with open(spool, "rb") as fh:
                while block := fh.read(1 << 20):
                    h.update(block)
            entry.update(path="<stdin>", digest=h.hexdigest())
    config = StageConfig(params=params, cleaner=cleaner, text_field=text_field, id_field=id_field,
                         max_bytes=max_bytes, doc_timeout=doc_timeout, strict=strict,
                         cleaned_archive=cleaned_archive, events=events,
                         event_name_boost=event_params.name_boost)
    settings = {
        "dedup": asdict(params), "keep": keep, "events": events,
        "event": asdict(event_params) if events else None, "cleaned_archive": cleaned_archive,
        "text_field": text_field, "id_field": id_field, "max_bytes": max_bytes, "doc_timeout": doc_timeout,
        "strict": strict, "cleaner": repr(cleaner),
        "spin_table": (cleaner.spin_table.fingerprint() if getattr(cleaner, "spin_table", None) is not None
                       else None),
        "against": str(Path(against).resolve()) if against is not None else None, "shard_bytes": shard_bytes,
    }
    command = "run" if cleaned_archive else "dedup"
    manifest, _ = open_run(outdir, command, inputs, settings, force=force, owned=OUTPUT_NAMES)
    work = outdir / WORK
    work.mkdir(exist_ok=True)
    stats = DedupStats()

    # 1. shards: read, clean, featurise (skipping those a previous attempt finished)
    specs = plan_shards(files, shard_bytes)
    jobs = [ShardJob(spec, str(work), config) for spec in specs]
    todo = [j for j in jobs if not shard_done(shard_folder(work, j.spec.index), config)]
    stats.resumed_shards = len(jobs) - len(todo)
    stop_after = int(os.environ.get(STOP_AFTER_ENV) or 0)
    # one pool (or Dask cluster) for both mapped stages: workers start once
    with Engine(workers, engine, scheduler) as runner:
        for finished, (_, summary) in enumerate(runner.map(prepare_shard, todo), 1):
            if progress is not None:
                progress(summary)
            if stop_after and finished >= stop_after:
                os._exit(137)  # as if killed: no cleanup, no outputs
        stats.timings["shards"] = time.perf_counter() - started
        folders = [shard_folder(work, j.spec.index) for j in jobs]
        pending_events, event_seconds = None, 0.0
        if events:  # started first: the workers compute its cosines while this process clusters
            t = time.perf_counter()
            pending_events = start_event_groups(runner, folders, work, event_params, stats.timings)
            event_seconds = time.perf_counter() - t

        # 2. the clustering over every shard's features
        t = time.perf_counter()
        ids: list[Any] = []
        metas = []
        counts = []
        import json

        for folder in folders:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            stats.input_records += summary["input_records"]
            stats.rejected += summary["rejected"]
            shard_ids, meta = load_shard_meta(folder)
            ids.extend(shard_ids)
            metas.append(meta)
            counts.append(summary["accepted"])
        from .features import concat_features

        feat = concat_features([partial(load_shard_features, f, mmap=True) for f in folders], params.num_perm)
        taken = set(previous.names) if previous is not None else ()
        names = unique_names(ids, taken=taken)

        def stacked(key: str, dtype: Any) -> np.ndarray:
            return np.concatenate([m[key] for m in metas]) if metas else np.zeros(0, dtype)

        meta = DocMeta(names=names, ids=ids, edits=stacked("edits", np.int64), length=stacked("length", np.int64),
                       date=stacked("date", np.float64), spin=stacked("spin", np.float64))
        metas = []  # the per-shard arrays are in meta now
        stats.timings["load"] = time.perf_counter() - t
        info = ClusterInfo()
        verdicts = cluster_features(feat, meta, keep=keep, params=params, info=info, previous=previous,
                                    build_index=True)
        stats.timings.update(info.timings)
        t = time.perf_counter()
        write_index(outdir, previous if previous is not None else empty_index(params, keep), info.index)
        info.index = None
        del feat  # the largest structure: gone before the outputs are written
        stats.timings["index"] = time.perf_counter() - t
        n = len(names)
        cluster_names = [verdicts.name_of(g) for g in verdicts.survivor.tolist()]
        similarity = [round(float(x), 4) for x in verdicts.similarity.tolist()]
        event_names: list[str] | None = None
        if pending_events is not None:
            t = time.perf_counter()
            from .events import event_names as name_events

            first: dict[str, int] = {}
            units = [first.setdefault(c, i) for i, c in enumerate(cluster_names)]
            del first
            labels = pending_events.finish(units, dates=meta.date)
            del units
            info.event_candidates = pending_events.n_candidates
            event_names = name_events(labels, cluster_names)
            stats.timings["events"] = event_seconds + time.perf_counter() - t

        # 3. each shard's part of the outputs, then the parts in order
        t = time.perf_counter()
        write_jobs = []
        at = 0
        for folder, c in zip(folders, counts):
            sl = slice(at, at + c)
            own = [names[i] for i in range(at, at + c)]
            save_verdicts(folder, cluster=cluster_names[sl],
                          duplicate_of=[None if cn == me else cn for cn, me in zip(cluster_names[sl], own)],
                          similarity=similarity[sl], event=event_names[sl] if event_names is not None else None,
                          contains={i - at: verdicts.contained_names(i) for i in verdicts.contains if at <= i < at + c})
            write_jobs.append(WriteJob(str(folder)))
            at += c
        for _, r in runner.map(write_shard, write_jobs):
            stats.kept += r["kept"]
            stats.duplicates += r["duplicates"]
        _concat_into(outdir / "clusters.jsonl", [f / "part.clusters" for f in folders])
        _concat_into(outdir / "kept.jsonl.gz", [f / "part.kept.gz" for f in folders], gzip.compress(b"", mtime=0))
        _concat_into(outdir / "duplicates.jsonl.gz", [f / "part.duplicates.gz" for f in folders],
                     gzip.compress(b"", mtime=0))
        rejects_target = rejects_path or outdir / "rejects.jsonl"
        rejects_target.parent.mkdir(parents=True, exist_ok=True)
        _concat_into(rejects_target, [f / "rejects.jsonl" for f in folders])
        sizes = Counter(cluster_names)
        stats.clusters = len(sizes)
        if events:
            stats.events = len(set(event_names or ()))
        stats.timings["write"] = time.perf_counter() - t
        stats.timings["total"] = time.perf_counter() - started
        hist = Counter(sizes.values())
        doc = {
            "input_records": stats.input_records,
            "kept": stats.kept,
            "duplicates": stats.duplicates,
            "rejected": stats.rejected,
            "balanced": stats.balanced,
            "clusters": stats.clusters,
            "events": stats.events,
            "cluster_size_histogram": {str(k): hist[k] for k in sorted(hist)},
            "exact_duplicate_groups": info.exact_groups,
            "short_documents": info.short_docs,
            "lsh_candidate_pairs": info.candidates,
            "verified_pairs": info.verified,
            "composite_pages": info.composite_pages,
            "min_removed_similarity": info.min_similarity,
            "event_candidate_pairs": info.event_candidates if events else None,
            "against": str(against) if against is not None else None,
            "previous_records": previous.size if previous is not None else 0,
            "joined_previous": info.joined_previous,
            "rejects_file": str(rejects_path) if rejects_path is not None else "rejects.jsonl",
            "shards": len(jobs),
            "resumed_shards": stats.resumed_shards,
            "parameters": {"keep": keep, "events": events, "cleaned_archive": cleaned_archive, **asdict(params),
                           **({"event_" + k: v for k, v in asdict(event_params).items()} if events else {})},
            "run": {"workers": workers, "engine": engine, "scheduler": scheduler},
            # measurements of this machine and run (the rest of the file is determined by the inputs)
            "timings": {**{k: round(v, 4) for k, v in stats.timings.items()}, "peak_rss_mb": _peak_rss_mb()},
        }
        import orjson

        tmp = outdir / ".stats.json.tmp"
        tmp.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
        os.replace(tmp, outdir / "stats.json")
        manifest["status"] = "complete"
        write_manifest(outdir, manifest)
        if not keep_work:
            shutil.rmtree(work, ignore_errors=True)
        spool.unlink(missing_ok=True)
        assert n == stats.kept + stats.duplicates
        return stats, doc

"""The per-shard stages of ``dedup`` / ``run``: pure functions of a shard and the parameters.

:func:`prepare_shard` reads one shard, cleans each record, and leaves in
``WORK/shard-NNNNN/`` everything the global clustering and the final writing need:

* ``features/*.npy`` — :class:`~newsclean.dedup.features.Features` of the accepted records;
* ``meta.npz`` — edits, text length, date, spin score, stdlib-JSON flag per record;
* ``ids.json`` — the id of each accepted record (``source:line`` when it has none);
* ``records.jsonl.zst`` — the accepted records as they will be archived (cleaned text
  in its field for ``run``), ``texts.jsonl.zst`` — their cleaned texts (with events);
* ``rejects.jsonl`` — reject reports; ``summary.json`` — counts and time.

The folder is built under a temporary name and renamed when complete: its presence
is the shard's completion marker, so an interrupted run resumes where it stopped.

:func:`write_shard` turns a shard's records and their verdicts into its part of
``clusters.jsonl``, ``kept.jsonl.gz`` and ``duplicates.jsonl.gz`` (gzip members, which
concatenate into one valid gzip file).  Both run the same anywhere: inline, in a
process pool or on a Dask worker.
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from .core import DedupParams, record_date
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


@dataclass(frozen=True)
class ShardJob:
    spec: Any  # engine.shards.ShardSpec
    work: str  # the run's work folder
    config: StageConfig


def shard_folder(work: str | Path, index: int) -> Path:
    return Path(work) / f"shard-{index:05d}"


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
    if (final / "summary.json").exists():
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
            d = record_date(item.record)
            dates.append(np.nan if d is None else d)
            stdlib.append(item.stdlib_json)
    features = document_features(texts, cfg.params)
    features.save(tmp / "features")
    np.savez(tmp / "meta.npz", edits=np.array(edits, dtype=np.int64),
             length=np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)),
             date=np.array(dates, dtype=np.float64), spin=np.zeros(len(texts), dtype=np.float64),
             stdlib=np.array(stdlib, dtype=bool))
    (tmp / "ids.json").write_bytes(_dumps(ids, any(stdlib)))
    if cfg.events:
        with open(tmp / "texts.jsonl.zst", "wb") as raw, cctx.stream_writer(raw) as out:
            for t in texts:
                out.write(_dumps(t, False))
    summary = {"shard": job.spec.index, "input_records": n_input, "accepted": len(texts),
               "rejected": n_rejected, "seconds": round(time.perf_counter() - started, 4)}
    (tmp / "summary.json").write_text(json.dumps(summary) + "\n", encoding="utf-8")
    if final.exists() and not (final / "summary.json").exists():
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


def load_shard_texts(folder: Path) -> list[str]:
    return [orjson.loads(line) for line in read_lines_zst(folder / "texts.jsonl.zst")]


@dataclass(frozen=True)
class WriteJob:
    folder: str
    cluster: list[str]
    duplicate_of: list[str | None]
    similarity: list[float]
    event: list[str] | None  # None without --events


def write_shard(job: WriteJob) -> dict[str, int]:
    """This shard's part of clusters.jsonl, kept.jsonl.gz and duplicates.jsonl.gz (in its folder)."""
    folder = Path(job.folder)
    ids, meta = load_shard_meta(folder)
    stdlib = meta["stdlib"]
    lines = read_lines_zst(folder / "records.jsonl.zst")
    events = job.event is not None
    clusters, kept, dups = bytearray(), bytearray(), bytearray()
    n_kept = n_dup = 0
    for i, line in enumerate(lines):
        flag = bool(stdlib[i])
        row = {"id": ids[i], "cluster": job.cluster[i], "duplicate_of": job.duplicate_of[i],
               "similarity": job.similarity[i]}
        rec = json.loads(line) if flag else orjson.loads(line)
        rec["cluster"] = job.cluster[i]
        if events:
            row["event"] = job.event[i]
            rec["event"] = job.event[i]
        clusters += _dumps(row, flag)
        if job.duplicate_of[i] is None:
            kept += _dumps(rec, flag)
            n_kept += 1
        else:
            rec["duplicate_of"] = job.duplicate_of[i]
            rec["similarity"] = job.similarity[i]
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

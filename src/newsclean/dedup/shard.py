"""The per-shard steps of ``dedup`` / ``run``: pure functions of a shard and the configuration.

:func:`prepare_shard` reads one shard, cleans each record
(:func:`~newsclean.records.clean_record`), and leaves in ``WORK/shard-NNNNN/``
everything the global clustering and the final writing need:

* ``features/*.npy`` — :class:`~newsclean.dedup.features.Features` of the accepted records;
* ``meta.npz`` — edits, text length, date, spin score (of texts flagged as spun, else 0),
  stdlib-JSON flag per record;
* ``ids.json`` — the id of each accepted record (``source:line`` when it has none);
* ``records.jsonl.zst`` — the accepted records as they will be archived (cleaned text
  in its field for ``run``);
* ``events/*.npy`` (with events) — :class:`~newsclean.dedup.events.TermCounts`: each
  record's distinct terms and their counts, and the shard's vocabulary (term hashes);
* ``rejects.jsonl`` — reject reports; ``summary.json`` — counts and time;
* ``cleaning.json`` — site boilerplate lines removed, records cut down
  (:func:`shard_cleaning`); ``report-samples.json`` — what the report shows of the
  cleaning (:class:`~newsclean.report.ReportSamples`).

With ``--boilerplate auto`` each record is cleaned with what the ``sites`` step
learned of its site (``WORK/sites/``, :mod:`.sites`): its boilerplate lines removed,
its lost dashes restored in the site's style.

The folder is built under a temporary name and renamed when complete: its presence
is the shard's completion marker, so an interrupted run resumes where it stopped.

:func:`write_shard` turns a shard's records and their verdicts (``verdicts.json``,
:func:`save_verdicts`) into its part of ``clusters.jsonl``, ``kept.jsonl.gz`` and
``duplicates.jsonl.gz`` (gzip members, which concatenate into one valid gzip file).
Both run the same anywhere: inline, in a process pool or on a Dask worker; a task
carries the shard, the run's :class:`~newsclean.config.Config` and its cleaner,
never data.  The event steps over the shards are in :mod:`.stages`.
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import zstandard

from ..config import Config
from ..engine.shards import ShardSpec, read_shard
from ..io.html import tables as html_tables
from ..io.jsonl import dumps_line
from ..records import KEPT_FIELD, Accepted, StrictStop, clean_record, find_text
from .events import TermCounter
from .features import Features, document_features
from .params import record_date

GZIP_LEVEL = 1  # archives: ~14 % larger than level 6 and 3-4x faster to write; recompress at leisure
# the columns of verdicts.json; contains: the names a composite page holds (None for others)
VERDICTS = ("cluster", "duplicate_of", "similarity", "event", "contains")


@dataclass(frozen=True)
class ShardJob:
    spec: ShardSpec
    work: str  # the run's work folder
    config: Config
    cleaner: Any  # the run's Cleaner (config.clean's, or the caller's own)


def shard_folder(work: str | Path, index: int) -> Path:
    return Path(work) / f"shard-{index:05d}"


def shard_done(folder: Path, config: Config) -> bool:
    """Whether a shard folder is complete for this run (a folder left by a version that
    kept texts instead of term counts is not)."""
    return (folder / "summary.json").exists() and (config.dedup.events is None or (folder / "events").is_dir())


@dataclass
class _Accepted:
    """The columns of a shard's accepted records, in order."""

    texts: list[str] = field(default_factory=list)
    ids: list[Any] = field(default_factory=list)
    edits: list[int] = field(default_factory=list)
    dates: list[float] = field(default_factory=list)
    stdlib: list[bool] = field(default_factory=list)
    spin: list[float] = field(default_factory=list)

    def add(self, accepted: Accepted) -> None:
        self.texts.append(accepted.after)
        self.ids.append(accepted.id_value if accepted.id_field is not None else accepted.id)
        self.edits.append(len(accepted.edits))
        self.spin.append(accepted.result.spun_score)
        assert accepted.item.record is not None
        date = record_date(accepted.item.record)
        self.dates.append(np.nan if date is None else date)
        self.stdlib.append(accepted.item.stdlib_json)


class _Cleaning:
    """What a shard's cleaning did beyond its records: report samples, site boilerplate
    removed, records cut down."""

    def __init__(self) -> None:
        from ..clean.boilerplate import BoilerplateStats
        from ..report import ReportSamples

        self.samples = ReportSamples()
        self.boilerplate_lines = BoilerplateStats()
        self.boilerplate_records = self.cut_down = 0

    def add(self, accepted: Accepted) -> None:
        self.samples.offer(accepted.id, accepted.before, accepted.after, accepted.edits, accepted.result.spin)
        self.boilerplate_records += self.boilerplate_lines.add(accepted.edits) > 0
        self.cut_down += accepted.cut_down is not None

    def save(self, folder: Path) -> None:
        from ..report import SAMPLES_NAME, write_samples

        write_samples(self.samples, folder / SAMPLES_NAME)
        doc = {"cut_down": self.cut_down, "boilerplate_records": self.boilerplate_records,
               "boilerplate_lines": dict(self.boilerplate_lines)}
        (folder / "cleaning.json").write_text(json.dumps(doc, ensure_ascii=True) + "\n", encoding="ascii")


def shard_cleaning(folder: Path) -> dict[str, Any]:
    """A prepared shard's ``cleaning.json``: ``cut_down``, ``boilerplate_records`` and
    ``boilerplate_lines`` (each removed line and how often)."""
    return json.loads((folder / "cleaning.json").read_text(encoding="ascii"))


def prepare_shard(job: ShardJob) -> dict[str, Any]:
    """Read, clean and featurise one shard into its folder; returns its summary."""
    final = shard_folder(job.work, job.spec.index)
    if shard_done(final, job.config):
        return json.loads((final / "summary.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    cleaning = _Cleaning()
    with html_tables(job.config.read.html_tables):
        accepted, n_input, n_rejected = _clean_shard(job, tmp, cleaning)
    cleaning.save(tmp)
    _save_features(accepted, job.config, tmp)
    summary = {"shard": job.spec.index, "input_records": n_input, "accepted": len(accepted.texts),
               "rejected": n_rejected, "seconds": round(time.perf_counter() - started, 4)}
    (tmp / "summary.json").write_text(json.dumps(summary) + "\n", encoding="utf-8")
    _publish(tmp, final, job.config)
    return summary


def _clean_shard(job: ShardJob, folder: Path, cleaning: _Cleaning) -> tuple[_Accepted, int, int]:
    """Clean the shard's records into ``records.jsonl.zst`` and ``rejects.jsonl``; returns
    the columns of the accepted ones and the counts of records read and rejected."""
    from .sites import load_sites

    read, dedup = job.config.read, job.config.dedup
    cleaner = job.cleaner
    sites = load_sites(job.work) if job.config.clean.boilerplate != "off" else None
    if sites is not None and hasattr(cleaner, "with_sites"):
        cleaner = cleaner.with_sites(sites)
    accepted = _Accepted()
    n_input = n_rejected = 0
    compressor = zstandard.ZstdCompressor(level=3)
    with open(folder / "records.jsonl.zst", "wb") as records_raw, open(folder / "rejects.jsonl", "wb") as rejects, \
            compressor.stream_writer(records_raw) as records:
        for item in read_shard(job.spec, max_bytes=read.max_bytes):
            n_input += 1
            outcome = clean_record(item, cleaner, text_field=read.text_field, id_field=read.id_field,
                                   doc_timeout=read.doc_timeout)
            if outcome.rejected:
                if read.strict:
                    raise StrictStop(f"{item.source}:{item.line}", outcome.reason, "; nothing written")
                rejects.write(dumps_line(outcome.reject_record(), stdlib=False))
                n_rejected += 1
                continue
            record = item.record
            if dedup.cleaned_archive:
                record = {**record, outcome.text_field: outcome.after}
            if outcome.cut_down is not None:  # never silently
                record = {**record, KEPT_FIELD: outcome.cut_down}
            records.write(dumps_line(record, stdlib=item.stdlib_json))
            accepted.add(outcome)
            cleaning.add(outcome)
    return accepted, n_input, n_rejected


def _save_features(accepted: _Accepted, config: Config, folder: Path) -> None:
    """Signatures and shingle sets, per-record metadata, ids and (with events) term counts."""
    events = config.dedup.events
    terms = TermCounter(events.name_boost) if events is not None else None
    features = document_features(accepted.texts, config.dedup.params,
                                 on_tokens=terms.add if terms is not None else None)
    features.save(folder / "features")
    texts = accepted.texts
    np.savez(folder / "meta.npz", edits=np.array(accepted.edits, dtype=np.int64),
             length=np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)),
             date=np.array(accepted.dates, dtype=np.float64), spin=np.array(accepted.spin, dtype=np.float64),
             stdlib=np.array(accepted.stdlib, dtype=bool))
    (folder / "ids.json").write_bytes(dumps_line(accepted.ids, stdlib=any(accepted.stdlib)))
    save_texts(accepted.texts, folder / TEXTS)
    if terms is not None:
        terms.counts().save(folder / "events")


def _publish(tmp: Path, final: Path, config: Config) -> None:
    """Rename the finished folder into place: the shard's completion marker."""
    if final.exists() and not shard_done(final, config):
        shutil.rmtree(final, ignore_errors=True)  # debris of an attempt that never completed
    try:
        os.rename(tmp, final)
    except OSError:
        if not (final / "summary.json").exists():
            raise
        # another attempt at this shard (a retried task) finished first: same result
        shutil.rmtree(tmp, ignore_errors=True)


TEXTS = "texts.jsonl.zst"  # each accepted record's cleaned text, one JSON string a line


def save_texts(texts: list[str], path: Path) -> None:
    """The cleaned texts (a spin table learned later reads and restores them)."""
    lines = b"".join(dumps_line(text) for text in texts)  # a lone surrogate is written escaped
    path.write_bytes(zstandard.ZstdCompressor(level=1).compress(lines))


def load_texts(folder: Path) -> list[str]:
    return [json.loads(line) for line in read_lines_zst(folder / TEXTS)]


def read_lines_zst(path: Path) -> list[bytes]:
    with open(path, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as reader:
        data = reader.read()
    lines = data.split(b"\n")
    return lines[:-1] if lines and lines[-1] == b"" else lines


def load_shard_meta(folder: Path) -> tuple[list[Any], dict[str, np.ndarray]]:
    ids = json.loads((folder / "ids.json").read_bytes())
    with np.load(folder / "meta.npz", allow_pickle=False) as arrays:
        meta = {k: arrays[k] for k in arrays.files}
    return ids, meta


def load_shard_features(folder: Path, mmap: bool = False) -> Features:
    return Features.load(folder / "features", mmap=mmap)


def save_verdicts(folder: Path, verdicts: dict[str, list[Any] | None]) -> None:
    """The verdicts on a shard's records (the :data:`VERDICTS` columns; ``event`` None
    without events), for :func:`write_shard`: in its folder, so that the task carries a
    path, not the data."""
    doc = {name: verdicts.get(name) for name in VERDICTS}
    # cluster names are record ids, which may hold a lone surrogate ("\ud800" in the input):
    # orjson refuses those, the stdlib writes them escaped (as ids.json does)
    (folder / "verdicts.json").write_bytes(dumps_line(doc, stdlib=False))


@dataclass(frozen=True)
class WriteJob:
    folder: str  # a shard folder with its verdicts.json (save_verdicts)
    spin_table: str | None = None  # run: a table the run learned, to restore the archived texts with
    cleaner: Any = None  # ... as this cleaner restores (its own table beside, its mode, its model)
    text_field: str | None = None


def write_shard(job: WriteJob) -> dict[str, int]:
    """This shard's part of clusters.jsonl, kept.jsonl.gz and duplicates.jsonl.gz (in its folder)."""
    folder = Path(job.folder)
    ids, meta = load_shard_meta(folder)
    stdlib = meta["stdlib"]
    lines = read_lines_zst(folder / "records.jsonl.zst")
    restored, spin_counts = _restored_texts(job, folder)
    raw = (folder / "verdicts.json").read_bytes()
    try:
        verdicts = orjson.loads(raw)
    except orjson.JSONDecodeError:  # an escaped lone surrogate in an id (see save_verdicts)
        verdicts = json.loads(raw)
    cluster, duplicate_of, similarity, event, contains = (verdicts[k] for k in VERDICTS)
    contains = contains or [None] * len(lines)
    clusters, kept, duplicates = bytearray(), bytearray(), bytearray()
    n_kept = n_duplicates = 0
    for i, line in enumerate(lines):
        flag = bool(stdlib[i])
        row = {"id": ids[i], "cluster": cluster[i], "duplicate_of": duplicate_of[i], "similarity": similarity[i]}
        record = json.loads(line) if flag else orjson.loads(line)
        if restored is not None:
            record[find_text(record, job.text_field)[0]] = restored[i]
        record["cluster"] = cluster[i]
        if contains[i] is not None:  # a page that holds several stories: users route it
            row["composite"] = record["composite"] = True
            row["contains"] = record["contains"] = contains[i]
        if event is not None:
            row["event"] = event[i]
            record["event"] = event[i]
        clusters += dumps_line(row, stdlib=flag)
        if duplicate_of[i] is None:
            kept += dumps_line(record, stdlib=flag)
            n_kept += 1
        else:
            record["duplicate_of"] = duplicate_of[i]
            record["similarity"] = similarity[i]
            duplicates += dumps_line(record, stdlib=flag)
            n_duplicates += 1
    parts = {"part.clusters": bytes(clusters),
             "part.kept.gz": gzip.compress(bytes(kept), GZIP_LEVEL, mtime=0) if kept else b"",
             "part.duplicates.gz": gzip.compress(bytes(duplicates), GZIP_LEVEL, mtime=0) if duplicates else b""}
    for name, data in parts.items():
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)
    return {"kept": n_kept, "duplicates": n_duplicates, **spin_counts}


def _restored_texts(job: WriteJob, folder: Path) -> tuple[list[str] | None, dict[str, int]]:
    """With a learned table, every cleaned text restored with it (None without one)."""
    if job.spin_table is None:
        return None, {}
    from .unspin import restore_texts

    texts, flagged, words = restore_texts(load_texts(folder), job.spin_table, job.cleaner)
    return texts, {"spin_flagged": flagged, "spin_words_restored": words}

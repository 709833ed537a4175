"""The ``newsclean dedup`` / ``run`` driver: named, timed steps from the inputs to OUTDIR.

:func:`run_dedup` reads as its steps (each timed into stats.json's ``timings``)::

    check        paths and a previous run's index, before anything is read
    open         OUTDIR's manifest (resume, or refuse another run), standard input spooled
    sites        (with --boilerplate auto) each shard's short lines and dashes counted per
                 site on the workers, merged here: the boilerplate lines and house styles
    shards       prepare_shard on the workers: read, clean, featurise, count event terms
    samples      the shards' report samples, boilerplate removals and cut-down records summed
    events       (with events) vocabulary, weights and candidate pairs; the cosines are
                 left running on the workers while this process clusters
    load         every shard's features and metadata, memory-mapped
    cluster      near-duplicate clustering (its own timings: minhash_lsh, verify, survivors)
    index        OUTDIR/index/, for a later --against
    events       (with events) the linkage, given the clusters
    write        write_shard on the workers: each shard's part of the outputs
    concatenate  the parts in order into the outputs; stats.json; the manifest says complete

and then writes ``report.html`` (:func:`newsclean.report.build_report`; a report that
fails is a warning, never a failed run).

Outputs (all atomic; identical input gives byte-identical clusters/kept/duplicates;
``stats.json`` differs only in its ``timings``):

* ``clusters.jsonl`` — one line per accepted record, input order: id, cluster,
  duplicate_of, similarity (+ event);
* ``kept.jsonl.gz`` — survivors as they came, plus ``cluster`` (and ``event``);
* ``duplicates.jsonl.gz`` — the other records as they came, plus ``cluster``,
  ``duplicate_of``, ``similarity`` (and ``event``);
* ``rejects.jsonl`` — records that could not be read or have no usable text, with
  source, line, id, reason and raw text (always created, possibly empty);
* ``stats.json`` — counts, cluster size histogram, site boilerplate removed, records
  cut down, timings, parameters;
* ``report.html`` — the run report, and ``report-samples.json``, what it shows of the
  cleaning (``newsclean report OUTDIR`` rebuilds the report);
* ``index/`` — what ``--against OUTDIR`` needs to deduplicate a later batch against
  this run (:mod:`.index`).

With ``against`` (a previous run's OUTDIR, same parameters), the new records are also
compared with that run's index: one that matches an archived record joins its cluster
(the archived survivor stays the survivor).  The outputs cover the new records only;
``index/`` holds the previous records and the new ones, so runs chain.  Events are
computed within the new batch.  This process only holds compact arrays: features
(memory-mapped while copied), verdicts, event pairs.
"""
from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..clean.boilerplate import BoilerplateStats
from ..config import Config, ConfigError
from ..engine.executors import Engine
from ..engine.manifest import (
    LOCK,
    MANIFEST,
    WORK,
    OutdirLock,
    describe_inputs,
    describe_spooled_stdin,
    open_run,
    write_manifest,
)
from ..engine.shards import plan_shards, spool_stdin
from ..engine.steps import Steps, kill_point
from ..io.atomic import AtomicWriter, commit_all
from ..io.base import InputFile
from ..records import StrictStop
from ..spin.corpus import TABLE_NAME
from . import unspin
from .core import ClusterInfo, Clustering, DocMeta, Verdicts, unique_names
from .events import TermCounts, event_names
from .features import Features, concat_features
from .index import INDEX_DIR, Index, empty_index, load_index, write_index
from .shard import (
    TEXTS,
    ShardJob,
    WriteJob,
    load_shard_features,
    load_shard_meta,
    prepare_shard,
    save_verdicts,
    shard_done,
    shard_cleaning,
    shard_folder,
    write_shard,
)
from .sites import learn_sites, load_sites
from .stages import PendingEvents, start_event_groups

OUTPUT_NAMES = ("clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz", "rejects.jsonl", "stats.json",
                "report.html", "report-samples.json")
STOP_AFTER_ENV = "NEWSCLEAN_STOP_AFTER_SHARDS"  # tests: die abruptly after N shards, to test resuming
SPOOL = ".stdin.input"  # standard input, copied into OUTDIR so that workers can read it
# what newsclean writes in OUTDIR: never read as input, never another output's path
RESERVED_NAMES = (*OUTPUT_NAMES, TABLE_NAME, MANIFEST, WORK, INDEX_DIR, SPOOL, LOCK)
OLD_WORK = ".work.old-"  # a work folder being removed (renamed first: see _remove_work)
# the files of a finished shard folder (besides features/ and events/), checked on resuming
SHARD_FILES = ("summary.json", "records.jsonl.zst", "rejects.jsonl", "meta.npz", "ids.json", TEXTS)

__all__ = ["OUTPUT_NAMES", "RESERVED_NAMES", "DedupStats", "StrictStop", "reserved_name", "reserved_paths",
           "run_dedup"]


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
    cut_down: int = 0  # records that kept less than --min-keep of their text
    boilerplate: dict[str, Any] | None = None  # stats.json's "boilerplate" (None: --boilerplate off)

    @property
    def balanced(self) -> bool:
        return self.input_records == self.kept + self.duplicates + self.rejected


def run_dedup(files: list[InputFile], outdir: Path, config: Config | None = None, *, cleaner: Any = None,
              progress: Callable[[dict[str, Any]], None] | None = None,
              **options: Any) -> tuple[DedupStats, dict[str, Any]]:
    """Run the whole command; returns the stats and the stats.json document.

    ``options`` replace fields of ``config`` by name (:meth:`Config.replace`:
    ``events=True``, ``keep="first"``, ``workers=2`` ...; ``params``, ``event_params``,
    ``shard_bytes`` and ``rejects_path`` are read too).  ``cleaner`` replaces the one
    ``config.clean`` describes; ``progress`` receives each finished shard's summary.
    With ``cleaned_archive`` (``newsclean run``) the archived records carry their
    cleaned text, in the field it was read from.  Raises :class:`ConfigError` for
    unusable paths, :class:`~newsclean.dedup.index.IndexMismatch` for a previous
    run made otherwise, :class:`~newsclean.engine.manifest.RunConflict` when OUTDIR
    holds another run and ``force`` is not set, :class:`StrictStop` on a bad record
    with ``strict``.
    """
    config = (config or Config()).replace(**_earlier_names(options))
    run = _DedupRun(list(files), Path(outdir), config, cleaner, progress)
    steps = run.steps
    with steps("check"):
        run.check()
    with steps("open"):
        run.open()
    with Engine(config.run.worker_count(), config.run.engine, config.run.scheduler) as engine:
        with steps("sites"):
            run.learn_sites(engine)
        with steps("shards"):
            run.prepare_shards(engine)
        with steps("samples"):
            run.sum_cleaning()
        pending = None
        if config.dedup.events is not None:
            with steps("events"):
                pending = start_event_groups(engine, run.folders, run.work, config.dedup.events, steps.timings)
        with steps("load"):
            features, meta = run.load()
        with steps("cluster"):
            verdicts = run.cluster(features, meta)
        if run.learns_spin():
            with steps("spin"):
                verdicts = run.learn_spin(engine, verdicts, meta)
        with steps("index"):
            run.write_index(verdicts)
            del features  # the largest structure: gone before the outputs are written
        columns = verdict_columns(verdicts)
        if pending is not None:
            with steps("events"):
                columns["event"] = run.finish_events(pending, columns["cluster"])
        with steps("write"):
            run.write_shards(engine, columns)
    with steps("concatenate"):
        run.concatenate()
    finished = run.finish(columns)
    run.write_report()
    return finished


def _earlier_names(options: dict[str, Any]) -> dict[str, Any]:
    """The keyword names of earlier versions, as config fields."""
    options = dict(options)
    shard_bytes = options.pop("shard_bytes", None)
    if shard_bytes:
        options["shard_size"] = shard_bytes / (1024 * 1024)
    if "rejects_path" in options:
        options["rejects"] = options.pop("rejects_path")
    event_params = options.pop("event_params", None)
    if event_params is not None and options.get("events"):
        options["events"] = event_params
    return options


def verdict_columns(verdicts: Verdicts) -> dict[str, list[Any]]:
    """The clustering's verdict on each record, as the columns the outputs are written
    from (:data:`~newsclean.dedup.shard.VERDICTS`): its cluster (the survivor's name),
    the survivor it duplicates (None for survivors), the verified similarity to it, and
    for a composite page the records it holds."""
    cluster = [verdicts.name_of(g) for g in verdicts.survivor.tolist()]
    return {
        "cluster": cluster,
        "duplicate_of": [None if name == own else name for name, own in zip(cluster, verdicts.names)],
        "similarity": [round(float(x), 4) for x in verdicts.similarity.tolist()],
        "contains": [verdicts.contained_names(i) for i in range(len(cluster))] if verdicts.contains else None,
    }


class _DedupRun:
    """The state the steps of :func:`run_dedup` share."""

    def __init__(self, files: list[InputFile], outdir: Path, config: Config, cleaner: Any,
                 progress: Callable[[dict[str, Any]], None] | None) -> None:
        self.files, self.outdir, self.config, self.progress = files, outdir, config, progress
        self.cleaner = cleaner if cleaner is not None else config.clean.cleaner()
        self.steps = Steps()
        self.stats = DedupStats(timings=self.steps.timings)
        self.info = ClusterInfo()
        self.work = outdir / WORK
        self.previous: Index | None = None
        self.manifest: dict[str, Any] = {}
        self.folders: list[Path] = []
        self.counts: list[int] = []  # accepted records per shard
        self.names: list[str] = []
        self.dates: np.ndarray | None = None
        self.clustering: Clustering | None = None
        self.lock: OutdirLock | None = None  # taken in open, let go in finish
        self.samples: Any = None  # the report's samples of the cleaning (ReportSamples), from sum_cleaning
        self.staged: list[AtomicWriter] = []  # the concatenated outputs, renamed into place together
        self.spin: unspin.SpinLearning | None = None

    def check(self) -> None:
        """Refuse outputs that would replace an input or one another, newsclean's own
        files as inputs, and a previous run made otherwise (before reading anything: a
        mismatching index raises IndexMismatch)."""
        outdir, read, against = self.outdir, self.config.read, self.config.dedup.against
        if outdir.exists() and not outdir.is_dir():
            raise ConfigError(f"output {outdir} exists and is not a folder")
        for f in self.files:
            if f.path is not None:
                _refuse_own_file_as_input(f.path, outdir, read.rejects)
        if read.rejects is not None:
            _check_rejects_path(Path(read.rejects), outdir, against)
        if against is not None:
            if not Path(against).is_dir():
                raise ConfigError(f"--against {against}: no such folder (give the OUTDIR of a previous dedup or run)")
            if Path(os.path.realpath(against)) == Path(os.path.realpath(outdir)):
                raise ConfigError("--against must be another folder than -o/--output: the previous run's outputs "
                                  "would be replaced")
            self.previous = load_index(Path(against), self.config.dedup.params, self.config.dedup.keep)

    def open(self) -> None:
        """Take OUTDIR's lock, then resume the run there or start it (refusing another
        run's OUTDIR); shard folders left incomplete are dropped, to be computed again."""
        self.outdir.mkdir(parents=True, exist_ok=True)
        self.lock = OutdirLock(self.outdir).acquire()  # another run writing here: RunInProgress
        self.steps.on_failure(self.lock.release)
        _remove_old_work(self.outdir)
        spool = self.outdir / SPOOL
        self.files = spool_stdin(self.files, spool.parent, spool.name)
        inputs = describe_inputs(self.files)
        for k, f in enumerate(self.files):
            if f.path is not None and Path(f.path) == spool:
                inputs[k] = describe_spooled_stdin(f.source, spool)
        command = "run" if self.config.dedup.cleaned_archive else "dedup"
        self.manifest, _ = open_run(self.outdir, command, inputs, self.fingerprint(), force=self.config.run.force,
                                    owned=OUTPUT_NAMES)
        _drop_incomplete_shards(self.work, self.config)
        self.work.mkdir(exist_ok=True)

    def fingerprint(self) -> dict[str, Any]:
        """What the manifest holds of the configuration: the config's fingerprint, the
        cleaner as built and the spin table's contents, a previous run by its full path."""
        doc = self.config.fingerprint()
        against = doc["dedup"]["against"]
        doc["dedup"]["against"] = str(Path(against).resolve()) if against is not None else None
        table = getattr(self.cleaner, "spin_table", None)
        doc["cleaner"] = repr(self.cleaner)
        doc["spin_table"] = table.fingerprint() if table is not None else None
        return doc

    def prepare_shards(self, engine: Engine) -> None:
        """Read, clean and featurise every shard, skipping those a previous attempt finished."""
        specs = plan_shards(self.files, self.config.run.shard_bytes)
        jobs = [ShardJob(spec, str(self.work), self.config, self.cleaner) for spec in specs]
        self.folders = [shard_folder(self.work, spec.index) for spec in specs]
        todo = [job for job, folder in zip(jobs, self.folders) if not shard_done(folder, self.config)]
        self.stats.resumed_shards = len(jobs) - len(todo)
        stop_after = int(os.environ.get(STOP_AFTER_ENV) or 0)
        for finished, (_, summary) in enumerate(engine.map(prepare_shard, todo), 1):
            if self.progress is not None:
                self.progress(summary)
            if stop_after and finished >= stop_after:
                os._exit(137)  # as if killed: no cleanup, no outputs

    def learn_sites(self, engine: Engine) -> None:
        """Count the shards' sites and learn their boilerplate and house styles
        (:mod:`.sites`), where prepare_shard reads them; nothing with --boilerplate off."""
        learn_sites(engine, plan_shards(self.files, self.config.run.shard_bytes), self.work, self.config)

    def sum_cleaning(self) -> None:
        """The shards' report samples merged (committed with the outputs, in :meth:`finish`);
        their boilerplate removals and cut-down records into the stats."""
        from ..report import SAMPLES_NAME, merge_samples, read_samples

        parts = (read_samples(folder / SAMPLES_NAME) for folder in self.folders)
        self.samples = merge_samples(part for part in parts if part is not None)
        cleaning = [shard_cleaning(folder) for folder in self.folders]
        self.stats.cut_down = sum(c["cut_down"] for c in cleaning)
        sites = load_sites(self.work)
        if sites is not None:
            lines = BoilerplateStats()
            for c in cleaning:
                lines.update(c["boilerplate_lines"])
            self.stats.boilerplate = {
                "lines_learned": len(sites.boilerplate), "lines_removed": sum(lines.values()),
                "records_changed": sum(c["boilerplate_records"] for c in cleaning), "lines": lines.top_lines()}

    def _samples_output(self) -> AtomicWriter:
        """OUTDIR/report-samples.json, staged: it appears with the archives or not at all."""
        from ..report import SAMPLES_NAME, samples_document

        out = AtomicWriter(self.outdir / SAMPLES_NAME)
        out.write(samples_document(self.samples))
        return out

    def write_report(self) -> None:
        """OUTDIR/report.html; a report that cannot be made is a warning, not a failed run."""
        from ..report import build_report

        try:
            build_report(self.outdir)
        except Exception as e:  # noqa: BLE001 - the archive is written: the report must not fail it
            warnings.warn(f"newsclean: the report could not be written: {type(e).__name__}: {e}", stacklevel=2)

    def load(self) -> tuple[Any, DocMeta]:
        """Every shard's features (memory-mapped while copied) and what the survivor
        policies read, in input order; records' names made unique."""
        ids: list[Any] = []
        metas = []
        for folder in self.folders:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            self.stats.input_records += summary["input_records"]
            self.stats.rejected += summary["rejected"]
            shard_ids, meta = load_shard_meta(folder)
            ids.extend(shard_ids)
            metas.append(meta)
            self.counts.append(summary["accepted"])
        params = self.config.dedup.params
        features = concat_features([partial(load_shard_features, f, mmap=True) for f in self.folders],
                                   params.num_perm)
        taken = set(self.previous.names) if self.previous is not None else ()
        self.names = unique_names(ids, taken=taken)

        def stacked(key: str, dtype: Any) -> np.ndarray:
            return np.concatenate([m[key] for m in metas]) if metas else np.zeros(0, dtype)

        meta = DocMeta(names=self.names, ids=ids, edits=stacked("edits", np.int64),
                       length=stacked("length", np.int64), date=stacked("date", np.float64),
                       spin=stacked("spin", np.float64))
        self.dates = meta.date  # the events' time window
        return features, meta

    def cluster(self, features: Any, meta: DocMeta) -> Verdicts:
        dedup = self.config.dedup
        self.clustering = Clustering(features, meta, params=dedup.params, info=self.info, previous=self.previous)
        verdicts = self.clustering.decide(meta, dedup.keep)
        self.steps.timings.update(self.info.timings)
        return verdicts

    def learns_spin(self) -> bool:
        return self.config.dedup.learn_spin and getattr(self.cleaner, "spin_table", None) is not None

    def learn_spin(self, engine: Engine, verdicts: Verdicts, meta: DocMeta) -> Verdicts:
        """The spinner's table learned from the clusters (:mod:`.unspin`); with one, the
        records of clusters judged again with it and the survivors chosen again."""
        where = unspin.ShardPositions(self.folders, self.counts)
        against = self.config.dedup.against
        self.spin = unspin.learn(engine, where, verdicts, self.outdir, Path(against) if against else None,
                                 self.cleaner)
        if self.spin.table is None:
            return verdicts
        meta = unspin.judge(engine, where, verdicts, meta, self.spin.table, self.cleaner, self.spin)
        return self.clustering.decide(meta, self.config.dedup.keep)

    def write_index(self, verdicts: Verdicts) -> None:
        dedup = self.config.dedup
        base = self.previous if self.previous is not None else empty_index(dedup.params, dedup.keep)
        write_index(self.outdir, base, self.clustering.index_of(verdicts, dedup.keep))
        self.clustering = None  # its features: the largest structure, gone before the outputs are written

    def finish_events(self, pending: PendingEvents, cluster: list[str]) -> list[str]:
        """Each record's event name, given its cluster (near-duplicates share an event)."""
        first: dict[str, int] = {}
        units = [first.setdefault(c, i) for i, c in enumerate(cluster)]
        del first
        labels = pending.finish(units, dates=self.dates)
        self.info.event_candidates = pending.n_candidates
        return event_names(labels, cluster)

    def write_shards(self, engine: Engine, columns: dict[str, list[Any]]) -> None:
        """Each shard's verdicts into its folder, then its part of the outputs on the workers."""
        jobs = []
        at = 0
        for folder, count in zip(self.folders, self.counts):
            save_verdicts(folder, {name: values[at:at + count] if values is not None else None
                                   for name, values in columns.items()})
            jobs.append(self.write_job(folder))
            at += count
        for _, written in engine.map(write_shard, jobs):
            self.stats.kept += written["kept"]
            self.stats.duplicates += written["duplicates"]
            if self.spin is not None:
                self.spin.archive_flagged += written.get("spin_flagged", 0)
                self.spin.words_restored += written.get("spin_words_restored", 0)

    def write_job(self, folder: Path) -> WriteJob:
        """run with a learned table: the shard's archived texts restored with it."""
        table = self.spin.table if self.spin is not None and self.config.dedup.cleaned_archive else None
        if table is None or self.cleaner.unspin != "restore":
            return WriteJob(str(folder))
        return WriteJob(str(folder), str(table), self.cleaner, self.config.read.text_field)

    def concatenate(self) -> None:
        """The shards' parts, in order, into the outputs' temporary files: all written,
        none in place yet (:meth:`finish` commits them with stats.json)."""
        folders, outdir = self.folders, self.outdir
        empty_gzip = gzip.compress(b"", mtime=0)
        rejects = Path(self.config.read.rejects) if self.config.read.rejects is not None else None
        target = rejects or outdir / "rejects.jsonl"
        target.parent.mkdir(parents=True, exist_ok=True)
        outputs = [(outdir / "clusters.jsonl", "part.clusters", b""),
                   (outdir / "kept.jsonl.gz", "part.kept.gz", empty_gzip),
                   (outdir / "duplicates.jsonl.gz", "part.duplicates.gz", empty_gzip),
                   (target, "rejects.jsonl", b"")]
        self.staged = []
        try:
            for path, part, empty in outputs:
                self.staged.append(_concatenated(path, [f / part for f in folders], empty))
        except BaseException:
            for staged in self.staged:
                staged.discard()
            raise

    def finish(self, columns: dict[str, list[Any]]) -> tuple[DedupStats, dict[str, Any]]:
        """The outputs and stats.json committed together, the manifest marked complete,
        the work folder removed, OUTDIR's lock let go."""
        try:
            sizes = Counter(columns["cluster"])
            self.stats.clusters = len(sizes)
            if "event" in columns:
                self.stats.events = len(set(columns["event"]))
            self.steps.finish()
            doc = _with_cleaning(stats_document(self.stats, self.info, self.config, sizes, self.previous,
                                                len(self.folders)), self.stats)
            if self.spin is not None:
                doc["spin"] = self.spin.stats()
            stats = AtomicWriter(self.outdir / "stats.json")
            stats.write(_json_document(doc))
            commit_all([*self.staged, self._samples_output(), stats])
            self.manifest["status"] = "complete"
            write_manifest(self.outdir, self.manifest)
            kill_point("cleanup")
            if not self.config.run.keep_work:
                _remove_work(self.work)
            (self.outdir / SPOOL).unlink(missing_ok=True)
        finally:
            self.lock.release()
        assert len(self.names) == self.stats.kept + self.stats.duplicates
        return self.stats, doc


def _with_cleaning(doc: dict[str, Any], stats: DedupStats) -> dict[str, Any]:
    """stats.json with what cleaning removed (site boilerplate, records cut down), before
    the parameters."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "parameters":
            out["records_cut_down"] = stats.cut_down
            out["boilerplate"] = stats.boilerplate
        out[key] = value
    return out


def reserved_paths(outdir: Path) -> list[Path]:
    """What newsclean writes in OUTDIR (:data:`RESERVED_NAMES`): a walk of an input
    folder that holds OUTDIR leaves them out."""
    return [Path(outdir) / name for name in RESERVED_NAMES]


def reserved_name(path: Path, outdir: Path) -> str | None:
    """The name in :data:`RESERVED_NAMES` that ``path`` is, or lies under, in ``outdir``
    (real paths compared); None for any other path."""
    real, real_out = Path(os.path.realpath(path)), Path(os.path.realpath(outdir))
    try:
        parts = real.relative_to(real_out).parts
    except ValueError:
        return None
    return parts[0] if parts and parts[0] in RESERVED_NAMES else None


def _refuse_own_file_as_input(path: Path, outdir: Path, rejects: str | os.PathLike[str] | None) -> None:
    """Raise ConfigError for an input that an output would replace, or that is one of
    newsclean's own files in OUTDIR (a work file a killed run left, an output)."""
    name = reserved_name(path, outdir)
    if name in OUTPUT_NAMES:
        raise ConfigError(f"input {path} would be overwritten by the output; choose another OUTDIR")
    if name is not None:
        raise ConfigError(f"input {path} is newsclean's own {name} in {outdir}: outputs and work files are never "
                          "read as input; name the input files, or choose an OUTDIR outside the input folder")
    if rejects is not None and os.path.realpath(path) == os.path.realpath(rejects):
        raise ConfigError(f"--rejects {rejects} is an input; choose another path")


def _check_rejects_path(rejects: Path, outdir: Path, against: str | os.PathLike[str] | None) -> None:
    """Raise ConfigError for a ``--rejects`` path that is another output of this run, or
    of the previous run (``--against``), or a folder."""
    if os.path.realpath(rejects) == os.path.realpath(outdir):
        raise ConfigError(f"--rejects {rejects} is the output folder; name a file")
    name = reserved_name(rejects, outdir)
    if name is not None and os.path.realpath(rejects) != os.path.realpath(outdir / "rejects.jsonl"):
        raise ConfigError(f"--rejects {rejects} is newsclean's own {name} in {outdir}; choose another path")
    if against is not None and reserved_name(rejects, Path(against)) is not None:
        raise ConfigError(f"--rejects {rejects} is part of the previous run in {against}; choose another path")
    if rejects.is_dir():
        raise ConfigError(f"--rejects {rejects} is a folder")


def _shard_complete(folder: Path, config: Config) -> bool:
    """Whether a finished shard folder still holds every file the later steps read."""
    names = [*SHARD_FILES, *(f"features/{f.name}.npy" for f in fields(Features))]
    if config.dedup.events is not None:
        names += [f"events/{f.name}.npy" for f in fields(TermCounts)]
    return all((folder / name).is_file() for name in names)


def _drop_incomplete_shards(work: Path, config: Config) -> None:
    """Remove the shard folders that lack a file (a removal cut short by a kill, a file
    deleted by hand): they are computed again instead of failing the run."""
    if not work.is_dir():
        return
    for folder in sorted(work.glob("shard-*")):
        if folder.is_dir() and shard_done(folder, config) and not _shard_complete(folder, config):
            shutil.rmtree(folder, ignore_errors=True)


def _remove_work(work: Path) -> None:
    """Remove the work folder: renamed to a hidden name first (one atomic step), so that
    a kill during the removal never leaves shards half removed in ``work/``."""
    if not work.exists():
        return
    old = work.with_name(f"{OLD_WORK}{os.getpid()}")
    os.rename(work, old)
    shutil.rmtree(old, ignore_errors=True)


def _remove_old_work(outdir: Path) -> None:
    """Remove what a removal of the work folder cut short left (OUTDIR is locked)."""
    for old in outdir.glob(f"{OLD_WORK}*"):
        shutil.rmtree(old, ignore_errors=True)


def _concatenated(target: Path, parts: list[Path], empty: bytes = b"") -> AtomicWriter:
    """``target``'s temporary file holding the parts' bytes in order (``empty`` when they
    hold none), finished but not in place."""
    out = AtomicWriter(target, compress=False).open()
    try:
        for part in parts:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
        if not out.bytes_written and empty:
            out.write(empty)
        out.finish()
    except BaseException:
        out.discard()
        raise
    return out


def _json_document(doc: dict[str, Any]) -> bytes:
    """An indented JSON document; paths holding a file name's undecodable bytes (lone
    surrogates) are written escaped."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        return json.dumps(doc, indent=2, ensure_ascii=True).encode("ascii") + b"\n"


def stats_document(stats: DedupStats, info: ClusterInfo, config: Config, sizes: Counter[str],
                   previous: Index | None, shards: int) -> dict[str, Any]:
    """The stats.json of a run: counts, cluster sizes, the clustering's side results,
    parameters, and this machine's timings (the rest is determined by the inputs)."""
    events = config.dedup.events is not None
    hist = Counter(sizes.values())
    rejects = config.read.rejects
    return {
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
        "against": config.dedup.against,
        "previous_records": previous.size if previous is not None else 0,
        "joined_previous": info.joined_previous,
        "rejects_file": rejects if rejects is not None else "rejects.jsonl",
        "shards": shards,
        "resumed_shards": stats.resumed_shards,
        "parameters": config.stats_parameters(),
        "run": {"workers": config.run.worker_count(), "engine": config.run.engine,
                "scheduler": config.run.scheduler},
        "timings": {**{k: round(v, 4) for k, v in stats.timings.items()}, "peak_rss_mb": _peak_rss_mb()},
    }


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)

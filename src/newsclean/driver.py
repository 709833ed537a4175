"""The ``clean`` driver (check the paths, clean the records as a stream, commit the
outputs) and the ``spin-table`` one.

:func:`clean_files` runs the timed steps ``check`` -> ``clean`` -> ``commit`` (and
writes the statistics file): the
part of the ``dedup``/``run`` driver (:mod:`newsclean.dedup.run`) that a stream needs,
with no shards and no clustering, and the same record function
(:func:`~newsclean.records.clean_record`) on the same
:class:`~newsclean.engine.executors.Engine`.  Records are written in input order as
they come, so ``newsclean clean`` works in a pipe with bounded memory.

Errors are exceptions the command line maps to exit codes: :class:`ConfigError` (2:
unusable arguments), :class:`StrictStop` (2: a bad record under ``--strict``),
``OSError`` and :class:`WriteFailed` (1: an output cannot be written),
``BrokenPipeError`` (1: the reader of standard output went away).  Outputs are
discarded on any of them.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .config import MIN_CLUSTERS, MIN_CONSISTENCY, Config, ConfigError
from .engine.executors import Engine
from .engine.local import RecordLoop, Stats, run_clean_parallel
from .engine.steps import Steps
from .io.base import InputError, InputFile
from .io.compression import split_compression
from .io.jsonl import dumps_line
from .io.readers import expand_inputs, read_inputs
from .io.writers import AtomicWriter, OutputError, check_record_output, open_output, record_writer
from .records import Accepted, Rejected, StrictStop

STDOUT_REJECTS = "newsclean.rejects.jsonl"  # the rejects file of a run that writes to standard output

__all__ = ["STDOUT_REJECTS", "CleanRun", "LearnedTable", "StrictStop", "WriteFailed", "check_paths", "clean_files",
           "learn_spin_table", "resolve_inputs"]


class WriteFailed(Exception):
    """An output that could not be written; the message says which."""


@dataclass
class CleanRun:
    """What a ``clean`` run did: its counters, where its rejects went, its steps' seconds."""

    stats: Stats
    rejects: Path | None  # where rejects go (None with --diff); written if there were any, or if --rejects
    timings: dict[str, float]


def resolve_inputs(inputs: Sequence[str]) -> list[InputFile]:
    """The input files the arguments name (folders walked, ``-`` or nothing: stdin)."""
    try:
        return expand_inputs(inputs)
    except InputError as e:
        raise ConfigError(str(e)) from None


def check_paths(files: list[InputFile], named: Iterable[tuple[str, Path | None]]) -> None:
    """Refuse outputs that would overwrite an input or each other, or cannot be created;
    ``named``: ``(what, path)`` of each output."""
    inputs = [f.path for f in files if f.path is not None]
    seen: list[tuple[str, Path]] = []
    for label, path in named:
        if path is None:
            continue
        real = Path(os.path.realpath(path))
        for p in inputs:
            if real == Path(os.path.realpath(p)) or _same_file(path, p):
                raise ConfigError(f"{label} {path} is also an input; refusing to overwrite it")
        for other_label, other in seen:
            if real == other:
                raise ConfigError(f"{label} and {other_label} are the same path: {path}")
        seen.append((label, real))
        if path.is_dir():
            raise ConfigError(f"{label} {path} is a folder")
        if not real.parent.is_dir():
            raise ConfigError(f"folder of the {label} does not exist: {path.parent}")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def rejects_path(config: Config, output: Path | None) -> Path | None:
    """Where ``clean``'s rejects go: ``--rejects``, else beside the output
    (``<OUTPUT>.rejects.jsonl``), else ``./newsclean.rejects.jsonl``; none with ``--diff``."""
    if config.write.diff:
        return None
    if config.read.rejects is not None:
        return Path(config.read.rejects)
    if output is not None:
        return output.with_name(split_compression(output.name)[0] + ".rejects.jsonl")
    return Path(STDOUT_REJECTS)


def clean_files(inputs: Sequence[str], output: str | None, config: Config | None = None, *,
                cleaner: Any = None, progress: Callable[[int], None] | None = None) -> CleanRun:
    """``newsclean clean``: every input record cleaned into ``output`` (None or ``-``:
    standard output), in input order, bad records into the rejects file.

    ``cleaner`` replaces the one ``config.clean`` describes; ``progress(records_done)``
    is called as records are written.
    """
    config = config or Config()
    steps = Steps()
    with steps("check"):
        files = resolve_inputs(inputs)
        out_path = None if output in (None, "-") else Path(output)
        rejects = rejects_path(config, out_path)
        stats_path = Path(config.write.stats) if config.write.stats is not None else None
        check_paths(files, [("output", out_path), ("rejects file", rejects), ("stats file", stats_path)])
        try:
            check_record_output(None if config.write.diff else out_path, as_text=config.write.output_format == "text")
        except OutputError as e:
            raise ConfigError(str(e)) from None
        cleaner = cleaner if cleaner is not None else config.clean.cleaner()
    stats = Stats()
    writers = _Writers(config, out_path, rejects)
    try:
        with steps("clean"), Engine(config.run.worker_count()) as engine:
            loop = RecordLoop(cleaner, config.read.text_field, config.read.id_field,
                              config.write.explain and not config.write.diff, config.read.doc_timeout)
            outcomes = run_clean_parallel(read_inputs(files, max_bytes=config.read.max_bytes), loop, stats=stats,
                                          engine=engine)
            writers.write_all(outcomes, stats, progress or (lambda done: None))
        with steps("commit"):
            writers.commit()
    except BaseException:
        writers.discard()
        raise
    stats.finish()
    if stats_path is not None:
        try:
            with open_output(stats_path) as out:
                out.write(_stats_json(stats))
        except OSError as e:
            raise WriteFailed(f"cannot write stats file: {e}") from None
    steps.finish()
    return CleanRun(stats, rejects, steps.timings)


def _stats_json(stats: Stats) -> bytes:
    return orjson.dumps(stats.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


class _Writers:
    """The outputs of a ``clean`` run: records (or diffs, or plain text) and rejects,
    committed together at the end or discarded together."""

    def __init__(self, config: Config, out_path: Path | None, rejects: Path | None) -> None:
        self.diff = config.write.diff
        self.as_text = config.write.output_format == "text"
        self.strict = config.read.strict
        self.out_path = out_path
        self.out = AtomicWriter(None) if self.diff else record_writer(out_path)
        self.rejects = AtomicWriter(rejects) if rejects is not None else None
        self.always_create_rejects = config.read.rejects is not None

    def write_all(self, outcomes: Iterable[Accepted | Rejected], stats: Stats, progress: Callable[[int], None]) -> None:
        self.out.open()
        for outcome in outcomes:
            if outcome.rejected:
                self._reject(outcome)
                stats.rejected += 1
            else:
                self._write(outcome)
                stats.output_records += 1
            progress(stats.input_records)

    def commit(self) -> None:
        """The outputs moved into place (a rejects file only if there were rejects, or
        ``--rejects`` named it)."""
        self.out.commit()
        if self.rejects is not None and (self.rejects.is_open or self.always_create_rejects):
            self.rejects.commit()

    def discard(self) -> None:
        self.out.discard()
        if self.rejects is not None:
            self.rejects.discard()

    def _reject(self, outcome: Rejected) -> None:
        if self.strict:
            kept = "" if self.out_path is None or self.diff else f"; {self.out_path} not written"
            raise StrictStop(f"{outcome.item.source}:{outcome.item.line}", outcome.reason, kept)
        if self.rejects is not None:
            self.rejects.write(dumps_line(outcome.reject_record()))

    def _write(self, outcome: Accepted) -> None:
        if self.diff:
            if outcome.changed:
                self.out.write(unified_diff(outcome).encode("utf-8"))
        elif self.as_text:
            self.out.write(f"# {outcome.id}\n\n{outcome.after}\n\n".encode("utf-8"))
        else:
            assert outcome.record is not None
            self.out.write_record(outcome.record, stdlib=outcome.item.stdlib_json)


def unified_diff(outcome: Accepted) -> str:
    """The changes cleaning made to one record, as a unified diff of its lines."""
    import difflib

    lines = difflib.unified_diff(
        outcome.before.splitlines(),
        outcome.after.splitlines(),
        fromfile=f"{outcome.id} (original)",
        tofile=f"{outcome.id} (cleaned)",
        lineterm="",
    )
    return "\n".join(lines) + "\n"


@dataclass
class LearnedTable:
    """What ``spin-table`` did: clusters read, swaps written, seconds."""

    clusters: int
    swaps: int
    seconds: float


def learn_spin_table(outdir: Path, output: Path, *, text_field: str | None = None, min_clusters: int = MIN_CLUSTERS,
                     min_consistency: float = MIN_CONSISTENCY, max_clusters: int | None = None) -> LearnedTable:
    """``newsclean spin-table``: learn a spinner's swaps from the clusters of a finished
    ``dedup``/``run`` OUTDIR (:mod:`newsclean.spin.learn`) and write them as a TSV table."""
    from .spin.learn import cluster_groups, learn_pairs, write_table

    started = time.perf_counter()
    if not (outdir / "kept.jsonl.gz").exists() or not (outdir / "duplicates.jsonl.gz").exists():
        raise ConfigError(f"{outdir}: not a finished dedup/run output folder (kept.jsonl.gz and "
                          "duplicates.jsonl.gz needed)")
    try:
        groups = cluster_groups(outdir, text_field, max_clusters)
    except (OSError, ValueError, EOFError) as e:
        raise ConfigError(f"{outdir}: cannot read the clusters: {e}") from None
    pairs = learn_pairs(groups, min_clusters=min_clusters, min_consistency=min_consistency)
    try:
        swaps = write_table(pairs, output)
    except OSError as e:
        raise WriteFailed(f"cannot write {output}: {e}") from None
    return LearnedTable(len(groups), swaps, time.perf_counter() - started)

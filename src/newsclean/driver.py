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

from .config import DEFAULT_MAX_BYTES, MIN_CLUSTERS, MIN_CONSISTENCY, Config, ConfigError
from .engine.executors import Engine
from .engine.local import RecordLoop, Stats, run_clean_parallel
from .engine.steps import Steps
from .io.atomic import Committable, OutputFailed, commit_all
from .io.base import InputError, InputFile
from .io.compression import split_compression
from .io.jsonl import dumps_line
from .io.readers import expand_inputs, read_inputs, stdin_stream
from .io.writers import AtomicWriter, OutputError, check_record_output, record_writer
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


def resolve_inputs(inputs: Sequence[str], *, skip: Iterable[Path | None] = ()) -> list[InputFile]:
    """The input files the arguments name (folders walked, ``-`` or nothing: stdin).

    ``skip``: the run's own outputs, which a walk of a folder that holds them leaves
    out (outputs are never inputs).  Standard input that is closed is refused.
    """
    try:
        files = expand_inputs(inputs, skip=[p for p in skip if p is not None])
        if any(f.path is None for f in files):
            stdin_stream()
    except InputError as e:
        raise ConfigError(str(e)) from None
    return files


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
        out_path = None if output in (None, "-") else Path(output)
        rejects = rejects_path(config, out_path)
        stats_path = Path(config.write.stats) if config.write.stats is not None else None
        files = resolve_inputs(inputs, skip=[out_path, rejects, stats_path])
        check_paths(files, [("output", out_path), ("rejects file", rejects), ("stats file", stats_path)])
        try:
            check_record_output(None if config.write.diff else out_path, as_text=config.write.output_format == "text")
        except OutputError as e:
            raise ConfigError(str(e)) from None
        cleaner = cleaner if cleaner is not None else config.clean.cleaner()
    stats = Stats()
    writers = _Writers(config, out_path, rejects, stats_path)
    try:
        with steps("clean"), Engine(config.run.worker_count()) as engine:
            writers.open()  # before anything is read: a folder that refuses files fails the run at once
            loop = RecordLoop(cleaner, config.read.text_field, config.read.id_field,
                              config.write.explain and not config.write.diff, config.read.doc_timeout)
            outcomes = run_clean_parallel(read_inputs(files, max_bytes=config.read.max_bytes), loop, stats=stats,
                                          engine=engine)
            writers.write_all(outcomes, stats, progress or (lambda done: None))
        stats.finish()
        with steps("commit"):
            writers.commit(_stats_json(stats))
    except BaseException:
        writers.discard()
        raise
    steps.finish()
    return CleanRun(stats, rejects, steps.timings)


def _stats_json(stats: Stats) -> bytes:
    return orjson.dumps(stats.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


class _Writers:
    """The outputs of a ``clean`` run: records (or diffs, or plain text), rejects and
    the statistics file, committed together at the end (:func:`commit_all`: all
    written out before any is put in place) or discarded together."""

    def __init__(self, config: Config, out_path: Path | None, rejects: Path | None, stats: Path | None) -> None:
        self.diff = config.write.diff
        self.as_text = config.write.output_format == "text"
        self.strict = config.read.strict
        self.out_path = out_path
        self.out = AtomicWriter(None) if self.diff else record_writer(out_path)
        self.rejects = AtomicWriter(rejects) if rejects is not None else None
        self.stats = AtomicWriter(stats) if stats is not None else None
        self.rejected = 0
        self.always_create_rejects = config.read.rejects is not None

    def open(self) -> None:
        for writer in (self.out, self.rejects, self.stats):
            if writer is not None:
                writer.open()

    def write_all(self, outcomes: Iterable[Accepted | Rejected], stats: Stats, progress: Callable[[int], None]) -> None:
        for outcome in outcomes:
            if outcome.rejected:
                self._reject(outcome)
                stats.rejected += 1
            else:
                self._write(outcome)
                stats.output_records += 1
            progress(stats.input_records)

    def commit(self, stats: bytes) -> None:
        """Every output in place, or none (a rejects file only if there were rejects, or
        ``--rejects`` named it)."""
        outputs: list[Committable] = [self.out]
        if self.rejects is not None:
            if self.rejected or self.always_create_rejects:
                outputs.append(self.rejects)
            else:
                self.rejects.discard()
        if self.stats is not None:
            self.stats.write(stats)
            outputs.append(self.stats)
        commit_all(outputs)

    def discard(self) -> None:
        for writer in (self.out, self.rejects, self.stats):
            if writer is not None:
                writer.discard()

    def _reject(self, outcome: Rejected) -> None:
        if self.strict:
            kept = "" if self.out_path is None or self.diff else f"; {self.out_path} not written"
            raise StrictStop(f"{outcome.item.source}:{outcome.item.line}", outcome.reason, kept)
        if self.rejects is not None:
            self.rejects.write(dumps_line(outcome.reject_record()))
        self.rejected += 1

    def _write(self, outcome: Accepted) -> None:
        if self.diff:
            if outcome.changed:
                self.out.write(_utf8(unified_diff(outcome)))
        elif self.as_text:
            self.out.write(_utf8(f"# {outcome.id}\n\n{outcome.after}\n\n"))
        else:
            assert outcome.record is not None
            self.out.write_record(outcome.record, stdlib=outcome.item.stdlib_json)


def _utf8(text: str) -> bytes:
    r"""Text for a plain-text output: a lone surrogate (a file name's undecodable byte,
    an escape in the input's JSON) is written as its escape, not refused.

    >>> _utf8("caf\u00e9"), _utf8("bad" + chr(0xDCFF) + ".txt")
    (b'caf\xc3\xa9', b'bad\\udcff.txt')
    """
    return text.encode("utf-8", "backslashreplace")


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
    """What ``spin-table`` did: clusters read, swaps written, seconds, and the archive
    lines skipped (over ``max_bytes``, or unreadable) with the first one's reason."""

    clusters: int
    swaps: int
    seconds: float
    skipped: int = 0
    first_skipped: str | None = None


# the names of archives and records: a spin table (TSV) written there is surely a slip
ARCHIVE_SUFFIXES = (".jsonl", ".ndjson", ".json", ".parquet", ".warc")


def learn_spin_table(outdir: Path, output: Path, *, text_field: str | None = None, min_clusters: int = MIN_CLUSTERS,
                     min_consistency: float = MIN_CONSISTENCY, max_clusters: int | None = None,
                     max_bytes: int = DEFAULT_MAX_BYTES) -> LearnedTable:
    """``newsclean spin-table``: learn a spinner's swaps from the clusters of a finished
    ``dedup``/``run`` OUTDIR (:mod:`newsclean.spin.learn`) and write them as a TSV table.

    The archives are read in bounded memory (a line over ``max_bytes`` is skipped and
    counted); the table is written atomically, never over an archive or another of
    OUTDIR's files.
    """
    from .spin.learn import cluster_groups, learn_pairs, write_table

    started = time.perf_counter()
    outdir, output = Path(outdir), Path(output)
    if not (outdir / "kept.jsonl.gz").exists() or not (outdir / "duplicates.jsonl.gz").exists():
        raise ConfigError(f"{outdir}: not a finished dedup/run output folder (kept.jsonl.gz and "
                          "duplicates.jsonl.gz needed)")
    check_table_output(outdir, output)
    skipped: list[str] = []
    try:
        groups = cluster_groups(outdir, text_field, max_clusters, max_bytes=max_bytes, on_skip=skipped.append)
    except (OSError, ValueError, EOFError) as e:
        raise ConfigError(f"{outdir}: cannot read the clusters: {e}") from None
    pairs = learn_pairs(groups, min_clusters=min_clusters, min_consistency=min_consistency)
    try:
        swaps = write_table(pairs, output)
    except OutputFailed as e:
        raise WriteFailed(str(e)) from None
    except OSError as e:
        raise WriteFailed(f"cannot write {output}: {e}") from None
    return LearnedTable(len(groups), swaps, time.perf_counter() - started, len(skipped),
                        skipped[0] if skipped else None)


def check_table_output(outdir: Path, output: Path) -> None:
    """Refuse a spin table's path that is an archive's (by its name), one of the files
    newsclean keeps in OUTDIR, or a folder."""
    from .dedup.run import reserved_name

    if output.is_dir():
        raise ConfigError(f"-o {output} is a folder; give the spin table's file name (e.g. spin.tsv)")
    inner, compression = split_compression(output.name)
    if compression != "none" or inner.lower().endswith(ARCHIVE_SUFFIXES):
        raise ConfigError(f"-o {output}: a spin table is a TSV file, and this is an archive's name; refusing to "
                          "write over it (choose e.g. spin.tsv)")
    name = reserved_name(output, outdir)
    if name is not None:
        raise ConfigError(f"-o {output} is newsclean's own {name} in {outdir}; choose another path")
    if not output.parent.is_dir():
        raise ConfigError(f"folder of the spin table does not exist: {output.parent}")

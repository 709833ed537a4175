"""Command line: ``newsclean clean|dedup|run|spin-table``.

The commands only map their options onto a :class:`~newsclean.config.Config` (an
option is the config field of the same name), call the library's driver, and map its
exceptions to exit codes: 0 ok, 1 an output could not be written, 2 unusable
arguments or a bad record with ``--strict``, 3 the record accounting does not add up
(a bug).  Options are declared once (:mod:`newsclean.cli_options`) and shared by the
commands that take them.

Only typer and :mod:`newsclean.config` (the defaults) are imported at module level;
the drivers, the stages (ftfy, wordfreq) and rich are imported inside the commands,
so ``newsclean --help`` is instant.
"""
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from . import __version__
from .cli_options import (
    Against,
    Boilerplate,
    BoilerplateMinPages,
    BoilerplateMinShare,
    CleanInputs,
    CleanRejects,
    DedupEvents,
    DedupRejects,
    Diff,
    DocTimeout,
    EngineName,
    EventThreshold,
    Explain,
    Force,
    HtmlTables,
    IdField,
    Inputs,
    KEEP_HELP,
    KeepWork,
    LearnSpin,
    MaxBytes,
    MinKeep,
    Outdir,
    Output,
    OutputFormat,
    Quiet,
    RunEvents,
    Scheduler,
    ShardSize,
    Skip,
    SpinModel,
    SpinModelBackend,
    SpinTables,
    StatsFile,
    Strict,
    TextField,
    Threshold,
    Tweets,
    Unspin,
    Workers,
)
from .config import (
    BOILERPLATE_MIN_PAGES,
    BOILERPLATE_MIN_SHARE,
    DEFAULT_DOC_TIMEOUT,
    DEFAULT_MAX_BYTES,
    DEFAULT_MIN_KEEP,
    DEFAULT_SHARD_MB,
    MIN_CLUSTERS,
    MIN_CONSISTENCY,
)

EXIT_WRITE_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_ACCOUNTING = 3

app = typer.Typer(
    name="newsclean",
    help="Repair scraped news text: lost characters, mojibake, markup leftovers, glued words.",
    add_completion=False,
    no_args_is_help=True,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"newsclean {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Repair scraped news text: lost characters, mojibake, markup leftovers, glued words."""


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    typer.echo(f"newsclean: error: {message}", err=True)
    raise typer.Exit(code)


# ------------------------------------------------------------------ exceptions -> exit codes

@contextmanager
def _exit_codes(task_hint: str) -> Iterator[None]:
    """Run a command's library call; its exceptions become messages and exit codes."""
    try:
        yield
    except typer.Exit:
        raise
    except BrokenPipeError:
        _silence_stdout()  # the reader of stdout went away (e.g. `| head`): stop quietly like other tools
        raise typer.Exit(EXIT_WRITE_ERROR) from None
    except Exception as e:  # noqa: BLE001 - the known ones are told apart below, the rest re-raised
        message, code = _explain(e, task_hint)
        if message is None:
            raise
        _fail(message, code)


def _explain(e: Exception, task_hint: str) -> tuple[str | None, int]:
    from .config import ConfigError
    from .dedup.index import IndexMismatch
    from .driver import WriteFailed
    from .engine.executors import TaskFailed
    from .engine.manifest import RunConflict
    from .io.atomic import OutputFailed
    from .records import StrictStop

    if isinstance(e, (ConfigError, RunConflict)):
        return str(e), EXIT_BAD_INPUT
    if isinstance(e, IndexMismatch):
        return f"--against: {e}", EXIT_BAD_INPUT
    if isinstance(e, StrictStop):
        return f"{e.where}: {e.reason} (--strict: stopped at the first bad record{e.note})", EXIT_BAD_INPUT
    if isinstance(e, TaskFailed):
        return task_hint.format(position=e.position, reason=e.reason), EXIT_BAD_INPUT
    if isinstance(e, (WriteFailed, OutputFailed)):
        return str(e), EXIT_WRITE_ERROR
    if isinstance(e, OSError):
        return f"cannot write output: {e}", EXIT_WRITE_ERROR
    return None, 0


def _silence_stdout() -> None:
    # Point stdout at /dev/null so the interpreter's final flush cannot raise again.
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _check_balance(balanced: bool, counts: str) -> None:
    if not balanced:
        _fail(f"record accounting mismatch: {counts}; this is a bug, please report it", EXIT_ACCOUNTING)


# ------------------------------------------------------------------ commands

@app.command()
def clean(
    inputs: CleanInputs = None, output: Output = None,
    # what to clean
    skip: Skip = None, tweets: Tweets = "all",
    spin_tables: SpinTables = None, unspin: Unspin = "restore", spin_lm: SpinModel = None,
    spin_lm_backend: SpinModelBackend = "numpy",
    boilerplate: Boilerplate = "auto", boilerplate_min_pages: BoilerplateMinPages = BOILERPLATE_MIN_PAGES,
    boilerplate_min_share: BoilerplateMinShare = BOILERPLATE_MIN_SHARE, min_keep: MinKeep = DEFAULT_MIN_KEEP,
    # how records are read
    text_field: TextField = None, id_field: IdField = None,
    doc_timeout: DocTimeout = DEFAULT_DOC_TIMEOUT, max_bytes: MaxBytes = DEFAULT_MAX_BYTES, strict: Strict = False,
    html_tables: HtmlTables = True,
    # what is written, how
    output_format: OutputFormat = "jsonl", diff: Diff = False, explain: Explain = False,
    rejects: CleanRejects = None, stats: StatsFile = None, workers: Workers = None, quiet: Quiet = False,
) -> None:
    """Clean the text of every record: JSONL in, JSONL out, same order, other fields untouched."""
    options = {k: v for k, v in locals().items() if k not in ("inputs", "output", "quiet")}
    from .console import isatty, print_clean_summary, progress, progress_wanted

    if diff and (output is not None or rejects is not None):
        _fail("--diff only prints the changes to stdout; it cannot be combined with -o/--output or --rejects")
    if not inputs and isatty(sys.stdin):
        _fail("no input: give JSONL/.txt files or folders, or pipe JSONL into stdin ('-')")
    with _exit_codes("{reason} while cleaning; nothing was written"):
        from .config import Config
        from .driver import clean_files
        from .io.html import tables

        config = Config.from_options(**options)
        with tables(config.read.html_tables), \
                progress(progress_wanted(quiet, writes_stdout=output in (None, "-"))) as tick:
            run = clean_files(inputs or [], output, config, cleaner=_site_cleaner(inputs or [], config),
                              progress=tick)
    counts = run.stats
    if not quiet:
        print_clean_summary(counts, run.rejects if counts.rejected and not diff else None, diff)
    _check_balance(counts.balanced, f"{counts.input_records} input records != {counts.output_records} output + "
                   f"{counts.rejected} rejected (changed {counts.changed} + unchanged {counts.unchanged})")


def _site_cleaner(inputs: list[str], config: Any) -> Any:
    """``clean --boilerplate auto``: a cleaner that knows the sites of the input files
    (learned in a pass over them first); None (config's own) for stdin or ``off``."""
    from .clean.sites import learn_from_files
    from .driver import resolve_inputs

    sites = learn_from_files(resolve_inputs(inputs), config)
    return None if sites is None else config.clean.cleaner().with_sites(sites)


def _deduplicating_command(cleaned_archive: bool, events: Any, events_default: bool, keep_help: str) -> Any:
    """The command function of ``dedup`` (``cleaned_archive`` False) or ``run`` (True):
    the same options, but for how events are asked for."""
    KeepPolicy = Annotated[str, typer.Option("--keep", metavar="POLICY", help=keep_help)]  # noqa: N806

    def command(
        inputs: Inputs, outdir: Outdir,
        events: events = events_default, keep: KeepPolicy = "cleanest",
        # how records are compared and grouped
        threshold: Threshold = None, event_threshold: EventThreshold = None, against: Against = None,
        spin_tables: SpinTables = None, unspin: Unspin = "restore", learn_spin: LearnSpin = True,
        spin_lm: SpinModel = None, spin_lm_backend: SpinModelBackend = "numpy",
        boilerplate: Boilerplate = "auto", boilerplate_min_pages: BoilerplateMinPages = BOILERPLATE_MIN_PAGES,
        boilerplate_min_share: BoilerplateMinShare = BOILERPLATE_MIN_SHARE, min_keep: MinKeep = DEFAULT_MIN_KEEP,
        # how records are read
        text_field: TextField = None, id_field: IdField = None,
        doc_timeout: DocTimeout = DEFAULT_DOC_TIMEOUT, max_bytes: MaxBytes = DEFAULT_MAX_BYTES, strict: Strict = False,
        html_tables: HtmlTables = True,
        # how the run is spread, what it writes
        workers: Workers = None, engine: EngineName = "local", scheduler: Scheduler = None,
        shard_size: ShardSize = DEFAULT_SHARD_MB, force: Force = False, rejects: DedupRejects = None,
        keep_work: KeepWork = False, quiet: Quiet = False,
    ) -> None:
        options = {k: v for k, v in locals().items() if k not in ("cleaned_archive", "events_default", "keep_help")}
        _deduplicate(options, cleaned_archive)

    return command


DEDUP_HELP = (
    "Find near-duplicate records (and with --events, same-event groups) and write the deduplicated archive.\n\n"
    "Records are compared on their cleaned text; they are written as they came. Every input record ends up in "
    "exactly one of kept, duplicates or rejects (checked: exit 3 if not). Very short texts (< 20 words) merge "
    "only with identical texts.")
RUN_HELP = (
    "Clean, deduplicate and group by event in one pass: the archive holds cleaned text.\n\n"
    "The same outputs as dedup, except that the records in kept.jsonl.gz and duplicates.jsonl.gz carry their "
    "cleaned text (in the field it was read from).")
app.command("dedup", help=DEDUP_HELP)(_deduplicating_command(False, DedupEvents, False, KEEP_HELP))
app.command("run", help=RUN_HELP)(_deduplicating_command(True, RunEvents, True, "Survivor of each cluster, as "
                                                         "for dedup."))


def _deduplicate(options: dict[str, Any], cleaned_archive: bool) -> None:
    """What ``dedup`` and ``run`` share; ``run`` writes the cleaned text into the archive."""
    inputs, outdir, quiet = options.pop("inputs"), options.pop("outdir"), options.pop("quiet")
    with _exit_codes("shard {position}: {reason}; run the same command again to resume (finished shards are "
                     "kept)"):
        from .config import Config
        from .dedup.run import reserved_paths, run_dedup
        from .driver import resolve_inputs

        config = Config.from_options(**options, cleaned_archive=cleaned_archive)
        # outputs are never inputs: a walk of an input folder that holds OUTDIR leaves them out
        own = [*reserved_paths(outdir), options["rejects"]]
        stats, _ = run_dedup(resolve_inputs(inputs, skip=own), outdir, config)
    if not quiet:
        from .console import dedup_summary

        typer.echo(dedup_summary(stats, outdir), err=True)
    _check_balance(stats.balanced, f"{stats.input_records} input records != {stats.kept} kept + "
                   f"{stats.duplicates} duplicates + {stats.rejected} rejects")


@app.command("report")
def report(
    outdir: Annotated[Path, typer.Argument(metavar="OUTDIR", help="A finished 'newsclean dedup' or 'run' output "
                                           "folder.", show_default=False)],
) -> None:
    """Rebuild OUTDIR/report.html, the run report, from a finished dedup/run output folder."""
    from .report import cli_report

    code = cli_report(outdir)
    if code:
        raise typer.Exit(code)


@app.command("spin-table")
def spin_table(
    outdir: Annotated[Path, typer.Argument(metavar="OUTDIR", help="A finished 'newsclean dedup' or 'run' output "
                                           "folder.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="The TSV spin table to write.")],
    text_field: TextField = None,
    min_clusters: Annotated[int, typer.Option("--min-clusters", min=1, metavar="N", help="Keep a swap seen in at "
                                         "least N clusters.")] = MIN_CLUSTERS,
    min_consistency: Annotated[float, typer.Option(
        "--min-consistency", min=0.0, max=1.0, metavar="R", help="Keep a swap when the spun form was aligned to "
        "its original in at least this share of its uses in spun copies (below 0.1: a weak swap, restored where "
        "the context or the model says so, no evidence of spinning).")] = MIN_CONSISTENCY,
    max_clusters: Annotated[int | None, typer.Option("--max-clusters", min=1, metavar="N", help="Read at most N "
                                                "clusters (memory).")] = None,
    quiet: Quiet = False,
) -> None:
    """Learn a spinner's table from the near-duplicate clusters of a dedup/run OUTDIR.

    Spun copies and their originals end up in one cluster; aligning them shows what
    the spinner swaps.  Use the table with 'newsclean clean --spin-table FILE' to
    flag and restore spun articles whose originals are not in the corpus.
    """
    with _exit_codes("{reason}"):
        from .driver import learn_spin_table

        learned = learn_spin_table(outdir, output, text_field=text_field, min_clusters=min_clusters,
                                   min_consistency=min_consistency, max_clusters=max_clusters)
    if not quiet:
        typer.echo(f"{learned.clusters:,} clusters read, {learned.swaps:,} swaps learned -> {output} "
                   f"({learned.seconds:.1f} s)", err=True)
        if learned.skipped:
            typer.echo(f"{learned.skipped:,} archive lines skipped, e.g. {learned.first_skipped}", err=True)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="newsclean")


if __name__ == "__main__":
    main()

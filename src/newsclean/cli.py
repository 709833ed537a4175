"""Command line: ``newsclean clean INPUT... [-o OUTPUT]``.

Only typer is imported at module level; the cleaning stages (ftfy, wordfreq), the
readers and rich are imported inside the command so ``newsclean --help`` is instant.

Exit codes: 0 ok, 1 output could not be written, 2 unusable arguments or bad input
with ``--strict``, 3 the record accounting does not add up (a bug).
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from . import __version__

if TYPE_CHECKING:
    from .clean.pipeline import Cleaner
    from .engine.local import Outcome, Stats
    from .io.readers import InputFile

EXIT_WRITE_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_ACCOUNTING = 3

DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # same as io.readers.DEFAULT_MAX_BYTES, kept import-free
DEFAULT_DOC_TIMEOUT = 60.0  # seconds per record; a 50 MB article cleans in about 10 s
STDOUT_REJECTS = "newsclean.rejects.jsonl"

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


class _StrictStop(Exception):
    """The first bad record in --strict mode."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.reason)
        self.outcome = outcome


SpinTablesOpt = Annotated[
    list[Path] | None,
    typer.Option("--spin-table", metavar="FILE", help="Spin table (TSV: spun form<TAB>original; repeatable; "
                 "'newsclean spin-table' learns one from a corpus; 'builtin' names newsclean's own, the default "
                 "when none is given)."),
]
UnspinOpt = Annotated[
    str,
    typer.Option("--unspin", metavar="MODE", help="restore (default) puts the originals back in texts flagged "
                 "as spun; flag only scores them; off does neither. clean: a record with a spun form gets a "
                 "'spin' report; dedup/run: the score of a flagged text weighs in --keep cleanest."),
]


@app.command()
def clean(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="INPUT",
            help="JSONL files (.gz/.zst ok), .txt articles or folders of them; '-' or nothing reads stdin.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="OUTPUT", help="Output JSONL (.gz/.zst compress) or .parquet; default stdout."
        ),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            metavar="PATH",
            help="Where bad records go (always created if given). Default: <OUTPUT>.rejects.jsonl, "
            f"or ./{STDOUT_REJECTS} when writing to stdout, only if there are rejects.",
        ),
    ] = None,
    text_field: Annotated[
        str | None,
        typer.Option(
            "--text-field", metavar="NAME", help="Field with the text (default: text, maintext, content, body)."
        ),
    ] = None,
    id_field: Annotated[
        str | None,
        typer.Option("--id-field", metavar="NAME", help="Field with the id (default: id, doc_id, _id, uuid, url)."),
    ] = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print a unified diff per changed record to stdout; write no files.")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Add an 'edits' list (stage, what, where, before, after) to each record.")
    ] = False,
    stats_file: Annotated[
        Path | None, typer.Option("--stats", metavar="FILE", help="Write run statistics as JSON to FILE.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary or progress on stderr.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Stop at the first bad record (exit 2) instead of rejecting it.")
    ] = False,
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", min=1, metavar="N", help="Reject records larger than N bytes.")
    ] = DEFAULT_MAX_BYTES,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="jsonl (default), or text: each cleaned article as plain text under a '# id' line.",
        ),
    ] = "jsonl",
    tweets: Annotated[
        str,
        typer.Option(
            "--tweets",
            metavar="MODE",
            help="embedded (default): remove tweets in embed form (> quoted body + signature); "
            "all: also tweets rendered as plain paragraphs and pic.twitter.com links; keep: none.",
        ),
    ] = "embedded",
    doc_timeout: Annotated[
        float,
        typer.Option(
            "--doc-timeout",
            metavar="SECONDS",
            help="Reject a record whose cleaning takes longer than this (0: no limit).",
        ),
    ] = DEFAULT_DOC_TIMEOUT,
    skip: Annotated[
        list[str] | None,
        typer.Option(
            "--skip",
            metavar="STAGE",
            help="Leave out a stage (repeatable): encoding, markup, lost_chars, embeds, glued, layout.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", min=1, metavar="N", help="Cleaning processes (default: all cores; "
                     "inputs under 2,000 records are cleaned in this process). Output does not depend on it."),
    ] = None,
    spin_tables: SpinTablesOpt = None,
    unspin: UnspinOpt = "restore",
    spin_lm: Annotated[
        str | None,
        typer.Option("--spin-lm", metavar="MODEL", help="A local GGUF language model (file, folder, or Hugging Face "
                     "name in the local cache; extra [lm]) to weigh ambiguous swaps in context."),
    ] = None,
) -> None:
    """Clean the text of every record: JSONL in, JSONL out, same order, other fields untouched."""
    from .io.readers import InputError, expand_inputs, split_compression

    if output_format not in ("jsonl", "text"):
        _fail(f"--format must be jsonl or text, not {output_format!r}")
    from .clean.embeds import TWEET_MODES
    from .clean.pipeline import STAGES

    if tweets not in TWEET_MODES:
        _fail(f"--tweets must be one of {', '.join(TWEET_MODES)}, not {tweets!r}")
    unknown = [name for name in skip or [] if name not in STAGES]
    if unknown:
        _fail(f"--skip: unknown stage(s) {', '.join(unknown)}; stages are {', '.join(STAGES)}")
    spin_table = _load_spin_tables(spin_tables or [], unspin)
    if spin_lm is not None and spin_table is None:
        _fail("--spin-lm weighs the swaps a spin table finds: it cannot be combined with --unspin off")
    spin_lm_path = _load_spin_lm(spin_lm) if spin_lm is not None else None
    if diff and (output is not None or rejects is not None):
        _fail("--diff only prints the changes to stdout; it cannot be combined with -o/--output or --rejects")
    if not inputs and _isatty(sys.stdin):
        _fail("no input: give JSONL/.txt files or folders, or pipe JSONL into stdin ('-')")
    try:
        files = expand_inputs(inputs or [])
    except InputError as e:
        _fail(str(e))

    out_path = None if output in (None, "-") else Path(output)
    if diff:
        rejects_path: Path | None = None
    elif rejects is not None:
        rejects_path = rejects
    elif out_path is not None:
        rejects_path = out_path.with_name(split_compression(out_path.name)[0] + ".rejects.jsonl")
    else:
        rejects_path = Path(STDOUT_REJECTS)
    _check_paths(files, out_path, rejects_path, stats_file)
    from .io.writers import OutputError, check_record_output

    try:
        check_record_output(None if diff else out_path, as_text=output_format == "text")
    except OutputError as e:
        _fail(str(e))

    from .clean.pipeline import Cleaner
    from .engine.executors import default_workers
    from .engine.local import Stats

    stats = Stats()
    _run(
        files,
        Cleaner(skip=skip or (), tweets=tweets, spin_table=spin_table, unspin=unspin, spin_lm=spin_lm_path),
        stats,
        out_path=out_path,
        rejects_path=rejects_path,
        always_create_rejects=rejects is not None,
        text_field=text_field,
        id_field=id_field,
        diff=diff,
        explain=explain,
        strict=strict,
        quiet=quiet,
        max_bytes=max_bytes,
        as_text=output_format == "text",
        doc_timeout=doc_timeout,
        workers=workers or default_workers(),
    )
    stats.finish()
    if stats_file is not None:
        _write_stats(stats_file, stats)
    if not quiet:
        _print_summary(stats, rejects_path if stats.rejected and not diff else None, diff)
    if not stats.balanced:
        _fail(
            f"record accounting mismatch: {stats.input_records} input records != "
            f"{stats.output_records} output + {stats.rejected} rejected "
            f"(changed {stats.changed} + unchanged {stats.unchanged}); this is a bug, please report it",
            EXIT_ACCOUNTING,
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _check_paths(
    files: list[InputFile], out_path: Path | None, rejects_path: Path | None, stats_path: Path | None
) -> None:
    """Refuse outputs that would overwrite an input or each other, or cannot be created."""
    inputs = [f.path for f in files if f.path is not None]
    named = [("output", out_path), ("rejects file", rejects_path), ("stats file", stats_path)]
    seen: list[tuple[str, Path]] = []
    for label, path in named:
        if path is None:
            continue
        real = Path(os.path.realpath(path))
        for p in inputs:
            if real == Path(os.path.realpath(p)) or _same_file(path, p):
                _fail(f"{label} {path} is also an input; refusing to overwrite it")
        for other_label, other in seen:
            if real == other:
                _fail(f"{label} and {other_label} are the same path: {path}")
        seen.append((label, real))
        if path.is_dir():
            _fail(f"{label} {path} is a folder")
        if not real.parent.is_dir():
            _fail(f"folder of the {label} does not exist: {path.parent}")


def _run(
    files: list[InputFile],
    cleaner: Cleaner,
    stats: Stats,
    *,
    out_path: Path | None,
    rejects_path: Path | None,
    always_create_rejects: bool,
    text_field: str | None,
    id_field: str | None,
    diff: bool,
    explain: bool,
    strict: bool,
    quiet: bool,
    max_bytes: int,
    as_text: bool = False,
    doc_timeout: float | None = None,
    workers: int = 1,
) -> None:
    """Stream every input through the cleaner into the output and rejects writers."""
    from .engine.local import run_clean_parallel
    from .io.readers import read_inputs
    from .io.writers import AtomicWriter, dumps_line, record_writer

    out = AtomicWriter(None) if diff else record_writer(out_path)
    rejected = AtomicWriter(rejects_path) if rejects_path is not None else None
    # A progress bar only where it cannot mix with records printed to the terminal.
    show_progress = not quiet and _isatty(sys.stderr) and (out_path is not None or not _isatty(sys.stdout))
    items = read_inputs(files, max_bytes=max_bytes)
    outcomes = run_clean_parallel(
        items,
        cleaner,
        stats=stats,
        workers=workers,
        text_field=text_field,
        id_field=id_field,
        explain=explain and not diff,
        doc_timeout=doc_timeout,
    )
    try:
        with _progress(show_progress) as tick:
            out.open()
            for oc in outcomes:
                if oc.rejected:
                    if strict:
                        raise _StrictStop(oc)
                    if rejected is not None:
                        rejected.write(dumps_line(oc.reject_record()))
                    stats.rejected += 1
                else:
                    if diff:
                        if oc.changed:
                            out.write(_unified_diff(oc).encode("utf-8"))
                    elif as_text:
                        out.write(f"# {oc.id}\n\n{oc.after}\n\n".encode("utf-8"))
                    else:
                        assert oc.record is not None
                        out.write_record(oc.record, stdlib=oc.item.stdlib_json)
                    stats.output_records += 1
                tick(stats.input_records)
        out.commit()
        if rejected is not None and (rejected.is_open or always_create_rejects):
            rejected.commit()
    except _StrictStop as stop:
        _discard(out, rejected)
        oc = stop.outcome
        where = f"{oc.item.source}:{oc.item.line}"
        kept = "" if out_path is None or diff else f"; {out_path} not written"
        _fail(f"{where}: {oc.reason} (--strict: stopped at the first bad record{kept})")
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`): stop quietly like other tools.
        _discard(out, rejected)
        _silence_stdout()
        raise typer.Exit(EXIT_WRITE_ERROR) from None
    except OSError as e:
        _discard(out, rejected)
        _fail(f"cannot write output: {e}", EXIT_WRITE_ERROR)
    except BaseException:
        _discard(out, rejected)
        raise


def _discard(*writers: object) -> None:
    for w in writers:
        if w is not None:
            w.discard()  # type: ignore[attr-defined]


def _silence_stdout() -> None:
    # Point stdout at /dev/null so the interpreter's final flush cannot raise again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # closed stream
        return False


def _unified_diff(oc: Outcome) -> str:
    import difflib

    assert oc.before is not None and oc.after is not None
    lines = difflib.unified_diff(
        oc.before.splitlines(),
        oc.after.splitlines(),
        fromfile=f"{oc.id} (original)",
        tofile=f"{oc.id} (cleaned)",
        lineterm="",
    )
    return "\n".join(lines) + "\n"


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int], None]]:
    """Yield ``tick(records_done)``; a rich spinner with a count when enabled."""
    if not enabled:
        yield lambda done: None
        return
    import time

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.completed:,} records"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("cleaning", total=None)

        last = 0.0

        def tick(done: int) -> None:
            # Updating per record costs ~30% on short texts; 10 updates a second is plenty.
            nonlocal last
            now = time.monotonic()
            if now - last >= 0.1:
                last = now
                progress.update(task, completed=done)

        yield tick


def _write_stats(path: Path, stats: Stats) -> None:
    import orjson

    from .io.writers import open_output

    try:
        with open_output(path) as out:
            out.write(orjson.dumps(stats.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    except OSError as e:
        _fail(f"cannot write stats file: {e}", EXIT_WRITE_ERROR)


BUILTIN_TABLE = "builtin"  # --spin-table builtin: newsclean's own table


def _load_spin_tables(paths: list[Path], unspin: str) -> Any:
    """The merged spin table of ``--spin-table`` files (the built-in table without
    any; None with ``--unspin off``), or exit 2."""
    from .spin.restore import MODES

    if unspin not in MODES:
        _fail(f"--unspin must be one of {', '.join(MODES)}, not {unspin!r}")
    if unspin == "off":
        return None
    from .spin import TableError, builtin_table, read_table

    table = None
    for path in paths or [Path(BUILTIN_TABLE)]:
        try:
            t = builtin_table() if str(path) == BUILTIN_TABLE else read_table(path)
        except TableError as e:
            _fail(str(e))
        table = t if table is None else table.merged(t)
    return table


def _load_spin_lm(name: str) -> str:
    """The GGUF file ``--spin-lm`` names, loaded once here so that a bad model fails
    before any record is read (exit 2)."""
    from .spin.lm import ModelError, load_model, resolve_model

    try:
        path = resolve_model(name)
        load_model(path)
    except ModelError as e:
        _fail(str(e))
    return path


def _print_summary(stats: Stats, rejects_path: Path | None, diff: bool) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, highlight=False)
    changed = "would change" if diff else "cleaned, changed"
    records = Table(title="records", box=box.SIMPLE, title_justify="left")
    records.add_column("outcome")
    records.add_column("records", justify="right")
    records.add_row(changed, f"{stats.changed:,}")
    records.add_row("cleaned, unchanged", f"{stats.unchanged:,}")
    if "unspin" in stats.edits_by_stage:
        records.add_row("of which flagged as spun", f"{stats.spun:,}")
    records.add_row("rejected", f"{stats.rejected:,}")
    records.add_row("input total", f"{stats.input_records:,}", end_section=True)
    edits = Table(title="edits by stage", box=box.SIMPLE, title_justify="left")
    edits.add_column("stage")
    edits.add_column("edits", justify="right")
    for stage, n in stats.edits_by_stage.items():
        edits.add_row(stage, f"{n:,}")
    edits.add_row("total", f"{sum(stats.edits_by_stage.values()):,}")
    console.print(records)
    console.print(edits)
    rate = stats.docs_per_second
    shown_rate = f"{rate:,.1f}" if rate >= 1 or rate == 0 else f"{rate:.3f}"  # huge articles: < 1/s
    console.print(f"{stats.input_records:,} records in {stats.seconds:.2f} s ({shown_rate} records/s)")
    console.print(f"{stats.input_records:,} input = {stats.output_records:,} output + {stats.rejected:,} rejects"
                  + ("" if stats.balanced else "  (MISMATCH)"))
    if rejects_path is not None:
        console.print(f"{stats.rejected:,} rejected records written to {rejects_path}")
    elif diff and stats.rejected:
        console.print(f"{stats.rejected:,} records rejected (--diff writes no rejects file)")



# Arguments and options shared by dedup and run.
InputsArg = Annotated[
    list[str],
    typer.Argument(metavar="INPUT", help="JSONL, CSV, Parquet, WARC, .txt or .html files (.gz/.zst ok), or folders of them.",
                   show_default=False),
]
OutdirOpt = Annotated[
    Path,
    typer.Option("--output", "-o", metavar="OUTDIR", help="Folder for clusters.jsonl, kept.jsonl.gz, "
                 "duplicates.jsonl.gz, rejects.jsonl, stats.json and index/ (created if missing)."),
]
ThresholdOpt = Annotated[
    float | None,
    typer.Option("--threshold", metavar="T", help="Word-shingle containment needed to call two records "
                 "near-duplicates (0-1, default 0.6)."),
]
EventThresholdOpt = Annotated[
    float | None,
    typer.Option("--event-threshold", metavar="T", help="Average-link TF-IDF cosine for events (default 0.23)."),
]
TextFieldOpt = Annotated[
    str | None,
    typer.Option("--text-field", metavar="NAME", help="Field with the text (default: text, maintext, content, body)."),
]
IdFieldOpt = Annotated[
    str | None,
    typer.Option("--id-field", metavar="NAME", help="Field with the id (default: id, doc_id, _id, uuid, url)."),
]
DocTimeoutOpt = Annotated[
    float,
    typer.Option("--doc-timeout", metavar="SECONDS", help="Reject a record whose cleaning takes longer (0: no limit)."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Stop at the first bad record (exit 2) instead of rejecting it.")
]
MaxBytesOpt = Annotated[
    int, typer.Option("--max-bytes", min=1, metavar="N", help="Reject records larger than N bytes.")
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", "-w", min=1, metavar="N", help="Processes for the per-shard work "
                 "(default: all cores). Results do not depend on it."),
]
EngineOpt = Annotated[
    str,
    typer.Option("--engine", metavar="ENGINE", help="local (a process pool) or dask (dask.distributed: a "
                 "LocalCluster of --workers processes, or the cluster at --scheduler; pip install "
                 "'newsclean[dask]')."),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", metavar="ADDRESS", help="Dask scheduler to use (e.g. tcp://host:8786); implies "
                 "--engine dask. Workers must see the inputs and OUTDIR at the same paths."),
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="OUTDIR holds another run (other inputs or parameters) or foreign files: "
                 "replace newsclean's outputs there instead of refusing. The same command resumes without it."),
]
RejectsOpt = Annotated[
    Path | None,
    typer.Option("--rejects", metavar="PATH", help="Where rejected records go (default OUTDIR/rejects.jsonl)."),
]
ShardSizeOpt = Annotated[
    float,
    typer.Option("--shard-size", min=0.001, metavar="MB", help="Input per shard, in MB (the unit of work, "
                 "of parallelism and of resuming)."),
]
KeepWorkOpt = Annotated[
    bool, typer.Option("--keep-work", help="Keep OUTDIR/work/ (per-shard intermediate files) after success.")
]
AgainstOpt = Annotated[
    Path | None,
    typer.Option("--against", metavar="PREV_OUTDIR", help="Deduplicate against a previous run's OUTDIR "
                 "(its index/, same parameters): new records matching archived ones join their clusters, "
                 "archived survivors stay survivors; outputs cover the new records, OUTDIR/index/ both."),
]


@app.command()
def dedup(
    inputs: InputsArg,
    outdir: OutdirOpt,
    events: Annotated[
        bool, typer.Option("--events", help="Also group records reporting the same event (adds 'event').")
    ] = False,
    keep: Annotated[
        str,
        typer.Option(
            "--keep",
            metavar="POLICY",
            help="Survivor of each cluster. cleanest (default): fewest cleaning edits (unspinning included), "
            "then least spin (a text flagged as spun after one that is not), then longest, then "
            "earliest date, then id; longest: longest cleaned text, then fewest edits, then id; "
            "earliest: earliest date field (date, published, published_at, publish_date, timestamp), "
            "then id; first: first in input order.",
        ),
    ] = "cleanest",
    threshold: ThresholdOpt = None,
    event_threshold: EventThresholdOpt = None,
    text_field: TextFieldOpt = None,
    id_field: IdFieldOpt = None,
    doc_timeout: DocTimeoutOpt = DEFAULT_DOC_TIMEOUT,
    quiet: QuietOpt = False,
    strict: StrictOpt = False,
    max_bytes: MaxBytesOpt = DEFAULT_MAX_BYTES,
    against: AgainstOpt = None,
    workers: WorkersOpt = None,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
    force: ForceOpt = False,
    rejects: RejectsOpt = None,
    shard_size: ShardSizeOpt = 16.0,
    keep_work: KeepWorkOpt = False,
    spin_tables: SpinTablesOpt = None,
    unspin: UnspinOpt = "restore",
) -> None:
    """Find near-duplicate records (and with --events, same-event groups) and write the deduplicated archive.

    Records are compared on their cleaned text; they are written as they came. Every
    input record ends up in exactly one of kept, duplicates or rejects (checked: exit 3
    if not). Very short texts (< 20 words) merge only with identical texts.
    """
    _dedup_command(inputs, outdir, events=events, keep=keep, threshold=threshold, event_threshold=event_threshold,
                   text_field=text_field, id_field=id_field, quiet=quiet, strict=strict, max_bytes=max_bytes,
                   cleaned_archive=False, doc_timeout=doc_timeout, against=against,
                   workers=workers, engine=engine, scheduler=scheduler, force=force, rejects=rejects,
                   shard_size=shard_size, keep_work=keep_work, spin_tables=spin_tables, unspin=unspin)


def _dedup_command(
    inputs: list[str],
    outdir: Path,
    *,
    events: bool,
    keep: str,
    threshold: float | None,
    event_threshold: float | None,
    text_field: str | None,
    id_field: str | None,
    quiet: bool,
    strict: bool,
    max_bytes: int,
    cleaned_archive: bool,
    doc_timeout: float | None = DEFAULT_DOC_TIMEOUT,
    against: Path | None = None,
    workers: int | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    force: bool = False,
    rejects: Path | None = None,
    shard_size: float = 16.0,
    keep_work: bool = False,
    spin_tables: list[Path] | None = None,
    unspin: str = "restore",
) -> None:
    """What ``dedup`` and ``run`` share; ``run`` writes the cleaned text into the archive."""
    if scheduler:
        engine = "dask"
    if engine not in ("local", "dask"):
        _fail(f"--engine must be local or dask, not {engine!r}")
    from .io.readers import InputError, expand_inputs

    if keep not in ("cleanest", "earliest", "longest", "first"):
        _fail(f"--keep must be cleanest, earliest, longest or first, not {keep!r}")
    for label, value in (("--threshold", threshold), ("--event-threshold", event_threshold)):
        if value is not None and not 0.0 < value <= 1.0:
            _fail(f"{label} must be in (0, 1], not {value}")
    try:
        files = expand_inputs(inputs)
    except InputError as e:
        _fail(str(e))
    if outdir.exists() and not outdir.is_dir():
        _fail(f"output {outdir} exists and is not a folder")
    real_out = Path(os.path.realpath(outdir))
    for f in files:
        if f.path is not None and Path(os.path.realpath(f.path)).parent == real_out and f.path.name in (
            "clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz", "rejects.jsonl", "stats.json"
        ):
            _fail(f"input {f.path} would be overwritten by the output; choose another OUTDIR")
    for f in files:
        if f.path is not None and rejects is not None and os.path.realpath(f.path) == os.path.realpath(rejects):
            _fail(f"--rejects {rejects} is an input; choose another path")
    if against is not None:
        if not against.is_dir():
            _fail(f"--against {against}: no such folder (give the OUTDIR of a previous dedup or run)")
        if Path(os.path.realpath(against)) == real_out:
            _fail("--against must be another folder than -o/--output: the previous run's outputs would be replaced")

    spin_table = _load_spin_tables(spin_tables or [], unspin)
    from dataclasses import replace

    from .clean.pipeline import Cleaner
    from .dedup import DedupParams, EventParams, IndexMismatch
    from .dedup.run import StrictStop, run_dedup
    from .engine.executors import TaskFailed, default_workers
    from .engine.manifest import RunConflict

    params = DedupParams() if threshold is None else replace(DedupParams(), threshold=threshold)
    event_params = EventParams() if event_threshold is None else replace(EventParams(), threshold=event_threshold)
    try:
        stats, _ = run_dedup(files, outdir, events=events, keep=keep, params=params, event_params=event_params,
                             text_field=text_field, id_field=id_field, max_bytes=max_bytes, strict=strict,
                             cleaned_archive=cleaned_archive, doc_timeout=doc_timeout, against=against,
                             cleaner=Cleaner(spin_table=spin_table, unspin=unspin),
                             workers=workers or default_workers(), engine=engine, scheduler=scheduler, force=force,
                             rejects_path=rejects, shard_bytes=max(1, int(shard_size * 1024 * 1024)),
                             keep_work=keep_work)
    except IndexMismatch as e:
        _fail(f"--against: {e}")
    except RunConflict as e:
        _fail(str(e))
    except TaskFailed as e:
        _fail(f"shard {e.position}: {e.reason}; run the same command again to resume (finished shards are kept)")
    except StrictStop as stop:
        _fail(f"{stop.where}: {stop.reason} (--strict: stopped at the first bad record; nothing written)")
    except OSError as e:
        _fail(f"cannot write output: {e}", EXIT_WRITE_ERROR)
    if not quiet:
        ev = f", {stats.events:,} events" if stats.events is not None else ""
        typer.echo(
            f"{stats.input_records:,} input = {stats.kept:,} kept + {stats.duplicates:,} duplicates + "
            f"{stats.rejected:,} rejects; {stats.clusters:,} clusters{ev}; "
            f"{stats.timings.get('total', 0.0):.2f} s; written to {outdir}",
            err=True,
        )
    if not stats.balanced:
        _fail(
            f"record accounting mismatch: {stats.input_records} input records != {stats.kept} kept + "
            f"{stats.duplicates} duplicates + {stats.rejected} rejects; this is a bug, please report it",
            EXIT_ACCOUNTING,
        )




@app.command()
def run(
    inputs: InputsArg,
    outdir: OutdirOpt,
    events: Annotated[
        bool, typer.Option("--events/--no-events", help="Group records reporting the same event (default on).")
    ] = True,
    keep: Annotated[
        str, typer.Option("--keep", metavar="POLICY", help="Survivor of each cluster, as for dedup.")
    ] = "cleanest",
    threshold: ThresholdOpt = None,
    event_threshold: EventThresholdOpt = None,
    text_field: TextFieldOpt = None,
    id_field: IdFieldOpt = None,
    doc_timeout: DocTimeoutOpt = DEFAULT_DOC_TIMEOUT,
    quiet: QuietOpt = False,
    strict: StrictOpt = False,
    max_bytes: MaxBytesOpt = DEFAULT_MAX_BYTES,
    against: AgainstOpt = None,
    workers: WorkersOpt = None,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = None,
    force: ForceOpt = False,
    rejects: RejectsOpt = None,
    shard_size: ShardSizeOpt = 16.0,
    keep_work: KeepWorkOpt = False,
    spin_tables: SpinTablesOpt = None,
    unspin: UnspinOpt = "restore",
) -> None:
    """Clean, deduplicate and group by event in one pass: the archive holds cleaned text.

    The same outputs as dedup, except that the records in kept.jsonl.gz and
    duplicates.jsonl.gz carry their cleaned text (in the field it was read from).
    """
    _dedup_command(inputs, outdir, events=events, keep=keep, threshold=threshold, event_threshold=event_threshold,
                   text_field=text_field, id_field=id_field, quiet=quiet, strict=strict, max_bytes=max_bytes,
                   cleaned_archive=True, doc_timeout=doc_timeout, against=against,
                   workers=workers, engine=engine, scheduler=scheduler, force=force, rejects=rejects,
                   shard_size=shard_size, keep_work=keep_work, spin_tables=spin_tables, unspin=unspin)


@app.command("spin-table")
def spin_table(
    outdir: Annotated[
        Path, typer.Argument(metavar="OUTDIR", help="A finished 'newsclean dedup' or 'run' output folder.",
                             show_default=False)
    ],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="The TSV spin table to write.")],
    text_field: TextFieldOpt = None,
    min_clusters: Annotated[
        int, typer.Option("--min-clusters", min=1, metavar="N", help="Keep a swap seen in at least N clusters.")
    ] = 2,
    min_consistency: Annotated[
        float, typer.Option("--min-consistency", min=0.0, max=1.0, metavar="R",
                            help="Keep a swap when the spun form was aligned to its original in at least "
                            "this share of its uses in spun copies (below 0.1: a weak swap, restored where "
                            "the context or the model says so, no evidence of spinning).")
    ] = 0.05,  # = spin.learn.MIN_CONSISTENCY (not imported: --help stays fast)
    max_clusters: Annotated[
        int | None, typer.Option("--max-clusters", min=1, metavar="N", help="Read at most N clusters (memory).")
    ] = None,
    quiet: QuietOpt = False,
) -> None:
    """Learn a spinner's table from the near-duplicate clusters of a dedup/run OUTDIR.

    Spun copies and their originals end up in one cluster; aligning them shows what
    the spinner swaps.  Use the table with 'newsclean clean --spin-table FILE' to
    flag and restore spun articles whose originals are not in the corpus.
    """
    import time

    from .spin.learn import cluster_groups, learn_pairs, write_table

    if not (outdir / "kept.jsonl.gz").exists() or not (outdir / "duplicates.jsonl.gz").exists():
        _fail(f"{outdir}: not a finished dedup/run output folder (kept.jsonl.gz and duplicates.jsonl.gz needed)")
    started = time.perf_counter()
    try:
        groups = cluster_groups(outdir, text_field, max_clusters)
    except (OSError, ValueError, EOFError) as e:
        _fail(f"{outdir}: cannot read the clusters: {e}")
    pairs = learn_pairs(groups, min_clusters=min_clusters, min_consistency=min_consistency)
    try:
        n = write_table(pairs, output)
    except OSError as e:
        _fail(f"cannot write {output}: {e}", EXIT_WRITE_ERROR)
    if not quiet:
        typer.echo(f"{len(groups):,} clusters read, {n:,} swaps learned -> {output} "
                   f"({time.perf_counter() - started:.1f} s)", err=True)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="newsclean")


if __name__ == "__main__":
    main()

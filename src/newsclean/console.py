"""What a run prints on standard error: a progress spinner while ``clean`` runs, and the
summaries at the end (rich tables for ``clean``, one line for ``dedup``/``run``).

rich is imported here only, when something is printed.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine.local import Stats


def isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # closed stream
        return False


def progress_wanted(quiet: bool, writes_stdout: bool) -> bool:
    """A progress bar only on a terminal, and only where it cannot mix with records
    printed to the same terminal."""
    return not quiet and isatty(sys.stderr) and (not writes_stdout or not isatty(sys.stdout))


@contextmanager
def progress(enabled: bool) -> Iterator[Callable[[int], None]]:
    """Yield ``tick(records_done)``; a rich spinner with a count when enabled."""
    if not enabled:
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.completed:,} records"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("cleaning", total=None)
        last = 0.0

        def tick(done: int) -> None:
            # Updating per record costs ~30% on short texts; 10 updates a second is plenty.
            nonlocal last
            now = time.monotonic()
            if now - last >= 0.1:
                last = now
                bar.update(task, completed=done)

        yield tick


def print_clean_summary(stats: Stats, rejects_path: Path | None, diff: bool) -> None:
    """Records per outcome and edits per stage, the speed and the accounting of a ``clean`` run."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, highlight=False)
    records = Table(title="records", box=box.SIMPLE, title_justify="left")
    records.add_column("outcome")
    records.add_column("records", justify="right")
    records.add_row("would change" if diff else "cleaned, changed", f"{stats.changed:,}")
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
    for line in cleaning_notes(stats.cut_down, stats.boilerplate_section(), diff):
        console.print(line)


def cleaning_notes(cut_down: int, boilerplate: dict[str, Any] | None, diff: bool = False) -> list[str]:
    """The lines a run's summary adds about what cleaning removed: site boilerplate, and a
    warning for records cut down (never silently)."""
    from .records import KEPT_FIELD

    notes = []
    if boilerplate is not None and not boilerplate["lines_learned"]:
        notes.append("site boilerplate: none learned (no line recurs on enough pages of a site)")
    elif boilerplate is not None:
        notes.append(f"site boilerplate: {boilerplate['lines_learned']:,} lines learned, "
                     f"{boilerplate['lines_removed']:,} removed from {boilerplate['records_changed']:,} records")
    if cut_down:
        flagged = "" if diff else f", flagged with a {KEPT_FIELD} field"
        records, its = ("record", "its") if cut_down == 1 else ("records", "their")
        notes.append(f"warning: {cut_down:,} {records} cut down by cleaning to less than --min-keep of {its} "
                     f"text{flagged}")
    return notes


def dedup_summary(stats: Any, outdir: Path) -> str:
    """The line a ``dedup``/``run`` run ends with: the accounting, clusters, events, time."""
    events = f", {stats.events:,} events" if stats.events is not None else ""
    line = (f"{stats.input_records:,} input = {stats.kept:,} kept + {stats.duplicates:,} duplicates + "
            f"{stats.rejected:,} rejects; {stats.clusters:,} clusters{events}; "
            f"{stats.timings.get('total', 0.0):.2f} s; written to {outdir}")
    notes = cleaning_notes(getattr(stats, "cut_down", 0), getattr(stats, "boilerplate", None))
    return "\n".join([line, *notes])

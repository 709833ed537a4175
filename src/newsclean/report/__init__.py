"""The run report: ``OUTDIR/report.html`` for ``newsclean dedup`` and ``newsclean run``.

:func:`build_report` reads a run folder (:mod:`.collect`: stats, clusters, rejects, a
bounded sample of the archives) and writes one self-contained HTML page: totals and
accounting checked against the files, cluster and event sizes, removed records beside
their survivors with the differences marked, composite pages, cleaning edits per
stage, spin, boilerplate, rejects by reason, time and memory.  Inline CSS and SVG,
no script, nothing fetched; every piece of record text is escaped.

What the outputs do not hold (the text before cleaning, each stage's edits, the spin
swaps restored) comes from ``OUTDIR/report-samples.json`` when the run wrote one
(:mod:`.samples`: each shard offers its records to a :class:`ReportSamples`, the
driver merges them with :func:`merge_samples`); without it those sections say "not
recorded".
"""
from __future__ import annotations

import os
from pathlib import Path

from .collect import Bounds, NotARunFolder, collect
from .samples import SAMPLES_NAME, Limits, ReportSamples, merge_samples, read_samples, samples_document, write_samples

REPORT_NAME = "report.html"

__all__ = ["REPORT_NAME", "SAMPLES_NAME", "Bounds", "Limits", "NotARunFolder", "ReportSamples", "build_report",
           "cli_report", "merge_samples", "read_samples", "samples_document", "write_samples"]


def build_report(outdir: str | os.PathLike[str], bounds: Bounds | None = None) -> Path:
    """Write ``OUTDIR/report.html`` (atomically) from the run folder; returns its path.

    The same folder gives the same bytes.  Raises :class:`NotARunFolder` when OUTDIR
    holds no ``stats.json``.
    """
    from .render import render

    outdir = Path(outdir)
    html = render(collect(outdir, bounds))
    target = outdir / REPORT_NAME
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(html.encode("utf-8"))
    os.replace(tmp, target)
    return target


def cli_report(outdir: str | os.PathLike[str]) -> int:
    """``newsclean report OUTDIR``: rebuild the report; prints its path, returns the exit
    code (0, or 2 when OUTDIR is not a run folder)."""
    import sys

    try:
        path = build_report(outdir)
    except NotARunFolder as e:
        print(f"newsclean report: {e}", file=sys.stderr)
        return 2
    print(path)
    return 0

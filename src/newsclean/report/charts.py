"""Bar charts as geometry for the template's inline SVG.

A plotting library would add a heavy dependency (matplotlib: ~40 MB with numpy's
friends, and ~1 s to import) for four bar charts; these are rectangles and labels,
laid out here and drawn by the template, which escapes every label.

>>> chart = bar_chart([("1", 562), ("2", 220), ("3", 0)])
>>> [b.label for b in chart.bars], chart.bars[0].height > chart.bars[1].height > 0 == chart.bars[2].height
(['1', '2', '3'], True)
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 720  # the widest chart
MAX_SLOT = 64  # a bar and its gap: few bars make a narrow chart, not wide bars
PLOT_HEIGHT = 120
TOP = 18  # room for the value above the tallest bar
BOTTOM = 34  # room for the labels under the bars


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown above the bar
    x: float
    y: float
    width: float
    height: float
    highlight: bool = False


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    baseline: float
    log: bool
    marker: float | None = None  # x of a vertical line (a threshold), if any
    marker_label: str = ""


def number(value: float) -> str:
    """A count with thousands separators, or a measurement with up to 3 decimals.

    >>> number(1925), number(0.7598), number(2.0)
    ('1,925', '0.76', '2')
    """
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.1f}"


def bar_chart(items: Sequence[tuple[str, float]], *, log: bool = False, highlight: Sequence[bool] = (),
              marker_at: float | None = None, marker_label: str = "") -> BarChart:
    """Vertical bars of ``(label, value)``; ``log``: heights on a log scale (counts that
    span orders of magnitude, every non-zero bar visible); ``marker_at``: a vertical
    line at that position counted in bars (2.5: between the 3rd and the 4th)."""
    n = max(1, len(items))
    slot = min(MAX_SLOT, WIDTH / n)
    gap = min(8.0, slot * 0.2)
    top = max((v for _, v in items), default=0) or 1

    def scaled(v: float) -> float:
        if v <= 0:
            return 0.0
        if log:
            return PLOT_HEIGHT * (0.08 + 0.92 * math.log1p(v) / math.log1p(top))
        return PLOT_HEIGHT * v / top

    bars = []
    for i, (label, value) in enumerate(items):
        h = scaled(value)
        bars.append(Bar(label, value, number(value) if value else "", x=i * slot + gap / 2, y=TOP + PLOT_HEIGHT - h,
                        width=slot - gap, height=h, highlight=bool(highlight[i]) if i < len(highlight) else False))
    marker = marker_at * slot if marker_at is not None else None
    width = max(240, round(slot * n))
    return BarChart(bars, width, TOP + PLOT_HEIGHT + BOTTOM, TOP + PLOT_HEIGHT, log, marker, marker_label)


@dataclass(frozen=True)
class Row:
    label: str
    value: float
    text: str
    width: float  # of the bar, in percent of the widest
    indent: bool = False


def bar_rows(items: Sequence[tuple[str, float]], *, total: float | None = None, unit: str = "",
             indent: Sequence[bool] = ()) -> list[Row]:
    """Horizontal bars (drawn as table rows), widths relative to ``total`` or the largest."""
    top = total or max((v for _, v in items), default=0) or 1
    return [Row(label, value, number(value) + unit, width=max(0.0, min(100.0, 100.0 * value / top)),
                indent=bool(indent[i]) if i < len(indent) else False)
            for i, (label, value) in enumerate(items)]


def size_bins(histogram: dict[int, int]) -> list[tuple[str, int, int]]:
    """Cluster (or event) sizes in bins: 1 ... 5 each, then 6-10, 11-20, 21-50, 51-100,
    101-1000, more; as ``(label, groups, records)``, up to the largest size present.

    >>> size_bins({1: 5, 2: 1, 7: 2, 30: 1})
    [('1', 5, 5), ('2', 1, 2), ('3', 0, 0), ('4', 0, 0), ('5', 0, 0), ('6–10', 2, 14), ('11–20', 0, 0), ('21–50', 1, 30)]
    """
    edges = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, 1000)]
    largest = max(histogram, default=0)
    edges.append((1001, max(largest, 1001)))
    out = []
    for low, high in edges:
        if low > largest:
            break
        groups = sum(c for s, c in histogram.items() if low <= s <= high)
        records = sum(s * c for s, c in histogram.items() if low <= s <= high)
        label = str(low) if low == high else (f"{low}–{high}" if high < largest or low <= 100 else f"{low}+")
        out.append((label, groups, records))
    return out

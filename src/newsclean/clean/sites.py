"""What a corpus tells about each of its sites, learned in one pass before cleaning.

A page alone cannot tell which of its short lines its site prints on page after page
(boilerplate, :mod:`.boilerplate`), nor which spaced dash the site sets when a
damaged page lost its dashes to ``?`` (house style,
:class:`~.lost_chars.HouseStyle`).  The corpus can: one pass over the raw records
counts both, per site, in bounded memory and mergeable by addition, so shards can be
counted apart::

    counts = SiteCounts()
    for record, text, source in records:         # the raw text, before any cleaning
        counts.add(site_of(record, source), text)
    sites = counts.learn()                        # shards: sum their SiteCounts first
    cleaner = Cleaner().with_sites(sites)         # each record cleaned with its site's

The pass reads the raw text, not the cleaned one: counting costs a split into lines
and a hash per short line, a tenth of cleaning the record, where counting on cleaned
text would clean every record twice.  The boilerplate lines are removed from the same
raw text, first (stage ``boilerplate``), so a line is removed exactly when it was
counted in that form.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .boilerplate import MIN_PAGES, MIN_SHARE, BoilerplateTable, LineCounts, site_of
from .lost_chars import EM, EN, HouseStyle, HouseStyleCounts

if TYPE_CHECKING:
    from ..config import Config
    from ..io.base import InputFile, Item

__all__ = ["CorpusSites", "Site", "SiteCounts", "count_records", "learn_from_files", "merge_site_counts"]

_LINES, _DASHES = "lines.npz", "dashes.json"
_TABLE, _STYLES = "boilerplate.npz", "styles.json"
_SPACED_DASHES = (f" {EN} ", f" {EM} ")
_STYLE_SAMPLE = 300_000  # characters of a text whose dashes are counted (as lost_chars reads a text's style)


@dataclass(frozen=True, slots=True)
class Site:
    """What cleaning one record may use of its site: the site's name, its boilerplate
    lines and its house style (each None when the corpus taught nothing)."""

    name: str
    boilerplate: BoilerplateTable | None = None
    house_style: HouseStyle | None = None


@dataclass
class SiteCounts:
    """Short lines and spaced dashes counted per site over some records; ``a + b``
    merges two shards' counts."""

    lines: LineCounts = field(default_factory=LineCounts)
    dashes: HouseStyleCounts = field(default_factory=HouseStyleCounts)

    def add(self, site: str, text: str) -> None:
        """Count one page of ``site`` (its raw text)."""
        self.lines.add(site, text)
        # the spaced dashes HouseStyleCounts.add finds, counted as substrings (eight times faster)
        found = {dash.strip(): n for dash in _SPACED_DASHES if (n := text.count(dash, 0, _STYLE_SAMPLE))}
        if found:
            self.dashes.dashes.setdefault(site, Counter()).update(found)

    def __add__(self, other: SiteCounts) -> SiteCounts:
        return merge_site_counts([self, other])

    def learn(self, min_pages: int = MIN_PAGES, min_share: float = MIN_SHARE) -> CorpusSites:
        """The boilerplate lines (on ``min_pages`` distinct articles and ``min_share`` of
        their site's pages) and the house styles the counts show."""
        styles = {}
        for site in self.dashes.dashes:
            dash = self.dashes.style(site).spaced_dash
            if dash is not None:
                styles[site] = dash
        return CorpusSites(self.lines.boilerplate(min_pages, min_share), styles)

    def save(self, folder: str | Path) -> None:
        """Write the counts into ``folder`` (hashes and numbers: no line text)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.lines.save(folder / _LINES)
        dashes = {site: dict(counts) for site, counts in sorted(self.dashes.dashes.items())}
        (folder / _DASHES).write_text(json.dumps(dashes, ensure_ascii=True) + "\n", encoding="ascii")

    @classmethod
    def load(cls, folder: str | Path) -> SiteCounts:
        folder = Path(folder)
        dashes = json.loads((folder / _DASHES).read_text(encoding="ascii"))
        return cls(LineCounts.load(folder / _LINES),
                   HouseStyleCounts({site: Counter(c) for site, c in dashes.items()}))


def merge_site_counts(parts: Iterable[SiteCounts]) -> SiteCounts:
    """The counts of several shards in one (the line pairs sorted once, not once per shard)."""
    pairs, pages, dashes, max_chars = [], Counter(), HouseStyleCounts(), 0
    for part in parts:
        part.lines._flush()
        pairs.append(part.lines.pairs)
        pages.update(part.lines.site_pages)
        dashes = dashes + part.dashes
        max_chars = max(max_chars, part.lines.max_chars)
    lines = LineCounts(np.unique(np.concatenate(pairs)) if pairs else LineCounts().pairs, pages,
                       max_chars or LineCounts().max_chars)
    return SiteCounts(lines, dashes)


@dataclass(frozen=True)
class CorpusSites:
    """What a corpus taught about its sites: the boilerplate lines of each (one table,
    keyed by site and line) and the spaced dash of those whose intact records show one."""

    boilerplate: BoilerplateTable
    styles: dict[str, str] = field(default_factory=dict)  # site -> the spaced dash it sets

    def site(self, record: dict[str, Any], source: str | None = None) -> Site | None:
        """The :class:`Site` of a record read from ``source``; None when the corpus
        taught nothing about it (the record is cleaned as without a corpus)."""
        name = site_of(record, source)
        dash = self.styles.get(name)
        boilerplate = self.boilerplate if self.boilerplate.has_site(name) else None
        if boilerplate is None and dash is None:
            return None
        return Site(name, boilerplate, HouseStyle(dash) if dash is not None else None)

    def save(self, folder: str | Path) -> None:
        """Write the table and the styles into ``folder``, the styles last (their file
        marks a complete save)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.boilerplate.save(folder / _TABLE)
        tmp = folder / f".{_STYLES}.tmp"
        tmp.write_text(json.dumps(self.styles, ensure_ascii=True, sort_keys=True) + "\n", encoding="ascii")
        os.replace(tmp, folder / _STYLES)

    @classmethod
    def load(cls, folder: str | Path) -> CorpusSites | None:
        """The sites saved in ``folder``; None when none were (completely) saved."""
        folder = Path(folder)
        try:
            styles = json.loads((folder / _STYLES).read_text(encoding="ascii"))
        except FileNotFoundError:
            return None
        return cls(BoilerplateTable.load(folder / _TABLE), styles)


def count_records(items: Iterable[Item], text_field: str | None = None) -> SiteCounts:
    """The site counts of read items (those without usable text are passed over)."""
    from ..records import Rejected, find_record

    counts = SiteCounts()
    for item in items:
        found = find_record(item, text_field=text_field)
        if not isinstance(found, Rejected):
            counts.add(site_of(found.item.record or {}, item.source), found.text)
    return counts


def learn_from_files(files: Sequence[InputFile], config: Config) -> CorpusSites | None:
    """``clean --boilerplate auto``: the sites of the input files, counted in one pass
    before cleaning them; None when an input is standard input (read only once, so it
    cannot be learned from first) or with ``--boilerplate off``."""
    from ..io.readers import read_inputs

    settings = config.clean
    if settings.boilerplate == "off" or any(f.path is None for f in files):
        return None
    counts = count_records(read_inputs(files, max_bytes=config.read.max_bytes), config.read.text_field)
    return counts.learn(settings.boilerplate_min_pages, settings.boilerplate_min_share)

"""Site boilerplate: lines a site repeats verbatim on many of its pages, learned from
the corpus itself.

No fixed list holds every site's furniture ("% of readers think this story is Fact",
an injected ad headline, "Subscribe to ... for FREE"), but a site prints it on page
after page, while its articles say something new each time.  This is the line-level
deduplication of web corpora (CCNet removes paragraphs whose hash recurs across a
shard; datatrove's sentence deduplication removes recurring spans), turned to news
sites and bounded against removing article text:

* per site: a line counts only against other pages of the same site (``domain``
  field, else the ``url`` host, else the source file), so a sentence that many
  sites happen to share is never boilerplate;
* in distinct articles, not pages: each page is counted under a key of its
  longest line, so copies of one article on a site (updates, syndicated
  duplicates) count once and their own lines are never taken for furniture;
* short lines only (``max_chars``): article paragraphs are longer than furniture;
* often enough: on at least ``min_pages`` articles and ``min_share`` of the site's
  pages (datatrove bounds the same risk with spans of three sentences and a minimum
  of words per removed span);
* the text is compared exactly, up to case and spacing: digits stay, since numbers
  are what differs between two templated sports or market reports;
* a record is never emptied by it (its caller flags one that loses most of its
  text, see :func:`newsclean.clean.embeds.kept_share`).

It runs in two passes over a corpus cut in shards, in bounded memory (64-bit hashes,
never the lines):

1. ``counts = LineCounts(); counts.add(site, text)`` for each record of a shard; the
   counts of all shards merge by addition (``sum(shard_counts, LineCounts())``, or
   one key range at a time with :meth:`LineCounts.key_range`); then
   ``table = counts.boilerplate()`` keeps the recurring lines (lines seen on a
   single page, the bulk, are dropped there);
2. ``remove_boilerplate_and_explain(text, table, site)`` for each record (stage
   ``boilerplate``: each removed line is an edit, so ``--explain`` shows it and the
   edits undo it), with :class:`BoilerplateStats` counting the lines removed.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import xxhash

from ..edits import Edit, Replacement, apply_replacements

STAGE = "boilerplate"

MAX_CHARS = 300  # longer lines are article paragraphs
MIN_PAGES = 5  # distinct articles of one site that must print the line
MIN_SHARE = 0.05  # ... and the share of the site's pages they must be

_PAIR = np.dtype([("key", "<u8"), ("page", "<u8"), ("site", "<u8")])
_SPACE_RUN = re.compile(r"\s\s")
_LETTER = re.compile(r"[^\W\d_]")  # a line of only digits and signs is no furniture


def normalise_line(line: str) -> str:
    """The form a line is compared in: case and spacing folded, nothing else.

    >>> normalise_line("  Subscribe to  The Daily for FREE ")
    'subscribe to the daily for free'
    """
    return " ".join(line.split()).casefold()  # str.split() and re's \\s agree on what is a space


def _hash(text: str) -> int:
    return xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass"))


def line_key(site: str, line: str) -> int:
    """The 64-bit key of a normalised line on a site."""
    return _hash(site + "\x00" + line)


def site_of(record: dict, source: str | None = None) -> str:
    """The site a record comes from: its ``domain`` field, else its ``url`` host
    (without ``www.``), else the source file it was read from, else ``""``.

    >>> site_of({"url": "https://www.example.com/news/1"})
    'example.com'
    >>> site_of({"text": "..."}, source="data/site-a.jsonl")
    'data/site-a.jsonl'
    """
    domain = record.get("domain")
    if isinstance(domain, str) and domain.strip():
        return domain.strip().lower().removeprefix("www.")
    url = record.get("url")
    if isinstance(url, str) and "://" in url:
        try:
            host = urlsplit(url.strip()).hostname
        except ValueError:
            host = None
        if host:
            return host.lower().removeprefix("www.")
    return source or ""


def _candidate_lines(text: str, max_chars: int) -> Iterator[tuple[int, int, str]]:
    """``(start, end, normalised)`` of each non-empty line short enough to be furniture."""
    pos = 0
    for raw in text.split("\n"):
        end = pos + len(raw)
        if raw and len(raw) <= max_chars * 2 and not raw.isspace() and (len(raw) <= max_chars or _loose(raw)):
            norm = normalise_line(raw)
            if len(norm) <= max_chars and _LETTER.search(norm):
                yield pos, end, norm
        pos = end + 1


def _loose(line: str) -> bool:
    """Could folding its spaces make this long line short?  (Most long lines are
    paragraphs with single spaces: they are passed over without being normalised.)"""
    return line[0].isspace() or line[-1].isspace() or _SPACE_RUN.search(line) is not None


def _page_key(lines: list[str]) -> int:
    """Copies of one article share their longest line, whatever else a copy adds."""
    return _hash(normalise_line(max(lines, key=len, default="")))


@dataclass
class LineCounts:
    """Which (line, site) pairs were seen on which articles, as hashes, for one shard
    or, merged, for a corpus.  Merging is addition: ``a + b``."""

    pairs: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=_PAIR))
    site_pages: Counter = field(default_factory=Counter)
    max_chars: int = MAX_CHARS
    # pairs not yet in ``pairs``, as three columns of Python ints (cheaper to grow than records)
    _keys: list = field(default_factory=list, repr=False)
    _pages: list = field(default_factory=list, repr=False)
    _sites: list = field(default_factory=list, repr=False)
    _site_hashes: dict = field(default_factory=dict, repr=False)

    def add(self, site: str, text: str) -> None:
        """Count the short lines of one page of ``site``."""
        self.site_pages[site] += 1
        site_hash = self._site_hashes.get(site)
        if site_hash is None:
            site_hash = self._site_hashes[site] = _hash(site)
        keys = {line_key(site, norm) for _, _, norm in _candidate_lines(text, self.max_chars)}
        if not keys:
            return
        page = _page_key(text.split("\n"))
        self._keys.extend(keys)
        self._pages.extend([page] * len(keys))
        self._sites.extend([site_hash] * len(keys))
        if len(self._keys) >= 200_000:
            self._flush()

    def _flush(self) -> None:
        if self._keys:
            fresh = np.empty(len(self._keys), dtype=_PAIR)
            fresh["key"], fresh["page"], fresh["site"] = self._keys, self._pages, self._sites
            self.pairs = np.unique(np.concatenate([self.pairs, fresh]))
            self._keys, self._pages, self._sites = [], [], []

    def __add__(self, other: LineCounts | int) -> LineCounts:
        if isinstance(other, int) and other == 0:
            return self  # sum() starts from 0
        self._flush()
        other._flush()
        return LineCounts(
            np.unique(np.concatenate([self.pairs, other.pairs])),
            self.site_pages + other.site_pages,
            max(self.max_chars, other.max_chars),
        )

    __radd__ = __add__  # sum() starts from 0

    def __len__(self) -> int:
        self._flush()
        return len(self.pairs)

    def key_range(self, part: int, parts: int) -> LineCounts:
        """The counts of one of ``parts`` equal ranges of line keys: merging the shards'
        counts range by range holds only one range of the corpus in memory at a time."""
        self._flush()
        span = (1 << 64) // parts
        low, high = part * span, (1 << 64) if part == parts - 1 else (part + 1) * span
        keys = self.pairs["key"]
        chosen = (keys >= np.uint64(low)) & ((keys < np.uint64(high)) if high < (1 << 64) else True)
        return LineCounts(self.pairs[chosen], Counter(self.site_pages), self.max_chars)

    def boilerplate(self, min_pages: int = MIN_PAGES, min_share: float = MIN_SHARE) -> BoilerplateTable:
        """The lines printed on at least ``min_pages`` distinct articles of their site
        and on ``min_share`` of its pages.  Call it on the counts of the whole corpus
        (or of one key range of it): a line seen once in each of two shards only
        recurs in their sum."""
        self._flush()
        if not len(self.pairs):
            return BoilerplateTable({}, self.max_chars)
        keys, first, pages = np.unique(self.pairs["key"], return_index=True, return_counts=True)
        often = pages >= min_pages  # the bulk, lines of one page, goes here without a Python loop
        keys, pages, sites = keys[often], pages[often], self.pairs["site"][first][often]
        pages_of_site = {_hash(site): n for site, n in self.site_pages.items()}
        table, with_lines = {}, set()
        for key, n, site in zip(keys.tolist(), pages.tolist(), sites.tolist()):
            if n >= min_share * pages_of_site.get(site, 0):
                table[key] = n
                with_lines.add(site)
        return BoilerplateTable(table, self.max_chars, frozenset(with_lines))

    def save(self, path: str | Path) -> None:
        self._flush()
        sites = sorted(self.site_pages)
        np.savez(path, pairs=self.pairs, sites=np.array(sites, dtype=str),
                 pages=np.array([self.site_pages[s] for s in sites], dtype=np.int64), max_chars=self.max_chars)

    @classmethod
    def load(cls, path: str | Path) -> LineCounts:
        with np.load(path) as f:
            site_pages = Counter(dict(zip(f["sites"].tolist(), f["pages"].tolist())))
            return cls(f["pairs"], site_pages, int(f["max_chars"]))


@dataclass(frozen=True)
class BoilerplateTable:
    """The recurring lines: line key -> number of articles of its site that print it;
    ``sites``: the hashes of the sites that have such lines."""

    pages: dict[int, int]
    max_chars: int = MAX_CHARS
    sites: frozenset[int] = frozenset()

    def __len__(self) -> int:
        return len(self.pages)

    def __contains__(self, key: int) -> bool:
        return key in self.pages

    def has_site(self, site: str) -> bool:
        """Does ``site`` have boilerplate lines?  (Its pages need no look at their lines
        when it has none.)"""
        return _hash(site) in self.sites

    def merged(self, other: BoilerplateTable) -> BoilerplateTable:
        """Tables learned on disjoint key ranges, put back together."""
        return BoilerplateTable({**self.pages, **other.pages}, max(self.max_chars, other.max_chars),
                                self.sites | other.sites)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        keys = np.fromiter(self.pages, dtype="<u8", count=len(self.pages))
        pages = np.fromiter(self.pages.values(), dtype="<i8", count=len(self.pages))
        return keys, pages

    def _sites_array(self) -> np.ndarray:
        return np.array(sorted(self.sites), dtype="<u8")

    def __reduce__(self) -> tuple:
        # as arrays: a table goes to every worker process with the cleaner
        return _table_from_arrays, (*self._arrays(), self.max_chars, self._sites_array())

    def save(self, path: str | Path) -> None:
        """Write the table for the tasks of the removal pass (keys and counts only)."""
        keys, pages = self._arrays()
        np.savez(path, keys=keys, pages=pages, max_chars=self.max_chars, sites=self._sites_array())

    @classmethod
    def load(cls, path: str | Path) -> BoilerplateTable:
        with np.load(path) as f:
            return _table_from_arrays(f["keys"], f["pages"], int(f["max_chars"]), f["sites"])


def _table_from_arrays(keys: np.ndarray, pages: np.ndarray, max_chars: int, sites: np.ndarray) -> BoilerplateTable:
    return BoilerplateTable(dict(zip(keys.tolist(), pages.tolist())), int(max_chars), frozenset(sites.tolist()))


def learn_boilerplate(
    pages: Iterable[tuple[str, str]], *, min_pages: int = MIN_PAGES, min_share: float = MIN_SHARE,
    max_chars: int = MAX_CHARS,
) -> BoilerplateTable:
    """Both counting steps in one go, for ``(site, text)`` pairs held in memory.

    >>> pages = [("a.com", f"Story {i} is about item {i}.\\nSubscribe to A for FREE") for i in range(6)]
    >>> table = learn_boilerplate(pages)
    >>> remove_boilerplate("Story 9 is new.\\nSubscribe to A for FREE", table, "a.com")
    'Story 9 is new.'
    """
    counts = LineCounts(max_chars=max_chars)
    for site, text in pages:
        counts.add(site, text)
    return counts.boilerplate(min_pages, min_share)


def remove_boilerplate_and_explain(text: str, table: BoilerplateTable, site: str) -> tuple[str, list[Edit]]:
    """Remove the lines ``table`` holds for ``site``, each as an edit of stage
    ``boilerplate``; a text that would be left without a word comes back unchanged."""
    if not table:
        return text, []
    reps: list[Replacement] = []
    for start, end, norm in _candidate_lines(text, table.max_chars):
        if line_key(site, norm) not in table:
            continue
        if end < len(text):
            end += 1  # with its line break
        elif start > 0 and not (reps and reps[-1].end == start):
            start -= 1  # the last line: the line break before it goes instead
        reps.append(Replacement(start, end, "", "site boilerplate"))
    out, edits = apply_replacements(text, STAGE, reps)
    if edits and not any(c.isalnum() for c in out):
        return text, []
    return out, edits


def remove_boilerplate(text: str, table: BoilerplateTable, site: str) -> str:
    return remove_boilerplate_and_explain(text, table, site)[0]


class BoilerplateStats(Counter):
    """How often each boilerplate line was removed (lines as they read, stripped);
    merges by addition like any Counter, for a run summary."""

    def add(self, edits: Iterable[Edit]) -> int:
        """Count the boilerplate lines among ``edits``; returns how many there were."""
        found = 0
        for e in edits:
            if e.stage == STAGE:
                self[e.before.strip()] += 1
                found += 1
        return found

    def top_lines(self, n: int = 50) -> list[dict[str, Any]]:
        """The ``n`` lines removed most often, as ``{"line", "count"}``, most frequent first.

        >>> BoilerplateStats({"Share this:": 3, "Advert": 5}).top_lines(1)
        [{'line': 'Advert', 'count': 5}]
        """
        ranked = sorted(self.items(), key=lambda item: (-item[1], item[0]))
        return [{"line": line, "count": count} for line, count in ranked[:n]]

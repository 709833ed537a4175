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

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from ..edits import Edit, Replacement, apply_replacements

STAGE = "boilerplate"

MAX_CHARS = 300  # longer lines are article paragraphs
MIN_PAGES = 5  # distinct articles of one site that must print the line
MIN_SHARE = 0.05  # ... and the share of the site's pages they must be

_PAIR = np.dtype([("key", "<u8"), ("page", "<u8"), ("site", "<u8")])
_SPACES = re.compile(r"\s+")


def normalise_line(line: str) -> str:
    """The form a line is compared in: case and spacing folded, nothing else.

    >>> normalise_line("  Subscribe to  The Daily for FREE ")
    'subscribe to the daily for free'
    """
    return _SPACES.sub(" ", line).strip().casefold()


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


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
        if raw.strip() and len(raw) <= max_chars * 2:
            norm = normalise_line(raw)
            if 0 < len(norm) <= max_chars and any(c.isalpha() for c in norm):
                yield pos, end, norm
        pos = end + 1


def _page_key(text: str) -> int:
    """Copies of one article share their longest line, whatever else a copy adds."""
    lines = [normalise_line(x) for x in text.split("\n")]
    return _hash(max(lines, key=len, default=""))


@dataclass
class LineCounts:
    """Which (line, site) pairs were seen on which articles, as hashes, for one shard
    or, merged, for a corpus.  Merging is addition: ``a + b``."""

    pairs: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=_PAIR))
    site_pages: Counter = field(default_factory=Counter)
    max_chars: int = MAX_CHARS
    _pending: list = field(default_factory=list, repr=False)

    def add(self, site: str, text: str) -> None:
        """Count the short lines of one page of ``site``."""
        self.site_pages[site] += 1
        page = _page_key(text)
        site_hash = _hash(site)
        keys = {line_key(site, norm) for _, _, norm in _candidate_lines(text, self.max_chars)}
        self._pending.extend((k, page, site_hash) for k in keys)
        if len(self._pending) >= 100_000:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            fresh = np.array(self._pending, dtype=_PAIR)
            self.pairs = np.unique(np.concatenate([self.pairs, fresh]))
            self._pending = []

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
        pages_of_site = {_hash(site): n for site, n in self.site_pages.items()}
        sites = self.pairs["site"][first]
        table = {}
        for key, n, site in zip(keys.tolist(), pages.tolist(), sites.tolist()):
            if n >= min_pages and n >= min_share * pages_of_site.get(site, 0):
                table[key] = n
        return BoilerplateTable(table, self.max_chars)

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
    """The recurring lines: line key -> number of articles of its site that print it."""

    pages: dict[int, int]
    max_chars: int = MAX_CHARS

    def __len__(self) -> int:
        return len(self.pages)

    def __contains__(self, key: int) -> bool:
        return key in self.pages

    def merged(self, other: BoilerplateTable) -> BoilerplateTable:
        """Tables learned on disjoint key ranges, put back together."""
        return BoilerplateTable({**self.pages, **other.pages}, max(self.max_chars, other.max_chars))

    def save(self, path: str | Path) -> None:
        """Write the table for the tasks of the removal pass (keys and counts only)."""
        keys = np.fromiter(self.pages, dtype="<u8", count=len(self.pages))
        pages = np.fromiter(self.pages.values(), dtype="<i8", count=len(self.pages))
        np.savez(path, keys=keys, pages=pages, max_chars=self.max_chars)

    @classmethod
    def load(cls, path: str | Path) -> BoilerplateTable:
        with np.load(path) as f:
            return cls(dict(zip(f["keys"].tolist(), f["pages"].tolist())), int(f["max_chars"]))


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

    def add(self, edits: Iterable[Edit]) -> None:
        for e in edits:
            if e.stage == STAGE:
                self[e.before.strip()] += 1

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
* in distinct articles, not pages: copies of one article on a site (updates,
  syndicated duplicates, two extractions of a page) must not make its own lines look
  like furniture.  Each page gets a signature of four min-hashes of its sentence
  openings; copies share most sentences, so they share most of these values whatever
  an extractor or an update changed, and two articles share none.  A line's articles
  are counted as the fewest distinct values any one of the four takes over its pages
  (copies that differ in one value still agree in another);
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
# what copies of an article are known by: its sentences of some length (furniture and
# the fixed sentences of templated reports are shorter), up to this many characters
MIN_SENTENCE_BYTES, SENTENCE_BYTES = 60, 300
# the four orders the page signature takes minima in (xor with a constant reorders hashes)
_SALTS = (0, 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)
_PAGE_FIELDS = ("page", "page1", "page2", "page3")

_PAIR = np.dtype([("key", "<u8"), ("page", "<u8"), ("site", "<u8"), ("page1", "<u8"), ("page2", "<u8"),
                  ("page3", "<u8")])
# list markers and quotes before a sentence (the bytes of \u2022 \u2013 \u2014 \u201c \u2018 among them)
_LEADING_BYTES = b" \t-*>#\"'([|\xe2\x80\x93\x94\x98\x9c\xa2"
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
        if raw and len(raw) <= max_chars * 2 and (len(raw) <= max_chars or _loose(raw)):
            folded = " ".join(raw.split())  # normalise_line, in two steps: most long lines stop here
            if 0 < len(folded) <= max_chars and _LETTER.search(folded):
                norm = folded.casefold()
                if len(norm) <= max_chars:
                    yield pos, end, norm
        pos = end + 1


def _loose(line: str) -> bool:
    """Could folding its spaces make this long line short?  Most long lines are
    paragraphs spaced singly: they are passed over without being folded.  (Runs of rarer
    spaces are not looked for: such a line is never counted, nor removed.)"""
    return line[0].isspace() or line[-1].isspace() or "  " in line or "\t" in line or "\u00a0" in line


def _page_signature(text: str) -> tuple[int, ...]:
    """The article a page holds, much the same for its copies: the smallest hash of its
    sentences, in four orders.  (A page without a sentence of some length is known by
    its whole text.)  Read as UTF-8 bytes, case folded once for the page and list
    markers and quotes stripped from each start: a hash per sentence and little else."""
    data = text.encode("utf-8", "surrogatepass").lower()
    hashes = [xxhash.xxh3_64_intdigest(sentence) for line in data.split(b"\n") for piece in line.split(b". ")
              if len(sentence := piece[:SENTENCE_BYTES].lstrip(_LEADING_BYTES)) >= MIN_SENTENCE_BYTES]
    if not hashes:
        hashes.append(_hash(normalise_line(text)))
    return tuple(min(map(salt.__xor__, hashes)) for salt in _SALTS)


@dataclass
class LineCounts:
    """Which (line, site) pairs were seen on which articles, as hashes, for one shard
    or, merged, for a corpus.  Merging is addition: ``a + b``."""

    pairs: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=_PAIR))
    site_pages: Counter = field(default_factory=Counter)
    max_chars: int = MAX_CHARS
    # pairs not yet in ``pairs``: their keys, and (site, signature) of each of their pages
    _keys: list = field(default_factory=list, repr=False)
    _pages: list = field(default_factory=list, repr=False)
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
        page = (site_hash, *_page_signature(text))
        self._keys.extend(keys)
        self._pages.extend([page] * len(keys))
        if len(self._keys) >= 200_000:
            self._flush()

    def _flush(self) -> None:
        if self._keys:
            fresh = np.empty(len(self._keys), dtype=_PAIR)
            fresh["key"] = self._keys
            pages = np.array(self._pages, dtype=np.uint64).reshape(-1, 5)
            fresh["site"], fresh["page"], fresh["page1"], fresh["page2"], fresh["page3"] = pages.T
            self.pairs = np.unique(np.concatenate([self.pairs, fresh]))
            self._keys, self._pages = [], []

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
        keys, pages = np.unique(self.pairs["key"], return_counts=True)
        # the bulk, lines of one page, goes here; the rest by the articles that print them
        rows = self.pairs[np.isin(self.pairs["key"], keys[pages >= min_pages])]
        keys, sites, pages = _articles(rows)
        often = pages >= min_pages
        keys, pages, sites = keys[often], pages[often], sites[often]
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


def _articles(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each line key of ``rows`` (pairs, ``np.unique``'s order), its site, and how many
    distinct articles print it: the fewest distinct values one of the page signature's
    minima takes over its pages."""
    keys, first = np.unique(rows["key"], return_index=True)
    articles = np.full(len(keys), np.iinfo(np.int64).max, dtype=np.int64)
    for name in _PAGE_FIELDS:
        order = np.lexsort((rows[name], rows["key"]))
        key, value = rows["key"][order], rows[name][order]
        fresh = np.ones(len(key), dtype=np.int64)
        fresh[1:] = (key[1:] != key[:-1]) | (value[1:] != value[:-1])
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        articles = np.minimum(articles, np.add.reduceat(fresh, starts) if len(key) else articles)
    return keys, rows["site"][first], articles


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

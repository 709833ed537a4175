"""Spin tables: which words or phrases a spinner wrote for which originals.

A table maps a *spun form* ("thirty day period", "gamers") to the *original* it
replaced ("month", "players").  Tables come from the user (``--spin-table``: a TSV
file), from :func:`newsclean.spin.learn.learn_table` (aligned copies in a corpus),
or from code (:meth:`SpinTable.from_pairs`).

Each entry carries the two numbers the detector and the restorer need, computed
once when the table is built:

* ``lift`` — how much more common the original is than the spun form, in Zipf units
  (``log10`` of the frequency ratio, word frequencies from ``wordfreq``).  A spinner
  swaps common words for rarer ones, so a high lift means a sighting of the form is
  good evidence of spinning and a low or negative one ("only" for "just") means it
  is not.
* ``choices`` — how many spun forms the table lists for the same original: a
  spinner that has three alternatives writes each a third of the time.

Matching is on words (letters, digits, inner apostrophes and hyphens), case-blind,
longest phrase first, and a phrase never spans punctuation or a line break.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..clean import wordlist

# a word: letters/digits with inner apostrophes or hyphens ("don't", "write-up", "2nd")
WORD_RE = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*")
MAX_PHRASE_WORDS = 8
# Zipf units a phrase loses per extra word: words that are common alone are far
# rarer together ("day" and "period" vs "day period")
PHRASE_DISCOUNT = 1.0
_NOTE = re.compile(r"\([^)]*\)")  # "smart (devices)": a note on the sense, not part of the phrase
_HEADER_WORDS = frozenset({"spun", "tortured", "spun phrase", "tortured phrase", "spun form"})


class TableError(ValueError):
    """A spin table that cannot be read; the message names the file and line."""


def phrase_zipf(phrase: str) -> float:
    """Zipf frequency of a word or phrase: a phrase is taken to be no more common than
    the harmonic combination of its words (an overestimate, so evidence drawn from a
    rare phrase is never overstated).  0.0 when a word is unknown.

    >>> phrase_zipf("time") > phrase_zipf("period") > phrase_zipf("thirty day period")
    True
    """
    words = phrase.lower().split()
    if not words:
        return 0.0
    inverse = 0.0
    for w in words:
        z = wordlist.zipf(w)
        if z <= 0.0:
            return 0.0
        inverse += 10.0 ** -z
    return -math.log10(inverse) - PHRASE_DISCOUNT * (len(words) - 1)


def _key(phrase: str) -> str:
    return " ".join(m.group().lower() for m in WORD_RE.finditer(phrase.replace("\u2019", "'")))


@dataclass(frozen=True, slots=True)
class Entry:
    """One spun form and what it replaced."""

    spun: str        # matching key: lower case words joined by single spaces
    original: str    # as the table writes it ("New York Times" keeps its capitals)
    lift: float      # Zipf(original) - Zipf(spun form)
    choices: int     # spun forms the table has for this original
    words: int       # words in the spun form
    is_original: bool = False  # the form is also an original of some entry ("best" for "top")
    # measured share of this form's uses in spun text that were spun (a learned
    # table's "consistency" column); None: estimated from frequencies
    spun_share: float | None = None


class SpinTable:
    """Spun form -> original, with per-entry evidence (see the module docstring).

    >>> t = SpinTable.from_pairs([("thirty day period", "month"), ("gamers", "players")])
    >>> len(t), t.get("Thirty day period").original
    (2, 'month')
    >>> [(e.spun, e.original) for e, a, b in t.find("The gamers met a thirty day period later.")]
    [('gamers', 'players'), ('thirty day period', 'month')]
    """

    def __init__(self, entries: Iterable[Entry], name: str = "table"):
        self.name = name
        self._entries: dict[str, Entry] = {}
        for e in entries:
            self._entries.setdefault(e.spun, e)
        # the originals are looked for too: a writer uses them, a spinner mostly
        # replaces them, so each one seen is evidence against spinning
        originals = {_key(e.original) for e in self._entries.values()}
        self._keys: dict[str, Entry | None] = {k: None for k in originals if k}
        for k, e in self._entries.items():
            if k in originals and not e.is_original:
                e = self._entries[k] = Entry(e.spun, e.original, e.lift, e.choices, e.words, True, e.spun_share)
            self._keys[k] = e
        self.max_words = max((len(k.split()) for k in self._keys), default=0)
        # first words of the keys: most text words start none, a set look-up skips
        # them without building n-gram keys
        self._starts = frozenset(k.split(" ", 1)[0] for k in self._keys)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str] | tuple[str, str, float | None]],
                   name: str = "table") -> SpinTable:
        """Build from ``(spun form, original[, spun share])`` pairs; the first original
        listed for a form wins, pairs whose two sides are the same words are ignored."""
        firsts: dict[str, str] = {}
        shares: dict[str, float | None] = {}
        for spun, original, *share in pairs:
            k, o = _key(spun), " ".join(original.split())
            if not k or not o or k == _key(o) or len(k.split()) > MAX_PHRASE_WORDS:
                continue
            if k not in firsts:
                firsts[k] = o
                shares[k] = share[0] if share else None
        choices: dict[str, int] = {}
        for o in firsts.values():
            choices[o.lower()] = choices.get(o.lower(), 0) + 1
        entries = []
        for k, o in firsts.items():
            zo, zs = phrase_zipf(o), phrase_zipf(k)
            # an unknown word on either side: no frequency evidence either way
            lift = zo - zs if zo > 0.0 and zs > 0.0 else 0.0
            entries.append(Entry(k, o, round(lift, 4), choices[o.lower()], len(k.split()), spun_share=shares[k]))
        return cls(entries, name)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, phrase: str) -> bool:
        return _key(phrase) in self._entries

    def __repr__(self) -> str:
        return f"SpinTable({self.name!r}, {len(self)} entries)"

    def get(self, phrase: str) -> Entry | None:
        return self._entries.get(_key(phrase))

    def original_keys(self) -> list[str]:
        """The originals' matching keys."""
        return sorted(k for k, e in self._keys.items() if e is None or e.is_original)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def merged(self, other: SpinTable) -> SpinTable:
        """Both tables; where both have a form, this one's entry wins."""
        return SpinTable([*self._entries.values(), *(e for e in other.entries() if e.spun not in self._entries)],
                         f"{self.name}+{other.name}")

    def find(self, text: str, start: int = 0, end: int | None = None,
             originals: bool = False) -> list[tuple[Entry | None, int, int]]:
        """Non-overlapping occurrences ``(entry, char start, char end)`` of spun forms in
        ``text[start:end]``, left to right, longest phrase first at each word; with
        ``originals``, sightings of an original that is no spun form come as ``(None, start, end)``."""
        end = len(text) if end is None else end
        spans = [(m.start(), m.end()) for m in WORD_RE.finditer(text, start, end)]
        lows = [text[a:b].lower().replace("\u2019", "'") for a, b in spans]
        out = []
        i, n = 0, len(spans)
        while i < n:
            if lows[i] not in self._starts:
                i += 1
                continue
            hit = None
            # words joined by exactly one space only: "day. Period" is no phrase
            j = i
            while j + 1 < n and j + 1 - i < self.max_words and text[spans[j][1]:spans[j + 1][0]] == " ":
                j += 1
            for last in range(j, i - 1, -1):
                k = " ".join(lows[i:last + 1])
                if k in self._keys:
                    hit = (self._keys[k], spans[i][0], spans[last][1])
                    i = last + 1
                    break
            if hit is None:
                i += 1
            elif hit[0] is not None or originals:
                out.append(hit)
        return out


def _share(parts: list[str], column: int | None, path: Path, lineno: int) -> float | None:
    if column is None or column >= len(parts) or not parts[column].strip():
        return None
    try:
        value = float(parts[column])
    except ValueError:
        raise TableError(f"{path}:{lineno}: consistency {parts[column]!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise TableError(f"{path}:{lineno}: consistency {value} is not between 0 and 1")
    return value


def read_table(path: str | Path) -> SpinTable:
    """Read a TSV spin table: ``spun form<TAB>original`` per line.

    The spun column may list several forms separated by ``|``; ``#`` lines, blank
    lines and a header (``spun``/``tortured`` in the first column) are skipped; a note
    in brackets ("smart (devices)") is dropped.  Extra columns are ignored, except a
    ``consistency`` column named in the header (tables written by ``newsclean
    spin-table``): the measured share of the form's uses that were spun.  A line
    without a tab is an error naming the file and line.
    """
    path = Path(path)
    pairs: list[tuple[str, str, float | None]] = []
    share_column: int | None = None  # a learned table's "consistency" column
    try:
        f = open(path, encoding="utf-8-sig")
    except OSError as e:
        raise TableError(f"{path}: cannot read spin table ({e.strerror or e})") from None
    with f:
        try:
            for lineno, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                parts = line.split("\t")
                if len(parts) < 2:
                    raise TableError(f"{path}:{lineno}: expected 'spun<TAB>original', found no tab")
                spun_col, original = (" ".join(_NOTE.sub(" ", p).split()) for p in parts[:2])
                if not pairs and spun_col.lower() in _HEADER_WORDS:
                    names = [p.strip().lower() for p in parts]
                    share_column = names.index("consistency") if "consistency" in names else None
                    continue
                share = _share(parts, share_column, path, lineno)
                for spun in spun_col.split("|"):
                    pairs.append((spun, original, share))
        except UnicodeDecodeError:
            raise TableError(f"{path}: not UTF-8 text") from None
    table = SpinTable.from_pairs(pairs, name=path.name)
    if not len(table):
        raise TableError(f"{path}: no usable 'spun<TAB>original' lines")
    return table

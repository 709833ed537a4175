"""Context evidence for a swap: does the original fit its neighbours better than the spun form?

A spin table alone cannot decide a swap whose two sides are both common words:
"only" stands for "just" in some spun sentences and is the writer's own word in
many more.  The neighbours tell them apart — "their have pockets" is nothing a
writer types, "their own pockets" is; "just over half" and "not only" are the
usual pairs.  This module weighs that with word-pair (bigram) counts that ship in
an installed package, never downloaded: symspellpy's
``frequency_bigramdictionary_en_243_342.txt`` (242,342 English pairs counted in
Google Books; ``pip install newsclean[spin]``).  Without it the evidence is 0 and
restoration falls back on the table's own numbers.

The evidence is a log-likelihood ratio between "the original was here" and "the
form was here", from the word before and the word after, each side on its own::

    ln P(prev | original) - ln P(prev | form) + ln P(next | original) - ln P(next | form)

``P(prev | w)`` is the pair count of ``prev w`` over every pair ending in ``w``, a
pair below the list's cut-off counting half the smallest listed count.  Sides are
skipped where the neighbour is no word or punctuation intervenes, or where either
side's word is too rare in the list to have a reliable spread of pairs
(:data:`MIN_MASS_IN_FLOORS`); each side
is capped at :data:`SIDE_CAP` nats.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SIDE_CAP = 3.0            # nats per side: one pair count never decides alone
# a word whose pairs total less than this many unlisted-pair counts has too few pairs
# listed to judge its neighbours (symspellpy: 2e9, about "team" and more common words)
MIN_MASS_IN_FLOORS = 600
BIGRAM_FILE = ("symspellpy", "frequency_bigramdictionary_en_243_342.txt")

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_PREV = re.compile(r"([A-Za-z]+(?:'[A-Za-z]+)?)[ \t]+$")
_NEXT = re.compile(r"^[ \t]+([A-Za-z]+(?:'[A-Za-z]+)?)")


@dataclass(frozen=True)
class Bigrams:
    """Word-pair counts with each word's total as left and as right member."""

    pairs: dict[str, int]
    as_left: dict[str, int]
    as_right: dict[str, int]
    floor: float  # the count given to an unlisted pair

    @classmethod
    def from_lines(cls, lines) -> Bigrams:
        """From ``first second count`` lines.

        >>> b = Bigrams.from_lines(["their own 40", "their have 2", "the team 10"])
        >>> b.pairs["their own"], b.as_left["their"], b.as_right["team"], b.floor
        (40, 42, 10, 1.0)
        """
        pairs: dict[str, int] = {}
        as_left: dict[str, int] = {}
        as_right: dict[str, int] = {}
        smallest = None
        for line in lines:
            parts = line.split()
            if len(parts) != 3 or not parts[2].isdigit():
                continue
            a, b, n = parts[0].lower(), parts[1].lower(), int(parts[2])
            key = f"{a} {b}"
            pairs[key] = pairs.get(key, 0) + n
            as_left[a] = as_left.get(a, 0) + n
            as_right[b] = as_right.get(b, 0) + n
            smallest = n if smallest is None else min(smallest, n)
        return cls(pairs, as_left, as_right, (smallest or 2) / 2.0)

    def _log_p(self, pair: str, total: int) -> float:
        return math.log((self.pairs.get(pair, 0) + self.floor) / total)

    def side_nats(self, prev: str | None, next_: str | None, original: str, form: str) -> float:
        """Evidence (nats) that ``original`` rather than ``form`` sat between ``prev``
        and ``next_`` (either may be None: that side is skipped).

        >>> b = Bigrams.from_lines(["their own 4000", "their have 1", "have been 9000",
        ...                         "own pockets 500", "have pockets 1", "x own 6000", "x have 9000"])
        >>> b.side_nats("their", "pockets", "own", "have")  # both sides capped
        6.0
        >>> round(b.side_nats("they", "been", "own", "have"), 2)  # "have been" is listed
        -3.11
        >>> b.side_nats(None, None, "own", "have")
        0.0
        """
        o_words, f_words = original.lower().split(), form.lower().split()
        if not o_words or not f_words:
            return 0.0
        total, min_mass = 0.0, MIN_MASS_IN_FLOORS * self.floor
        if prev is not None:
            o, f = o_words[0], f_words[0]
            mo, mf = self.as_right.get(o, 0), self.as_right.get(f, 0)
            if mo >= min_mass and mf >= min_mass:
                p = prev.lower()
                d = self._log_p(f"{p} {o}", mo) - self._log_p(f"{p} {f}", mf)
                total += max(-SIDE_CAP, min(SIDE_CAP, d))
        if next_ is not None:
            o, f = o_words[-1], f_words[-1]
            mo, mf = self.as_left.get(o, 0), self.as_left.get(f, 0)
            if mo >= min_mass and mf >= min_mass:
                n = next_.lower()
                d = self._log_p(f"{o} {n}", mo) - self._log_p(f"{f} {n}", mf)
                total += max(-SIDE_CAP, min(SIDE_CAP, d))
        return total


def neighbours(text: str, start: int, end: int) -> tuple[str | None, str | None]:
    """The words right before and after ``text[start:end]`` (None across punctuation).

    >>> t = "It was, only over half of it."
    >>> neighbours(t, t.index("only"), t.index("only") + 4)
    (None, 'over')
    >>> neighbours(t, t.index("half"), t.index("half") + 4)
    ('over', 'of')
    """
    before = _PREV.search(text, max(0, start - 40), start)
    after = _NEXT.match(text[end:end + 40])
    return (before.group(1) if before else None), (after.group(1) if after else None)


def _bigram_path() -> Path | None:
    from importlib.util import find_spec

    spec = find_spec(BIGRAM_FILE[0])
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        p = Path(folder) / BIGRAM_FILE[1]
        if p.is_file():
            return p
    return None


@lru_cache(maxsize=1)
def installed_bigrams() -> Bigrams | None:
    """The bigram counts of the installed package (read once, ~0.4 s), or None."""
    path = _bigram_path()
    if path is None:
        return None
    with open(path, encoding="utf-8") as f:
        return Bigrams.from_lines(f)

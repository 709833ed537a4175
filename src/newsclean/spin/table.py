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
from functools import lru_cache
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


# a measured spun share below this (a learned table's swap the spinner makes in few of
# a form's uses: "next" for "second") marks a *weak* entry: restored where the evidence
# at the sighting allows (the model's, mostly), but no evidence of spinning: its form
# counts for nothing and its original against nothing when a text is judged
DETECTION_MIN_SHARE = 0.1


# the first line of a table `newsclean spin-table` writes, and the form of its last
# line: read_table refuses such a table without its end line (cut short), while a
# table written by hand is read without one
LEARNED_HEADER = "# spin table learned by newsclean from aligned near-duplicate copies"
_END_LINE = re.compile(r"# end: (\d+) entries")


def end_line(entries: int) -> str:
    r"""The last line of a learned table of ``entries`` lines.

    >>> end_line(3)
    '# end: 3 entries\n'
    """
    return f"# end: {entries} entries\n"


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

    @property
    def weak(self) -> bool:
        """A measured share below :data:`DETECTION_MIN_SHARE`: restore-only."""
        return _is_weak(self.spun_share)


def _is_weak(share: float | None) -> bool:
    return share is not None and share < DETECTION_MIN_SHARE


class SpinTable:
    """Spun form -> original, with per-entry evidence (see the module docstring).

    >>> t = SpinTable.from_pairs([("thirty day period", "month"), ("gamers", "players")])
    >>> len(t), t.get("Thirty day period").original
    (2, 'month')
    >>> [(e.spun, e.original) for e, a, b in t.find("The gamers met a thirty day period later.")]
    [('gamers', 'players'), ('thirty day period', 'month')]
    """

    def __init__(self, entries: Iterable[Entry], name: str = "table", min_forms: int = 2, *,
                 _weak_part: bool = False):
        self.name = name
        # different forms a text must show to be flagged: a lone odd word ("gamers" in a
        # games review) flags nothing
        self.min_forms = min_forms
        self._entries: dict[str, Entry] = {}
        for e in entries:
            self._entries.setdefault(e.spun, e)
        # weak entries are matched on their own (`weak`), so that the strong ones find in
        # a text exactly what they would find without them
        strong = {k: e for k, e in self._entries.items() if _weak_part or not e.weak}
        weak = [e for e in self._entries.values() if e.weak] if not _weak_part else []
        self.weak: SpinTable | None = SpinTable(weak, name, min_forms, _weak_part=True) if weak else None
        # the originals are looked for too: a writer uses them, a spinner mostly
        # replaces them, so each one seen is evidence against spinning (not those of
        # weak entries, which a spinner mostly leaves)
        originals = {_key(e.original) for e in strong.values()} if not _weak_part else set()
        self._keys: dict[str, Entry | None] = {k: None for k in originals if k}
        for k, e in strong.items():
            if k in originals and not e.is_original:
                e = self._entries[k] = Entry(e.spun, e.original, e.lift, e.choices, e.words, True, e.spun_share)
            self._keys[k] = e
        self.max_words = max((len(k.split()) for k in self._keys), default=0)
        # Each key is looked for only in texts that have its rarest word (its anchor):
        # one set intersection per text finds the few keys worth a search.
        # Words are compared as UTF-8 bytes: see _word_set.
        self._by_anchor: dict[bytes, list[tuple[str, frozenset[bytes]]]] = {}
        self._form_anchors: set[bytes] = set()
        for k, e in self._keys.items():
            tokens = _tokens(k)
            if not tokens:
                continue
            anchor = _utf8(min(tokens, key=lambda t: (wordlist.zipf(t), t)))
            self._by_anchor.setdefault(anchor, []).append((k, frozenset(map(_utf8, tokens))))
            if e is not None:
                self._form_anchors.add(anchor)
        self._anchors = frozenset(self._by_anchor)
        self._parts: tuple[SpinTable, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str] | tuple[str, str, float | None]],
                   name: str = "table") -> SpinTable:
        """Build from ``(spun form, original[, spun share])`` pairs; the first original
        listed for a form wins (a weak one gives way to a later one that is not), pairs
        whose two sides are the same words are ignored."""
        firsts: dict[str, str] = {}
        shares: dict[str, float | None] = {}
        for spun, original, *share in pairs:
            k, o = _key(spun), " ".join(original.split())
            if not k or not o or k == _key(o) or len(k.split()) > MAX_PHRASE_WORDS:
                continue
            if k not in firsts or (_is_weak(shares[k]) and not _is_weak(share[0] if share else None)):
                firsts[k] = o
                shares[k] = share[0] if share else None
        choices: dict[str, int] = {}
        for k, o in firsts.items():
            if not _is_weak(shares[k]):  # a weak form is seldom written
                choices[o.lower()] = choices.get(o.lower(), 0) + 1
        entries = []
        for k, o in firsts.items():
            zo, zs = phrase_zipf(o), phrase_zipf(k)
            # an unknown word on either side: no frequency evidence either way
            lift = zo - zs if zo > 0.0 and zs > 0.0 else 0.0
            entries.append(Entry(k, o, round(lift, 4), choices.get(o.lower(), 1), len(k.split()), spun_share=shares[k]))
        return cls(entries, name)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, phrase: str) -> bool:
        return _key(phrase) in self._entries

    def __repr__(self) -> str:
        return f"SpinTable({self.name!r}, {len(self)} entries)"

    def fingerprint(self) -> str:
        """A digest of what the table holds (entries, flag rule, merged parts): equal for
        tables that judge texts alike; a resumed run compares it with the one it began with.

        >>> a = SpinTable.from_pairs([("gamers", "players")])
        >>> a.fingerprint() == SpinTable.from_pairs([("gamers", "players")]).fingerprint()
        True
        >>> a.fingerprint() == SpinTable.from_pairs([("gamers", "gamblers")]).fingerprint()
        False
        """
        import hashlib

        h = hashlib.sha256(repr((self.min_forms, sorted(self._entries.values(), key=lambda e: e.spun))).encode())
        for part in self._parts:
            h.update(part.fingerprint().encode())
        return h.hexdigest()[:16]

    def get(self, phrase: str) -> Entry | None:
        return self._entries.get(_key(phrase))

    def original_keys(self) -> list[str]:
        """The originals' matching keys."""
        return sorted(k for k, e in self._keys.items() if e is None or e.is_original)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def merged(self, other: SpinTable) -> SpinTable:
        """Both tables; where both have a form, this one's entry wins.

        The merged table remembers its ``parts``: each is one spinner's table, and a text
        is judged against each on its own (:func:`newsclean.spin.spin_report`), since the
        originals of one spinner's table say nothing against another spinner.
        """
        merged = SpinTable([*self._entries.values(), *(e for e in other.entries() if e.spun not in self._entries)],
                           f"{self.name}+{other.name}", min(self.min_forms, other.min_forms))
        merged.parts = (*self.parts, *other.parts)
        return merged

    @property
    def parts(self) -> tuple[SpinTable, ...]:
        """The tables this one was merged from (itself when it was not merged)."""
        return self._parts or (self,)

    @parts.setter
    def parts(self, value: tuple[SpinTable, ...]) -> None:
        self._parts = value

    def find(self, text: str, start: int = 0, end: int | None = None,
             originals: bool = False) -> list[tuple[Entry | None, int, int]]:
        """Non-overlapping occurrences ``(entry, char start, char end)`` of spun forms in
        ``text[start:end]``, left to right, longest phrase first at each word; with
        ``originals``, sightings of an original that is no spun form come as ``(None, start, end)``
        too, in a text that has a spun form (none are looked for in a text without one).

        A form's words are joined by exactly one space in the text ("day. Period" is no
        phrase); a form starts where no letter or digit precedes it, nor a letter and an
        apostrophe ("t" is no word in "don't"), and ends where no letter or digit follows.
        Hyphens and a possessive do not bind: a spinner swaps inside compounds
        ("six-month" -> "six-thirty day period") and before "'s".
        """
        end = len(text) if end is None else end
        low = text[start:end].lower().replace("\u2019", "'")
        if len(low) != end - start:  # a letter whose lower case is longer ("İ"): lower letter by letter
            low = "".join(c.lower()[:1] for c in text[start:end]).replace("\u2019", "'")
        words = _word_set(low)
        present = self._anchors.intersection(words)
        if self._form_anchors.isdisjoint(present):
            return []
        found: list[tuple[int, int, str]] = []
        for anchor in present:
            for key, tokens in self._by_anchor[anchor]:
                if not tokens <= words:
                    continue
                i = low.find(key)
                while i >= 0:
                    j = i + len(key)
                    if _starts_word(low, i) and (j == len(low) or not low[j].isalnum()):
                        found.append((i, -j, key))
                    i = low.find(key, i + 1)
        found.sort()
        out: list[tuple[Entry | None, int, int]] = []
        pos = 0
        for i, neg_j, key in found:
            if i < pos:
                continue  # inside a longer form found at an earlier or the same start
            entry = self._keys[key]
            if entry is not None or originals:
                out.append((entry, start + i, start - neg_j))
            pos = -neg_j
        return out


def _starts_word(low: str, i: int) -> bool:
    if i == 0:
        return True
    before = low[i - 1]
    if before.isalnum():
        return False
    return not (before == "'" and i > 1 and low[i - 2].isalnum())


# every character that is not part of a word, for a fast split into words (a word's
# inner hyphens and apostrophes split it too: the parts are what forms are looked up by)
_NOT_WORD = {c: " " for c in range(0x80) if not chr(c).isalnum()}
_NOT_WORD.update({ord(c): " " for c in "\u00a0\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00ab\u00bb\u00b7"})


# the same separators for UTF-8 bytes: a byte table translates at C speed where a dict
# table on a text with curly quotes does not (55 us against 230 us for a 4 kB article,
# the most of what detection costs a clean text); bytes >= 0x80 are parts of words, as
# the letters they encode are, after the non-ASCII separators are replaced
_NOT_WORD_BYTES = bytes(32 if c < 0x80 and not chr(c).isalnum() else c for c in range(256))
_NON_ASCII_SEPARATORS = tuple(chr(c) for c in _NOT_WORD if c >= 0x80)


def _word_set(low: str) -> set[bytes]:
    """The distinct words of a lower-cased text, as ``_tokens`` splits them, in UTF-8.

    >>> sorted(_word_set("six-month deal\u2014period's end"))
    [b'deal', b'end', b'month', b'period', b's', b'six']
    """
    if not low.isascii():
        for c in _NON_ASCII_SEPARATORS:
            if c in low:
                low = low.replace(c, " ")
    return set(_utf8(low).translate(_NOT_WORD_BYTES).split())


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate is no reason to fail


def _tokens(text: str) -> list[str]:
    """The words of a lower-cased text, split at anything that is no letter or digit.

    >>> _tokens("six-month deal, period's end")
    ['six', 'month', 'deal', 'period', 's', 'end']
    """
    return text.translate(_NOT_WORD).split()


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
    without a tab is an error naming the file and line.  A table ``newsclean
    spin-table`` wrote (its first line is :data:`LEARNED_HEADER`) must end with its
    end line, ``# end: N entries`` for its N lines of entries: one cut short (a full
    disk, a kill) is refused rather than read as a smaller table.
    """
    path = Path(path)
    pairs: list[tuple[str, str, float | None]] = []
    share_column: int | None = None  # a learned table's "consistency" column
    learned, entries, last = False, 0, ""
    try:
        f = open(path, encoding="utf-8-sig")
    except OSError as e:
        raise TableError(f"{path}: cannot read spin table ({e.strerror or e})") from None
    with f:
        try:
            for lineno, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if line.strip():
                    learned, last = learned or (lineno == 1 and line == LEARNED_HEADER), line
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                parts = line.split("\t")
                if len(parts) < 2:
                    if learned:  # every line newsclean writes has its tabs: the rest was lost
                        _check_end_line(path, line, -1)
                    raise TableError(f"{path}:{lineno}: expected 'spun<TAB>original', found no tab")
                spun_col, original = (" ".join(_NOTE.sub(" ", p).split()) for p in parts[:2])
                if not pairs and spun_col.lower() in _HEADER_WORDS:
                    names = [p.strip().lower() for p in parts]
                    share_column = names.index("consistency") if "consistency" in names else None
                    continue
                entries += 1
                share = _share(parts, share_column, path, lineno)
                for spun in spun_col.split("|"):
                    pairs.append((spun, original, share))
        except UnicodeDecodeError:
            raise TableError(f"{path}: not UTF-8 text") from None
    if learned:
        _check_end_line(path, last, entries)
    table = SpinTable.from_pairs(pairs, name=path.name)
    if not len(table):
        raise TableError(f"{path}: no usable 'spun<TAB>original' lines")
    return table


def _check_end_line(path: Path, last: str, entries: int) -> None:
    """Refuse a learned table whose last line is not its end line for ``entries`` entries."""
    match = _END_LINE.fullmatch(last.strip())
    if match is None:
        raise TableError(f"{path}: a table learned by newsclean, cut short (its end line '# end: N entries' is "
                         "missing): learn it again with 'newsclean spin-table'")
    if int(match.group(1)) != entries:
        raise TableError(f"{path}: a table learned by newsclean whose end line counts {match.group(1)} entries, "
                         f"but it holds {entries}: learn it again with 'newsclean spin-table'")


BUILTIN_FILE = "builtin.tsv"
BUILTIN_MIN_FORMS = 3


@lru_cache(maxsize=1)
def builtin_table() -> SpinTable:
    """newsclean's own table: the swaps a spinner made in the seed article
    (``samples/spun-article.txt``), with their other inflections (``data/builtin.tsv``,
    built by ``tools/build_spin_table.py`` from ``data/seed_swaps.tsv``).  Read once.

    >>> t = builtin_table()
    >>> t.get("no for a longer period").original, t.get("technological innovations").original
    ('no longer', 'technologies')
    """
    from importlib.resources import as_file, files

    with as_file(files(__package__) / "data" / BUILTIN_FILE) as path:
        table = read_table(path)
    table.name = "builtin"
    # it is applied to every text by default: three different forms before a text is
    # called spun (no clean BBC article has more than two of them)
    table.min_forms = BUILTIN_MIN_FORMS
    return table

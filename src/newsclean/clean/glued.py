"""Stage 5 — glued link words: put back the spaces a scraper lost around link text.

``statements fromAmazonandIBM.`` -> ``statements from Amazon and IBM.``

A token is split only when two kinds of evidence agree: the case changes inside
it (a lower-case letter followed by a capital), and a word list accepts every
piece — the lower-case pieces as common words, the capitalised ones as known
words or names.  Whole tokens that are words themselves (``iPhone``,
``YouTube``, ``McDonald``, ``PlayStation``) and tokens without a common
lower-case piece (``DeSantis``, ``GoBank``) are never split, nor are handles,
hashtags, file names and code (``@BradSmi``, ``#postLive``, ``getElementById()``).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from ..edits import Edit, Replacement, apply_replacements
from . import wordlist

STAGE = "glued"

_MAX_TOKEN = 60
_CASE_CHANGE = re.compile(r"[a-z][A-Z]")
# The comma first: a pattern that starts with a literal is found by a fast scan, one
# that starts with a look-behind is tried at every position (15x slower here).
_COMMA_GLUE = re.compile(r",(?=[A-Z][a-z])")
# ASCII letter classes, for finding case changes in ASCII text without a regex.
_LETTER_CLASS = bytes(97 if 97 <= b <= 122 else 65 if 65 <= b <= 90 else 32 for b in range(256))
_NAME_PREFIXES = frozenset(
    "Mc Mac De Di Da Du Del Della Le La Van Von Der Den Fitz St Al El Ben Abu Bin O".split()
)
_NEAR_CODE = set("@#_/\\.=<>{}$%+*0123456789-'’")

# How common a word must be to count as evidence (Zipf scale: 3 is "common").
COMMON_LOWER = 3.0
GLUED_LOWER = 4.0  # a lower-case piece glued to a capital: from, and, by, said ...
LINK_WORD = 4.0  # a small word glued to the end of a name: to, and, is, have, said ...
KNOWN_NAME = 2.0
VERY_COMMON = 5.0  # was, said, and, the, has ...


def _split_name_and_word(piece: str) -> list[str] | None:
    """``Amazonhave`` -> ``["Amazon", "have"]`` when the word list backs the split.

    Called only where glue is already evident (a case change nearby), so a known
    name may carry any common word; an unknown name only a very common one
    (``Bridenstinesaid``, ``Carlineowas``).
    """
    best = None
    best_score = 0.0
    for k in range(len(piece) - 2, 1, -1):
        head, tail = piece[:k], piece[k:]
        zt = wordlist.zipf(tail)
        if zt < COMMON_LOWER or (len(tail) <= 2 and zt < VERY_COMMON + 0.5):
            continue
        zh = wordlist.zipf(head)
        if zh >= KNOWN_NAME and (zt >= LINK_WORD or zh >= COMMON_LOWER):
            score = zh + zt
        elif zt >= VERY_COMMON and len(head) >= 4:
            score = zt
        else:
            continue
        if score > best_score:
            best, best_score = [head, tail], score
    return best


def _pieces(token: str) -> list[str]:
    out, start = [], 0
    for m in _CASE_CHANGE.finditer(token):
        out.append(token[start : m.start() + 1])
        start = m.start() + 1
    out.append(token[start:])
    return out


@lru_cache(maxsize=65536)
def _split_token(token: str) -> tuple[str, ...] | None:
    """The words of a glued token, or None when the evidence is not strong."""
    if wordlist.zipf(token) >= 1.5:
        return None  # a word or brand in its own right
    pieces = _pieces(token)
    if pieces[0] in _NAME_PREFIXES:
        return None  # McCririck, MacBride, DeSantis, VanderMeer
    words: list[str] = []
    lower_evidence = False
    for n, piece in enumerate(pieces):
        if piece.islower():
            # Before an acronym only a function word counts: "andIBM", not "miniMIXA".
            need = VERY_COMMON if n + 1 < len(pieces) and pieces[n + 1].isupper() else GLUED_LOWER
            if wordlist.zipf(piece) < need or len(piece) < 2:
                return None
            lower_evidence = True
            words.append(piece)
        elif piece.isupper():
            # An acronym, possibly with a glued small word after it is not knowable.
            words.append(piece)
        else:
            if wordlist.zipf(piece) >= KNOWN_NAME:
                words.append(piece)
                continue
            split = _split_name_and_word(piece)
            # Inside a CamelCase token only a function word may be glued to a name
            # ("Amazonhave"): "DaimerChrysler" and "AztraZeneca" are misspelt names.
            if split is not None and wordlist.zipf(split[1]) >= VERY_COMMON:
                words.extend(split)
                lower_evidence = True
            elif len(piece) >= 3 and piece[1:].islower():
                words.append(piece)  # an unknown name
            else:
                return None
    if not lower_evidence or len(words) < 2:
        return None
    return tuple(words)


def _near_code(text: str, s: int, e: int) -> bool:
    """Is the token part of a handle, hashtag, URL, file name or code?"""
    if s > 0 and text[s - 1] in _NEAR_CODE:
        return True
    if e < len(text):
        after = text[e]
        if after == "(":
            return True
        if after in _NEAR_CODE and after not in "-'’.":
            return True
        if after == "." and e + 1 < len(text) and text[e + 1].isalnum():
            return True
    return False


def _token_at(text: str, i: int) -> tuple[int, int]:
    """The letters-only token around position ``i`` (bounded: longer is no word)."""
    s = i
    while s > 0 and i - s < _MAX_TOKEN and _is_letter(text[s - 1]):
        s -= 1
    e = i + 1
    while e < len(text) and e - i < _MAX_TOKEN and _is_letter(text[e]):
        e += 1
    return s, e


def _is_letter(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _case_changes(text: str) -> Iterator[int]:
    """Positions of a lowercase ASCII letter followed by an uppercase one.

    The text is mapped to ASCII letter classes in C and searched with ``bytes.find``:
    several times faster than the equivalent regex, which has no literal to scan for.
    """
    # one "?" byte per non-ASCII character keeps byte positions equal to str positions
    raw = text.encode("ascii") if text.isascii() else text.encode("ascii", "replace")
    classes = raw.translate(_LETTER_CLASS)
    at = classes.find(b"aA")
    while at >= 0:
        yield at
        at = classes.find(b"aA", at + 1)


def _glued_replacements(text: str) -> list[Replacement]:
    out: list[Replacement] = []
    for m in _COMMA_GLUE.finditer(text):
        if m.start() and "a" <= text[m.start() - 1] <= "z":
            out.append(Replacement(m.start(), m.end(), ", ", "glued comma"))
    last_end = -1
    for start in _case_changes(text):
        if start < last_end:
            continue  # same token as the previous case change
        s, e = _token_at(text, start)
        last_end = e
        if e - s >= _MAX_TOKEN or _near_code(text, s, e):
            continue
        words = _split_token(text[s:e])
        if not words:
            continue
        out.append(Replacement(s, e, " ".join(words), "glued words"))
        # After a glued name ("byJohn"), the name's last word may carry the next
        # word glued on ("Smithto"): follow the capitalised run.
        pos = e
        while words[-1][:1].isupper() and not words[-1].isupper() and pos < len(text) and text[pos] == " ":
            ns, ne = pos + 1, pos + 1
            while ne < len(text) and ne - ns < _MAX_TOKEN and _is_letter(text[ne]):
                ne += 1
            token = text[ns:ne]
            if not (token[:1].isupper() and token[1:].islower()) or _near_code(text, ns, ne):
                break
            split = _split_name_and_word(token) if wordlist.zipf(token) < 1.5 else None
            if split is not None:
                out.append(Replacement(ns, ne, " ".join(split), "glued words"))
                break
            words, pos = (token,), ne
    return out


def split_glued_words_and_explain(text: str) -> tuple[str, list[Edit]]:
    """Split link words glued together, and say where.

    >>> split_glued_words_and_explain("statements fromAmazonandIBM. MicrosoftandAmazonhave called")[0]
    'statements from Amazon and IBM. Microsoft and Amazon have called'
    >>> split_glued_words_and_explain("Her iPhone, YouTube and McDonald's, LeBron and DeSantis")[1]
    []
    """
    return apply_replacements(text, STAGE, _glued_replacements(text))


def split_glued_words(text: str) -> str:
    """Split link words glued together.

    >>> split_glued_words("an interview byJohn Smithto the paper")
    'an interview by John Smith to the paper'
    """
    return split_glued_words_and_explain(text)[0]

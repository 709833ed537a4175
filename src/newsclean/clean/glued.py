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
# Template and code punctuation a token sits between: "{* backButton *}", "| pageType: stories |".
_CODE_FRAME = set("{}*|")
# Lower-case heads of brand names: "mySimon", "myMuseum" (the one-letter ones, iPhone
# and eBay, are too short to be a glued word anyway).
_BRAND_HEADS = frozenset({"my"})
# Function words: what glues to the end of a link's text, and what opens a sentence.
_GLUE_WORDS = frozenset(
    "a an the and or but nor of in on at to for from by with as into onto about after before over under than "
    "that which who whom whose when while where if is was were are be been has have had will would can could "
    "should may might must said says say told also its his her their our your this these those it he she they "
    "we you not".split()
)

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
    """The words of a glued token, or None when the evidence is not strong.

    A token is only cut where a small word is glued to a name (``from|Amazon``,
    ``Amazonand|IBM``, ``When|Carlineo|was``).  Capitalised pieces that follow each
    other stay one word when together they are a known word (``WikiLeaks``,
    ``YouTube``, ``LinkedIn``) and are otherwise the words of a name whose spaces were
    lost (``Bloomberg News``); a token without a glued small word (``IllustrisTNG``,
    ``DetroitHoodline``) is never cut.
    """
    if wordlist.zipf(token) >= 1.5:
        return None  # a word or brand in its own right
    pieces = _pieces(token)
    if pieces[0] in _NAME_PREFIXES or pieces[0] in _BRAND_HEADS:
        return None  # McCririck, MacBride, DeSantis, VanderMeer; mySimon
    words: list[str] = []
    name: list[str] = []  # the capitalised pieces of the name being read
    opener = ""  # "When", "The": a sentence's first word, or the start of a brand
    lower_evidence = False
    for n, piece in enumerate(pieces):
        if piece.islower():
            # Before an acronym only a function word counts: "andIBM", not "miniMIXA".
            need = VERY_COMMON if n + 1 < len(pieces) and pieces[n + 1].isupper() else GLUED_LOWER
            if wordlist.zipf(piece) < need or len(piece) < 2:
                return None
            lower_evidence = True
            words.append(piece)
            continue
        if n == 0 and piece.lower() in _GLUE_WORDS and len(pieces) > 1:
            opener = piece
            continue
        if piece.isupper() or wordlist.zipf(piece) >= KNOWN_NAME:
            name.append(piece)  # an acronym or a known word: part of the name
            continue
        split = _split_name_and_word(piece)
        if split is not None and _glued_tail(split, camel=bool(name or opener), last=n + 1 == len(pieces)):
            words += _name_words(name + [split[0]]) + [split[1]]
            name = []
            lower_evidence = True
        elif len(piece) >= 3 and piece[1:].islower():
            name.append(piece)  # an unknown name
        else:
            return None
    words += _name_words(name)
    if opener:
        if not lower_evidence:
            return None  # TheBlaze, InStyle
        words.insert(0, opener)
    if not lower_evidence or len(words) < 2:
        return None
    return tuple(words)


def _name_words(pieces: list[str]) -> list[str]:
    """Capitalised pieces as words: runs that make a known word together stay together
    (``Wiki`` + ``Leaks``), the others are words of their own (``Bloomberg``, ``News``)."""
    words, i = [], 0
    while i < len(pieces):
        j = len(pieces)
        while j > i + 1 and wordlist.zipf("".join(pieces[i:j])) < 1.5:
            j -= 1
        words.append("".join(pieces[i:j]))
        i = j
    return words


def _glued_tail(split: list[str], camel: bool, last: bool) -> bool:
    """May ``split`` (a name and the word glued to its end) be cut apart?

    After a lower-case word (``byMicrosoftyesterday``) a very common word may be
    glued on.  Inside a CamelCase token only a function word or a common past tense
    (``Newsreported``), and before another capitalised piece only after a common
    word: ``Hood|line``, ``Ap|per`` and ``Illustr|is|TNG`` stay whole.
    """
    head, tail = split
    if not camel and last:
        return wordlist.zipf(tail) >= VERY_COMMON
    # a function word, or the verb that follows a source's name ("Newsreported")
    told = tail.endswith("ed") and last and wordlist.zipf(tail) >= GLUED_LOWER
    if not (tail in _GLUE_WORDS or told) or len(head) < 3:
        return False
    return last or wordlist.zipf(head) >= COMMON_LOWER


def _in_code_frame(text: str, s: int, e: int) -> bool:
    """Does template or code punctuation frame the token (``{* backButton *}``)?"""
    before = text[max(0, s - 3) : s].rstrip()
    after = text[e : e + 3].lstrip()
    return bool((before and before[-1] in _CODE_FRAME) or (after and after[0] in _CODE_FRAME))


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
        if not words or _in_code_frame(text, s, e):
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


# "said.The": a sentence glued to the next one where an extractor dropped the break
# between two blocks.  The punctuation (and a closing quote) is followed directly by
# a capitalised word; what comes before is a lower-case word of two letters or more.
# (the punctuation first, a pattern that starts with a class is found by a fast scan;
# then the look ahead, which fails at once after most full stops)
# One pattern per mark: a pattern that starts with a literal is searched for it in C (3.5 us on
# a BBC article for the three, against 9.4 for one that starts with the class [.!?]).
_SENTENCE_GLUE = tuple(re.compile(re.escape(mark) + r"(?=[\"\u201d\u2019)]?[A-Z][a-z])(?<=[a-z]{2}.)[\"\u201d\u2019)]?")
                       for mark in ".!?")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr vs etc inc co corp ltd gov sen rep gen col lt sgt capt cmdr adm prof rev no nos ft "
    "mt ave blvd rd dept est approx fig vol op cf al jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# domain endings: "Booking.Com" is a site's name, not two sentences
_DOMAIN_ENDINGS = frozenset("com net org edu gov info biz io tv ly".split())
_NOT_PROSE = ("://", "www.", "@", "/", "\\", "=", "_")


def _sentence_glue_replacements(text: str) -> list[Replacement]:
    """A space after a full stop glued to the next sentence (``said.The``), never in
    ``U.S.``, ``Node.js``, ``St.Louis``, ``System.Collections.Generic``, versions,
    decimals, links or e-mail addresses; after ``?`` only in text without lossy holes
    (where ``hall?Mayor`` may hide a lost space)."""
    out: list[Replacement] = []
    lossy = None
    for m in sorted((m for rx in _SENTENCE_GLUE for m in rx.finditer(text)), key=lambda m: m.start()):
        if text[m.start()] == "?":
            if lossy is None:
                from .lost_chars import looks_lossy

                lossy = looks_lossy(text)
            if lossy:
                continue
        s = m.start()
        while s > 0 and text[s - 1].isalpha():
            s -= 1
        e = m.end()
        while e < len(text) and text[e].isalpha():
            e += 1
        left, right = text[s : m.start()], text[m.end() : e]
        if left.lower() in _ABBREVIATIONS or right.lower() in _DOMAIN_ENDINGS:
            continue
        after = text[e : e + 2]
        if (s > 0 and text[s - 1] == ".") or after[:1] in ("(", "_") or (after[:1] == "." and after[1:].isalnum()):
            continue  # a dotted name or code: a.b.Cd, Obj.Method(
        token_start = text.rfind(" ", 0, s) + 1
        token_end = text.find(" ", e)
        token = text[token_start : len(text) if token_end < 0 else token_end]
        if any(marker in token for marker in _NOT_PROSE):
            continue
        out.append(Replacement(m.end(), m.end(), " ", "glued sentence"))
    return out


def split_glued_words_and_explain(text: str) -> tuple[str, list[Edit]]:
    """Split link words glued together, and say where.

    >>> split_glued_words_and_explain("statements fromAmazonandIBM. MicrosoftandAmazonhave called")[0]
    'statements from Amazon and IBM. Microsoft and Amazon have called'
    >>> split_glued_words_and_explain("Her iPhone, YouTube and McDonald's, LeBron and DeSantis")[1]
    []
    >>> split_glued_words_and_explain("leaked byWikiLeaks, shown onYouTube. He said.The U.S. uses Node.js 2.0")[0]
    'leaked by WikiLeaks, shown on YouTube. He said. The U.S. uses Node.js 2.0'
    """
    return apply_replacements(text, STAGE, _glued_replacements(text) + _sentence_glue_replacements(text))


def split_glued_words(text: str) -> str:
    """Split link words glued together.

    >>> split_glued_words("an interview byJohn Smithto the paper")
    'an interview by John Smith to the paper'
    """
    return split_glued_words_and_explain(text)[0]

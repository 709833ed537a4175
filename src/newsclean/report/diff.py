"""Word-level differences between two texts, as runs of marked and unmarked text.

Texts are compared as sequences of words and punctuation (rapidfuzz's ``Indel``
opcodes: the longest common subsequence, in C); the spaces between them follow
the word they precede and are never marked, so a re-flowed paragraph shows no
difference.  The result is plain strings: the template escapes them.

>>> left, right = side_by_side("the cat sat", "the dog sat")
>>> [(s.marked, s.text) for s in left]
[(False, 'the '), (True, 'cat'), (False, ' sat')]
>>> [(s.marked, s.text) for s in right]
[(False, 'the '), (True, 'dog'), (False, ' sat')]
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import Indel

TOKEN = re.compile(r"\s*(?:\w+|[^\w\s]+)|\s+")
MAX_CHARS = 6_000  # of a text shown in a diff: the rest is said to be cut

# control characters would break the page's layout or be dropped by the browser:
# shown as U+FFFD, except tabs and line breaks
_CONTROLS = {c: "\ufffd" for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)}
_CONTROLS[0x0D] = "\n"
_CONTROLS.update(dict.fromkeys(range(0xD800, 0xE000), "\ufffd"))  # lone surrogates (ids, JSON escapes)


def displayable(text: str) -> str:
    """Text as the page can show it: CRLF as one line break, other control characters
    as U+FFFD, lone surrogates as U+FFFD.

    >>> displayable("a\\r\\nb\\x00c\\ud800")
    'a\\nb\\ufffdc\\ufffd'
    """
    return text.replace("\r\n", "\n").translate(_CONTROLS)


@dataclass(frozen=True)
class Segment:
    marked: bool
    text: str


@dataclass
class Shown:
    """A text cut to :data:`MAX_CHARS` for display, with how much was left out."""

    segments: list[Segment]
    cut_chars: int = 0


def tokens(text: str) -> list[str]:
    """Words and punctuation runs, each with the spaces before it.

    >>> tokens("It’s  fine.")
    ['It', '’', 's', '  fine', '.']
    """
    return TOKEN.findall(text)


def _cut(text: str, limit: int) -> tuple[str, int]:
    text = displayable(text)
    if len(text) <= limit:
        return text, 0
    end = text.rfind(" ", 0, limit)
    end = end if end > limit // 2 else limit
    return text[:end], len(text) - end


def _runs(parts: list[str], marks: list[bool]) -> list[Segment]:
    """Adjacent tokens with the same mark as one segment.  A marked token's leading
    spaces are marked only between two marked words on one line, so that a marked
    phrase reads as one run and a line break is never marked.

    >>> [(s.marked, s.text) for s in _runs(["a", " b", " c", "\\n\\nd"], [False, True, True, True])]
    [(False, 'a '), (True, 'b c'), (False, '\\n\\n'), (True, 'd')]
    """
    out: list[Segment] = []
    for token, marked in zip(parts, marks):
        if marked:
            word = token.lstrip()
            space = token[: len(token) - len(word)]
            joins = bool(out) and out[-1].marked and "\n" not in space
            _append(out, joins, space)
            _append(out, True, word)
        else:
            _append(out, False, token)
    return out


def _append(out: list[Segment], marked: bool, text: str) -> None:
    if not text:
        return
    if out and out[-1].marked == marked:
        out[-1] = Segment(marked, out[-1].text + text)
    else:
        out.append(Segment(marked, text))


def _matched(a: list[str], b: list[str]) -> tuple[list[bool], list[bool]]:
    """Which tokens of ``a`` and of ``b`` the two share (compared without their spaces)."""
    in_a, in_b = [False] * len(a), [False] * len(b)
    for op in Indel.opcodes([t.strip() for t in a], [t.strip() for t in b]):
        if op.tag == "equal":
            in_a[op.src_start:op.src_end] = [True] * (op.src_end - op.src_start)
            in_b[op.dest_start:op.dest_end] = [True] * (op.dest_end - op.dest_start)
    return in_a, in_b


def side_by_side(left: str, right: str, limit: int = MAX_CHARS) -> tuple[list[Segment], list[Segment]]:
    """Both texts with the words the other lacks marked (see the module doc)."""
    a, b = (tokens(_cut(t, limit)[0]) for t in (left, right))
    in_a, in_b = _matched(a, b)
    return _runs(a, [not m for m in in_a]), _runs(b, [not m for m in in_b])


def compare(left: str, right: str, limit: int = MAX_CHARS) -> tuple[Shown, Shown]:
    """:func:`side_by_side`, saying how many characters of each text were cut."""
    (a, a_cut), (b, b_cut) = _cut(left, limit), _cut(right, limit)
    marked_a, marked_b = side_by_side(a, b, limit)
    return Shown(marked_a, a_cut), Shown(marked_b, b_cut)


def page_and_stories(page: str, stories: list[str], limit: int = MAX_CHARS) -> tuple[Shown, list[Shown]]:
    """A composite page with the words no listed story holds marked, and each story with
    the words the page lacks marked."""
    text, page_cut = _cut(page, limit)
    page_tokens = tokens(text)
    covered = [False] * len(page_tokens)
    shown_stories = []
    for story in stories:
        story_text, story_cut = _cut(story, limit)
        story_tokens = tokens(story_text)
        on_page, in_story = _matched(page_tokens, story_tokens)
        covered = [c or m for c, m in zip(covered, on_page)]
        shown_stories.append(Shown(_runs(story_tokens, [not m for m in in_story]), story_cut))
    return Shown(_runs(page_tokens, [not c for c in covered]), page_cut), shown_stories

"""Stage 6 — layout: re-flow hard-wrapped lines and normalise whitespace.

A text is treated as hard-wrapped only when its lines say so: most lines of its
multi-line paragraphs are long, end close to one width (html2text and mail tools
fold at 72-80 columns) and break where folding breaks, before a word that would
not have fitted.  Then lines inside a paragraph are joined, except where the
break is real: the line ends a sentence well before the width, the next line is a
list item or a quote, the line is a heading, or the next word would have fitted
(list items, table rows, schedules and dialogue lines keep their lines).  Text that is not
hard-wrapped keeps its line breaks.  Whitespace clean-up is minimal: trailing
spaces, more than one blank line, and the leading/trailing blank space of the
whole text.  Runs of spaces inside a line are kept: they can be meaningful
(tables, ASCII art, emoticons) and never hurt a reader.
"""
from __future__ import annotations

import re

from ..edits import Edit, Replacement, apply_passes, apply_replacements

STAGE = "layout"

_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*•·▪‣◦]\s|\d{1,3}[.)]\s|[a-z][.)]\s|\(\d{1,3}\)\s)")
_QUOTE = re.compile(r"^\s{0,3}>")
_SENTENCE_END = re.compile(r"[.!?:;\"'”’)\]…]$")
_HEADING_WORD = re.compile(r"^[A-Z0-9][\w'’&-]*$")


def _is_heading(line: str, width: int) -> bool:
    s = line.strip()
    if not s or len(s) > 0.6 * width or _SENTENCE_END.search(s):
        return False
    words = s.split()
    if len(words) > 10:
        return False
    caps = sum(1 for w in words if _HEADING_WORD.match(w))
    return caps >= max(1, int(0.6 * len(words)))


# Tools fold at 60-80 columns; a list of short items of one length is not folded text.
_MIN_WIDTH = 55
# How many characters a folded line may have lost since it was folded (entities
# decoded, empty link brackets removed) and still count as full.
_SLACK = 8


def _folded_here(line: str, next_line: str, width: int) -> bool:
    """Was the break after ``line`` made by folding?  It was when the next line's first
    word would not have fitted on it (a wrapping tool breaks at the last word that
    fits), or when the next line carries on a sentence in lower case.  A list item,
    a table row, a schedule or a line of dialogue ends with room to spare and the
    next starts with a capital, a digit or a marker."""
    first_word = next_line.split(None, 1)[0]
    if len(line.rstrip()) + 1 + len(first_word) > width - _SLACK:
        return True
    return first_word[:1].islower() and not _SENTENCE_END.search(line.rstrip())


def _wrap_width(lines: list[str]) -> int | None:
    """The fold width if the text is hard-wrapped, else None."""
    # Lines that are followed by another line of the same paragraph.
    inner = [i for i in range(len(lines) - 1) if lines[i].strip() and lines[i + 1].strip()]
    if len(inner) < 3:
        return None
    lengths = [len(lines[i].rstrip()) for i in inner]
    longest = sorted(lengths)
    width = longest[int(0.9 * (len(longest) - 1))]
    if width < _MIN_WIDTH or width > 120:
        return None
    near = sum(1 for n in lengths if width - 25 <= n <= width + 2)
    over = sum(1 for n in lengths if n > width + 10)
    if near < 0.6 * len(inner) or over > 0.1 * len(inner):
        return None
    # lines of one length are not enough: the breaks must be where folding puts them
    folded = sum(1 for i in inner if _folded_here(lines[i], lines[i + 1], width))
    # and folded prose breaks mid-sentence, before lower-case words as often as not;
    # a list of names or dates breaks before capitals and digits only
    carried_on = sum(1 for i in inner if lines[i + 1].lstrip()[:1].islower())
    if folded < 0.6 * len(inner) or carried_on < 0.2 * len(inner):
        return None
    return width


def _reflow_replacements(text: str, width: int) -> list[Replacement]:
    out = []
    pos = 0
    lines = text.split("\n")
    starts = []
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    for i in range(len(lines) - 1):
        cur, nxt = lines[i], lines[i + 1]
        if not cur.strip() or not nxt.strip():
            continue
        cur_s = cur.rstrip()
        if _LIST_ITEM.match(nxt) or (_QUOTE.match(nxt) and not _QUOTE.match(cur)):
            continue
        if _QUOTE.match(cur) and not _QUOTE.match(nxt):
            continue
        first_word = nxt.split()[0]
        would_fit = len(cur_s) + 1 + len(first_word) <= width
        prev_blank = i == 0 or not lines[i - 1].strip()
        ended = would_fit and _SENTENCE_END.search(cur_s) and len(cur_s) < 0.85 * width
        # before a short line of a list ("Polling stations:" / "Town Hall") the line break
        # stays; a short paragraph is a sentence ("Short line.")
        next_is_prose = len(nxt.rstrip()) >= width - 25 or bool(_SENTENCE_END.search(nxt.rstrip()))
        if next_is_prose and (ended or (prev_blank and _is_heading(cur, width) and would_fit)):
            # A real break in folded text: the paragraph (or heading) ended where the
            # next word would still have fitted.  Make it a paragraph break, so the
            # result reads as paragraphs and a second pass finds nothing to do.
            lead = len(nxt) - len(nxt.lstrip())
            out.append(Replacement(starts[i] + len(cur_s), starts[i + 1] + lead, "\n\n", "paragraph break"))
            continue
        if not _folded_here(cur, nxt, width):
            continue  # a real break inside folded text: a list, a table, a schedule
        if _QUOTE.match(cur) and _QUOTE.match(nxt):
            # Join quoted lines without repeating the marker.
            m = _QUOTE.match(nxt)
            j = starts[i + 1] + m.end()
            while j < len(text) and text[j] == " ":
                j += 1
            out.append(Replacement(starts[i] + len(cur_s), j, " ", "re-flowed line"))
            continue
        lead = len(nxt) - len(nxt.lstrip())
        out.append(Replacement(starts[i] + len(cur_s), starts[i + 1] + lead, " ", "re-flowed line"))
    return out


def _line_space_replacements(text: str) -> list[Replacement]:
    out = []
    pos = 0
    for line in text.split("\n"):
        body_end = len(line.rstrip(" \t"))
        if body_end != len(line):
            out.append(Replacement(pos + body_end, pos + len(line), "", "trailing space"))
        pos += len(line) + 1
    return out


def _blank_line_replacements(text: str) -> list[Replacement]:
    # More than one blank line becomes exactly one.
    out = []
    i = text.find("\n\n\n")
    while i >= 0:
        j = i
        while j < len(text) and text[j] == "\n":
            j += 1
        out.append(Replacement(i, j, "\n\n", "blank lines"))
        i = text.find("\n\n\n", j)
    return out


def _edge_replacements(text: str) -> list[Replacement]:
    out = []
    lead = len(text) - len(text.lstrip())
    if lead:
        out.append(Replacement(0, lead, "", "leading space"))
    end = len(text.rstrip())
    if end < len(text) and end > 0:
        out.append(Replacement(end, len(text), "", "trailing space"))
    return out


def fix_layout_and_explain(text: str) -> tuple[str, list[Edit]]:
    """Re-flow hard-wrapped paragraphs and tidy whitespace.

    >>> wrapped = ("Microsoft President Brad Smith announced in a livestreamed conversation with the\\n"
    ...            "Washington Post on Thursday that the company does not, and would not, sell\\n"
    ...            "facial recognition technology to police departments in the United States.\\n\\n"
    ...            "There is, of course, a qualification: Microsoft will not sell facial\\n"
    ...            "recognition tech to police until Congress passes regulations around use.")
    >>> print(fix_layout_and_explain(wrapped)[0])
    Microsoft President Brad Smith announced in a livestreamed conversation with the Washington Post on Thursday that the company does not, and would not, sell facial recognition technology to police departments in the United States.
    <BLANKLINE>
    There is, of course, a qualification: Microsoft will not sell facial recognition tech to police until Congress passes regulations around use.
    >>> fix_layout_and_explain("Short line.\\nAnother short line.")
    ('Short line.\\nAnother short line.', [])
    """
    edits: list[Edit] = []
    if "\r" in text:
        text, e = apply_replacements(
            text, STAGE, [Replacement(m.start(), m.end(), "\n", "line ending") for m in re.finditer(r"\r\n?", text)]
        )
        edits += e
    if "\n" in text:
        width = _wrap_width(text.split("\n"))
        if width is not None:
            text, e = apply_replacements(text, STAGE, _reflow_replacements(text, width))
            edits += e
    text, e = apply_passes(text, STAGE, (_line_space_replacements, _blank_line_replacements, _edge_replacements))
    return text, edits + e


def fix_layout(text: str) -> str:
    """Re-flow hard-wrapped paragraphs and tidy whitespace.

    >>> fix_layout("  Two  spaces and a trailing one \\n\\n\\n\\nNext paragraph.")
    'Two  spaces and a trailing one\\n\\nNext paragraph.'
    """
    return fix_layout_and_explain(text)[0]

"""The provenance model: every change a stage makes is an :class:`Edit`.

Stages are pure functions ``text -> (text, edits)``.  They describe their work as a
list of non-overlapping replacements on *their own input*, and
:func:`apply_replacements` turns that list into the new text plus the edits, so
offsets in an edit always refer to the text the stage received.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, NamedTuple


@dataclass(frozen=True, slots=True)
class Edit:
    """One change: which stage, what kind of fix, where (in the stage's input) and the text."""

    stage: str
    what: str
    start: int
    end: int
    before: str
    after: str

    def to_dict(self) -> dict:
        return {
            "stage": self.stage,
            "what": self.what,
            "start": self.start,
            "end": self.end,
            "before": self.before,
            "after": self.after,
        }


class Replacement(NamedTuple):
    """A planned change to a stage's input: ``text[start:end]`` becomes ``after``."""

    start: int
    end: int
    after: str
    what: str


def apply_replacements(
    text: str, stage: str, replacements: Iterable[Replacement]
) -> tuple[str, list[Edit]]:
    """Apply non-overlapping replacements (any order) and report them as edits.

    Replacements that would not change anything are dropped; overlapping ones keep
    the first in text order, so a stage can propose freely without double edits.

    >>> apply_replacements("a [] b", "markup", [Replacement(1, 4, "", "empty link")])
    ('a b', [Edit(stage='markup', what='empty link', start=1, end=4, before=' []', after='')])
    """
    parts: list[str] = []
    edits: list[Edit] = []
    pos = 0
    for r in sorted(replacements, key=lambda r: (r.start, r.end)):
        if r.start < pos:
            continue
        before = text[r.start : r.end]
        if before == r.after:
            continue
        parts.append(text[pos : r.start])
        parts.append(r.after)
        edits.append(Edit(stage, r.what, r.start, r.end, before, r.after))
        pos = r.end
    if not edits:
        return text, []
    parts.append(text[pos:])
    return "".join(parts), edits


def apply_passes(
    text: str, stage: str, passes: Iterable[Callable[[str], Iterable[Replacement]]]
) -> tuple[str, list[Edit]]:
    """Run planners one after another, each on the text the previous one left.

    A stage made of several passes (entities before tags, say) reports all their
    edits; each edit's offsets refer to the text as its own pass saw it.
    """
    edits: list[Edit] = []
    for plan in passes:
        text, e = apply_replacements(text, stage, plan(text))
        edits += e
    return text, edits

"""Where each cleaning edit sat in the text its stage received.

An :class:`~newsclean.edits.Edit`'s offsets refer to the text as its own stage (or
pass of a stage) saw it, not to the original nor to the cleaned text.  To show an
edit with the words around it, the edits are replayed on the original text in the
order they were made, and the replay is trusted only when it ends on the cleaned
text.

>>> from newsclean.edits import Edit
>>> edits = [Edit("markup", "empty link", 1, 4, " []", ""),
...          Edit("lost_chars", "apostrophe", 4, 5, "?", "’")]
>>> edit_contexts("a [] it?s", "a it’s", edits, width=3)
{0: ('a', ' it'), 1: (' it', 's')}
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# a replay copies the text once per edit: texts with many edits and many characters
# are shown without context rather than costing seconds
MAX_REPLAY_CHARS = 20_000_000


def edit_field(edit: Any, name: str) -> Any:
    """A field of an :class:`~newsclean.edits.Edit` or of its dict form."""
    return edit[name] if isinstance(edit, dict) else getattr(edit, name)


def edit_contexts(before: str, after: str, edits: Sequence[Any], width: int = 60,
                  wanted: set[int] | None = None) -> dict[int, tuple[str, str]]:
    """``{edit index: (text left of it, text right of it)}`` in the text its stage saw,
    up to ``width`` characters each side, for the ``wanted`` edits (all by default);
    ``{}`` when the edits do not replay from ``before`` to ``after``.

    Edits of one pass are sorted by position and refer to the pass's input; a new pass
    starts when the stage changes or an edit starts before the previous one ended.  A
    new pass whose first edit lies after the previous pass's last is told by the text
    at the edit, which must be the edit's ``before``.
    """
    if len(before) * max(1, len(edits)) > MAX_REPLAY_CHARS:
        return {}
    current = before
    shift = 0  # how much the pass's earlier edits moved the text after them
    previous_stage, previous_end = None, -1
    found: dict[int, tuple[str, str]] = {}
    for k, edit in enumerate(edits):
        stage, start, end = edit_field(edit, "stage"), edit_field(edit, "start"), edit_field(edit, "end")
        old, new = edit_field(edit, "before"), edit_field(edit, "after")
        same_pass = stage == previous_stage and start >= previous_end
        at = _locate(current, old, start, shift if same_pass else 0)
        if at is None and same_pass:
            at = _locate(current, old, start, 0)
            same_pass = False
        if at is None:
            return {}
        if not same_pass:
            shift = 0
        if wanted is None or k in wanted:
            found[k] = (current[max(0, at - width):at], current[at + len(old):at + len(old) + width])
        current = current[:at] + new + current[at + len(old):]
        shift += len(new) - len(old)
        previous_stage, previous_end = stage, end
    return found if current == after else {}


def _locate(text: str, old: str, start: int, shift: int) -> int | None:
    at = start + shift
    return at if 0 <= at <= len(text) and text.startswith(old, at) else None

"""One record through cleaning: found, cleaned under a time limit, accepted or rejected.

Every command reads records as :class:`~newsclean.io.base.Item` s and turns each into
exactly one :class:`Accepted` or :class:`Rejected` with :func:`clean_record`: the id
and the text are found (:func:`find_id`, :func:`find_text`), the text is cleaned
under ``doc_timeout``, and any problem — an unreadable line, no text, a stage that
crashes or runs too long — is a :class:`Rejected` with its reason, never an
exception that would stop a run.  What a command then writes differs (``clean``:
the cleaned copy; ``dedup``: the record as it came), what happened to a record
does not.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .engine.limits import DocTimeout, time_limit

if TYPE_CHECKING:
    from .clean.pipeline import Cleaner, CleanResult
    from .clean.sites import Site
    from .io.base import Item

TEXT_FIELDS = ("text", "maintext", "content", "body")
ID_FIELDS = ("id", "doc_id", "_id", "uuid", "url")
RAW_CHARS = 10_000  # characters of a rejected record's raw input kept in its report
# the share of its letters and digits a record kept, in a record cleaning cut down
# (under --min-keep): never silently
KEPT_FIELD = "_newsclean_kept"


class StrictStop(Exception):
    """``--strict``: the first bad record stops the run.  ``note`` says what was not written."""

    def __init__(self, where: str, reason: str, note: str = "") -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason, self.note = where, reason, note

    def __reduce__(self) -> tuple[Any, ...]:  # crosses process boundaries with its arguments
        return (StrictStop, (self.where, self.reason, self.note))


class BadRecord(ValueError):
    """A record that cannot be cleaned (no text field, text not a string, not an object)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def find_text(record: Any, text_field: str | None = None) -> tuple[str, str]:
    """``(field, text)`` of a record: ``text_field`` or the first alias present.

    A key holding ``null`` counts as absent for the aliases, so ``{"text": null,
    "maintext": "..."}`` uses ``maintext``.

    >>> find_text({"id": 1, "text": None, "body": "Fine."})
    ('body', 'Fine.')
    """
    if not isinstance(record, dict):
        raise BadRecord(f"record is {type(record).__name__}, not an object")
    if text_field is not None:
        if text_field not in record:
            raise BadRecord(f"no {text_field!r} field")
        name = text_field
    else:
        present = [f for f in TEXT_FIELDS if record.get(f) is not None]
        if not present:
            nulls = [f for f in TEXT_FIELDS if f in record]
            if nulls:
                raise BadRecord(f"text field {nulls[0]!r} is null")
            names = ", ".join(map(repr, list(record)[:20])) + (", ..." if len(record) > 20 else "")
            raise BadRecord(
                f"no text field (looked for {', '.join(TEXT_FIELDS)}; the record has {names or 'no fields'}; "
                "see --text-field)"
            )
        name = present[0]
    value = record[name]
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        raise BadRecord(f"text field {name!r} is {kind}, not a string")
    return name, value


def find_id(record: dict[str, Any], id_field: str | None = None) -> tuple[str | None, Any]:
    """``(field, value)`` of the record's id, or ``(None, None)`` if it has none."""
    for name in (id_field,) if id_field is not None else ID_FIELDS:
        if record.get(name) is not None:
            return name, record[name]
    return None, None


@dataclass(slots=True)
class Rejected:
    """An item that yields no record: where it came from, and why."""

    item: Item
    id: str  # the record's id, or "<source>:<line>"
    reason: str
    rejected: ClassVar[bool] = True

    def reject_record(self, raw_chars: int = RAW_CHARS) -> dict[str, Any]:
        """The line for the rejects file: where, why, and the raw input (truncated)."""
        raw = self.item.raw
        if isinstance(raw, bytes):
            # Decode only a prefix: a rejected 60 MB line needs no full decode.
            raw = raw[: raw_chars * 4].decode("utf-8", errors="replace")
        return {"source": self.item.source, "line": self.item.line, "id": self.id, "reason": self.reason,
                "raw": raw[:raw_chars]}


@dataclass(slots=True)
class Found:
    """A record whose id and text were found, not cleaned yet."""

    item: Item
    id: str  # the record's id as text, or "<source>:<line>"
    id_field: str | None  # the field holding the id; None when the record has none
    id_value: Any
    text_field: str
    text: str


@dataclass(slots=True)
class Accepted:
    """A record and what cleaning made of its text; ``record`` is what the command writes
    (``clean``: the cleaned copy), set by the command."""

    item: Item
    id: str
    id_field: str | None
    id_value: Any
    text_field: str
    before: str
    result: CleanResult
    record: dict[str, Any] | None = None
    rejected: ClassVar[bool] = False

    @property
    def after(self) -> str:
        return self.result.text

    @property
    def edits(self) -> list[Any]:
        return self.result.edits

    @property
    def changed(self) -> bool:
        return self.before != self.result.text

    @property
    def cut_down(self) -> float | None:
        """The share of its letters and digits the text kept, when cleaning cut it down
        under the cleaner's ``min_keep``; else None."""
        return getattr(self.result, "cut_down", None)


def find_record(item: Item, *, text_field: str | None = None, id_field: str | None = None) -> Found | Rejected:
    """The id and the text of a read item, or why it has none."""
    fallback = f"{item.source}:{item.line}"
    record = item.record
    if record is None:
        return Rejected(item, fallback, item.error or "unreadable record")
    id_name, id_value = find_id(record, id_field)
    shown = fallback if id_name is None else str(id_value)
    try:
        name, text = find_text(record, text_field)
    except BadRecord as e:
        return Rejected(item, shown, e.reason)
    return Found(item, shown, id_name, id_value, name, text)


def accept(found: Found, result: CleanResult) -> Accepted:
    return Accepted(found.item, found.id, found.id_field, found.id_value, found.text_field, found.text, result)


def clean_found(found: Found, cleaner: Cleaner, doc_timeout: float | None = None) -> Accepted | Rejected:
    """Clean a found record's text within ``doc_timeout`` seconds; a stage that crashes or
    runs too long rejects this record, not the run."""
    try:
        with time_limit(doc_timeout):
            site = _site(cleaner, found)
            result = cleaner.clean(found.text) if site is None else cleaner.clean(found.text, site)
    except DocTimeout as e:
        return Rejected(found.item, found.id, f"cleaning {e} (--doc-timeout)")
    except Exception as e:  # a stage bug must not take a million-record run down
        return Rejected(found.item, found.id, f"cleaning failed: {type(e).__name__}: {e}")
    return accept(found, result)


def _site(cleaner: Cleaner, found: Found) -> Site | None:
    """The record's site as the cleaner knows it (None for a cleaner that learned no sites)."""
    site_of = getattr(cleaner, "site_of", None)  # callers may bring a cleaner of their own
    if site_of is None:
        return None
    record = found.item.record
    return site_of(record, found.item.source) if record is not None else None


def clean_record(item: Item, cleaner: Cleaner, *, text_field: str | None = None, id_field: str | None = None,
                 doc_timeout: float | None = None) -> Accepted | Rejected:
    """What becomes of one read item: :func:`find_record`, then :func:`clean_found`."""
    found = find_record(item, text_field=text_field, id_field=id_field)
    return found if isinstance(found, Rejected) else clean_found(found, cleaner, doc_timeout)


def clean_found_together(found: Sequence[Found], cleaner: Cleaner,
                         doc_timeout: float | None = None) -> list[Accepted | Rejected]:
    """:func:`clean_found` for several records at once (a language model weighs all their
    swaps in one batch), within ``doc_timeout`` per record; if the batch fails or runs
    out of time, each record is cleaned again on its own and gets its own verdict."""
    if not found:
        return []
    try:
        with time_limit(None if doc_timeout is None else doc_timeout * len(found)):
            sites = [_site(cleaner, f) for f in found]
            texts = [f.text for f in found]
            results = cleaner.clean_many(texts, sites) if any(sites) else cleaner.clean_many(texts)
    except Exception:  # DocTimeout included
        return [clean_found(f, cleaner, doc_timeout) for f in found]
    return [accept(f, result) for f, result in zip(found, results)]

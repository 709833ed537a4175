"""Single-process cleaning engine: records in, cleaned records (or rejects) out, in order.

:func:`clean_records` is the library entry point for dicts; :func:`run_clean` is what
the CLI drives: it takes reader :class:`~newsclean.io.readers.Item` s and yields one
:class:`Outcome` per item, so every input record is accounted for exactly once.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # keep `import newsclean.engine.local` free of the heavy stages
    from ..clean.pipeline import Cleaner, CleanResult
    from ..io.readers import Item

TEXT_FIELDS = ("text", "maintext", "content", "body")
ID_FIELDS = ("id", "doc_id", "_id", "uuid", "url")
ERROR_FIELD = "_newsclean_error"


class BadRecord(ValueError):
    """A record that cannot be cleaned (no text field, text not a string, not an object)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def find_text(record: Any, text_field: str | None = None) -> tuple[str, str]:
    """``(field, text)`` of a record: ``text_field`` or the first alias present.

    A key holding ``null`` counts as absent for the aliases, so ``{"text": null,
    "maintext": "..."}`` uses ``maintext``.
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


def _default_cleaner() -> Cleaner:
    from ..clean.pipeline import default_cleaner

    return default_cleaner()


def _cleaned_copy(record: dict[str, Any], name: str, result: CleanResult, explain: bool) -> dict[str, Any]:
    # A shallow copy is enough: only a top-level field is replaced, the caller's
    # dict stays untouched and key order is preserved.
    out = dict(record)
    out[name] = result.text
    # only where a spun form was found: a record without one scores 0 and passes
    # through as it came
    if result.spin is not None and result.spin.sightings:
        out["spin"] = result.spin.to_dict()
    if explain:
        out["edits"] = [e.to_dict() for e in result.edits]
    return out


def clean_records(
    records: Iterable[dict[str, Any]],
    *,
    cleaner: Cleaner | None = None,
    text_field: str | None = None,
    explain: bool = False,
    errors: Literal["raise", "keep"] = "raise",
) -> Iterator[dict[str, Any]]:
    """Yield a cleaned copy of each record, in order.

    The text is read from ``text_field`` (default: first of text, maintext, content,
    body) and written back to the same field; ``explain`` adds ``edits``.  A record
    without usable text raises :class:`BadRecord` (``errors="raise"``) or is yielded
    unchanged with ``"_newsclean_error": reason`` (``errors="keep"``).

    >>> from newsclean.clean.pipeline import Cleaner
    >>> list(clean_records([{"id": 1, "body": "Fine."}], cleaner=Cleaner(stages=[])))
    [{'id': 1, 'body': 'Fine.'}]
    """
    if errors not in ("raise", "keep"):
        raise ValueError(f"errors must be 'raise' or 'keep', not {errors!r}")
    cleaner = cleaner if cleaner is not None else _default_cleaner()
    for record in records:
        try:
            name, text = find_text(record, text_field)
        except BadRecord as e:
            if errors == "raise":
                raise
            if isinstance(record, dict):
                yield {**record, ERROR_FIELD: e.reason}
            else:
                yield {ERROR_FIELD: e.reason, "record": record}
            continue
        yield _cleaned_copy(record, name, cleaner.clean(text), explain)


# ------------------------------------------------------------------ engine for the CLI


@dataclass
class Stats:
    """Counters of one run.

    :func:`run_clean` counts ``input_records``, ``changed``/``unchanged`` and edits;
    whoever writes the outcomes counts ``output_records`` and ``rejected`` as they
    are actually written, so :attr:`balanced` checks the whole path, not one loop.
    """

    input_records: int = 0
    output_records: int = 0
    rejected: int = 0
    changed: int = 0
    unchanged: int = 0
    spun: int = 0  # records a spin table flagged as spun
    edits_by_stage: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter, repr=False)
    seconds: float = 0.0

    @property
    def balanced(self) -> bool:
        return (
            self.input_records == self.output_records + self.rejected
            and self.changed + self.unchanged == self.output_records
        )

    @property
    def docs_per_second(self) -> float:
        return self.input_records / self.seconds if self.seconds > 0 else 0.0

    def finish(self) -> None:
        self.seconds = time.perf_counter() - self.started

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_records": self.input_records,
            "output_records": self.output_records,
            "rejected": self.rejected,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "spun": self.spun,
            "edits_by_stage": dict(self.edits_by_stage),
            "seconds": round(self.seconds, 6),
            "docs_per_second": round(self.docs_per_second, 3),
        }


@dataclass(slots=True)
class Outcome:
    """What happened to one input item: a cleaned ``record`` or a reject ``reason``."""

    item: Item
    id: str  # for reports and diff headers: the record's id or "<source>:<line>"
    record: dict[str, Any] | None = None
    reason: str | None = None
    before: str | None = None
    after: str | None = None
    edits: list[Any] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return self.reason is not None

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def reject_record(self, raw_chars: int = 10_000) -> dict[str, Any]:
        """The line for the rejects file: where, why, and the raw input (truncated)."""
        raw = self.item.raw
        if isinstance(raw, bytes):
            # Decode only a prefix: a rejected 60 MB line needs no full decode.
            raw = raw[: raw_chars * 4].decode("utf-8", errors="replace")
        return {
            "source": self.item.source,
            "line": self.item.line,
            "id": self.id,
            "reason": self.reason,
            "raw": raw[:raw_chars],
        }


def run_clean(
    items: Iterable[Item],
    cleaner: Cleaner,
    *,
    stats: Stats,
    text_field: str | None = None,
    id_field: str | None = None,
    explain: bool = False,
    doc_timeout: float | None = None,
) -> Iterator[Outcome]:
    """Clean reader items in order, yielding exactly one :class:`Outcome` per item.

    Output records keep every field; a record without any id gets
    ``id = "<file name>:<line>"`` (first key) so output lines stay traceable.
    A stage that crashes on one text, or a text that takes longer than
    ``doc_timeout`` seconds, rejects that record instead of the whole run.
    """
    from .limits import DocTimeout, time_limit

    for name in getattr(cleaner, "stage_names", ()):
        stats.edits_by_stage.setdefault(name, 0)
    if getattr(cleaner, "spin_table", None) is not None:
        stats.edits_by_stage.setdefault("unspin", 0)

    def prepare(item: Item) -> Outcome | _Pending:
        stats.input_records += 1
        record = item.record
        fallback_id = f"{item.source}:{item.line}"
        if record is None:
            return Outcome(item, fallback_id, reason=item.error or "unreadable record")
        id_name, id_value = find_id(record, id_field)
        shown_id = fallback_id if id_name is None else str(id_value)
        try:
            name, text = find_text(record, text_field)
        except BadRecord as e:
            return Outcome(item, shown_id, reason=e.reason)
        return _Pending(item, shown_id, id_name, name, text)

    def clean_one(p: _Pending) -> Outcome:
        try:
            with time_limit(doc_timeout):
                result = cleaner.clean(p.text)
        except DocTimeout as e:
            return Outcome(p.item, p.shown_id, reason=f"cleaning {e} (--doc-timeout)")
        except Exception as e:  # a stage bug must not take a million-record run down
            return Outcome(p.item, p.shown_id, reason=f"cleaning failed: {type(e).__name__}: {e}")
        return finish(p, result)

    def finish(p: _Pending, result: CleanResult) -> Outcome:
        record, item = p.item.record, p.item
        assert record is not None
        out = _cleaned_copy(record, p.name, result, explain)
        new_id_field = id_field or "id"
        if p.id_name is None and new_id_field not in record:  # never overwrite, e.g. "id": null
            out = {new_id_field: f"{PurePath(item.source).name}:{item.line}", **out}
        for edit in result.edits:
            stats.edits_by_stage[edit.stage] = stats.edits_by_stage.get(edit.stage, 0) + 1
        outcome = Outcome(item, p.shown_id, out, before=p.text, after=result.text, edits=result.edits)
        if result.spin is not None and result.spin.flagged:
            stats.spun += 1
        if outcome.changed:
            stats.changed += 1
        else:
            stats.unchanged += 1
        return outcome

    if getattr(cleaner, "spin_lm", None) is None or getattr(cleaner, "unspin", None) != "restore":
        for item in items:
            p = prepare(item)
            yield p if isinstance(p, Outcome) else clean_one(p)
        return
    # With a language model, records are cleaned in groups: the model weighs the
    # swaps of a whole group in one batch.  A group that fails or runs out of time
    # is cleaned again record by record, so each record gets its own verdict.
    group: list[Outcome | _Pending] = []
    for item in itertools.chain(items, [None]):
        if item is not None:
            group.append(prepare(item))
            if len(group) < LM_GROUP:
                continue
        pending = [p for p in group if isinstance(p, _Pending)]
        results: dict[int, CleanResult] = {}
        if pending:
            try:
                with time_limit(None if doc_timeout is None else doc_timeout * len(pending)):
                    results = dict(zip(map(id, pending), cleaner.clean_many([p.text for p in pending])))
            except Exception:  # DocTimeout included
                results = {}
        for p in group:
            if isinstance(p, Outcome):
                yield p
            elif id(p) in results:
                yield finish(p, results[id(p)])
            else:
                yield clean_one(p)
        group = []


LM_GROUP = 12  # records whose swaps the language model weighs in one batch


@dataclass(slots=True)
class _Pending:
    """A record whose text was found, waiting to be cleaned."""

    item: Item
    shown_id: str
    id_name: str | None
    name: str
    text: str


def _clean_chunk(args: tuple) -> tuple[list[Outcome], Stats]:
    """Worker side of :func:`run_clean_parallel`: one chunk of items, its own counters."""
    items, cleaner, text_field, id_field, explain, doc_timeout = args
    stats = Stats()
    outcomes = list(run_clean(items, cleaner, stats=stats, text_field=text_field, id_field=id_field,
                              explain=explain, doc_timeout=doc_timeout))
    for oc in outcomes:
        if not oc.rejected:
            oc.item.raw = b""  # only reject reports need the raw line: do not ship it back
    return outcomes, stats


def run_clean_parallel(
    items: Iterable[Item],
    cleaner: Cleaner,
    *,
    stats: Stats,
    workers: int,
    text_field: str | None = None,
    id_field: str | None = None,
    explain: bool = False,
    doc_timeout: float | None = None,
    chunk: int = 256,
    warmup: int = 2000,
) -> Iterator[Outcome]:
    """:func:`run_clean` on ``workers`` processes, outcomes still in input order.

    The first ``warmup`` items are cleaned here: an input that small ends before a
    pool would have started.  After that, chunks of ``chunk`` items go to a process
    pool, a bounded number in flight (memory stays bounded), and come back in order.
    The result is the same as :func:`run_clean`'s, item for item.
    """
    import itertools
    from collections import deque

    it = iter(items)
    head = list(itertools.islice(it, warmup))
    inline = dict(stats=stats, text_field=text_field, id_field=id_field, explain=explain, doc_timeout=doc_timeout)
    if workers <= 1 or len(head) < warmup:
        yield from run_clean(itertools.chain(head, it), cleaner, **inline)
        return
    yield from run_clean(head, cleaner, **inline)
    del head
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from .executors import TaskFailed

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        window: deque = deque()

        def drain() -> Iterator[Outcome]:
            fut = window.popleft()
            try:
                outcomes, part = fut.result()
            except BrokenProcessPool:
                raise TaskFailed(-1, "a worker process died while cleaning; nothing was written") from None
            for oc in outcomes:
                stats.input_records += 1
                yield oc
            stats.changed += part.changed
            stats.unchanged += part.unchanged
            stats.spun += part.spun
            for name, k in part.edits_by_stage.items():
                stats.edits_by_stage[name] = stats.edits_by_stage.get(name, 0) + k

        while batch := list(itertools.islice(it, chunk)):
            window.append(pool.submit(_clean_chunk, (batch, cleaner, text_field, id_field, explain, doc_timeout)))
            if len(window) >= 4 * workers:
                yield from drain()
        while window:
            yield from drain()

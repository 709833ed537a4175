"""The record loop of ``clean``: records in, cleaned records (or rejects) out, in order.

:func:`clean_records` is the library entry point for dicts; :func:`run_clean` is what
the ``clean`` driver (:func:`newsclean.driver.clean_files`) runs: it takes reader
:class:`~newsclean.io.base.Item` s and yields one :class:`~newsclean.records.Accepted`
or :class:`~newsclean.records.Rejected` per item (:func:`~newsclean.records.clean_record`),
so every input record is accounted for exactly once; :func:`run_clean_parallel` does
the same on an :class:`~newsclean.engine.executors.Engine`'s processes.
"""
from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal

from ..records import (
    ID_FIELDS,
    KEPT_FIELD,
    TEXT_FIELDS,
    Accepted,
    BadRecord,
    Found,
    Rejected,
    clean_found_together,
    clean_record,
    find_id,
    find_record,
    find_text,
)

if TYPE_CHECKING:  # keep `import newsclean.engine.local` free of the heavy stages
    from ..clean.pipeline import Cleaner, CleanResult
    from ..io.base import Item
    from .executors import Engine

__all__ = ["ERROR_FIELD", "ID_FIELDS", "LM_GROUP", "TEXT_FIELDS", "BadRecord", "Outcome", "Stats", "clean_records",
           "RecordLoop", "find_id", "find_text", "run_clean", "run_clean_parallel"]

ERROR_FIELD = "_newsclean_error"
BOILERPLATE = "boilerplate"  # the stage name of site boilerplate (newsclean.clean.boilerplate.STAGE)
LM_GROUP = 12  # records whose swaps the language model weighs in one batch

def Outcome(item: Item, id: str, *, reason: str) -> Rejected:  # noqa: N802, A002
    """A :class:`~newsclean.records.Rejected`, under the name the fuzz target
    (``fuzz/fuzz_records.py``) builds its reject reports with."""
    return Rejected(item, id, reason)


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
    cut_down = getattr(result, "cut_down", None)
    if cut_down is not None:
        out[KEPT_FIELD] = cut_down
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
    if cleaner is None:
        from ..clean.pipeline import default_cleaner

        cleaner = default_cleaner()
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
    cut_down: int = 0  # records that kept less than --min-keep of their text
    edits_by_stage: dict[str, int] = field(default_factory=dict)
    # site boilerplate: lines learned (None: none learned, --boilerplate off or standard
    # input), records changed, each line's removals
    boilerplate_learned: int | None = None
    boilerplate_records: int = 0
    boilerplate_lines: Counter = field(default_factory=Counter)
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

    def add(self, other: Stats) -> None:
        """Count ``other``'s cleaning (records changed, unchanged, spun; edits) in here."""
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.spun += other.spun
        self.cut_down += other.cut_down
        self.boilerplate_records += other.boilerplate_records
        self.boilerplate_lines.update(other.boilerplate_lines)
        for name, k in other.edits_by_stage.items():
            self.edits_by_stage[name] = self.edits_by_stage.get(name, 0) + k

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
            "records_cut_down": self.cut_down,
            "edits_by_stage": dict(self.edits_by_stage),
            "boilerplate": self.boilerplate_section(),
            "seconds": round(self.seconds, 6),
            "docs_per_second": round(self.docs_per_second, 3),
        }

    def boilerplate_section(self) -> dict[str, Any] | None:
        """The ``boilerplate`` of the statistics file (the same as dedup/run's stats.json)."""
        if self.boilerplate_learned is None:
            return None
        from ..clean.boilerplate import BoilerplateStats

        return {"lines_learned": self.boilerplate_learned, "lines_removed": sum(self.boilerplate_lines.values()),
                "records_changed": self.boilerplate_records,
                "lines": BoilerplateStats(self.boilerplate_lines).top_lines()}



def run_clean(
    items: Iterable[Item],
    cleaner: Cleaner,
    *,
    stats: Stats,
    text_field: str | None = None,
    id_field: str | None = None,
    explain: bool = False,
    doc_timeout: float | None = None,
) -> Iterator[Accepted | Rejected]:
    """Clean reader items in order, yielding exactly one outcome per item.

    Output records keep every field; a record without any id gets
    ``id = "<file name>:<line>"`` (first key) so output lines stay traceable.
    A stage that crashes on one text, or a text that takes longer than
    ``doc_timeout`` seconds, rejects that record instead of the whole run.
    """
    sites = getattr(cleaner, "sites", None)
    if sites is not None:  # site boilerplate goes first, before the stages
        stats.boilerplate_learned = len(sites.boilerplate)
        stats.edits_by_stage.setdefault(BOILERPLATE, 0)
    for name in getattr(cleaner, "stage_names", ()):
        stats.edits_by_stage.setdefault(name, 0)
    if getattr(cleaner, "spin_table", None) is not None:
        stats.edits_by_stage.setdefault("unspin", 0)
    fields = {"text_field": text_field, "id_field": id_field}
    if getattr(cleaner, "spin_lm", None) is None or getattr(cleaner, "unspin", None) != "restore":
        for item in items:
            stats.input_records += 1
            yield _counted(clean_record(item, cleaner, doc_timeout=doc_timeout, **fields), stats, id_field, explain)
        return
    # With a language model, records are cleaned in groups: the model weighs the
    # swaps of a whole group in one batch.
    it = iter(items)
    while group := list(itertools.islice(it, LM_GROUP)):
        stats.input_records += len(group)
        found = [find_record(item, **fields) for item in group]
        cleaned = iter(clean_found_together([f for f in found if isinstance(f, Found)], cleaner, doc_timeout))
        for f in found:
            yield _counted(f if isinstance(f, Rejected) else next(cleaned), stats, id_field, explain)


def _counted(outcome: Accepted | Rejected, stats: Stats, id_field: str | None,
             explain: bool) -> Accepted | Rejected:
    """``outcome`` with the record ``clean`` writes, counted in ``stats``."""
    if outcome.rejected:
        return outcome
    result = outcome.result
    record = outcome.item.record
    assert record is not None
    out = _cleaned_copy(record, outcome.text_field, result, explain)
    new_id_field = id_field or "id"
    if outcome.id_field is None and new_id_field not in record:  # never overwrite, e.g. "id": null
        out = {new_id_field: f"{PurePath(outcome.item.source).name}:{outcome.item.line}", **out}
    outcome.record = out
    boilerplate = 0
    for edit in result.edits:
        stats.edits_by_stage[edit.stage] = stats.edits_by_stage.get(edit.stage, 0) + 1
        if edit.stage == BOILERPLATE:
            stats.boilerplate_lines[edit.before.strip()] += 1
            boilerplate += 1
    stats.boilerplate_records += boilerplate > 0
    stats.cut_down += outcome.cut_down is not None
    if result.spin is not None and result.spin.flagged:
        stats.spun += 1
    if outcome.changed:
        stats.changed += 1
    else:
        stats.unchanged += 1
    return outcome


@dataclass(frozen=True)
class RecordLoop:
    """What :func:`run_clean` needs besides the items and the counters."""

    cleaner: Cleaner
    text_field: str | None = None
    id_field: str | None = None
    explain: bool = False
    doc_timeout: float | None = None

    def run(self, items: Iterable[Item], stats: Stats) -> Iterator[Accepted | Rejected]:
        return run_clean(items, self.cleaner, stats=stats, text_field=self.text_field, id_field=self.id_field,
                         explain=self.explain, doc_timeout=self.doc_timeout)


def _clean_chunk(chunk: tuple[list[Item], RecordLoop]) -> tuple[list[Accepted | Rejected], Stats]:
    """Worker side of :func:`run_clean_parallel`: one chunk of items, its own counters."""
    items, loop = chunk
    stats = Stats()
    outcomes = list(loop.run(items, stats))
    for outcome in outcomes:
        if not outcome.rejected:
            outcome.item.raw = b""  # only reject reports need the raw line: do not ship it back
    return outcomes, stats


def run_clean_parallel(items: Iterable[Item], loop: RecordLoop, *, stats: Stats, engine: Engine, chunk: int = 256,
                       warmup: int = 2000) -> Iterator[Accepted | Rejected]:
    """:func:`run_clean` on ``engine``'s processes, outcomes still in input order.

    The first ``warmup`` items are cleaned here: an input that small ends before a
    pool would have started.  After that, chunks of ``chunk`` items go to the
    engine, a bounded number in flight (memory stays bounded), and come back in
    order.  The result is the same as :func:`run_clean`'s, item for item.
    """
    it = iter(items)
    head = list(itertools.islice(it, warmup))
    if engine.workers <= 1 or len(head) < warmup:
        yield from loop.run(itertools.chain(head, it), stats)
        return
    yield from loop.run(head, stats)
    del head
    chunks = ((batch, loop) for batch in iter(lambda: list(itertools.islice(it, chunk)), []))
    for outcomes, part in engine.imap(_clean_chunk, chunks, window=4 * engine.workers):
        stats.input_records += len(outcomes)
        yield from outcomes
        stats.add(part)

"""Report samples: what cleaning did, kept small, chosen by record id, mergeable.

A run's outputs hold the records but not the text before cleaning, the edits of each
stage nor the spin swaps restored.  Each shard offers every record it cleaned to a
:class:`ReportSamples` (:meth:`~ReportSamples.offer`), which keeps

* exact counts: records, records changed, edits and records per stage, edits per
  kind (``what``) of each stage; spin: records judged, with a spun form found,
  flagged, swaps restored, a histogram of the scores, and every restored swap
  (``spun -> original``, lower-cased) with its count;
* bounded examples, each chosen by the smallest ``xxh64`` of the record's id (then of
  its text before cleaning): per stage, :attr:`Limits.per_stage` records with up to
  :attr:`Limits.edits_per_example` of their edits in context; :attr:`Limits.texts`
  whole records (before and after, up to :attr:`Limits.text_chars` characters);
  :attr:`Limits.spin` records flagged as spun with their restored swaps in context.

:func:`merge_samples` combines the shards' samples into the run's: counts add up and
each example list keeps its smallest keys, so the result is the same whatever the
shard split and order.  The file (:func:`write_samples`, ``OUTDIR/report-samples.json``
for a run) is JSON, ASCII-escaped so that any text round-trips:

.. code-block:: text

    {"format": "newsclean-report-samples", "version": 1, "limits": {...},
     "records": 1925, "changed": 312, "edits": 1040,
     "stages": {"markup": {"edits": 410, "records": 120, "kinds": {"empty link": 380, ...},
                           "examples": [{"key": "<32 hex>", "id": "a1", "edits": [
                               {"what": "empty link", "left": "...", "before": " []",
                                "after": "", "right": "..."}]}]}, ...},
     "texts": [{"key": ..., "id": ..., "before": ..., "after": ..., "edits": 3}],
     "spin": {"judged": 1925, "found": 40, "flagged": 6, "restored": 57,
              "score_histogram": [20 counts, scores 0-0.05, ..., 0.95-1], 
              "swaps": [["a ask for", "a request for", 3], ...],
              "examples": [{"key": ..., "id": ..., "score": 0.93, "found": 12, "restored": 9,
                            "edits": [{"what": ..., "left": ..., "before": ..., ...}]}]}}

``left`` and ``right`` are the text around the edit as its stage saw it
(:mod:`.replay`); both are empty when the edits could not be replayed.

>>> samples = ReportSamples()
>>> from newsclean.edits import Edit
>>> samples.offer("a1", "it?s", "it’s", [Edit("lost_chars", "apostrophe", 2, 3, "?", "’")])
>>> run = merge_samples([samples.to_dict(), ReportSamples().to_dict()])
>>> run.stages["lost_chars"]["edits"], run.stages["lost_chars"]["examples"][0]["edits"][0]["left"]
(1, 'it')
"""
from __future__ import annotations

import heapq
import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import xxhash

from .replay import edit_contexts, edit_field

FORMAT = "newsclean-report-samples"
VERSION = 1
SAMPLES_NAME = "report-samples.json"
SCORE_BINS = 20
UNSPIN_STAGE = "unspin"

__all__ = ["FORMAT", "SAMPLES_NAME", "Limits", "ReportSamples", "merge_samples", "read_samples",
           "record_key", "samples_document", "write_samples"]


@dataclass(frozen=True)
class Limits:
    """How many examples of each kind a sample keeps, and how much text of each."""

    per_stage: int = 3  # records shown per cleaning stage
    edits_per_example: int = 2  # of one record, per stage
    texts: int = 3  # whole records before and after cleaning
    text_chars: int = 4_000  # ... only records at most this long (before and after)
    spin: int = 5  # records flagged as spun
    context: int = 60  # characters each side of an edit
    edit_chars: int = 300  # of an edit's before / after text


def record_key(record_id: Any, text: str) -> str:
    """The sample order of a record: xxh64 of its id, then of its text (32 hex digits).

    >>> record_key("a1", "x") < record_key("a1", "y") or record_key("a1", "x") > record_key("a1", "y")
    True
    """
    def digest(s: str) -> str:
        return xxhash.xxh64_hexdigest(s.encode("utf-8", "surrogatepass"))

    return digest(str(record_id)) + digest(text)


class _Smallest:
    """The ``size`` entries of smallest key offered, each key once."""

    def __init__(self, size: int, entries: Iterable[dict] = ()) -> None:
        self.size = size
        self._heap: list[tuple[_Reversed, dict]] = []
        self._keys: set[str] = set()
        for entry in entries:
            self.add(entry)

    def wants(self, key: str) -> bool:
        if key in self._keys or self.size <= 0:
            return False
        return len(self._heap) < self.size or key < self._heap[0][0].key

    def add(self, entry: dict) -> None:
        if not self.wants(entry["key"]):
            return
        self._keys.add(entry["key"])
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, (_Reversed(entry["key"]), entry))
        else:
            _, dropped = heapq.heapreplace(self._heap, (_Reversed(entry["key"]), entry))
            self._keys.discard(dropped["key"])

    def sorted(self) -> list[dict]:
        return sorted((entry for _, entry in self._heap), key=lambda e: e["key"])


@dataclass(frozen=True, order=False)
class _Reversed:
    """A key ordered backwards: heapq's min-heap then holds the largest kept key on top."""

    key: str

    def __lt__(self, other: _Reversed) -> bool:
        return self.key > other.key


@dataclass
class _Stage:
    edits: int = 0
    records: int = 0
    kinds: Counter = field(default_factory=Counter)


class ReportSamples:
    """A bounded, deterministic sample of what cleaning did (see the module doc)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.records = self.changed = self.edits = 0
        self._stages: dict[str, _Stage] = {}
        self._stage_examples: dict[str, _Smallest] = {}
        self._texts = _Smallest(self.limits.texts)
        self.spin = {"judged": 0, "found": 0, "flagged": 0, "restored": 0, "score_histogram": [0] * SCORE_BINS}
        self._swaps: Counter = Counter()
        self._spin_examples = _Smallest(self.limits.spin)

    # ------------------------------------------------------------------ offering

    def offer(self, record_id: Any, before: str, after: str, edits: Sequence[Any], spin: Any = None) -> None:
        """Count a cleaned record and keep it as an example if its key is small enough.

        ``edits``: :class:`~newsclean.edits.Edit` objects (or their dicts) in the order
        cleaning made them; ``spin``: the record's :class:`~newsclean.spin.SpinReport`
        (or its dict), None when spin was not judged.  Cheap for the records that
        are not kept: a hash and a pass over the edits.
        """
        self.records += 1
        per_stage = self._count_edits(edits)
        self._count_spin(spin, edits, per_stage.get(UNSPIN_STAGE))
        if not edits:
            return
        key = record_key(record_id, before)
        stages = [s for s in per_stage if self._examples_of(s).wants(key)]
        wants_text = len(before) <= self.limits.text_chars and len(after) <= self.limits.text_chars \
            and self._texts.wants(key)
        flagged = _spin_value(spin, "flagged", False)
        wants_spin = bool(flagged) and self._spin_examples.wants(key)
        if not (stages or wants_text or wants_spin):
            return
        chosen = {i for s in stages + ([UNSPIN_STAGE] if wants_spin else [])
                  for i in per_stage.get(s, [])[: self.limits.edits_per_example]}
        contexts = edit_contexts(before, after, edits, self.limits.context, chosen)
        shown = str(record_id)
        for stage in stages:
            self._examples_of(stage).add({"key": key, "id": shown, "edits": self._shown_edits(
                edits, per_stage[stage][: self.limits.edits_per_example], contexts)})
        if wants_text:
            self._texts.add({"key": key, "id": shown, "before": before, "after": after, "edits": len(edits)})
        if wants_spin:
            restored = per_stage.get(UNSPIN_STAGE, [])
            self._spin_examples.add({
                "key": key, "id": shown, "score": round(float(_spin_value(spin, "score", 0.0)), 4),
                "found": _spin_found(spin), "restored": len(restored),
                "edits": self._shown_edits(edits, restored[: self.limits.edits_per_example], contexts)})

    def _count_edits(self, edits: Sequence[Any]) -> dict[str, list[int]]:
        """Counts the edits; returns each stage's edit indices, in order."""
        self.edits += len(edits)
        if edits:
            self.changed += 1
        per_stage: dict[str, list[int]] = {}
        for i, edit in enumerate(edits):
            stage = edit_field(edit, "stage")
            per_stage.setdefault(stage, []).append(i)
            counts = self._stages.get(stage) or self._stages.setdefault(stage, _Stage())
            counts.edits += 1
            counts.kinds[edit_field(edit, "what")] += 1
        for stage in per_stage:
            self._stages[stage].records += 1
        return per_stage

    def _count_spin(self, spin: Any, edits: Sequence[Any], restored: list[int] | None) -> None:
        if spin is None:
            return
        self.spin["judged"] += 1
        if _spin_found(spin):
            self.spin["found"] += 1
            score = float(_spin_value(spin, "score", 0.0))
            self.spin["score_histogram"][min(SCORE_BINS - 1, max(0, int(score * SCORE_BINS)))] += 1
        if _spin_value(spin, "flagged", False):
            self.spin["flagged"] += 1
        for i in restored or ():
            self.spin["restored"] += 1
            self._swaps[(edit_field(edits[i], "before").lower(), edit_field(edits[i], "after").lower())] += 1

    def _shown_edits(self, edits: Sequence[Any], indices: list[int],
                     contexts: dict[int, tuple[str, str]]) -> list[dict[str, str]]:
        cut = self.limits.edit_chars
        shown = []
        for i in indices:
            left, right = contexts.get(i, ("", ""))
            shown.append({"what": edit_field(edits[i], "what"), "left": left,
                          "before": edit_field(edits[i], "before")[:cut],
                          "after": edit_field(edits[i], "after")[:cut], "right": right})
        return shown

    def _examples_of(self, stage: str) -> _Smallest:
        found = self._stage_examples.get(stage)
        if found is None:
            found = self._stage_examples[stage] = _Smallest(self.limits.per_stage)
        return found

    # ------------------------------------------------------------------ reading

    @property
    def stages(self) -> dict[str, dict[str, Any]]:
        """Per stage, in pipeline order (then others by name): edits, records, kinds
        (most frequent first), examples."""
        return {name: {"edits": s.edits, "records": s.records,
                       "kinds": dict(sorted(s.kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
                       "examples": self._examples_of(name).sorted()}
                for name, s in sorted(self._stages.items(), key=lambda item: stage_order(item[0]))}

    @property
    def texts(self) -> list[dict[str, Any]]:
        return self._texts.sorted()

    @property
    def spin_examples(self) -> list[dict[str, Any]]:
        return self._spin_examples.sorted()

    @property
    def swaps(self) -> list[tuple[str, str, int]]:
        """Restored swaps, most frequent first: ``(spun, original, count)``."""
        return sorted(((a, b, n) for (a, b), n in self._swaps.items()), key=lambda t: (-t[2], t[0], t[1]))

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "limits": asdict(self.limits),
                "records": self.records, "changed": self.changed, "edits": self.edits,
                "stages": self.stages, "texts": self.texts,
                "spin": {**self.spin, "swaps": [list(t) for t in self.swaps],
                         "examples": self.spin_examples}}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ReportSamples:
        if doc.get("format") != FORMAT or doc.get("version") != VERSION:
            raise ValueError(f"not a {FORMAT} document of version {VERSION}")
        known = {f.name for f in fields(Limits)}
        samples = cls(Limits(**{k: v for k, v in doc.get("limits", {}).items() if k in known}))
        samples._add(doc)
        return samples

    def _add(self, doc: dict[str, Any]) -> None:
        """Adds another sample's counts and examples (same limits) to this one."""
        self.records += doc["records"]
        self.changed += doc["changed"]
        self.edits += doc["edits"]
        for name, stage in doc["stages"].items():
            counts = self._stages.setdefault(name, _Stage())
            counts.edits += stage["edits"]
            counts.records += stage["records"]
            counts.kinds.update(stage["kinds"])
            for entry in stage["examples"]:
                self._examples_of(name).add(entry)
        for entry in doc["texts"]:
            self._texts.add(entry)
        spin = doc["spin"]
        for k in ("judged", "found", "flagged", "restored"):
            self.spin[k] += spin[k]
        self.spin["score_histogram"] = [a + b for a, b in zip(self.spin["score_histogram"], spin["score_histogram"])]
        for spun, original, n in spin["swaps"]:
            self._swaps[(spun, original)] += n
        for entry in spin["examples"]:
            self._spin_examples.add(entry)


def stage_order(stage: str) -> tuple[int, str]:
    """Sort key of a stage name: ``boilerplate`` (removed first), the cleaning pipeline's
    order, then ``unspin``, then others."""
    from ..clean.pipeline import STAGES

    known = ["boilerplate", *[name for name in STAGES if name != "boilerplate"], UNSPIN_STAGE]
    return (known.index(stage), "") if stage in known else (len(known), stage)


def _spin_value(spin: Any, name: str, default: Any) -> Any:
    if spin is None:
        return default
    return spin.get(name, default) if isinstance(spin, dict) else getattr(spin, name, default)


def _spin_found(spin: Any) -> int:
    if isinstance(spin, dict):
        return int(spin.get("found", 0))
    return len(getattr(spin, "sightings", ()) or ())


def merge_samples(parts: Iterable[ReportSamples | dict[str, Any]]) -> ReportSamples:
    """The run's sample from its shards' (in any order, any split: the same result).

    """
    merged: ReportSamples | None = None
    for part in parts:
        doc = part.to_dict() if isinstance(part, ReportSamples) else part
        if merged is None:
            merged = ReportSamples.from_dict(doc)
        else:
            merged._add(doc)
    return merged if merged is not None else ReportSamples()


def samples_document(samples: ReportSamples) -> bytes:
    """``samples`` as the bytes of a JSON file (ASCII-escaped: lone surrogates survive)."""
    return (json.dumps(samples.to_dict(), ensure_ascii=True, sort_keys=False) + "\n").encode("ascii")


def write_samples(samples: ReportSamples, path: str | os.PathLike[str]) -> None:
    """Write ``samples`` as JSON, atomically."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(samples_document(samples))
    os.replace(tmp, path)


def read_samples(path: str | os.PathLike[str]) -> ReportSamples | None:
    """The samples in ``path``; None when there is no such file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return ReportSamples.from_dict(json.loads(text))

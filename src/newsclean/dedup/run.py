"""The ``newsclean dedup`` driver: read, reject, clean, cluster, write OUTDIR.

Outputs (all atomic; identical input gives byte-identical clusters/kept/duplicates;
``stats.json`` differs only in its ``timings``):

* ``clusters.jsonl`` — one line per accepted record, input order: id, cluster,
  duplicate_of, similarity (+ event);
* ``kept.jsonl.gz`` — survivors as they came, plus ``cluster`` (and ``event``);
* ``duplicates.jsonl.gz`` — the other records as they came, plus ``cluster``,
  ``duplicate_of``, ``similarity`` (and ``event``);
* ``rejects.jsonl`` — records that could not be read or have no usable text, with
  source, line, id, reason and raw text (always created, possibly empty);
* ``stats.json`` — counts, cluster size histogram, timings, parameters;
* ``index/`` — what ``--against OUTDIR`` needs to deduplicate a later batch against
  this run (:mod:`.index`): every record's name, cluster, exact-text digest, MinHash
  signatures and shingle sets, and the parameters.

With ``against`` (a previous run's OUTDIR, same parameters), the new records are also
compared with that run's index: one that matches an archived record joins its cluster
(the archived survivor stays the survivor).  The outputs cover the new records only;
``index/`` holds the previous records and the new ones, so runs chain.  Events are
computed within the new batch.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import ClusterInfo, DedupParams, Document, EventParams, dedup_documents
from .core import record_date, unique_names
from .index import empty_index, load_index, write_index

OUTPUT_NAMES = ("clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz", "rejects.jsonl", "stats.json")


class StrictStop(Exception):
    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


@dataclass
class DedupStats:
    input_records: int = 0
    kept: int = 0
    duplicates: int = 0
    rejected: int = 0
    clusters: int = 0
    events: int | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.input_records == self.kept + self.duplicates + self.rejected


def run_dedup(
    files: list[Any],
    outdir: Path,
    *,
    events: bool = False,
    keep: str = "cleanest",
    params: DedupParams | None = None,
    event_params: EventParams | None = None,
    text_field: str | None = None,
    id_field: str | None = None,
    max_bytes: int = 64 * 1024 * 1024,
    strict: bool = False,
    cleaner: Any = None,
    cleaned_archive: bool = False,
    doc_timeout: float | None = 60.0,
    against: Path | None = None,
) -> tuple[DedupStats, dict[str, Any]]:
    """Run the whole command; returns the stats and the stats.json document.

    With ``cleaned_archive`` (``newsclean run``) the archived records carry their
    cleaned text, in the field it was read from.
    """
    from ..engine.limits import DocTimeout, time_limit
    from ..engine.local import BadRecord, Outcome, find_id, find_text
    from ..io.readers import read_inputs
    from ..io.writers import AtomicWriter, dumps_line

    if cleaner is None:
        from ..clean.pipeline import Cleaner

        cleaner = Cleaner()
    params = params or DedupParams()
    event_params = event_params or EventParams()
    # before reading anything: a mismatching index raises IndexMismatch
    previous = load_index(against, params, keep) if against is not None else None
    stats = DedupStats()
    started = time.perf_counter()
    accepted: list[tuple[Any, Document]] = []  # (item, document)
    text_fields: list[str] = []  # the field each accepted record's text came from
    rejects: list[bytes] = []
    ids: list[Any] = []
    for item in read_inputs(files, max_bytes=max_bytes):
        stats.input_records += 1
        fallback = f"{item.source}:{item.line}"
        reason = None
        if item.record is None:
            reason, shown = item.error or "unreadable record", fallback
        else:
            id_name, id_value = find_id(item.record, id_field)
            shown = fallback if id_name is None else str(id_value)
            try:
                field_name, text = find_text(item.record, text_field)
                with time_limit(doc_timeout):
                    result = cleaner.clean(text)
            except BadRecord as e:
                reason = e.reason
            except DocTimeout as e:
                reason = f"cleaning {e} (--doc-timeout)"
            except Exception as e:  # a cleaning bug must not take the run down
                reason = f"cleaning failed: {type(e).__name__}: {e}"
        if reason is not None:
            if strict:
                raise StrictStop(fallback, reason)
            rejects.append(dumps_line(Outcome(item, shown, reason=reason).reject_record()))
            continue
        ids.append(id_value if id_name is not None else fallback)
        doc = Document(id=ids[-1], text=result.text, edits=len(result.edits), date=record_date(item.record))
        item.raw = b""  # the raw line is only kept for reject reports: free it
        accepted.append((item, doc))
        text_fields.append(field_name)
    stats.timings["read_clean"] = time.perf_counter() - started
    taken = set(previous.names) if previous is not None else ()
    for (_, d), name in zip(accepted, unique_names(ids, taken=taken)):
        d.name = name

    info = ClusterInfo()
    results = dedup_documents(
        [d for _, d in accepted], events=events, keep=keep, params=params, event_params=event_params, info=info,
        previous=previous, build_index=True,
    )
    stats.timings.update(info.timings)

    t = time.perf_counter()
    outdir.mkdir(parents=True, exist_ok=True)
    writers = {name: AtomicWriter(outdir / name) for name in OUTPUT_NAMES}
    try:
        for (item, d), field_name, r in zip(accepted, text_fields, results):
            writers["clusters.jsonl"].write(dumps_line(r.to_dict(events)))
            rec = dict(item.record)
            if cleaned_archive:
                rec[field_name] = d.text
            rec["cluster"] = r.cluster
            if events:
                rec["event"] = r.event
            if r.duplicate_of is None:
                writers["kept.jsonl.gz"].write(dumps_line(rec, stdlib=item.stdlib_json))
                stats.kept += 1
            else:
                rec["duplicate_of"] = r.duplicate_of
                rec["similarity"] = r.similarity
                writers["duplicates.jsonl.gz"].write(dumps_line(rec, stdlib=item.stdlib_json))
                stats.duplicates += 1
        for line in rejects:
            writers["rejects.jsonl"].write(line)
        stats.rejected = len(rejects)
        sizes = Counter(r.cluster for r in results)
        stats.clusters = len(sizes)
        if events:
            stats.events = len({r.event for r in results})
        stats.timings["write"] = time.perf_counter() - t
        stats.timings["total"] = time.perf_counter() - started
        hist = Counter(sizes.values())
        doc = {
            "input_records": stats.input_records,
            "kept": stats.kept,
            "duplicates": stats.duplicates,
            "rejected": stats.rejected,
            "balanced": stats.balanced,
            "clusters": stats.clusters,
            "events": stats.events,
            "cluster_size_histogram": {str(k): hist[k] for k in sorted(hist)},
            "exact_duplicate_groups": info.exact_groups,
            "short_documents": info.short_docs,
            "lsh_candidate_pairs": info.candidates,
            "verified_pairs": info.verified,
            "event_candidate_pairs": info.event_candidates if events else None,
            "against": str(against) if against is not None else None,
            "previous_records": previous.size if previous is not None else 0,
            "joined_previous": info.joined_previous,
            "parameters": {"keep": keep, "events": events, "cleaned_archive": cleaned_archive, **asdict(params),
                           **({"event_" + k: v for k, v in asdict(event_params).items()} if events else {})},
            "timings": {k: round(v, 4) for k, v in stats.timings.items()},
        }
        import orjson

        writers["stats.json"].write(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
        write_index(outdir, previous if previous is not None else empty_index(params, keep), info.index)
        for w in writers.values():
            w.commit()
    except BaseException:
        for w in writers.values():
            w.discard()
        raise
    return stats, doc

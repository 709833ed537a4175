"""What a report shows, read from a run folder in bounded memory.

Reads ``stats.json`` and ``manifest.json`` whole (small), streams ``clusters.jsonl``
and the rejects file line by line, and takes from ``kept.jsonl.gz`` and
``duplicates.jsonl.gz`` only the records it shows, found by position (both files
follow ``clusters.jsonl``'s order among survivors and removed records) within their
first :attr:`Bounds.archive_lines` lines.  What grows with the run is a few compact
arrays (8 bytes per record each: name hashes to find a survivor's position, event
hashes to size events); everything kept as text is bounded by :class:`Bounds`.

Samples are chosen by the smallest xxh64 of the record id (then position), so the
same folder always gives the same report.
"""
from __future__ import annotations

import gzip
import heapq
import json
import re
from array import array
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import xxhash

from .samples import SAMPLES_NAME, ReportSamples, read_samples


class NotARunFolder(Exception):
    """The folder holds no ``stats.json`` of a ``dedup`` or ``run``."""


@dataclass(frozen=True)
class Bounds:
    """How much of a run a report shows."""

    # records are shown from the first lines of kept.jsonl.gz and duplicates.jsonl.gz
    # only: inflating both whole takes ~0.85 s of CPU per 100 k records (0.17 GB), and
    # more with every record, where the rest of the report costs ~0.4 s whatever the size
    archive_lines: int = 10_000
    pairs: int = 6  # removed records beside their survivor, by smallest id hash
    lowest_pairs: int = 4  # ... and those least similar to their survivor
    composites: int = 3  # pages holding several stories
    stories_per_page: int = 3  # of a composite page's stories, shown beside it
    reject_reasons: int = 40  # kinds of reason listed (the rest summed as "other")
    rejects_per_reason: int = 2  # examples of each
    reject_chars: int = 400  # of a reject's raw text
    swaps: int = 25  # most frequent restored / learned swaps listed
    boilerplate_lines: int = 30


@dataclass(order=True)
class Located:
    """A record of this run by position: ``file`` is "kept" or "duplicates"."""

    file: str
    ordinal: int


@dataclass
class Shown:
    """A record shown in the report: its id and (once fetched) its text."""

    id: str
    where: Located | None  # None: not in this folder (an earlier run's, with --against)
    text: str | None = None


@dataclass
class Pair:
    removed: Shown
    survivor: Shown
    similarity: float


@dataclass
class Composite:
    page: Shown
    stories: list[Shown]
    held: int  # how many records the page holds (the stories listed are the first few)


@dataclass
class ClusterScan:
    """What one pass over ``clusters.jsonl`` finds."""

    accepted: int = 0
    kept: int = 0
    removed: int = 0
    composite: int = 0
    similarity_bins: list[int] = field(default_factory=lambda: [0] * 20)  # of removed records, by 0.05
    pairs: list[Pair] = field(default_factory=list)
    lowest: list[Pair] = field(default_factory=list)
    composites: list[Composite] = field(default_factory=list)
    event_sizes: Counter | None = None  # records per event -> events
    event_clusters: Counter | None = None  # clusters per event -> events
    largest_event: tuple[int, int] | None = None  # (records, clusters)


@dataclass
class RejectKind:
    reason: str
    count: int
    examples: list[dict[str, Any]]


@dataclass
class RunData:
    """Everything the report template shows."""

    folder: Path
    stats: dict[str, Any]
    manifest: dict[str, Any]
    scan: ClusterScan
    rejects: list[RejectKind] | None  # None: no rejects file found
    rejects_counted: int
    samples: ReportSamples | None
    learned_swaps: list[tuple[str, str, int, float]] | None
    bounds: Bounds


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:  # lone surrogates, written escaped by the stdlib
        return json.loads(line)


def _hash(value: Any) -> int:
    text = value if isinstance(value, str) else str(value)
    return _xxh64(text.encode("utf-8", "surrogatepass"))


_xxh64 = xxhash.xxh64_intdigest


def collect(outdir: Path, bounds: Bounds | None = None) -> RunData:
    """Read a run folder (see the module doc); raises :class:`NotARunFolder`."""
    bounds = bounds or Bounds()
    outdir = Path(outdir)
    stats = _read_json(outdir / "stats.json")
    if not isinstance(stats, dict) or "input_records" not in stats:
        raise NotARunFolder(f"{outdir} holds no stats.json of a newsclean dedup or run")
    manifest = _read_json(outdir / "manifest.json") or {}
    params = manifest.get("params") or {}
    scan = _scan_clusters(outdir / "clusters.jsonl", bounds)
    _fetch_texts(outdir, scan, params.get("text_field"))
    rejects_file = _rejects_path(outdir, stats)
    rejects, counted = _read_rejects(rejects_file, bounds) if rejects_file is not None else (None, 0)
    return RunData(folder=outdir, stats=stats, manifest=manifest, scan=scan, rejects=rejects,
                   rejects_counted=counted, samples=read_samples(outdir / SAMPLES_NAME),
                   learned_swaps=_learned_swaps(outdir / "spin-table.tsv", bounds.swaps), bounds=bounds)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as e:
        raise NotARunFolder(f"{path} is not valid JSON: {e}") from None


# ------------------------------------------------------------------ clusters.jsonl


class _Selection:
    """The ``size`` smallest (key, item) pairs offered: a bounded max-heap."""

    def __init__(self, size: int) -> None:
        self.size, self._heap = size, []

    def offer(self, key: tuple, make: Any) -> None:
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, (_negate(key), make()))
        elif self.size and _negate(key) > self._heap[0][0]:
            heapq.heapreplace(self._heap, (_negate(key), make()))

    def sorted(self) -> list[Any]:
        return [item for _, item in sorted(self._heap, key=lambda entry: entry[0], reverse=True)]


def _negate(key: tuple) -> tuple:
    return tuple(-k for k in key)


@dataclass
class _Candidate:
    """A removed record in the part of ``duplicates.jsonl.gz`` the report reads."""

    key: int  # xxh64 of its id
    ordinal: int
    id: str
    survivor: str
    similarity: float


def _scan_clusters(path: Path, bounds: Bounds) -> ClusterScan:
    scan = ClusterScan()
    read = bounds.archive_lines
    candidates: list[_Candidate] = []
    composites = _Selection(bounds.composites)
    survivor_names, removed_ids, events, survivor_events = (array("Q") for _ in range(4))
    with open(path, "rb") as f:
        for line in f:
            row = _loads(line)
            scan.accepted += 1
            event = row.get("event")
            if row.get("duplicate_of") is None:
                where = Located("kept", scan.kept)
                scan.kept += 1
                survivor_names.append(_hash(row["cluster"]))
                if event is not None:
                    survivor_events.append(_hash(event))
            else:
                where = Located("duplicates", scan.removed)
                scan.removed += 1
                key = _hash(row["id"])
                removed_ids.append(key)
                similarity = float(row.get("similarity") or 0.0)
                scan.similarity_bins[min(19, max(0, int(similarity * 20)))] += 1
                if where.ordinal < read:
                    candidates.append(_Candidate(key, where.ordinal, str(row["id"]), str(row["duplicate_of"]),
                                                 similarity))
            if event is not None:
                events.append(_hash(event))
            if row.get("composite"):
                scan.composite += 1
                if where.ordinal < read:
                    composites.offer((_hash(row["id"]), scan.accepted), lambda: (row, where))
    names = _NameIndex(survivor_names, removed_ids)
    _choose_pairs(scan, candidates, names, bounds)
    scan.composites = [_composite(row, where, names, bounds) for row, where in composites.sorted()]
    if events:
        _size_events(scan, np.frombuffer(events, dtype=np.uint64), np.frombuffer(survivor_events, dtype=np.uint64))
    return scan


def _choose_pairs(scan: ClusterScan, candidates: list[_Candidate], names: _NameIndex, bounds: Bounds) -> None:
    """Among the removed records whose survivor also lies in the part of the archive
    read: the smallest id hashes, then the least similar (nearest the threshold)."""
    survivors = names.survivors([c.survivor for c in candidates])
    shown = [(c, Located("kept", at)) for c, at in zip(candidates, survivors.tolist())
             if 0 <= at < bounds.archive_lines]
    sample = sorted(shown, key=lambda cw: (cw[0].key, cw[0].ordinal))[: bounds.pairs]
    taken = {c.ordinal for c, _ in sample}
    rest = [cw for cw in shown if cw[0].ordinal not in taken]
    lowest = sorted(rest, key=lambda cw: (cw[0].similarity, cw[0].key, cw[0].ordinal))[: bounds.lowest_pairs]

    def pair(c: _Candidate, survivor: Located) -> Pair:
        return Pair(Shown(c.id, Located("duplicates", c.ordinal)), Shown(c.survivor, survivor), c.similarity)

    scan.pairs = [pair(c, w) for c, w in sample]
    scan.lowest = [pair(c, w) for c, w in lowest]


class _NameIndex:
    """Positions of records by name: survivors by their cluster name, removed records
    by their id (a removed record's name is its id unless its id repeats)."""

    def __init__(self, survivor_names: array, removed_ids: array) -> None:
        self._parts = []
        for file, hashes in (("kept", survivor_names), ("duplicates", removed_ids)):
            values = np.frombuffer(hashes, dtype=np.uint64)
            order = np.argsort(values, kind="stable")
            self._parts.append((file, values[order], order))

    def _find(self, part: int, name: str) -> Located | None:
        file, values, order = self._parts[part]
        h = np.uint64(_hash(name))
        at = int(np.searchsorted(values, h))
        return Located(file, int(order[at])) if at < len(values) and values[at] == h else None

    def survivor(self, name: str) -> Located | None:
        return self._find(0, name)

    def survivors(self, names: list[str]) -> np.ndarray:
        """The position in kept.jsonl.gz of each survivor name, -1 when absent."""
        _, values, order = self._parts[0]
        wanted = np.fromiter(map(_hash, names), dtype=np.uint64, count=len(names))
        at = np.searchsorted(values, wanted)
        inside = at < len(values)
        found = np.full(len(names), -1, dtype=np.int64)
        hit = inside.copy()
        hit[inside] = values[at[inside]] == wanted[inside]
        found[hit] = order[at[hit]]
        return found

    def any(self, name: str) -> Located | None:
        return self._find(0, name) or self._find(1, name)


def _composite(row: dict, where: Located, names: _NameIndex, bounds: Bounds) -> Composite:
    held = [str(n) for n in row.get("contains") or []]
    stories = [Shown(name, _within(names.any(name), bounds)) for name in held[: bounds.stories_per_page]]
    return Composite(Shown(str(row["id"]), where), stories, len(held))


def _within(where: Located | None, bounds: Bounds) -> Located | None:
    return where if where is not None and where.ordinal < bounds.archive_lines else None


def _size_events(scan: ClusterScan, events: np.ndarray, survivor_events: np.ndarray) -> None:
    labels, sizes = np.unique(events, return_counts=True)
    clusters = np.zeros(len(labels), dtype=np.int64)
    if len(survivor_events):
        held, per_event = np.unique(survivor_events, return_counts=True)
        clusters[np.searchsorted(labels, held)] = per_event
    scan.event_sizes = Counter(sizes.tolist())
    scan.event_clusters = Counter(clusters.tolist())
    biggest = int(np.argmax(sizes))
    scan.largest_event = (int(sizes[biggest]), int(clusters[biggest]))


# ------------------------------------------------------------------ the records shown


def _fetch_texts(outdir: Path, scan: ClusterScan, text_field: str | None) -> None:
    """Fill in the text of every record shown, reading each archive once, both at once
    (zlib lets go of the GIL)."""
    shown = [s for pair in scan.pairs + scan.lowest for s in (pair.removed, pair.survivor)]
    shown += [s for c in scan.composites for s in (c.page, *c.stories)]
    wanted: dict[str, set[int]] = {"kept": set(), "duplicates": set()}
    for s in shown:
        if s.where is not None:
            wanted[s.where.file].add(s.where.ordinal)
    with ThreadPoolExecutor(2) as pool:
        found = dict(zip(wanted, pool.map(lambda name: _lines_at(outdir / f"{name}.jsonl.gz", wanted[name]),
                                          wanted)))
    for s in shown:
        line = found[s.where.file].get(s.where.ordinal) if s.where is not None else None
        s.text = _text_of(line, text_field, s.id if s.where is not None and s.where.file == "kept" else None)


def _lines_at(path: Path, ordinals: set[int]) -> dict[int, bytes]:
    """The lines at ``ordinals`` (0-based) of a gzip JSONL file, read in blocks up to the
    last one wanted."""
    found: dict[int, bytes] = {}
    if not ordinals or not path.exists():
        return found
    last = max(ordinals)
    line_no, partial = 0, b""
    with gzip.open(path, "rb") as f:
        while line_no <= last and (block := f.read(1 << 22)):
            block = partial + block
            lines_here = block.count(b"\n")
            if any(line_no <= k < line_no + lines_here for k in ordinals):
                parts = block.split(b"\n")
                for offset, line in enumerate(parts[:-1]):
                    if line_no + offset in ordinals:
                        found[line_no + offset] = line
                partial = parts[-1]
            else:
                partial = block[block.rfind(b"\n") + 1:]
            line_no += lines_here
    return found


def _text_of(line: bytes | None, text_field: str | None, cluster: str | None) -> str | None:
    """The text of an archived record; None when it has none, or when it is not the
    survivor ``cluster`` it was looked up as (two names of the same hash)."""
    from ..engine.local import BadRecord, find_text

    if line is None:
        return None
    try:
        record = _loads(line)
        if cluster is not None and str(record.get("cluster")) != cluster:
            return None
        return find_text(record, text_field)[1]
    except (BadRecord, ValueError, AttributeError):
        return None


# ------------------------------------------------------------------ rejects


def _rejects_path(outdir: Path, stats: dict[str, Any]) -> Path | None:
    named = Path(stats.get("rejects_file") or "rejects.jsonl")
    for candidate in (outdir / named.name, named) if not named.is_absolute() else (named,):
        if candidate.is_file():
            return candidate
    return None


def reason_kind(reason: str) -> str:
    """A reject reason without its particulars, to count reasons by kind.

    >>> reason_kind("not valid JSON: Expecting value: line 1 column 1 (char 0)")
    'not valid JSON'
    >>> reason_kind("record is 70,000,000 bytes, over the --max-bytes limit of 67,108,864")
    'record is N bytes, over the --max-bytes limit of N'
    """
    head = re.split(r"[:(]", reason, maxsplit=1)[0]
    return re.sub(r"\d[\d,.]*", "N", head).strip()[:120] or "(no reason given)"


def _read_rejects(path: Path, bounds: Bounds) -> tuple[list[RejectKind], int]:
    counts: Counter = Counter()
    examples: dict[str, _Selection] = {}
    other = "other reasons"
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            n += 1
            try:
                reject = _loads(line)
            except ValueError:
                reject = {"reason": "(unreadable line in the rejects file)", "raw": line.decode("utf-8", "replace")}
            kind = reason_kind(str(reject.get("reason") or ""))
            if kind not in examples and len(examples) >= bounds.reject_reasons:
                kind = other
            counts[kind] += 1
            selection = examples.setdefault(kind, _Selection(bounds.rejects_per_reason))
            key = (_hash(f"{reject.get('source')}:{reject.get('line')}"), n)
            selection.offer(key, lambda: _reject_example(reject, bounds.reject_chars))
    kinds = [RejectKind(k, c, examples[k].sorted()) for k, c in sorted(counts.items(), key=lambda kc: (-kc[1], kc[0]))]
    return kinds, n


def _reject_example(reject: dict[str, Any], chars: int) -> dict[str, Any]:
    raw = reject.get("raw")
    raw = raw if isinstance(raw, str) else json.dumps(raw)
    return {"source": str(reject.get("source")), "line": reject.get("line"), "id": str(reject.get("id")),
            "reason": str(reject.get("reason")), "raw": raw[:chars], "cut": len(raw) > chars}


# ------------------------------------------------------------------ spin table


def _learned_swaps(path: Path, size: int) -> list[tuple[str, str, int, float]] | None:
    """The swaps of a learned spin table (``spun, original, clusters, consistency``)
    found in most clusters; None when the run learned none."""
    if not path.is_file():
        return None
    best = _Selection(size)
    for n, fields in enumerate(_tsv_rows(path)):
        if len(fields) < 2:
            continue
        clusters = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else 0
        consistency = _float(fields[3]) if len(fields) > 3 else 0.0
        # the smallest keys are kept: negated, the swaps seen in most clusters
        best.offer((-clusters, -consistency, n), lambda f=fields, c=clusters, s=consistency: (f[0], f[1], c, s))
    return best.sorted()


def _tsv_rows(path: Path) -> Iterator[list[str]]:
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                yield line.rstrip("\n").split("\t")


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0

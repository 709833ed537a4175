"""From a run's data (:mod:`.collect`) to what each section of the report shows.

Every value here is plain data (numbers, strings, segments of text); the template
escapes all of it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .charts import bar_chart, bar_rows, number, size_bins
from .collect import Composite, Pair, RunData
from .diff import compare, displayable, page_and_stories
from .samples import SCORE_BINS, UNSPIN_STAGE

# what stats.json calls its dedup counters, as the report names them
DEDUP_COUNTERS = (
    ("exact_duplicate_groups", "groups of exact copies (normalised text)"),
    ("short_documents", "short texts (compared exactly only)"),
    ("lsh_candidate_pairs", "candidate pairs proposed by LSH"),
    ("verified_pairs", "pairs verified by shingle containment"),
    ("composite_pages", "pages holding several stories"),
    ("min_removed_similarity", "lowest similarity of a removed record to its survivor"),
    ("event_candidate_pairs", "event candidate pairs (cosine computed)"),
)


def context(data: RunData) -> dict[str, Any]:
    """The template's variables."""
    sections = {
        "totals": totals(data), "clusters": clusters(data), "events": events(data), "pairs": pairs(data),
        "composites": composites(data), "cleaning": cleaning(data), "spin": spin(data),
        "boilerplate": boilerplate(data), "rejects": rejects(data), "timings": timings(data),
    }
    return {"run": run_info(data), **sections}


def run_info(data: RunData) -> dict[str, Any]:
    stats, manifest = data.stats, data.manifest
    parameters = stats.get("parameters") or {}
    command = manifest.get("command") or ("run" if parameters.get("cleaned_archive") else "dedup")
    inputs = [(displayable(str(i.get("path") or i.get("source"))), i.get("size"))
              for i in manifest.get("inputs") or [] if isinstance(i, dict)]
    engine = stats.get("run") or {}
    return {"folder": displayable(Path(data.folder).resolve().name), "command": command,
            "inputs": inputs[:5], "more_inputs": max(0, len(inputs) - 5),
            "parameters": [(k, _short(v)) for k, v in parameters.items()],
            "engine": [(k, _short(v)) for k, v in engine.items() if v is not None],
            "status": manifest.get("status")}


def _short(value: Any) -> str:
    text = displayable(str(value))
    return text if len(text) <= 160 else text[:157] + "…"


def totals(data: RunData) -> dict[str, Any]:
    stats, scan = data.stats, data.scan
    n_in, kept, dups, rej = (int(stats.get(k) or 0) for k in ("input_records", "kept", "duplicates", "rejected"))
    checks = [("records in clusters.jsonl", kept + dups, scan.accepted),
              ("survivors in clusters.jsonl", kept, scan.kept),
              ("removed records in clusters.jsonl", dups, scan.removed)]
    if data.rejects is not None:
        checks.append(("lines in the rejects file", rej, data.rejects_counted))
    counters = [(label, stats[key]) for key, label in DEDUP_COUNTERS if stats.get(key) is not None]
    if stats.get("against"):
        counters += [("records of the earlier run", stats.get("previous_records", 0)),
                     ("new records joining its clusters", stats.get("joined_previous", 0))]
    shares = [(name, value, 100.0 * value / n_in if n_in else 0.0)
              for name, value in (("kept", kept), ("duplicates", dups), ("rejects", rej))]
    return {"input": n_in, "kept": kept, "duplicates": dups, "rejected": rej,
            "clusters": stats.get("clusters"), "events": stats.get("events"),
            "balanced": n_in == kept + dups + rej,
            "checks": [{"what": w, "stats": a, "files": b, "ok": a == b} for w, a, b in checks],
            "counters": [(label, number(value) if isinstance(value, (int, float)) else _short(value))
                         for label, value in counters],
            "shares": shares, "rejects_found": data.rejects is not None}


def clusters(data: RunData) -> dict[str, Any]:
    histogram = {int(k): int(v) for k, v in (data.stats.get("cluster_size_histogram") or {}).items()}
    bins = size_bins(histogram)
    similarity = None
    counts = data.scan.similarity_bins
    if any(counts):
        first = min(i for i, c in enumerate(counts) if c)
        items = [(f"{i / 20:.2f}", c) for i, c in enumerate(counts) if i >= first]
        similarity = bar_chart(items)
    return {"chart": bar_chart([(label, groups) for label, groups, _ in bins], log=True) if bins else None,
            "bins": bins, "largest": max(histogram, default=0),
            "in_clusters": sum(s * c for s, c in histogram.items() if s > 1),
            "similarity": similarity, "removed": data.scan.removed}


def events(data: RunData) -> dict[str, Any] | None:
    scan = data.scan
    if scan.event_sizes is None:
        return None
    bins = size_bins(dict(scan.event_sizes))
    cluster_bins = size_bins(dict(scan.event_clusters or {}))
    return {"count": sum(scan.event_sizes.values()),
            "chart": bar_chart([(label, groups) for label, groups, _ in bins], log=True),
            "bins": bins, "cluster_bins": cluster_bins,
            "several_clusters": sum(c for k, c in (scan.event_clusters or {}).items() if k > 1),
            "largest": scan.largest_event}


def _pair(pair: Pair) -> dict[str, Any]:
    out: dict[str, Any] = {"removed": displayable(pair.removed.id), "survivor": displayable(pair.survivor.id),
                           "similarity": pair.similarity, "left": None, "right": None}
    if pair.removed.text is not None and pair.survivor.text is not None:
        out["left"], out["right"] = compare(pair.survivor.text, pair.removed.text)
        out["only_left"], out["only_right"] = _marked_words(out["left"]), _marked_words(out["right"])
    out["missing"] = ("the survivor is in an earlier run's archive (--against)" if pair.survivor.where is None
                      else "a text could not be read from the archive")
    return out


def _marked_words(shown: Any) -> int:
    return sum(len(segment.text.split()) for segment in shown.segments if segment.marked)


def pairs(data: RunData) -> dict[str, Any]:
    sample = [_pair(p) for p in data.scan.pairs]
    sampled = {(p.removed.where.ordinal if p.removed.where else -1) for p in data.scan.pairs}
    lowest = [_pair(p) for p in data.scan.lowest if p.removed.where is None or p.removed.where.ordinal not in sampled]
    scan, lines = data.scan, data.bounds.archive_lines
    return {"sample": sample, "lowest": lowest, "removed": scan.removed,
            "partial": scan.removed > lines or scan.kept > lines, "lines": lines}


def _story_share(story: str, page: str) -> float | None:
    """The share of a story's word 3-grams found on the page (recomputed on the texts
    as archived)."""
    from ..dedup.minhash import shingle_hashes
    from ..dedup.text import words
    from ..dedup.verify import shared_count

    mine, theirs = shingle_hashes(words(story), 3), shingle_hashes(words(page), 3)
    return round(shared_count(mine, theirs) / len(mine), 4) if len(mine) else None


def _composite(c: Composite) -> dict[str, Any]:
    readable = [s for s in c.stories if s.text is not None]
    out: dict[str, Any] = {"id": displayable(c.page.id), "held": c.held, "page": None, "stories": [], "unread": []}
    if c.page.text is None:
        return out
    page, stories = page_and_stories(c.page.text, [s.text for s in readable])
    out["page"] = page
    out["stories"] = [{"id": displayable(s.id), "shown": shown, "share": _story_share(s.text, c.page.text)}
                      for s, shown in zip(readable, stories)]
    out["unread"] = [displayable(s.id) for s in c.stories if s.text is None]
    return out


def composites(data: RunData) -> dict[str, Any]:
    scan, lines = data.scan, data.bounds.archive_lines
    return {"count": scan.composite, "pages": [_composite(c) for c in scan.composites],
            "partial": scan.removed > lines or scan.kept > lines, "lines": lines}


def cleaning(data: RunData) -> dict[str, Any] | None:
    samples = data.samples
    if samples is None:
        return None
    stages = {k: v for k, v in samples.stages.items() if k != UNSPIN_STAGE}
    rows = bar_rows([(name, s["edits"]) for name, s in stages.items()])
    shown = []
    for row, (name, stage) in zip(rows, stages.items()):
        kinds = list(stage["kinds"].items())
        shown.append({"name": name, "row": row, "records": stage["records"], "kinds": kinds[:6],
                      "more_kinds": len(kinds) - 6, "examples": [_example(e) for e in stage["examples"]]})
    texts = []
    for entry in samples.texts:
        before, after = compare(entry["before"], entry["after"])
        texts.append({"id": displayable(entry["id"]), "edits": entry["edits"], "before": before, "after": after})
    return {"records": samples.records, "changed": samples.changed, "edits": samples.edits, "stages": shown,
            "texts": texts, "limits": samples.limits}


def _example(entry: dict[str, Any]) -> dict[str, Any]:
    return {"id": displayable(entry["id"]), "edits": [{k: _visible(v) for k, v in e.items()} for e in entry["edits"]]}


def _visible(text: str) -> str:
    r"""Text on one line, its line breaks and tabs shown (an edit may be only those).

    >>> _visible("a\n\tb")
    'a↵⇥b'
    """
    return displayable(text).replace("\n", "↵").replace("\t", "⇥") if text else ""


def spin(data: RunData) -> dict[str, Any] | None:
    recorded = data.stats.get("spin")
    samples = data.samples.spin if data.samples is not None else None
    if not recorded and not (samples and samples["judged"]) and data.learned_swaps is None:
        return None
    out: dict[str, Any] = {"recorded": _counts(recorded) if isinstance(recorded, dict) else [],
                           "learned": data.learned_swaps, "samples": None}
    if samples and samples["judged"]:
        items = [(f"{i / SCORE_BINS:.2f}", c) for i, c in enumerate(samples["score_histogram"])]
        out["samples"] = {
            **{k: samples[k] for k in ("judged", "found", "flagged", "restored")},
            "chart": bar_chart(items, log=True, highlight=[i >= SCORE_BINS // 2 for i in range(SCORE_BINS)]),
            "swaps": data.samples.swaps[: data.bounds.swaps],
            "more_swaps": max(0, len(data.samples.swaps) - data.bounds.swaps),
            "examples": [{**_example(e), "score": e["score"], "found": e["found"], "restored": e["restored"]}
                         for e in data.samples.spin_examples]}
    return out


def _counts(section: dict[str, Any]) -> list[tuple[str, str]]:
    """The scalar entries of a stats.json section, named for people."""
    return [(key.replace("_", " "), number(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else _short(v))
            for key, v in section.items() if not isinstance(v, (dict, list))]


def boilerplate(data: RunData) -> dict[str, Any] | None:
    """``stats.json``'s ``boilerplate`` section: its counts and its ``lines`` (a list of
    ``{"line", "count"}`` or of ``[line, count]``, most frequent first)."""
    section = data.stats.get("boilerplate")
    if not isinstance(section, dict):
        return None
    lines = []
    for item in section.get("lines") or []:
        line, count = (item.get("line") or item.get("text"), item.get("count")) if isinstance(item, dict) else item
        lines.append((_visible(str(line)), int(count or 0)))
    rows = bar_rows([(line, count) for line, count in lines[: data.bounds.boilerplate_lines]])
    return {"counts": _counts(section), "rows": rows, "more": max(0, len(lines) - data.bounds.boilerplate_lines)}


def rejects(data: RunData) -> dict[str, Any]:
    if data.rejects is None:
        return {"found": False, "count": int(data.stats.get("rejected") or 0), "kinds": []}
    kinds = [{"reason": displayable(k.reason), "count": k.count,
              "examples": [{**e, "raw": displayable(e["raw"]), "reason": displayable(e["reason"]),
                            "id": displayable(e["id"]), "source": displayable(e["source"])} for e in k.examples]}
             for k in data.rejects]
    return {"found": True, "count": data.rejects_counted, "kinds": kinds}


def timings(data: RunData) -> dict[str, Any]:
    recorded = data.stats.get("timings") or {}
    steps = [(str(k), float(v)) for k, v in recorded.items()
             if isinstance(v, (int, float)) and k not in ("total", "peak_rss_mb")]
    total = recorded.get("total")
    ordered = _parts_under_their_step(steps)
    return {"rows": bar_rows([(name, v) for name, v, _ in ordered], total=total or None, unit=" s",
                             indent=[part for _, _, part in ordered]),
            "total": total, "peak_rss_mb": recorded.get("peak_rss_mb")}


def _parts_under_their_step(steps: list[tuple[str, float]]) -> list[tuple[str, float, bool]]:
    """Steps in their order, each followed by its parts (``events_weigh`` is the part
    ``weigh`` of ``events``), marked as parts.

    >>> _parts_under_their_step([("a_x", 1.0), ("b", 2.0), ("a", 3.0)])
    [('b', 2.0, False), ('a', 3.0, False), ('x', 1.0, True)]
    """
    names = [name for name, _ in steps]
    parent = {name: min((p for p in names if p != name and name.startswith(f"{p}_")), key=len, default=None)
              for name in names}
    out = []
    for name, seconds in steps:
        if parent[name] is None:
            out.append((name, seconds, False))
            out += [(n[len(name) + 1:], s, True) for n, s in steps if parent[n] == name]
    return out

"""Incremental dedup: ``newsclean dedup NEW -o OUT --against PREV`` and the persisted index."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_dedup import (
    BANK,
    FLOOD,
    RUGBY,
    damaged,
    fixture_records,
    read_gz,
    run_cli,
    write_input,
)

from newsclean.dedup import DedupParams, IndexMismatch, load_index
from newsclean.dedup.run import run_dedup


def clusters(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "clusters.jsonl").read_text().splitlines()]


def dedup(tmp_path: Path, name: str, recs: list[dict], *extra: str) -> Path:
    inp = tmp_path / f"{name}.jsonl"
    write_input(inp, recs)
    out = tmp_path / name
    result = run_cli(["dedup", str(inp), "-o", str(out), "-q", *extra])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("split", range(1, 9))
def test_split_batch_matches_one_shot(tmp_path, split):
    # keep=first: the survivor of a cluster with a member in the first part is in that part,
    # as the append-only rule requires; copies of every story fall on both sides of most splits
    recs = fixture_records()
    one = clusters(dedup(tmp_path, "one", recs, "--keep", "first"))
    first = dedup(tmp_path, "first", recs[:split], "--keep", "first")
    second = dedup(tmp_path, "second", recs[split:], "--keep", "first", "--against", str(first))
    assert clusters(first) == one[:split]
    assert clusters(second) == one[split:]
    stats = json.loads((second / "stats.json").read_text())
    assert stats["previous_records"] == split and stats["balanced"]
    joined = sum(1 for c in one[split:] if c["cluster"] in {r["id"] for r in recs[:split]})
    assert stats["joined_previous"] == joined
    # outputs cover the new records only; the index holds both parts
    kept, dups = read_gz(second / "kept.jsonl.gz"), read_gz(second / "duplicates.jsonl.gz")
    assert sorted(r["id"] for r in kept + dups) == sorted(r["id"] for r in recs[split:])
    index = load_index(second)
    assert index.names == [r["id"] for r in recs]
    assert [index.names[c] for c in index.cluster.tolist()] == [c["cluster"] for c in one]


def test_parameter_mismatch_refused(tmp_path):
    recs = fixture_records()
    first = dedup(tmp_path, "first", recs[:4])
    write_input(tmp_path / "new.jsonl", recs[4:])
    for extra, what in ((["--threshold", "0.8"], "threshold: 0.7 there, 0.8 here"),
                        (["--keep", "longest"], "keep: 'cleanest' there, 'longest' here")):
        out = tmp_path / "out"
        result = run_cli(["dedup", str(tmp_path / "new.jsonl"), "-o", str(out), "--against", str(first), *extra])
        assert result.exit_code == 2, result.output
        assert "other parameters" in result.output and what in result.output
        assert not out.exists() or not any(out.iterdir())  # nothing written
    with pytest.raises(IndexMismatch, match="min_words"):
        load_index(first, DedupParams(min_words=10), "cleanest")
    # not an OUTDIR of a run, and the output folder itself
    result = run_cli(["dedup", str(tmp_path / "new.jsonl"), "-o", str(tmp_path / "x"), "--against", str(tmp_path)])
    assert result.exit_code == 2 and "no dedup index" in result.output
    result = run_cli(["dedup", str(tmp_path / "new.jsonl"), "-o", str(first), "--against", str(first)])
    assert result.exit_code == 2 and "another folder" in result.output


def test_previous_survivors_never_demoted(tmp_path):
    # alone in the first run, the damaged copy survives; the clean original comes later
    first = dedup(tmp_path, "first", [{"id": "bank-damaged", "text": damaged(BANK)}, {"id": "rugby", "text": RUGBY}])
    new = [{"id": "bank", "text": BANK}, {"id": "bank-copy", "text": BANK}, {"id": "rugby", "text": RUGBY},
           {"id": "flood", "text": FLOOD}]
    second = dedup(tmp_path, "second", new, "--against", str(first))
    got = {c["id"] + ("" if i != 2 else "@2"): c for i, c in enumerate(clusters(second))}
    assert got["bank"]["duplicate_of"] == "bank-damaged" and got["bank"]["similarity"] >= 0.6
    assert got["bank-copy"]["duplicate_of"] == "bank-damaged"
    assert got["rugby@2"] == {"id": "rugby", "cluster": "rugby", "duplicate_of": "rugby", "similarity": 1.0}
    assert got["flood"]["duplicate_of"] is None
    index = load_index(second)
    assert index.names == ["bank-damaged", "rugby", "bank", "bank-copy", "rugby#2", "flood"]
    survivors = [index.names[i] for i in np.flatnonzero(np.load(second / "index" / "survivor.npy"))]
    assert survivors == ["bank-damaged", "rugby", "flood"]
    assert read_gz(second / "kept.jsonl.gz") == [{"id": "flood", "text": FLOOD, "cluster": "flood"}]
    # the damaged copy stays the survivor whatever the policy says
    one = clusters(dedup(tmp_path, "one", [{"id": "bank-damaged", "text": damaged(BANK)}, *new[:2]]))
    assert one[0]["duplicate_of"] == "bank"  # one-shot would have chosen the clean copy


def test_chaining_three_runs(tmp_path):
    recs = fixture_records()
    one = clusters(dedup(tmp_path, "one", recs, "--keep", "first"))
    parts = [recs[:2], recs[2:5], recs[5:]]
    prev = None
    got = []
    for k, part in enumerate(parts):
        extra = ["--keep", "first"] + (["--against", str(prev)] if prev else [])
        prev = dedup(tmp_path, f"run{k}", part, *extra)
        got += clusters(prev)
        assert load_index(prev).size == sum(len(p) for p in parts[: k + 1])
    assert got == one
    index = load_index(prev)
    assert index.names == [r["id"] for r in recs]
    meta = json.loads((prev / "index" / "meta.json").read_text())
    assert meta["records"] == len(recs) and meta["keep"] == "first"
    # rows: one per record; exact copies point at their first copy's row
    assert index.rows == index.size
    rows = index.row.tolist()
    assert all(r <= i and rows[r] == r for i, r in enumerate(rows) if r >= 0)
    assert len(set(r for r in rows if r >= 0)) < len(rows)  # the damaged bank copy shares a row


def test_run_command_with_events_against(tmp_path):
    recs = fixture_records()
    write_input(tmp_path / "a.jsonl", recs[:4])
    write_input(tmp_path / "b.jsonl", recs[4:])
    r1 = run_cli(["run", str(tmp_path / "a.jsonl"), "-o", str(tmp_path / "a"), "-q"])
    assert r1.exit_code == 0, r1.output
    r2 = run_cli(["run", str(tmp_path / "b.jsonl"), "-o", str(tmp_path / "b"), "-q", "--against", str(tmp_path / "a")])
    assert r2.exit_code == 0, r2.output
    got = clusters(tmp_path / "b")
    assert all("event" in c for c in got)
    byid = {c["id"]: c for c in got}
    # events are computed within the batch; near-duplicates still share one
    assert byid["rugby-edit"]["event"] == byid["rugby-spun"]["event"]
    assert byid["flood-boiler"]["cluster"] == "flood"


def test_library_against_index(tmp_path):
    recs = fixture_records()
    run_dedup([_input(tmp_path, "a", recs[:3])], tmp_path / "a")
    previous = load_index(tmp_path / "a", DedupParams(), "cleanest")
    from newsclean.dedup import dedup_records

    res = dedup_records(recs[3:] + [{"id": "flood", "text": FLOOD}], previous=previous)
    assert [r.duplicate_of for r in res if r.id.startswith("flood")] == ["flood", "flood", None, "flood"]
    assert res[-1].cluster == "flood" and res[-1].similarity == 1.0  # exact copy, named flood#2
    assert res[-1].name == "flood#2"


def _input(tmp_path: Path, name: str, recs: list[dict]):
    from newsclean.io.readers import expand_inputs

    path = tmp_path / f"{name}.jsonl"
    write_input(path, recs)
    return expand_inputs([str(path)])[0]

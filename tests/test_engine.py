"""Sharded runs: same bytes for 1 worker, N workers and Dask; resuming; refusing to mix runs."""
from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from test_dedup import fixture_records

from newsclean.clean.pipeline import Cleaner
from newsclean.dedup.run import run_dedup
from newsclean.engine.executors import TaskFailed, map_tasks
from newsclean.engine.manifest import RunConflict
from newsclean.engine.shards import plan_shards, read_shard
from newsclean.io.readers import expand_inputs, read_inputs

OUTPUTS = ("clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz", "rejects.jsonl")
SMALL_SHARDS = 3000  # bytes: the fixture corpus becomes several shards


def corpus(tmp_path: Path) -> Path:
    """Real copies, unrelated stories, bad lines and exact repeats, in a few KB."""
    recs = fixture_records()
    rng = random.Random(3)
    lines = [json.dumps(r) for r in recs]
    lines += [json.dumps({"id": f"x{k}", "text": " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "storm",
                                                                        "vote", "market", "court"])
                                                             for _ in range(40))}) for k in range(12)]
    lines.insert(3, "{broken json")
    lines.insert(7, json.dumps({"id": "no-text"}))
    lines.append(json.dumps(recs[0] | {"id": "exact-repeat"}))
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def dedup_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsclean", "dedup", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_shards_cover_the_input_with_the_same_lines(tmp_path):
    path = corpus(tmp_path)
    files = expand_inputs([str(path)])
    whole = [(i.source, i.line, i.error, i.record) for i in read_inputs(files)]
    specs = plan_shards(files, SMALL_SHARDS)
    assert len(specs) > 2
    sharded = [(i.source, i.line, i.error, i.record) for s in specs for i in read_shard(s, max_bytes=1 << 20)]
    assert sharded == whole


def decompressed(out: Path) -> dict[str, bytes]:
    return {name: gzip.decompress(data) if name.endswith(".gz") else data for name, data in outputs(out).items()}


def test_one_worker_and_two_workers_give_the_same_bytes(tmp_path):
    path = corpus(tmp_path)
    ref, out, whole = tmp_path / "ref", tmp_path / "w2", tmp_path / "whole"
    stats, doc = run_dedup(expand_inputs([str(path)]), ref, events=True, workers=1, shard_bytes=SMALL_SHARDS)
    assert stats.balanced and stats.rejected == 2 and stats.duplicates >= 4 and doc["shards"] > 2
    run_dedup(expand_inputs([str(path)]), out, events=True, workers=2, shard_bytes=SMALL_SHARDS)
    assert outputs(out) == outputs(ref)
    # another shard size: other gzip members, the same records
    run_dedup(expand_inputs([str(path)]), whole, events=True, workers=1)
    assert decompressed(whole) == decompressed(ref)


def test_dask_local_cluster_gives_the_same_bytes(tmp_path):
    pytest.importorskip("dask.distributed")
    path = corpus(tmp_path)
    ref, out = tmp_path / "ref", tmp_path / "dask"
    run_dedup(expand_inputs([str(path)]), ref, workers=1, shard_bytes=SMALL_SHARDS)
    _, doc = run_dedup(expand_inputs([str(path)]), out, workers=2, engine="dask", shard_bytes=SMALL_SHARDS)
    assert doc["run"]["engine"] == "dask"
    assert outputs(out) == outputs(ref)


def test_killed_run_resumes_to_identical_outputs(tmp_path):
    path = corpus(tmp_path)
    ref, out = tmp_path / "ref", tmp_path / "out"
    common = ["--shard-size", str(SMALL_SHARDS / 2**20), "-q", "--workers", "1"]
    assert dedup_cli(str(path), "-o", str(ref), *common).returncode == 0
    killed = dedup_cli(str(path), "-o", str(out), *common, env={"NEWSCLEAN_STOP_AFTER_SHARDS": "2"})
    assert killed.returncode == 137
    assert not (out / "clusters.jsonl").exists()  # nothing half-written
    assert len(list((out / "work").glob("shard-*"))) == 2
    again = dedup_cli(str(path), "-o", str(out), *common)
    assert again.returncode == 0, again.stderr
    assert outputs(out) == outputs(ref)
    assert json.loads((out / "stats.json").read_text())["resumed_shards"] == 2
    assert not (out / "work").exists()


def events_corpus(tmp_path: Path) -> Path:
    """Several reports on each of a dozen events, copies of some, over many small shards."""
    from test_events_parallel import story

    rng = random.Random(11)
    recs = fixture_records()
    for k in range(90):
        topic = rng.randrange(12)
        recs.append({"id": f"e{k}-t{topic}", "text": story(rng, topic, rng.randint(3, 6))})
        if k % 7 == 0:
            recs.append({"id": f"e{k}-copy", "text": "UPDATED: " + recs[-1]["text"]})
    rng.shuffle(recs)
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    return path


def event_of(out: Path) -> dict[str, str]:
    return {c["id"]: c["event"] for c in map(json.loads, (out / "clusters.jsonl").read_text().splitlines())}


def test_events_are_the_same_for_any_workers_shards_and_engine(tmp_path, monkeypatch):
    """Event labels: 1 or 2 workers, small shards or one, Dask, cosines in many tasks, the library."""
    from newsclean.dedup import dedup_records, stages

    path = events_corpus(tmp_path)
    files = expand_inputs([str(path)])
    ref = tmp_path / "ref"
    _, doc = run_dedup(files, ref, events=True, workers=1, shard_bytes=SMALL_SHARDS)
    events = event_of(ref)
    assert doc["shards"] > 8 and doc["events"] < doc["clusters"] - 10  # events join many clusters
    shard_of = {}  # an event spans shards: its pairs cross task boundaries
    for rec in map(json.loads, path.read_text().splitlines()):
        shard_of[rec["id"]] = len(shard_of) * doc["shards"] // len(events)
    spread = {}
    for i, e in events.items():
        spread.setdefault(e, set()).add(shard_of[i])
    assert max(map(len, spread.values())) > 3
    run_dedup(files, tmp_path / "w2", events=True, workers=2, shard_bytes=SMALL_SHARDS)
    assert outputs(tmp_path / "w2") == outputs(ref)
    run_dedup(files, tmp_path / "whole", events=True, workers=1)
    assert decompressed(tmp_path / "whole") == decompressed(ref)
    # cosines cut into many tasks (and windows, inline)
    monkeypatch.setattr(stages, "_cosine_ranges", lambda n, workers: [(a, min(a + 37, n)) for a in range(0, n, 37)])
    monkeypatch.setattr(stages, "COSINE_WINDOW", 5)
    run_dedup(files, tmp_path / "tasks1", events=True, workers=1, shard_bytes=SMALL_SHARDS)
    assert outputs(tmp_path / "tasks1") == outputs(ref)
    run_dedup(files, tmp_path / "tasks2", events=True, workers=2, shard_bytes=SMALL_SHARDS)
    assert outputs(tmp_path / "tasks2") == outputs(ref)
    # the in-memory library function
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    assert {r.id: r.event for r in dedup_records(recs, events=True)} == events


def test_events_on_dask_give_the_same_bytes(tmp_path):
    pytest.importorskip("dask.distributed")
    path = events_corpus(tmp_path)
    ref, out = tmp_path / "ref", tmp_path / "dask"
    run_dedup(expand_inputs([str(path)]), ref, events=True, workers=1, shard_bytes=SMALL_SHARDS)
    run_dedup(expand_inputs([str(path)]), out, events=True, workers=2, engine="dask", shard_bytes=SMALL_SHARDS)
    assert outputs(out) == outputs(ref)


def test_killed_run_with_events_resumes_to_identical_outputs(tmp_path):
    path = events_corpus(tmp_path)
    ref, out = tmp_path / "ref", tmp_path / "out"
    common = ["--events", "--shard-size", str(SMALL_SHARDS / 2**20), "-q", "--workers", "1"]
    assert dedup_cli(str(path), "-o", str(ref), *common).returncode == 0
    killed = dedup_cli(str(path), "-o", str(out), *common, env={"NEWSCLEAN_STOP_AFTER_SHARDS": "3"})
    assert killed.returncode == 137
    done = sorted((out / "work").glob("shard-*"))
    assert len(done) == 3 and all((d / "events").is_dir() for d in done)
    import shutil

    shutil.rmtree(done[1] / "events")  # as an older version left it (texts, no term counts): redone
    again = dedup_cli(str(path), "-o", str(out), *common)
    assert again.returncode == 0, again.stderr
    assert outputs(out) == outputs(ref)
    assert json.loads((out / "stats.json").read_text())["resumed_shards"] == 2


def test_other_parameters_refused_without_force(tmp_path):
    path = corpus(tmp_path)
    out = tmp_path / "out"
    assert dedup_cli(str(path), "-o", str(out), "-q").returncode == 0
    same = dedup_cli(str(path), "-o", str(out), "-q")
    assert same.returncode == 0  # the same command again: fine
    other = dedup_cli(str(path), "-o", str(out), "-q", "--threshold", "0.8")
    assert other.returncode == 2
    assert "another run" in other.stderr and "threshold" in other.stderr and "--force" in other.stderr
    assert "Traceback" not in other.stderr
    forced = dedup_cli(str(path), "-o", str(out), "-q", "--threshold", "0.8", "--force")
    assert forced.returncode == 0
    assert json.loads((out / "stats.json").read_text())["parameters"]["threshold"] == 0.8


def test_foreign_outdir_refused_and_its_files_kept_with_force(tmp_path):
    path = corpus(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    r = dedup_cli(str(path), "-o", str(out), "-q")
    assert r.returncode == 2 and "not empty" in r.stderr and "notes.txt" in r.stderr
    assert dedup_cli(str(path), "-o", str(out), "-q", "--force").returncode == 0
    assert (out / "notes.txt").read_text() == "mine" and (out / "clusters.jsonl").exists()


def test_rejects_path_option(tmp_path):
    path = corpus(tmp_path)
    out, rej = tmp_path / "out", tmp_path / "elsewhere" / "bad.jsonl"
    assert dedup_cli(str(path), "-o", str(out), "-q", "--rejects", str(rej)).returncode == 0
    rows = [json.loads(line) for line in rej.read_text().splitlines()]
    assert [r["line"] for r in rows] == [4, 8]
    assert all(r["source"] == str(path) and r["reason"] and "raw" in r for r in rows)
    assert not (out / "rejects.jsonl").exists()


class DyingCleaner(Cleaner):
    """Kills its worker process on a marked text: once (a marker file remembers), or always."""

    def __init__(self, marker: str, always: bool = False) -> None:
        super().__init__()
        self.marker, self.always = marker, always

    def clean(self, text):
        if "tindall" in text.lower() and (self.always or not os.path.exists(self.marker)):
            Path(self.marker).touch()
            os._exit(9)
        return super().clean(text)


def test_a_worker_that_dies_once_is_retried_and_nothing_is_lost(tmp_path):
    path = corpus(tmp_path)
    ref, out = tmp_path / "ref", tmp_path / "out"
    run_dedup(expand_inputs([str(path)]), ref, workers=1, shard_bytes=SMALL_SHARDS)
    cleaner = DyingCleaner(str(tmp_path / "died"))
    stats, _ = run_dedup(expand_inputs([str(path)]), out, workers=2, shard_bytes=SMALL_SHARDS, cleaner=cleaner)
    assert (tmp_path / "died").exists() and stats.balanced
    assert outputs(out) == outputs(ref)


def test_a_shard_that_keeps_killing_its_worker_is_reported(tmp_path):
    path = corpus(tmp_path)
    cleaner = DyingCleaner(str(tmp_path / "died"), always=True)
    with pytest.raises(TaskFailed) as e:
        run_dedup(expand_inputs([str(path)]), tmp_path / "out", workers=2, shard_bytes=SMALL_SHARDS,
                  cleaner=cleaner)
    assert "died" in e.value.reason


def test_map_tasks_yields_every_task_once():
    got = sorted(map_tasks(abs, [-3, 1, -2, 5], workers=2))
    assert got == [(0, 3), (1, 1), (2, 2), (3, 5)]


def test_run_conflict_is_an_exception_for_library_users(tmp_path):
    path = corpus(tmp_path)
    out = tmp_path / "out"
    run_dedup(expand_inputs([str(path)]), out, workers=1)
    with pytest.raises(RunConflict):
        run_dedup(expand_inputs([str(path)]), out, workers=1, keep="first")


def test_clean_with_two_workers_writes_the_same_bytes(tmp_path):
    from conftest import DAMAGED, CLEAN

    lines = []
    for k in range(2600):  # past the inline warm-up, so the pool really runs
        if k % 500 == 7:
            lines.append("{not json")
        else:
            lines.append(json.dumps({"id": k, "text": (DAMAGED if k % 3 else CLEAN) + f" Item {k}."}))
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")
    outs = []
    for w in ("1", "2"):
        out = tmp_path / f"out{w}.jsonl"
        r = subprocess.run([sys.executable, "-m", "newsclean", "clean", str(src), "-o", str(out), "--workers", w,
                            "--stats", str(tmp_path / f"stats{w}.json"), "-q"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        outs.append((out.read_bytes(), (tmp_path / f"out{w}.jsonl.rejects.jsonl").read_bytes()))
    assert outs[0] == outs[1]
    s1, s2 = (json.loads((tmp_path / f"stats{w}.json").read_text()) for w in ("1", "2"))
    for key in ("input_records", "output_records", "rejected", "changed", "unchanged", "edits_by_stage"):
        assert s1[key] == s2[key], key
    assert s1["rejected"] == 6 and s1["input_records"] == 2600

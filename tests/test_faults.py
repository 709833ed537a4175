"""Faults beyond bad input: a run killed at a named step, a full disk, crafted OUTDIRs,
two runs in one OUTDIR, file names that are not UTF-8, closed standard streams, huge
lines, and workers whose run was killed.  Each test is one way a run could lose
records, corrupt an archive or crash; every one of them resumes, refuses with a clear
message, or skips in bounded memory instead.
"""
from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from test_dedup import fixture_records, write_input
from test_engine import SMALL_SHARDS, corpus, outputs
from typer.testing import CliRunner

from newsclean.cli import app
from newsclean.config import ConfigError
from newsclean.dedup.run import STOP_AFTER_ENV, run_dedup
from newsclean.io.readers import expand_inputs

KILL_AT_ENV = "NEWSCLEAN_KILL_AT"  # newsclean.engine.steps: die at a named step or point
SMALL = ["--shard-size", str(SMALL_SHARDS / 2**20), "-q", "--workers", "1"]
TESTS = Path(__file__).resolve().parent


def newsclean(*args: object, env: dict[str, str] | None = None, input: bytes | None = None,
              preexec=None, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m newsclean ARGS`` in a process of its own (stderr decoded)."""
    result = subprocess.run([sys.executable, "-m", "newsclean", *map(os.fsencode, map(str, args))],
                            capture_output=True, env={**os.environ, **(env or {})}, input=input,
                            preexec_fn=preexec, cwd=cwd, timeout=timeout)
    result.stderr = result.stderr.decode("utf-8", "replace")
    return result


def cli(*args: object, input: bytes | None = None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ------------------------------------------------------------------ kills at named steps


@pytest.mark.parametrize("point", ["write", "publish", "cleanup"])
def test_killed_at_a_named_step_resumes_to_identical_outputs(tmp_path, point):
    """publish: every output written to its temporary, none in place; cleanup: outputs
    in place, the manifest complete, work/ not removed yet."""
    path = corpus(tmp_path)
    ref, out = tmp_path / "ref", tmp_path / "out"
    assert cli("dedup", path, "-o", ref, *SMALL).exit_code == 0
    killed = newsclean("dedup", path, "-o", out, *SMALL, env={KILL_AT_ENV: point})
    assert killed.returncode == 137, killed.stderr
    if point == "publish":  # all outputs or none: none is in place yet
        assert not any((out / name).exists() for name in outputs(ref))
    again = cli("dedup", path, "-o", out, *SMALL)
    assert again.exit_code == 0, again.output
    assert outputs(out) == outputs(ref)
    assert not (out / "work").exists() and temporaries(out) == []


# ------------------------------------------------------------------ F1: outputs are never inputs


def test_outdir_inside_the_input_folder_is_never_read_as_input(tmp_path):
    """F1: OUTDIR inside the input folder, killed, rerun (also with --force): the run's
    own work files and outputs are never read as input."""
    folder = tmp_path / "in"
    folder.mkdir()
    source = corpus(folder)
    ref, out = tmp_path / "ref", folder / "out"
    assert cli("dedup", source, "-o", ref, *SMALL).exit_code == 0
    killed = newsclean("dedup", folder, "-o", out, *SMALL, env={STOP_AFTER_ENV: "2"})
    assert killed.returncode == 137 and list((out / "work").glob("shard-*/records.jsonl.zst"))
    with pytest.raises(ConfigError, match="newsclean's own work"):  # a library caller that walked the folder
        run_dedup(expand_inputs([str(folder)]), out, workers=1)
    for extra in ([], ["--force"], []):  # resume, start over, run again over the finished OUTDIR
        again = cli("dedup", folder, "-o", out, *SMALL, *extra)
        assert again.exit_code == 0, again.output
        assert outputs(out) == outputs(ref)
        assert json.loads((out / "stats.json").read_text())["input_records"] == \
            json.loads((ref / "stats.json").read_text())["input_records"]


def test_clean_output_inside_the_input_folder_is_not_read_again(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_input(folder / "a.jsonl", fixture_records()[:3])
    for _ in range(2):
        r = cli("clean", folder, "-o", folder / "out.jsonl", "--rejects", folder / "rejects.jsonl", "-q")
        assert r.exit_code == 0, r.output
        assert len((folder / "out.jsonl").read_text().splitlines()) == 3


# ------------------------------------------------------------------ F2: outputs never overlap


@pytest.mark.parametrize("rejects", ["kept.jsonl.gz", "duplicates.jsonl.gz", "clusters.jsonl", "stats.json",
                                     "manifest.json", "index/rejects.jsonl", "work/rejects.jsonl", "."])
def test_rejects_path_that_is_another_output_is_refused(tmp_path, rejects):
    """F2: ``--rejects OUTDIR/kept.jsonl.gz`` left an empty archive with exit 0."""
    source = corpus(tmp_path)
    out = tmp_path / "R"
    r = cli("dedup", source, "-o", out, "--rejects", out / rejects, *SMALL)
    assert r.exit_code == 2, r.output
    assert "--rejects" in r.output
    assert not (out / "kept.jsonl.gz").exists()


def test_rejects_path_inside_the_previous_run_is_refused(tmp_path):
    source = corpus(tmp_path)
    assert cli("dedup", source, "-o", tmp_path / "prev", *SMALL).exit_code == 0
    before = outputs(tmp_path / "prev")
    r = cli("dedup", source, "-o", tmp_path / "next", "--against", tmp_path / "prev",
            "--rejects", tmp_path / "prev" / "rejects.jsonl", *SMALL)
    assert r.exit_code == 2 and "previous run" in r.output
    assert outputs(tmp_path / "prev") == before


# ------------------------------------------------------------------ F3/F12: spin tables


def _archive(base: Path, records: list[dict]) -> Path:
    (base / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert cli("dedup", base / "in.jsonl", "-o", base / "R", "-q", "--workers", "1").exit_code == 0
    return base / "R"


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """A finished dedup OUTDIR."""
    return _archive(tmp_path_factory.mktemp("archive"), fixture_records())


def test_spin_table_reads_the_nan_and_surrogates_dedup_wrote(tmp_path):
    """F12: spin-table refused archives holding NaN and lone surrogates, which dedup
    writes (with the stdlib) for records it had to parse with the stdlib."""
    records = [dict(r, score=float("nan"), note="lone \ud800 surrogate") for r in fixture_records()]
    odd = _archive(tmp_path, records)
    assert b"NaN" in gzip.decompress((odd / "duplicates.jsonl.gz").read_bytes())
    r = cli("spin-table", odd, "-o", tmp_path / "t.tsv", "-q")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("name", ["kept.jsonl.gz", "duplicates.jsonl.gz", "stats.json", "spin-table.tsv",
                                  "manifest.json", "other.jsonl.gz", "../elsewhere.parquet", "index"])
def test_spin_table_never_writes_over_an_archive(archive, tmp_path, name):
    """F3: ``spin-table R -o R/kept.jsonl.gz`` replaced the archive with a TSV."""
    copy = tmp_path / "R"
    shutil.copytree(archive, copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()}
    r = cli("spin-table", copy, "-o", copy / name, "-q")
    assert r.exit_code == 2, r.output
    assert {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()} == before


LEARNED = [(f"spun form {k}", f"original {k}", 3, 0.5) for k in range(300)]


def test_a_failed_table_write_keeps_the_old_table(tmp_path):
    """F3: under ``ulimit -f`` the old table was destroyed and a truncated one left."""
    from newsclean.spin.learn import write_table

    table = tmp_path / "t.tsv"
    write_table(LEARNED[:5], table)
    old = table.read_bytes()
    script = ("import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048)); "
              "from newsclean.spin.learn import write_table; "
              f"write_table([(f'spun form {{k}}', f'original {{k}}', 3, 0.5) for k in range(300)], {str(table)!r})")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "File too large" in r.stderr
    assert table.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["t.tsv"]


def test_a_learned_table_cut_short_is_refused(tmp_path, write_jsonl):
    """F3: a truncated learned table was read as a shorter one (a bogus "has launched" ->
    "h" entry); a table written by hand is read as before."""
    from newsclean.spin.learn import write_table
    from newsclean.spin.table import TableError, read_table

    whole = tmp_path / "whole.tsv"
    write_table(LEARNED, whole)
    assert len(read_table(whole)) == len(LEARNED)
    data = whole.read_bytes()
    cut = tmp_path / "cut.tsv"
    cut.write_bytes(data[: len(data) // 2])  # what a full disk leaves: the table's first half
    with pytest.raises(TableError, match="cut short"):
        read_table(cut)
    r = cli("clean", write_jsonl([{"id": 1, "text": "The council met."}]), "--spin-table", cut,
            "-o", tmp_path / "o.jsonl")
    assert r.exit_code == 2 and "cut short" in r.output
    damaged = {"end line lost": data[: data.rindex(b"# end")],
               "miscounted": data.replace(b"# end: 300 entries", b"# end: 301 entries")}
    for what, content in damaged.items():
        path = tmp_path / f"{what}.tsv"
        path.write_bytes(content)
        with pytest.raises(TableError, match="learned by newsclean"):
            read_table(path)
    by_hand = tmp_path / "hand.tsv"
    by_hand.write_text("# my swaps\ngamers\tplayers\nthirty day period\tmonth\n", encoding="utf-8")
    assert len(read_table(by_hand)) == 2


def test_spin_table_skips_a_huge_line_in_bounded_memory(archive, tmp_path):
    """F12: a 1 GiB line in a small duplicates.jsonl.gz took 2.4 GB before the refusal;
    here a 160 MB line (over the default --max-bytes, 64 MB) is skipped, never held whole."""
    from newsclean.driver import learn_spin_table

    copy = tmp_path / "R"
    shutil.copytree(archive, copy)
    with gzip.open(copy / "duplicates.jsonl.gz", "ab", compresslevel=1) as f:
        f.write(b'{"id": "huge", "cluster": "flood", "text": "')
        block = b"word " * (1 << 18)
        for _ in range(160 * (1 << 20) // len(block)):
            f.write(block)
        f.write(b'"}\n')
    tracemalloc.start()
    try:
        learned = learn_spin_table(copy, tmp_path / "t.tsv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert learned.skipped == 1 and "max-bytes" in learned.first_skipped
    assert peak < (64 + 24) << 20, f"{peak / 2**20:.0f} MB"  # what a line may hold, and some


# ------------------------------------------------------------------ F4: damaged work folders


@pytest.mark.parametrize("damage", ["rejects", "features", "summary-only"])
def test_a_work_folder_missing_files_is_computed_again(tmp_path, damage):
    """F4: a removal of work/ cut short (or a file deleted under --keep-work) made the
    OUTDIR impossible to rerun, --force included."""
    path = corpus(tmp_path)
    out = tmp_path / "out"
    assert cli("dedup", path, "-o", out, *SMALL, "--keep-work").exit_code == 0
    before = outputs(out)
    shard = out / "work" / "shard-00001"
    if damage == "rejects":
        (shard / "rejects.jsonl").unlink()
    elif damage == "features":
        shutil.rmtree(out / "work" / "shard-00000" / "features")
    else:  # what an interrupted rmtree leaves: a folder with little but its summary
        for p in shard.iterdir():
            if p.name != "summary.json":
                shutil.rmtree(p) if p.is_dir() else p.unlink()
    again = cli("dedup", path, "-o", out, *SMALL)
    assert again.exit_code == 0, again.output
    assert outputs(out) == before
    assert json.loads((out / "stats.json").read_text())["resumed_shards"] >= 1


def test_a_cleanup_cut_short_is_finished_by_the_next_run(tmp_path):
    path = corpus(tmp_path)
    out = tmp_path / "out"
    killed = newsclean("dedup", path, "-o", out, *SMALL, env={KILL_AT_ENV: "cleanup"})
    assert killed.returncode == 137
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    (out / ".work.old-1" / "shard-00003").mkdir(parents=True)  # a removal of work/ that was killed
    again = cli("dedup", path, "-o", out, *SMALL)
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["clusters.jsonl", "kept.jsonl.gz", "duplicates.jsonl.gz", "rejects.jsonl", "stats.json", "index",
         "manifest.json", "report.html", "report-samples.json"])


# ------------------------------------------------------------------ F5: workers end with their run

WORKER_SCRIPT = '''
import os, sys, time
from pathlib import Path
from newsclean.engine.executors import Engine

def task(folder):
    Path(folder, str(os.getpid())).touch()
    time.sleep(120)

if __name__ == "__main__":
    with Engine(2, sys.argv[1]) as engine:
        list(engine.map(task, [sys.argv[2], sys.argv[2]]))
'''


def _process_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_workers_end_when_their_run_is_killed(tmp_path, engine):
    """F5: after kill -9 of the run, the local workers lived on for over a minute,
    holding its stdout and stderr open: a caller reading them hung."""
    if engine == "dask":
        pytest.importorskip("dask.distributed")
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc")
    script = tmp_path / "run.py"
    script.write_text(WORKER_SCRIPT)
    started = tmp_path / "started"
    started.mkdir()
    proc = subprocess.Popen([sys.executable, str(script), engine, str(started)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            workers = [int(p.name) for p in started.iterdir()]
        assert len(workers) == 2, proc.stderr.read().decode() if proc.poll() is not None else "workers not started"
        proc.kill()
        proc.communicate(timeout=20)  # returns once no worker holds the pipes
        deadline = time.monotonic() + 10
        while not all(map(_process_gone, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(map(_process_gone, workers))
    finally:
        proc.kill()
        for pid in workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# ------------------------------------------------------------------ F6: file names that are not UTF-8


def test_file_names_that_are_not_utf8(tmp_path):
    """F6: dedup/run failed in write_shard on every rerun; clean --format text and --diff
    raised UnicodeEncodeError."""
    folder = tmp_path / "in"
    folder.mkdir()
    write_input(folder / os.fsdecode(b"bad\xff.jsonl"), fixture_records()[:4])
    (folder / os.fsdecode(b"article-\xfe.txt")).write_text("Microsoft?s news fromAmazonandIBM. []")
    (folder / os.fsdecode(b"binary-\xfd.txt")).write_bytes(bytes(range(256)) * 4)
    for command, out in (("dedup", "d"), ("dedup", "d"), ("run", "r")):
        r = cli(command, folder, "-o", tmp_path / out, "-q", "--workers", "1")
        assert r.exit_code == 0, r.output
    kept = [json.loads(line) for line in gzip.decompress((tmp_path / "d" / "kept.jsonl.gz").read_bytes()).splitlines()]
    assert any(str(k.get("source")).endswith(os.fsdecode(b"article-\xfe.txt")) for k in kept)
    rejects = [json.loads(line) for line in (tmp_path / "d" / "rejects.jsonl").read_text().splitlines()]
    assert [r["source"].endswith(os.fsdecode(b"binary-\xfd.txt")) for r in rejects] == [True]
    for args in (["--format", "text", "-o", tmp_path / "t.txt"], ["--diff"]):
        r = cli("clean", folder, *args, "-q")
        assert r.exit_code == 0, r.output
    assert b"# article-\\udcfe" in (tmp_path / "t.txt").read_bytes()
    assert "article-\\udcfe" in cli("clean", folder, "--diff", "-q").stdout


# ------------------------------------------------------------------ F7: closed standard streams


@pytest.mark.parametrize("args", [["clean", "-"], ["clean"], ["dedup", "-", "-o", "{tmp}/out"]])
def test_closed_stdin_is_refused_cleanly(tmp_path, args):
    """F7: ``newsclean clean - <&-`` ended in a traceback."""
    args = [a.format(tmp=tmp_path) for a in args]
    r = newsclean(*args, preexec=lambda: os.close(0), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "standard input is closed" in r.stderr and "Traceback" not in r.stderr


def test_closed_stdout_is_an_output_error(tmp_path, write_jsonl):
    r = newsclean("clean", write_jsonl([{"id": 1, "text": "The council met."}]), preexec=lambda: os.close(1),
                  cwd=tmp_path)
    assert r.returncode == 1 and "standard output is closed" in r.stderr and "Traceback" not in r.stderr


# ------------------------------------------------------------------ F8: standard input, twice


def test_the_same_stdin_resumes_and_is_cut_into_shards(tmp_path):
    """F8: ``... | newsclean dedup - -o sd`` run twice was refused the second time (the
    manifest held the spooled copy's mtime), and stdin was one shard whatever its size."""
    data = corpus(tmp_path).read_bytes()
    out = tmp_path / "sd"
    first = cli("dedup", "-", "-o", out, *SMALL, input=data)
    assert first.exit_code == 0, first.output
    before = outputs(out)
    assert json.loads((out / "stats.json").read_text())["shards"] > 2
    again = cli("dedup", "-", "-o", out, *SMALL, input=data)
    assert again.exit_code == 0, again.output
    assert outputs(out) == before
    other = cli("dedup", "-", "-o", out, *SMALL, input=data.replace(b"flood", b"Flood"))
    assert other.exit_code == 2 and "another run" in other.output


# ------------------------------------------------------------------ F9: a huge line, bounded memory


def test_a_huge_line_is_skipped_in_bounded_memory(tmp_path):
    """F9: a file of zeros without a newline was read a line at a time while cutting it
    into shards (4.3 GB for 2 GB); here a 256 MB line of a sparse file, --max-bytes 1 MB."""
    head = "".join(json.dumps(r) + "\n" for r in fixture_records()[:5]).encode()
    tail = "".join(json.dumps(r) + "\n" for r in fixture_records()[5:]).encode()
    small, huge = tmp_path / "small.jsonl", tmp_path / "huge.jsonl"
    small.write_bytes(head + tail)
    with open(huge, "wb") as f:
        f.write(head)
        f.seek(len(head) + (256 << 20))  # a hole: 256 MB of zeros that take no disk
        f.write(b"\n" + tail)
    common = ["--max-bytes", "1000000", "--shard-size", "1", "-q", "--workers", "1"]
    peaks = {}
    for name, path in (("small", small), ("huge", huge)):
        r = newsclean("dedup", path, "-o", tmp_path / name, *common)
        assert r.returncode == 0, r.stderr
        stats = json.loads((tmp_path / name / "stats.json").read_text())
        peaks[name] = stats["timings"]["peak_rss_mb"]
    assert stats["input_records"] == len(fixture_records()) + 1 and stats["rejected"] == 1
    assert "over the --max-bytes limit" in (tmp_path / "huge" / "rejects.jsonl").read_text()
    assert peaks["huge"] < peaks["small"] + 100, peaks


# ------------------------------------------------------------------ F11: crafted manifests


@pytest.mark.parametrize("content", [b"[1, 2]", b'"a string"', b"null", b"42", b"\xff\xfe not UTF-8",
                                     b'{"format": 3, "command": "dedup", "inputs": [], "params": [1]}', b"{" * 5000,
                                     None])
def test_a_manifest_that_is_no_object_is_another_run(tmp_path, content):
    """F11: a manifest.json holding valid JSON that is not an object gave a traceback,
    even with --force."""
    path = corpus(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    if content is None:
        (out / "manifest.json").mkdir()  # a folder where the manifest should be
    else:
        (out / "manifest.json").write_bytes(content)
    refused = cli("dedup", path, "-o", out, *SMALL)
    assert refused.exit_code == 2 and "another run" in refused.output, refused.output
    forced = cli("dedup", path, "-o", out, *SMALL, "--force")
    assert forced.exit_code == 0, forced.output


# ------------------------------------------------------------------ F13: one run per OUTDIR

SLOW_RUN = '''
import sys, time
from pathlib import Path
from newsclean.clean.pipeline import Cleaner
from newsclean.dedup.run import run_dedup
from newsclean.io.readers import expand_inputs

class SlowCleaner(Cleaner):
    def clean_many(self, texts, *args, **kwargs):
        time.sleep(120)
        return super().clean_many(texts, *args, **kwargs)

    def clean(self, text, *args, **kwargs):
        time.sleep(120)
        return super().clean(text, *args, **kwargs)

run_dedup(expand_inputs([sys.argv[1]]), Path(sys.argv[2]), workers=1, cleaner=SlowCleaner())
'''


def test_a_second_run_into_the_same_outdir_is_refused_at_once(tmp_path):
    """F13: two runs into one OUTDIR failed with "File exists" or left it incomplete.
    The second is refused at once, naming the first; once the first is killed, its
    lock never blocks the next run."""
    path = corpus(tmp_path)
    out = tmp_path / "out"
    script = tmp_path / "slow.py"
    script.write_text(SLOW_RUN)
    first = subprocess.Popen([sys.executable, str(script), str(path), str(out)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not list((out / "work").glob(".shard-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = newsclean("dedup", path, "-o", out, "-q", "--workers", "1")
        assert second.returncode == 2, second.stderr
        assert f"pid {first.pid}" in second.stderr and "another newsclean run" in second.stderr
        assert first.poll() is None  # the first run goes on
    finally:
        first.kill()
        first.communicate()
    third = newsclean("dedup", path, "-o", out, "-q", "--workers", "1", "--force")
    assert third.returncode == 0, third.stderr
    assert json.loads((out / "stats.json").read_text())["balanced"]
    assert not (out / ".newsclean.lock").exists()


# ------------------------------------------------------------------ F14: all outputs or none


def _limit_file_size(limit: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_clean_commits_nothing_when_the_rejects_cannot_be_written(tmp_path):
    """F14: with the rejects on a full disk, the output was committed and 3,000 rejects
    lost (exit 1)."""
    lines = [json.dumps({"id": k, "text": f"The council met on day {k}."}) for k in range(30)]
    lines += ["{not json " + "x" * 4000 for _ in range(60)]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"old\n")
    r = newsclean("clean", source, "-o", out, "--rejects", tmp_path / "rej.jsonl", "-q",
                  preexec=_limit_file_size(64 << 10))
    assert r.returncode == 1, r.stderr
    assert out.read_bytes() == b"old\n" and not (tmp_path / "rej.jsonl").exists()
    assert temporaries(tmp_path) == []
    assert "rej.jsonl" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs a folder no one may write in (/proc)")
def test_clean_commits_nothing_when_the_stats_file_cannot_be_written(tmp_path, write_jsonl):
    """F14: --stats on a path that refuses files: the output was committed, then exit 1."""
    out = tmp_path / "out.jsonl"
    r = cli("clean", write_jsonl([{"id": 1, "text": "The council met."}]), "-o", out, "--stats",
            "/proc/newsclean-stats.json", "-q")
    assert r.exit_code == 1, r.output
    assert not out.exists() and temporaries(tmp_path) == []


def test_dedup_commits_no_output_when_one_cannot_be_written(tmp_path):
    """F14 for dedup: the outputs were renamed into place one by one, so a rejects file
    too large for the disk left new archives beside no stats.json."""
    lines = corpus(tmp_path).read_text().splitlines() + ["{broken " + "x" * 5000 for _ in range(30)]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    probe = tmp_path / "probe"
    assert cli("dedup", path, "-o", probe, *SMALL, "--keep-work").exit_code == 0
    sizes = {p: p.stat().st_size for p in probe.rglob("*") if p.is_file()}
    limit = max(size for p, size in sizes.items() if p != probe / "rejects.jsonl") + 1024
    assert sizes[probe / "rejects.jsonl"] > limit  # only the concatenated rejects are too large
    out = tmp_path / "out"
    r = newsclean("dedup", path, "-o", out, *SMALL, preexec=_limit_file_size(limit))
    assert r.returncode == 1, r.stderr
    assert [name for name in outputs(probe) if (out / name).exists()] == []
    # nor the report's samples, which a failed run used to write before the archives
    assert not (out / "report-samples.json").exists() and not (out / "report.html").exists()
    assert temporaries(out) == []
    assert "rejects.jsonl" in r.stderr and "Traceback" not in r.stderr, r.stderr
    again = cli("dedup", path, "-o", out, *SMALL)
    assert again.exit_code == 0, again.output
    assert outputs(out) == outputs(probe)


def test_temporaries_of_a_killed_clean_are_removed_by_the_next(tmp_path, write_jsonl):
    """F14: a clean killed with SIGKILL left its .OUT.xxxx.tmp files forever."""
    source = write_jsonl([{"id": k, "text": f"The council met on day {k}."} for k in range(50)])
    out = tmp_path / "out.jsonl"
    killed = newsclean("clean", source, "-o", out, "-q", env={KILL_AT_ENV: "publish"})
    assert killed.returncode == 137
    assert not out.exists() and len(temporaries(tmp_path)) == 1
    alive = tmp_path / f".out.jsonl.{os.getpid()}.abcdefgh.tmp"  # a running writer's: left alone
    alive.write_bytes(b"")
    r = newsclean("clean", source, "-o", out, "-q")
    assert r.returncode == 0, r.stderr
    assert temporaries(tmp_path) == [alive.name]
    assert len(out.read_text().splitlines()) == 50


# ------------------------------------------------------------------ an input edited between kill and resume


def test_an_input_edited_in_place_with_its_mtime_restored_is_not_mixed_in(tmp_path):
    """A same-size in-place edit with the modification time put back, between a kill and
    the resume, mixed two versions into one archive."""
    path = corpus(tmp_path)
    out = tmp_path / "out"
    killed = newsclean("dedup", path, "-o", out, *SMALL, env={STOP_AFTER_ENV: "2"})
    assert killed.returncode == 137
    st = path.stat()
    data = path.read_bytes()
    edited = data.replace(b"alpha", b"omega")
    assert len(edited) == len(data) and edited != data
    path.write_bytes(edited)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    resumed = cli("dedup", path, "-o", out, *SMALL)
    assert resumed.exit_code == 2 and "inputs changed" in resumed.output, resumed.output
    forced = cli("dedup", path, "-o", out, *SMALL, "--force")
    assert forced.exit_code == 0
    fresh = tmp_path / "fresh"
    assert cli("dedup", path, "-o", fresh, *SMALL).exit_code == 0
    assert outputs(out) == outputs(fresh)

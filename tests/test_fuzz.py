"""The atheris fuzz target of the record parser (fuzz/fuzz_records.py), for a bounded time.

``NEWSCLEAN_FUZZ_SECONDS`` sets how long (default 20 s); the test is skipped when atheris
is not installed.  The seeds are replayed without atheris in any case, so the target and
its invariants are always exercised.  A crash leaves its input in the test's tmp folder;
``python fuzz/fuzz_records.py --replay FILE`` reproduces it.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "fuzz" / "fuzz_records.py"
SEEDS = ROOT / "fuzz" / "seeds"
SECONDS = int(os.environ.get("NEWSCLEAN_FUZZ_SECONDS", "20"))


def _target():
    spec = importlib.util.spec_from_file_location("fuzz_records", TARGET)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seeds_pass_the_invariants_without_atheris():
    target = _target()
    seeds = sorted(SEEDS.iterdir())
    assert len(seeds) >= 5
    counts = [target.check(p.read_bytes()) for p in seeds]
    assert sum(c["cleaned"] for c in counts) >= 5 and sum(c["rejected"] for c in counts) >= 5


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"\x01", b"\x02\xff", b"\x04\x00\x1f\x8b", b"\x00\x06" + b"\n" * 50,
     b"\x00\x00 \r\n\t\n\xef\xbb\xbf",
     b"\x01\x00" + "\ud800".encode("utf-8", "surrogatepass"), b"\x00\x07" + b"x" * 300 + b"\n" + b" " * 300],
    ids=["empty", "nul", "text-empty", "gzip-empty-cut", "corrupt-gzip-magic", "newlines", "blank-and-bom",
         "surrogate-bytes", "over-max-bytes"],
)
def test_edge_inputs_pass_the_invariants_without_atheris(data):
    _target().check(data)


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed")
def test_fuzz_record_parser_for_a_bounded_time(tmp_path):
    corpus, artifacts = tmp_path / "corpus", tmp_path / "crashes"
    corpus.mkdir()
    artifacts.mkdir()
    cmd = [
        sys.executable, str(TARGET),
        f"-max_total_time={SECONDS}", "-timeout=10", "-rss_limit_mb=2048", "-max_len=8192",
        f"-artifact_prefix={artifacts}/", "-print_final_stats=1",
        str(corpus), str(SEEDS),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 120, cwd=tmp_path, check=False)
    found = sorted(artifacts.iterdir())
    if proc.returncode != 0 or found:
        keep = Path(os.environ.get("NEWSCLEAN_FUZZ_ARTIFACTS", tmp_path / "kept"))
        keep.mkdir(parents=True, exist_ok=True)
        for f in found:
            shutil.copy(f, keep / f.name)
        replay = subprocess.run([sys.executable, str(TARGET), "--replay", *map(str, found)],
                                capture_output=True, text=True, timeout=120, check=False)
        seed = next((line for line in proc.stderr.splitlines() if "Seed:" in line), "seed unknown")
        pytest.fail(
            f"fuzzing ({seed.strip()}) found {len(found)} failing input(s), copied to {keep}:\n"
            f"{replay.stdout[-3000:]}\n--- fuzzer output ---\n{proc.stderr[-4000:]}"
        )
    assert "Done" in proc.stderr and "runs in" in proc.stderr, proc.stderr[-2000:]

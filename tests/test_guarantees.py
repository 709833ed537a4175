"""Guarantees of the clean command that hold for any input: no network, determinism."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from newsclean.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_cleaning_opens_no_socket(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("newsclean tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(app, ["clean", str(SAMPLES / "articles.jsonl"), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8").count("\n") == 2


def test_output_is_byte_identical_across_hash_seeds(tmp_path):
    outputs = []
    for seed in ("0", "12345"):
        out = tmp_path / f"out-{seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [sys.executable, "-m", "newsclean", "clean", str(SAMPLES), "-o", str(out), "-q", "--explain"],
            check=True,
            env=env,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == 4  # two .txt files and the two records of articles.jsonl

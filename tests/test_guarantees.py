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


def test_slow_document_is_rejected_not_stalling(monkeypatch, tmp_path):
    import time as _time

    from newsclean.clean import pipeline

    real = pipeline.Cleaner.clean

    def slow_on_marker(self, text):
        if "SLOW" in text:
            while True:  # a stage gone wrong: never returns on its own
                _time.sleep(0.01)
        return real(self, text)

    monkeypatch.setattr(pipeline.Cleaner, "clean", slow_on_marker)
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "fine"}\n{"id": 2, "text": "SLOW"}\n{"id": 3, "text": "fine"}\n')
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    res = CliRunner().invoke(
        app, ["clean", str(src), "-o", str(out), "--rejects", str(rej), "--doc-timeout", "0.3", "-q"]
    )
    assert res.exit_code == 0, res.output
    assert [line for line in out.read_text().splitlines()] == ['{"id":1,"text":"fine"}', '{"id":3,"text":"fine"}']
    reject = rej.read_text()
    assert '"line":2' in reject and "--doc-timeout" in reject


def test_decompression_bomb_is_refused_not_unpacked(tmp_path):
    import gzip
    import json as _json

    from newsclean.io import readers

    # 300 MB of zeros after one good record compresses to ~300 KB: far beyond the
    # expansion any text shows, so the reader refuses the rest of the file.
    path = tmp_path / "bomb.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(b'{"id": 1, "text": "fine"}\n')
        block = b"0" * (1 << 20)
        for _ in range(300):
            f.write(block)
    assert path.stat().st_size < 2_000_000
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    res = CliRunner().invoke(app, ["clean", str(path), "-o", str(out), "--rejects", str(rej), "-q"])
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines() == ['{"id":1,"text":"fine"}']
    reject = _json.loads(rej.read_text().splitlines()[-1])
    assert "decompression bomb" in reject["reason"]
    assert readers.MAX_EXPANSION >= 100


def test_no_socket_in_dedup_run_and_the_html_path(monkeypatch, tmp_path):
    """dedup and run (in-process), and page extraction by trafilatura, open no connection."""
    import pytest

    pytest.importorskip("trafilatura")

    def refuse(*args, **kwargs):
        raise AssertionError("newsclean tried to open a network connection")

    page = tmp_path / "pages" / "story.html"
    page.parent.mkdir()
    body = " ".join(["Flood waters rose across the valley on Saturday as rescuers worked through the night."] * 6)
    page.write_text(f"<html><head><title>Flood</title><link rel='stylesheet' href='https://cdn.example/x.css'>"
                    f"</head><body><article><h1>Flood</h1><p>{body}</p><img src='https://img.example/a.jpg'>"
                    f"</article></body></html>", encoding="utf-8")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    runner = CliRunner()
    res = runner.invoke(app, ["clean", str(page.parent), "-o", str(tmp_path / "pages.jsonl"), "-q"])
    assert res.exit_code == 0, res.output
    assert "Flood waters" in (tmp_path / "pages.jsonl").read_text(encoding="utf-8")
    for command in ("dedup", "run"):
        res = runner.invoke(app, [command, str(SAMPLES / "articles.jsonl"), "-o", str(tmp_path / command), "-q",
                                  "--workers", "1"])
        assert res.exit_code == 0, res.output

"""Shared fixtures for the CLI, I/O and bad-input tests (all data lives in tmp_path)."""
from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# A tiny piece of real scraped damage: a lost apostrophe, glued link words, an empty link.
DAMAGED = "Microsoft?s announcement follows similar statements fromAmazonandIBM. []"
# Already clean: must come out byte for byte unchanged.
CLEAN = "The council met on Tuesday."


@pytest.fixture
def damaged_text() -> str:
    return DAMAGED


@pytest.fixture
def clean_text() -> str:
    return CLEAN


@pytest.fixture
def records() -> list[dict[str, Any]]:
    """A small corpus: ids of several kinds, extra and nested fields, damaged and clean text."""
    return [
        {"id": "a1", "text": DAMAGED, "lang": "en", "meta": {"tags": ["tech"], "score": 0.5}},
        {"id": 2, "text": CLEAN, "published": "2020-06-11", "authors": ["A. B."]},
        {"id": "a3", "text": "", "empty": True},
        {"id": "a4", "text": CLEAN + " " + DAMAGED, "null_field": None},
    ]


def jsonl_lines(rows: list[Any]) -> list[bytes]:
    """JSONL lines (no newlines): dicts are dumped, bytes/str lines go in as they are."""
    lines = []
    for row in rows:
        if isinstance(row, bytes):
            lines.append(row)
        elif isinstance(row, str):
            lines.append(row.encode("utf-8"))
        else:
            lines.append(json.dumps(row, ensure_ascii=False).encode("utf-8"))
    return lines


def archived_records(outdir: Path) -> dict[Any, dict[str, Any]]:
    """A dedup/run OUTDIR's archive (kept and duplicate records) by record id."""
    records: dict[Any, dict[str, Any]] = {}
    for name in ("kept.jsonl.gz", "duplicates.jsonl.gz"):
        with gzip.open(outdir / name, "rt", encoding="utf-8") as f:
            records.update((r["id"], r) for r in map(json.loads, f))
    return records


def _compress(data: bytes, name: str) -> bytes:
    if name.endswith(".gz"):
        return gzip.compress(data, mtime=0)
    if name.endswith(".zst"):
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    return data


def _decompress(data: bytes, name: str) -> bytes:
    if name.endswith(".gz"):
        return gzip.decompress(data)
    if name.endswith(".zst"):
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """``write_jsonl(rows, name="in.jsonl")``: rows are dicts (dumped) or raw str/bytes lines.

    The file is compressed by its extension (.gz/.zst).
    """

    def write(rows: list[Any], name: str = "in.jsonl") -> Path:
        data = b"".join(line + b"\n" for line in jsonl_lines(rows))
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_compress(data, name))
        return path

    return write


@pytest.fixture
def read_jsonl() -> Callable[[Path], list[dict[str, Any]]]:
    """``read_jsonl(path)``: the records of a (possibly compressed) JSONL file."""

    def read(path: Path) -> list[dict[str, Any]]:
        data = _decompress(Path(path).read_bytes(), str(path))
        return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]

    return read


@pytest.fixture
def decompress() -> Callable[[bytes, str], bytes]:
    """``decompress(data, name)``: undo the compression implied by ``name``."""
    return _decompress


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``cli(*args, input=None)``: run the app through typer's CliRunner inside tmp_path.

    Running in tmp_path keeps a default ``newsclean.rejects.jsonl`` out of the repo.
    """
    from typer.testing import CliRunner

    from newsclean.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: Any, input: str | bytes | None = None) -> Any:
        return runner.invoke(app, [str(a) for a in args], input=input)

    return invoke


@pytest.fixture
def stats_of(tmp_path: Path) -> Callable[[], dict[str, Any]]:
    """``stats_of()``: the JSON written by ``--stats stats.json`` in tmp_path."""

    def read() -> dict[str, Any]:
        return json.loads((tmp_path / "stats.json").read_text("utf-8"))

    return read


# The keys of the run statistics (--stats FILE and Stats.to_dict()).
STATS_KEYS = frozenset(
    {"input_records", "output_records", "rejected", "changed", "unchanged", "spun", "edits_by_stage", "seconds",
     "docs_per_second", "records_cut_down", "boilerplate"}
)

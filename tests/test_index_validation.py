"""A damaged or unfinished ``--against`` index is refused with a clear message, never read
into wrong clusters and never a traceback."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_dedup import fixture_records, run_cli, write_input

from newsclean.dedup import DedupParams, IndexMismatch, load_index
from newsclean.dedup.index import ARRAYS, INDEX_DIR, file_checksum


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("index")
    write_input(base / "first.jsonl", fixture_records()[:5])
    out = base / "first"
    assert run_cli(["dedup", str(base / "first.jsonl"), "-o", str(out), "-q"]).exit_code == 0
    return out


def copy_of(run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "prev"
    shutil.copytree(run, target)
    return target


def rewrite(folder: Path, name: str, array: np.ndarray, *, keep_checksums: bool = False) -> None:
    """Replace one array; by default the checksums are written again, as a buggy writer
    would: the structural checks alone must then refuse it."""
    np.save(folder / INDEX_DIR / f"{name}.npy", array, allow_pickle=False)
    if not keep_checksums:
        meta_path = folder / INDEX_DIR / "meta.json"
        meta = json.loads(meta_path.read_text())
        meta["checksums"] = {a: file_checksum(folder / INDEX_DIR / f"{a}.npy") for a in ARRAYS}
        meta_path.write_text(json.dumps(meta))


def edit_meta(folder: Path, change) -> None:
    path = folder / INDEX_DIR / "meta.json"
    meta = json.loads(path.read_text())
    path.write_text(json.dumps(change(meta)))


def arr(folder: Path, name: str) -> np.ndarray:
    return np.load(folder / INDEX_DIR / f"{name}.npy")


def flip_a_byte(folder: Path) -> None:
    path = folder / INDEX_DIR / "wsets.npy"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))


def unfinished(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["status"] = "running"
    (folder / "manifest.json").write_text(json.dumps(manifest))


CORRUPTIONS = {
    "meta missing": lambda f: (f / INDEX_DIR / "meta.json").unlink(),
    "meta not json": lambda f: (f / INDEX_DIR / "meta.json").write_text("{not json"),
    "meta a list": lambda f: (f / INDEX_DIR / "meta.json").write_text("[1, 2]"),
    "older version": lambda f: edit_meta(f, lambda m: {**m, "version": 2}),
    "no checksums": lambda f: edit_meta(f, lambda m: {k: v for k, v in m.items() if k != "checksums"}),
    "array missing": lambda f: (f / INDEX_DIR / "cluster.npy").unlink(),
    "array truncated": lambda f: (f / INDEX_DIR / "wsig.npy").write_bytes((f / INDEX_DIR / "wsig.npy").read_bytes()[:90]),
    "a byte flipped": flip_a_byte,
    "run killed before it finished": unfinished,
    "manifest missing": lambda f: (f / "manifest.json").unlink(),
    "offsets reversed": lambda f: rewrite(f, "wsets_offsets", arr(f, "wsets_offsets")[::-1].copy()),
    "float64 signatures": lambda f: rewrite(f, "wsig", arr(f, "wsig").astype(np.float64)),
    "cluster out of range": lambda f: rewrite(f, "cluster", arr(f, "cluster") + 100),
    "cluster names a duplicate": lambda f: rewrite(f, "cluster", np.roll(arr(f, "cluster"), 1)),
    "similarity not a number": lambda f: rewrite(f, "similarity", np.full(len(arr(f, "similarity")), np.nan,
                                                                           np.float32)),
    "row outside the rows": lambda f: rewrite(f, "row", arr(f, "row") + 1000),
    "record count wrong": lambda f: edit_meta(f, lambda m: {**m, "records": m["records"] + 1}),
    "names cut short": lambda f: rewrite(f, "name_offsets", arr(f, "name_offsets")[:-1].copy()),
    "pickled object array": lambda f: np.save(f / INDEX_DIR / "row.npy", np.array([{"a": 1}], dtype=object),
                                              allow_pickle=True),
}


@pytest.mark.parametrize("damage", sorted(CORRUPTIONS))
def test_damaged_index_is_refused(finished_run, tmp_path, damage):
    folder = copy_of(finished_run, tmp_path)
    load_index(folder, DedupParams(), "cleanest")  # the copy is good before the damage
    CORRUPTIONS[damage](folder)
    with pytest.raises(IndexMismatch):
        load_index(folder, DedupParams(), "cleanest")


def test_cli_names_the_damage_and_writes_nothing(finished_run, tmp_path):
    folder = copy_of(finished_run, tmp_path)
    unfinished(folder)
    write_input(tmp_path / "new.jsonl", fixture_records()[5:])
    out = tmp_path / "out"
    result = run_cli(["dedup", str(tmp_path / "new.jsonl"), "-o", str(out), "--against", str(folder)])
    assert result.exit_code == 2, result.output
    assert "did not finish" in result.output and "Traceback" not in result.output
    assert not (out / "clusters.jsonl").exists()

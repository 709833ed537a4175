"""The persistent near-duplicate index of a run (``OUTDIR/index/``), for ``--against``.

Every ``newsclean dedup`` / ``newsclean run`` writes, next to its outputs, what a later
run needs to deduplicate a new batch against it without recomputing anything: one
``.npy`` file per array (read back memory-mapped) and ``meta.json``.

Per record of the archive (every accepted record of this run and of the runs it was
chained to, in order; ``N`` records):

* ``names`` — the record's unique name (``cluster`` / ``duplicate_of`` values), UTF-8
  bytes in ``names.npy`` split by ``name_offsets.npy`` (``N + 1``);
* ``cluster.npy`` — int64, index of its cluster's survivor; ``survivor.npy`` — bool;
* ``similarity.npy`` — float32, its verified containment in its survivor (1 for survivors);
* ``composite.npy`` — bool, a page that holds several stories (it takes no part of them);
* ``digest.npy`` — ``(N, 16)`` uint8, xxh3-128 of the normalised words (the exact rule);
* ``row.npy`` — int64, the row of its shingle data, ``-1`` for short texts (fewer
  than ``min_words`` words: they merge only on identical text).  Exact copies share
  the row of the first of them.

Per row (``R`` rows: one per record; only the rows of distinct long texts are used):

* ``wsig.npy``, ``ssig.npy`` — ``(R, num_perm)`` uint16 MinHash signatures (low bits) of the word
  and skeleton shingles;
* ``wsets.npy`` / ``wsets_offsets.npy`` and ``ssets.npy`` / ``ssets_offsets.npy`` — the
  sorted unique 32-bit shingle values of each row (:mod:`.features`), flat, with ``R + 1`` offsets, so that
  candidates against the archive are verified exactly.

``meta.json`` holds the format version, the counts, the parameters
(:class:`DedupParams` and ``keep``) and an xxh3-128 checksum of every file; a run
``--against`` an index made with other parameters, of a run that did not finish, or
that fails a checksum or a check of its arrays is refused (:class:`IndexMismatch`).  The folder is written under a
temporary name and renamed into place, so a failed run leaves the previous index.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xxhash

from ..io.atomic import hash_file
from .params import DedupParams

INDEX_DIR = "index"
FORMAT = "newsclean-dedup-index"
VERSION = 3  # 2: shingle sets as 32-bit values, one row per record; 3: similarity and composite pages
_CHUNK = 1 << 24  # elements copied at a time when an index is extended


class IndexMismatch(ValueError):
    """The previous index cannot be used with this run (missing, other format or parameters)."""


@dataclass
class Index:
    """A run's index (see the module docstring); arrays may be memory-mapped."""

    names: list[str]
    cluster: np.ndarray
    digest: np.ndarray
    row: np.ndarray
    wsig: np.ndarray
    ssig: np.ndarray
    wsets: np.ndarray
    wsets_offsets: np.ndarray
    ssets: np.ndarray
    ssets_offsets: np.ndarray
    params: dict[str, Any]
    keep: str
    similarity: np.ndarray
    composite: np.ndarray

    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def rows(self) -> int:
        return len(self.wsets_offsets) - 1

    def wset(self, r: int) -> np.ndarray:
        return np.asarray(self.wsets[self.wsets_offsets[r] : self.wsets_offsets[r + 1]])

    def sset(self, r: int) -> np.ndarray:
        return np.asarray(self.ssets[self.ssets_offsets[r] : self.ssets_offsets[r + 1]])

    def row_cluster(self) -> np.ndarray:
        """Cluster (survivor index) of each row's records (exact copies share a cluster)."""
        out = np.full(self.rows, -1, dtype=np.int64)
        has = np.flatnonzero(np.asarray(self.row) >= 0)
        out[np.asarray(self.row)[has]] = np.asarray(self.cluster)[has]
        return out


def empty_index(params: DedupParams, keep: str) -> Index:
    p = params.num_perm
    return Index(
        names=[], cluster=np.zeros(0, np.int64), digest=np.zeros((0, 16), np.uint8), row=np.zeros(0, np.int64),
        wsig=np.zeros((0, p), np.uint16), ssig=np.zeros((0, p), np.uint16),
        wsets=np.zeros(0, np.uint32), wsets_offsets=np.zeros(1, np.int64),
        ssets=np.zeros(0, np.uint32), ssets_offsets=np.zeros(1, np.int64),
        params=asdict(params), keep=keep, similarity=np.zeros(0, np.float32), composite=np.zeros(0, bool),
    )


ARRAYS = ("names", "name_offsets", "cluster", "survivor", "similarity", "composite", "digest", "row", "wsig",
          "ssig", "wsets", "wsets_offsets", "ssets", "ssets_offsets")
MANIFEST = "manifest.json"  # the run's manifest, next to index/ (engine.manifest)


def load_index(outdir: Path, params: DedupParams | None = None, keep: str | None = None) -> Index:
    """The index of a previous run's OUTDIR, memory-mapped; checked against ``params`` / ``keep``.

    Refused (:class:`IndexMismatch`, never another error) when the run did not finish,
    when a file does not match the checksum written with it, or when an array has
    another shape, type or range than an index has: a damaged index would otherwise
    join new records to the wrong clusters.
    """
    folder = Path(outdir) / INDEX_DIR
    meta = _read_meta(outdir, folder)
    _check_parameters(outdir, meta, params, keep)
    _check_finished(outdir)
    _check_checksums(folder, meta)
    try:
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in ARRAYS}
        index = _index_of(arrays, meta)
        _check_arrays(index, arrays, meta)
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise IndexMismatch(f"the dedup index in {folder} is damaged: {e}") from None
    return index


def _read_meta(outdir: Path, folder: Path) -> dict[str, Any]:
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexMismatch(f"{outdir} holds no dedup index ({folder}/meta.json is missing); "
                            "--against needs the OUTDIR of a newsclean dedup or run") from None
    except (OSError, ValueError) as e:
        raise IndexMismatch(f"cannot read the dedup index in {folder}: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise IndexMismatch(f"{folder} is not a newsclean dedup index")
    if meta.get("version") != VERSION:
        raise IndexMismatch(f"{folder} is a version {meta.get('version')} newsclean dedup index; this newsclean "
                            f"reads version {VERSION} (re-run the previous batch with this version)")
    return meta


def _check_parameters(outdir: Path, meta: dict[str, Any], params: DedupParams | None, keep: str | None) -> None:
    if params is None:
        return
    here = asdict(params)
    there = meta.get("params") if isinstance(meta.get("params"), dict) else {}
    diff = [f"{k}: {there.get(k)!r} there, {v!r} here" for k, v in here.items() if there.get(k) != v]
    diff += [f"{k}: {v!r} there, unset here" for k, v in there.items() if k not in here]
    if keep is not None and meta.get("keep") != keep:
        diff.append(f"keep: {meta.get('keep')!r} there, {keep!r} here")
    if diff:
        raise IndexMismatch(f"the previous run in {outdir} used other parameters ({'; '.join(diff)}); "
                            "--against needs the same parameters")


def _check_finished(outdir: Path) -> None:
    """The index is written before the run's outputs: only a finished run's counts."""
    try:
        manifest = json.loads((Path(outdir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("status") != "complete":
        raise IndexMismatch(f"the run in {outdir} did not finish (its {MANIFEST} does not say complete): its "
                            "archive may not hold the records its index names; finish it (run the same command "
                            "again) before deduplicating against it")


def file_checksum(path: Path) -> str:
    """xxh3-128 of a file's bytes, read in blocks."""
    return hash_file(path, xxhash.xxh3_128())


def _check_checksums(folder: Path, meta: dict[str, Any]) -> None:
    sums = meta.get("checksums")
    if not isinstance(sums, dict) or set(sums) != set(ARRAYS):
        raise IndexMismatch(f"the dedup index in {folder} has no checksums for its files")
    for name in ARRAYS:
        try:
            same = file_checksum(folder / f"{name}.npy") == sums[name]
        except OSError as e:
            raise IndexMismatch(f"the dedup index in {folder} is damaged: {e}") from None
        if not same:
            raise IndexMismatch(f"the dedup index in {folder} is damaged: {name}.npy does not match its checksum")


def _index_of(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Index:
    offsets = _offsets(arrays["name_offsets"], len(arrays["names"]), "name_offsets")
    raw = np.asarray(arrays["names"]).tobytes()
    names = [raw[a:b].decode("utf-8", "surrogatepass") for a, b in itertools.pairwise(offsets.tolist())]
    return Index(
        names=names, cluster=np.asarray(arrays["cluster"]), digest=np.asarray(arrays["digest"]),
        row=np.asarray(arrays["row"]), wsig=arrays["wsig"], ssig=arrays["ssig"],
        wsets=arrays["wsets"], wsets_offsets=np.asarray(arrays["wsets_offsets"]),
        ssets=arrays["ssets"], ssets_offsets=np.asarray(arrays["ssets_offsets"]),
        params=meta["params"], keep=meta["keep"], similarity=np.asarray(arrays["similarity"]),
        composite=np.asarray(arrays["composite"]),
    )


def _offsets(values: np.ndarray, total: int, name: str) -> np.ndarray:
    """Offsets that start at 0, never decrease and end at ``total``."""
    values = np.asarray(values)
    if values.dtype != np.int64 or values.ndim != 1 or len(values) == 0:
        raise ValueError(f"{name} is not a list of int64 offsets")
    if values[0] != 0 or values[-1] != total or (len(values) > 1 and (np.diff(values) < 0).any()):
        raise ValueError(f"{name} are not offsets into {total} values")
    return values


def _expect(array: np.ndarray, name: str, dtype: Any, shape: tuple[int, ...]) -> None:
    if array.dtype != np.dtype(dtype) or array.shape != shape:
        raise ValueError(f"{name} is {array.dtype}{list(array.shape)}, not {np.dtype(dtype)}{list(shape)}")


def _check_arrays(index: Index, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Shapes, types and ranges of every array against the counts in meta.json."""
    n, rows, bins = meta.get("records"), meta.get("rows"), index.params.get("num_perm")
    if not all(isinstance(v, int) and v >= 0 for v in (n, rows, bins)):
        raise ValueError("meta.json counts are not counts")
    for name, dtype, shape in (("cluster", np.int64, (n,)), ("survivor", bool, (n,)), ("similarity", np.float32, (n,)),
                               ("composite", bool, (n,)), ("digest", np.uint8, (n, 16)), ("row", np.int64, (n,)),
                               ("wsig", np.uint16, (rows, bins)), ("ssig", np.uint16, (rows, bins)),
                               ("wsets", np.uint32, arrays["wsets"].shape[:1]),
                               ("ssets", np.uint32, arrays["ssets"].shape[:1])):
        _expect(arrays[name], name, dtype, shape)
    if len(index.names) != n:
        raise ValueError(f"{len(index.names)} names for {n} records")
    _offsets(index.wsets_offsets, len(index.wsets), "wsets_offsets")
    _offsets(index.ssets_offsets, len(index.ssets), "ssets_offsets")
    if len(index.wsets_offsets) != rows + 1 or len(index.ssets_offsets) != rows + 1:
        raise ValueError(f"set offsets do not cover {rows} rows")
    cluster, row = index.cluster, index.row
    if n and (cluster.min() < 0 or cluster.max() >= n or (cluster[cluster] != cluster).any()):
        raise ValueError("cluster does not name a survivor for every record")
    if not np.array_equal(np.asarray(arrays["survivor"]), cluster == np.arange(n)):
        raise ValueError("survivor does not agree with cluster")
    if n and (row.min() < -1 or row.max() >= rows):
        raise ValueError("row points outside the rows")
    similarity = index.similarity
    if n and (not np.isfinite(similarity).all() or similarity.min() < 0 or similarity.max() > 1):
        raise ValueError("similarity outside 0..1")


def _write_concat(path: Path, parts: list[np.ndarray], shift: list[int] | None = None) -> None:
    """One .npy of ``parts`` concatenated (along axis 0), copied in chunks (parts may be memory-mapped).

    ``shift[k]`` is added to part ``k`` (offsets of an appended part).
    """
    total = sum(len(p) for p in parts)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=parts[0].dtype, shape=(total, *parts[0].shape[1:]))
    at = 0
    for k, p in enumerate(parts):
        step = max(1, _CHUNK // max(1, int(np.prod(p.shape[1:], dtype=np.int64))))
        for a in range(0, len(p), step):
            chunk = np.asarray(p[a : a + step])
            if shift is not None and shift[k]:
                chunk = chunk + np.asarray(shift[k], dtype=chunk.dtype)
            out[at + a : at + a + len(chunk)] = chunk
        at += len(p)
    out.flush()
    del out


def write_index(outdir: Path, prev: Index, new: Index) -> None:
    """Write ``prev`` followed by ``new`` as ``outdir/index`` (``new``'s indices are already global)."""
    outdir = Path(outdir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{INDEX_DIR}.", suffix=".tmp", dir=outdir))
    try:
        names = [n.encode("utf-8", "surrogatepass") for n in prev.names + new.names]
        offs = np.zeros(len(names) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in names], out=offs[1:])
        np.save(tmp / "names.npy", np.frombuffer(b"".join(names), dtype=np.uint8), allow_pickle=False)
        np.save(tmp / "name_offsets.npy", offs, allow_pickle=False)
        cluster = np.concatenate([np.asarray(prev.cluster), new.cluster]).astype(np.int64)
        np.save(tmp / "cluster.npy", cluster, allow_pickle=False)
        np.save(tmp / "survivor.npy", cluster == np.arange(len(cluster)), allow_pickle=False)
        _write_concat(tmp / "similarity.npy", [np.asarray(prev.similarity, np.float32),
                                               np.asarray(new.similarity, np.float32)])
        _write_concat(tmp / "composite.npy", [np.asarray(prev.composite, bool), np.asarray(new.composite, bool)])
        _write_concat(tmp / "digest.npy", [prev.digest, new.digest])
        _write_concat(tmp / "row.npy", [prev.row, new.row])
        _write_concat(tmp / "wsig.npy", [prev.wsig, new.wsig])
        _write_concat(tmp / "ssig.npy", [prev.ssig, new.ssig])
        for name in ("wsets", "ssets"):
            p_off, n_off = np.asarray(getattr(prev, name + "_offsets")), getattr(new, name + "_offsets")
            _write_concat(tmp / f"{name}.npy", [getattr(prev, name), getattr(new, name)])
            _write_concat(tmp / f"{name}_offsets.npy", [p_off, n_off[1:]], shift=[0, int(p_off[-1])])
        meta = {"format": FORMAT, "version": VERSION, "records": len(names), "rows": prev.rows + new.rows,
                "keep": new.keep, "params": new.params,
                "checksums": {name: file_checksum(tmp / f"{name}.npy") for name in ARRAYS}}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        final = outdir / INDEX_DIR
        old = None
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{INDEX_DIR}.", suffix=".old", dir=outdir))
            os.rename(final, old / INDEX_DIR)
        os.rename(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

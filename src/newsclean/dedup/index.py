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

``meta.json`` holds the format version, the counts and the parameters
(:class:`DedupParams` and ``keep``); a run ``--against`` an index made with other
parameters is refused (:class:`IndexMismatch`).  The folder is written under a
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


def load_index(outdir: Path, params: DedupParams | None = None, keep: str | None = None) -> Index:
    """The index of a previous run's OUTDIR, memory-mapped; checked against ``params`` / ``keep``."""
    folder = Path(outdir) / INDEX_DIR
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexMismatch(f"{outdir} holds no dedup index ({folder}/meta.json is missing); "
                            "--against needs the OUTDIR of a newsclean dedup or run") from None
    except (OSError, ValueError) as e:
        raise IndexMismatch(f"cannot read the dedup index in {folder}: {e}") from None
    if meta.get("format") != FORMAT:
        raise IndexMismatch(f"{folder} is not a newsclean dedup index")
    if meta.get("version") != VERSION:
        raise IndexMismatch(f"{folder} is a version {meta.get('version')} newsclean dedup index; this newsclean "
                            f"reads version {VERSION} (re-run the previous batch with this version)")
    if params is not None:
        here = asdict(params)
        there = meta.get("params", {})
        diff = [f"{k}: {there.get(k)!r} there, {v!r} here" for k, v in here.items() if there.get(k) != v]
        diff += [f"{k}: {v!r} there, unset here" for k, v in there.items() if k not in here]
        if keep is not None and meta.get("keep") != keep:
            diff.append(f"keep: {meta.get('keep')!r} there, {keep!r} here")
        if diff:
            raise IndexMismatch(f"the previous run in {outdir} used other parameters ({'; '.join(diff)}); "
                                "--against needs the same parameters")

    def arr(name: str) -> np.ndarray:
        return np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)

    try:
        raw, offs = np.asarray(arr("names")).tobytes(), np.asarray(arr("name_offsets")).tolist()
        names = [raw[a:b].decode("utf-8", "surrogatepass") for a, b in itertools.pairwise(offs)]
        index = Index(
            names=names, cluster=np.asarray(arr("cluster")), digest=np.asarray(arr("digest")),
            row=np.asarray(arr("row")), wsig=arr("wsig"), ssig=arr("ssig"),
            wsets=arr("wsets"), wsets_offsets=np.asarray(arr("wsets_offsets")),
            ssets=arr("ssets"), ssets_offsets=np.asarray(arr("ssets_offsets")),
            params=meta["params"], keep=meta["keep"], similarity=np.asarray(arr("similarity")),
            composite=np.asarray(arr("composite")),
        )
    except (OSError, ValueError, KeyError) as e:
        raise IndexMismatch(f"cannot read the dedup index in {folder}: {e}") from None
    if index.size != meta.get("records") or index.rows != meta.get("rows") or not (
            len(index.similarity) == len(index.composite) == index.size):
        raise IndexMismatch(f"the dedup index in {folder} is incomplete")
    return index


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
                "keep": new.keep, "params": new.params}
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

"""The run manifest: what a run in OUTDIR was asked to do, so it can resume safely; and
the lock that keeps two runs out of one OUTDIR.

``OUTDIR/manifest.json`` records the command, the inputs (path, size, modification
time and a digest of the first and last 64 KiB of each file; the whole content's
digest for standard input), every parameter that can change a result, and their hash.
A run started on an OUTDIR that holds:

* nothing (or does not exist): starts;
* a manifest with the same hash: resumes — shards already finished (their folders in
  ``OUTDIR/work/``) are not computed again;
* a manifest with another hash, or files newsclean did not write: refuses with a
  message saying what differs, unless ``force``, which removes what newsclean wrote
  there (its outputs, ``index/``, ``work/``, the manifest) and starts over.  Other
  files are never removed.  A manifest that cannot be read, or is no JSON object,
  counts as another run's.

The digest of each input's first and last blocks catches an input edited in place
between a run that was killed and its resumption even when its size is the same and
its modification time was put back (a copy tool, ``touch -r``): such an edit is
refused, not mixed into one archive.  An edit of the same size that falls only in
the middle of a file over 128 KiB, with the time put back, is not seen.

Workers, engine and scheduler are not in the hash: they never change a result
(:meth:`newsclean.config.Config.fingerprint`).

:class:`OutdirLock` (``OUTDIR/.newsclean.lock``, ``flock``) is held by the run that
writes to OUTDIR: a second run started there meanwhile is refused at once
(:class:`RunInProgress`, naming the other run's process id).  The kernel releases
the lock of a process that dies, so a killed run never blocks the next one.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from ..io.atomic import hash_file

MANIFEST = "manifest.json"
WORK = "work"
LOCK = ".newsclean.lock"
# bump when the work folder's layout or the parameters' shape changes (2: newsclean.config;
# 3: inputs described by a digest of their first and last blocks too)
FORMAT = 3
EDGE_BYTES = 64 * 1024  # the blocks at each end of an input that its digest covers


class RunConflict(Exception):
    """OUTDIR holds another run (or foreign files) and ``--force`` was not given."""


class RunInProgress(RunConflict):
    """Another process is writing to OUTDIR right now."""


def describe_inputs(files: list[Any]) -> list[dict[str, Any]]:
    """Path, size, mtime and a digest of the first and last blocks of each input file."""
    out = []
    for f in files:
        entry: dict[str, Any] = {"source": f.source}
        if f.path is not None:
            try:
                st = os.stat(f.path)
                entry.update(path=str(Path(f.path).resolve()), size=st.st_size, mtime_ns=st.st_mtime_ns,
                             edges=edges_digest(Path(f.path), st.st_size))
            except OSError as e:
                entry.update(path=str(f.path), error=e.strerror or str(e))
        out.append(entry)
    return out


def describe_spooled_stdin(source: str, path: Path) -> dict[str, Any]:
    """The manifest entry of standard input copied to ``path``: its size and the digest
    of its whole content (not the copy's path or time, which every run makes anew), so
    that the same input piped in again resumes the run."""
    return {"source": source, "path": "<stdin>", "size": path.stat().st_size, "digest": file_digest(path)}


def edges_digest(path: Path, size: int) -> str:
    """SHA-256 of the first and the last :data:`EDGE_BYTES` of a file (all of a small one)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        digest.update(fh.read(EDGE_BYTES))
        if size > EDGE_BYTES:
            fh.seek(max(EDGE_BYTES, size - EDGE_BYTES))
            digest.update(fh.read(EDGE_BYTES))
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a whole file, read by blocks."""
    return hash_file(path, hashlib.sha256())


def _hash(doc: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def read_manifest(outdir: Path) -> dict[str, Any]:
    """OUTDIR's manifest, or ``{}`` when it cannot be read or is no JSON object."""
    try:
        doc = json.loads((outdir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def open_run(outdir: Path, command: str, inputs: list[dict[str, Any]], params: dict[str, Any], *,
             force: bool = False, owned: tuple[str, ...] = ()) -> tuple[dict[str, Any], bool]:
    """Check OUTDIR against this run; returns ``(manifest, resumed)``.

    ``owned``: the output names this command writes (removed by ``force``).
    """
    doc = {"format": FORMAT, "command": command, "inputs": inputs, "params": params}
    digest = _hash(doc)
    manifest = {**doc, "hash": digest}
    ours = {MANIFEST, WORK, "index", *owned}
    if outdir.exists() and not outdir.is_dir():
        raise RunConflict(f"{outdir} exists and is not a folder")
    present = sorted(p.name for p in outdir.iterdir()) if outdir.is_dir() else []
    old = read_manifest(outdir) if MANIFEST in present else None
    if old is not None and old.get("hash") == digest:
        return manifest, True
    leftovers = [p for p in present if not p.startswith(".")]
    if leftovers and not force:
        if old is not None:
            raise RunConflict(f"{outdir} holds another run ({_difference(old, doc)}); re-run with --force to "
                              "replace it, or choose another OUTDIR")
        raise RunConflict(f"{outdir} is not empty and holds no newsclean manifest ({', '.join(leftovers[:5])}); "
                          "re-run with --force to write there anyway, or choose another OUTDIR")
    for name in present:
        if name in ours:
            target = outdir / name
            shutil.rmtree(target) if target.is_dir() and not target.is_symlink() else target.unlink()
    outdir.mkdir(parents=True, exist_ok=True)
    write_manifest(outdir, manifest)
    return manifest, False


def write_manifest(outdir: Path, manifest: dict[str, Any]) -> None:
    tmp = outdir / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, outdir / MANIFEST)


def _difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    if not old:
        return "its manifest cannot be read"
    if old.get("format") != new["format"]:
        return "made by another version of newsclean"
    if old.get("command") != new["command"]:
        return f"made by 'newsclean {old.get('command')}'"
    if old.get("inputs") != new["inputs"]:
        return "other inputs, or inputs changed since"
    a = old.get("params") if isinstance(old.get("params"), dict) else {}
    b = new["params"]
    diff = [f"{k}: {a.get(k)!r} there, {b.get(k)!r} here" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return "other parameters: " + "; ".join(diff[:4]) if diff else "other settings"


class OutdirLock:
    """An exclusive, non-blocking lock on OUTDIR (``OUTDIR/.newsclean.lock``), held by
    the process that writes there; the file holds that process's id.

    Without ``fcntl`` (Windows), or on a file system that refuses locks, there is no
    lock (and nothing is refused).
    """

    def __init__(self, outdir: Path) -> None:
        self.path = Path(outdir) / LOCK
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> OutdirLock:
        """Take the lock, or raise :class:`RunInProgress` naming the process that holds it."""
        try:
            import fcntl
        except ImportError:
            return self
        while self._fd is None:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise RunInProgress(f"{self.path.parent} is being written by another newsclean run "
                                    f"({self._holder()}); wait for it to end, or choose another OUTDIR") from None
            except OSError:
                os.close(fd)  # no locks on this file system
                return self
            if self._same_file(fd):
                self._fd = fd
            else:  # the holder removed the file as we opened it: lock the new one
                os.close(fd)
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())
        return self

    def release(self) -> None:
        """Remove the lock file and let the lock go (the next run creates it again)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None

    def _same_file(self, fd: int) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except OSError:
            return False

    def _holder(self) -> str:
        try:
            pid = self.path.read_text(encoding="ascii").strip()
        except (OSError, ValueError):
            pid = ""
        return f"pid {pid}" if pid.isdigit() else "process id not written yet"

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

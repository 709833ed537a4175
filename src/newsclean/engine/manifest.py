"""The run manifest: what a run in OUTDIR was asked to do, so it can resume safely.

``OUTDIR/manifest.json`` records the command, the inputs (path, size, modification
time; a content hash for standard input), every parameter that can change a result,
and their hash.  A run started on an OUTDIR that holds:

* nothing (or does not exist): starts;
* a manifest with the same hash: resumes — shards already finished (their folders in
  ``OUTDIR/work/``) are not computed again;
* a manifest with another hash, or files newsclean did not write: refuses with a
  message saying what differs, unless ``force``, which removes what newsclean wrote
  there (its outputs, ``index/``, ``work/``, the manifest) and starts over.  Other
  files are never removed.

Workers, engine and scheduler are not in the hash: they never change a result
(:meth:`newsclean.config.Config.fingerprint`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
WORK = "work"
FORMAT = 2  # bump when the work folder's layout or the parameters' shape changes (2: newsclean.config)


class RunConflict(Exception):
    """OUTDIR holds another run (or foreign files) and ``--force`` was not given."""


def describe_inputs(files: list[Any]) -> list[dict[str, Any]]:
    """Path, size and mtime of each input file (``digest`` for spooled standard input)."""
    out = []
    for f in files:
        entry: dict[str, Any] = {"source": f.source}
        if f.path is not None:
            try:
                st = os.stat(f.path)
                entry.update(path=str(Path(f.path).resolve()), size=st.st_size, mtime_ns=st.st_mtime_ns)
            except OSError as e:
                entry.update(path=str(f.path), error=e.strerror or str(e))
        out.append(entry)
    return out


def _hash(doc: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def open_run(outdir: Path, command: str, inputs: list[dict[str, Any]], params: dict[str, Any], *,
             force: bool = False, owned: tuple[str, ...] = ()) -> tuple[dict[str, Any], bool]:
    """Check OUTDIR against this run; returns ``(manifest, resumed)``.

    ``owned``: the output names this command writes (removed by ``force``).
    """
    doc = {"format": FORMAT, "command": command, "inputs": inputs, "params": params}
    digest = _hash(doc)
    manifest = {**doc, "hash": digest}
    path = outdir / MANIFEST
    ours = {MANIFEST, WORK, "index", *owned}
    if outdir.exists() and not outdir.is_dir():
        raise RunConflict(f"{outdir} exists and is not a folder")
    present = sorted(p.name for p in outdir.iterdir()) if outdir.is_dir() else []
    old = None
    if MANIFEST in present:
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
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
            shutil.rmtree(target) if target.is_dir() else target.unlink()
    outdir.mkdir(parents=True, exist_ok=True)
    write_manifest(outdir, manifest)
    return manifest, False


def write_manifest(outdir: Path, manifest: dict[str, Any]) -> None:
    tmp = outdir / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, outdir / MANIFEST)


def _difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    if old.get("format") != new["format"]:
        return "made by another version of newsclean"
    if old.get("command") != new["command"]:
        return f"made by 'newsclean {old.get('command')}'"
    if old.get("inputs") != new["inputs"]:
        return "other inputs, or inputs changed since"
    a, b = old.get("params", {}), new["params"]
    diff = [f"{k}: {a.get(k)!r} there, {b.get(k)!r} here" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return "other parameters: " + "; ".join(diff[:4]) if diff else "other settings"

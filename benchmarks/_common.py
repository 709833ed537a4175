"""Helpers shared by the benchmark scripts (not part of the package, never shipped).

The evaluation material lives outside the repository, in ``../shared`` (it may not be
committed or shipped), so every script locates it at run time and skips cleanly
when it is absent.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import traceback
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO.parent / "shared"


def shared_or_skip(arg: str | None) -> Path:
    """Return the shared dir, or exit 0 with a clear message when it is not there.

    Exit 0 on purpose: the project must build and test where ../shared does not exist.
    """
    shared = Path(arg).resolve() if arg else DEFAULT_SHARED
    if not (shared / "bench" / "newsbench.py").is_file():
        print(f"skipped: ../shared not found (looked for {shared / 'bench' / 'newsbench.py'})")
        sys.exit(0)
    return shared


def load_newsbench(shared: Path) -> ModuleType:
    """Import the dev-set builder and scorers from the shared bench dir (never copied here)."""
    path = shared / "bench" / "newsbench.py"
    spec = importlib.util.spec_from_file_location("newsbench", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["newsbench"] = mod
    spec.loader.exec_module(mod)
    return mod


def make_dev(nb: ModuleType, outdir: Path) -> Path:
    """Build the dev sets with newsbench itself, so they match what the scorers expect."""
    outdir.mkdir(parents=True, exist_ok=True)
    nb.make_dev(outdir)
    return outdir


def load_cleaner():
    """Return ``(Cleaner(), None)`` or ``(None, traceback text)``.

    The package is being written concurrently; an import error should be reported
    with the reference systems still measured, not crash the run.
    """
    try:
        from newsclean.clean.pipeline import Cleaner

        return Cleaner(), None
    except Exception:  # noqa: BLE001 - anything the package raises on import
        return None, traceback.format_exc(limit=3)


def cli_available() -> bool:
    """True when ``python -m newsclean clean --help`` works (the CLI may not exist yet)."""
    try:
        r = subprocess.run([sys.executable, "-m", "newsclean", "clean", "--help"],
                           capture_output=True, timeout=60, cwd=REPO)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def verdict(ok: bool | None) -> str:
    return "info" if ok is None else ("PASS" if ok else "FAIL")


def print_table(rows: list[tuple], headers: tuple) -> None:
    """Plain fixed-width table (no rich dependency, so it pipes cleanly into logs)."""
    cells = [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("-" * len(line))
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))

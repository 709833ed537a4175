"""Worker processes end with the run that started them.

A run killed with ``kill -9`` cannot stop its workers; left running, they keep
working for nothing and hold the run's standard output and error open, so a caller
that reads them waits.  Each worker therefore calls :func:`die_with_parent` when it
starts (the process pool's initialiser; a plugin on Dask workers): on Linux the
kernel sends it ``SIGKILL`` when its parent ends (``prctl(PR_SET_PDEATHSIG)``);
elsewhere, or when the run is not its direct parent (a Dask worker forked by a fork
server), a thread checks every :data:`WATCH_SECONDS` that the parent and the run
still exist.

The kernel's signal follows the *thread* that started the worker: a pool must be
used from a thread that outlives it (the drivers use it from the main thread).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_SECONDS = 0.5


def die_with_parent(run: int | None = None) -> None:
    """End this process when its parent ends, and when process ``run`` does (default:
    the parent is the run)."""
    parent = os.getppid()
    signalled = _parent_death_signal()
    if os.getppid() != parent:  # the parent ended before the signal was asked for
        os._exit(1)
    if not signalled or (run is not None and run != parent):
        threading.Thread(target=_watch, args=(parent, run), name="newsclean-parent-watch", daemon=True).start()


def _parent_death_signal() -> bool:
    """Ask the kernel for SIGKILL when the parent ends (Linux); whether it was set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int, run: int | None) -> None:
    while os.getppid() == parent and (run is None or _exists(run)):
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return _state(pid) != "Z"  # a killed run that its own parent has not reaped yet


def _state(pid: int) -> str:
    """A process's state letter from /proc (R, S, Z...), or '' where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0].decode()
    except (OSError, IndexError):
        return ""

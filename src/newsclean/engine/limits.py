"""A per-document time limit, so one pathological document cannot stall a run.

On POSIX systems the limit is a real-time interval timer that raises
:class:`DocTimeout` in the main thread; elsewhere (other threads, Windows) it is a
no-op and the stages' own guarantees (linear-time patterns) are what protects the run.
Python delivers the signal between bytecodes, so every stage's work is interruptible:
no stage runs one unbounded C call (each regular expression is linear and bounded).
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class DocTimeout(Exception):
    """A document took longer than the allowed time."""


def _can_interrupt() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`DocTimeout` if the block runs longer than ``seconds`` (None: no limit).

    >>> with time_limit(5):
    ...     total = sum(range(1000))
    >>> total
    499500
    """
    if not seconds or seconds <= 0 or not _can_interrupt():
        yield
        return

    def _expired(signum, frame):  # noqa: ARG001 - signal handler signature
        raise DocTimeout(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

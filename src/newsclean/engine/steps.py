"""Named, timed steps: what a driver's run reads as, and what stats.json's timings hold.

>>> steps = Steps()
>>> with steps("cluster"):
...     pass
>>> sorted(steps.timings)
['cluster']

A run can be made to die abruptly (``os._exit(137)``, as ``kill -9`` would) at the start
of a named step, or at a named point inside one (:func:`kill_point`), by setting
``NEWSCLEAN_KILL_AT`` to that name: the fault-injection hook the resume and commit tests
use.  Points besides the steps' names: ``publish`` (every output of the run written
out to its temporary file, none renamed into place yet) and ``cleanup``
(``dedup``/``run``: the outputs in place and the manifest complete, the work folder
not removed yet).
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

KILL_AT_ENV = "NEWSCLEAN_KILL_AT"
KILLED_EXIT = 137  # what a shell reports for a process killed by SIGKILL


def kill_point(name: str) -> None:
    """Die at once, leaving everything as it is, if ``$NEWSCLEAN_KILL_AT`` names this point."""
    if os.environ.get(KILL_AT_ENV) == name:
        os._exit(KILLED_EXIT)


class Steps:
    """``with steps("name"): ...`` adds the block's seconds to ``timings["name"]`` (a step
    may run in parts: the events of ``dedup`` start before the clustering and finish
    after it); :meth:`finish` adds ``total``, the seconds since the steps began.
    :meth:`on_failure` registers what must be undone if a step fails (a lock let go)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.started = time.perf_counter()
        self._undo: list[Callable[[], None]] = []

    def on_failure(self, undo: Callable[[], None]) -> None:
        """Call ``undo()`` if a step ends with an exception (once; the exception goes on)."""
        self._undo.append(undo)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        kill_point(name)
        clock = time.perf_counter()
        try:
            yield
        except BaseException:
            undo, self._undo = self._undo, []
            for callback in undo:
                callback()
            raise
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - clock

    def finish(self) -> None:
        self.timings["total"] = time.perf_counter() - self.started

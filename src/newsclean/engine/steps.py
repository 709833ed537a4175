"""Named, timed steps: what a driver's run reads as, and what stats.json's timings hold.

>>> steps = Steps()
>>> with steps("cluster"):
...     pass
>>> sorted(steps.timings)
['cluster']
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Steps:
    """``with steps("name"): ...`` adds the block's seconds to ``timings["name"]`` (a step
    may run in parts: the events of ``dedup`` start before the clustering and finish
    after it); :meth:`finish` adds ``total``, the seconds since the steps began."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.started = time.perf_counter()

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        clock = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - clock

    def finish(self) -> None:
        self.timings["total"] = time.perf_counter() - self.started

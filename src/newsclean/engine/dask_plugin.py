"""The Dask worker plugin that ends the workers of a local cluster with the run
(:mod:`.lifetime`); imported only when ``--engine dask`` starts a ``LocalCluster``."""
from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from .lifetime import die_with_parent


class DieWithRun(WorkerPlugin):
    """On every worker of the cluster, including those started later to replace a dead
    one: end with the run's process ``run``."""

    name = "newsclean-die-with-run"

    def __init__(self, run: int) -> None:
        self.run = run

    def setup(self, worker: Any) -> None:
        die_with_parent(self.run)

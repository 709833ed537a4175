"""Running the same per-shard function inline, on a local process pool, or on Dask.

:func:`map_tasks` is the only thing the drivers call: it runs ``fn(task)`` for every
task and yields ``(position, result)`` as they finish.  The functions are pure (a
shard's outputs depend only on the shard and the parameters), so which engine ran
them, and in what order they finished, never changes the result.

* ``engine="local"``, ``workers=1`` (or a single task): in this process.
* ``engine="local"``, ``workers=N``: a :class:`~concurrent.futures.ProcessPoolExecutor`
  (``spawn``: no state inherited by accident).  A worker that dies (killed, out of
  memory, a crash in C code) breaks the pool: the unfinished tasks are retried in a
  fresh pool, and a task that was running during ``retries + 1`` breaks is reported
  with :class:`TaskFailed`.
* ``engine="dask"``: ``dask.distributed`` — a ``LocalCluster`` of ``workers``
  processes, or the cluster at ``scheduler`` (``tcp://host:8786``).  Dask retries a
  task whose worker died (``retries``).  Workers must see the same file system as
  this process (inputs and OUTDIR).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

ENGINES = ("local", "dask")


class TaskFailed(RuntimeError):
    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def map_tasks(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    retries: int = 1,
) -> Iterator[tuple[int, Any]]:
    """``(position, fn(tasks[position]))`` for every task, in completion order."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if not tasks:
        return
    if engine == "dask":
        yield from _dask(fn, tasks, workers, scheduler, retries)
    elif workers <= 1 or len(tasks) == 1:
        for k, t in enumerate(tasks):
            yield k, fn(t)
    else:
        yield from _pool(fn, tasks, workers, retries)


def _pool(fn: Callable[[Any], Any], tasks: Sequence[Any], workers: int, retries: int) -> Iterator[tuple[int, Any]]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")
    pending = list(range(len(tasks)))
    breaks = [0] * len(tasks)
    while pending:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(pending)), mp_context=ctx)
        broken = False
        try:
            running = {pool.submit(fn, tasks[k]): k for k in pending}
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    k = running.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        breaks[k] += 1
                        continue
                    pending.remove(k)
                    yield k, result
                if broken:
                    for fut, k in running.items():  # they went down with the pool
                        breaks[k] += 1
                    break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        if broken:
            dead = [k for k in pending if breaks[k] > retries]
            if dead:
                raise TaskFailed(dead[0], f"a worker process died {breaks[dead[0]]} times while running it")


def _dask(fn: Callable[[Any], Any], tasks: Sequence[Any], workers: int, scheduler: str | None,
          retries: int) -> Iterator[tuple[int, Any]]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise RuntimeError("--engine dask needs dask.distributed: pip install 'newsclean[dask]'") from None
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(fn, list(tasks), pure=False, retries=retries)
        position = {f.key: k for k, f in enumerate(futures)}
        for fut in as_completed(futures):
            yield position[fut.key], fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

"""Running the same per-shard function inline, on a local process pool, or on Dask.

An :class:`Engine` is the only executor the drivers use: :meth:`Engine.map` runs
``fn(task)`` for every task and yields ``(position, result)`` as they finish (the
per-shard steps of ``dedup`` and ``run``); :meth:`Engine.imap` yields results in task
order from a stream of tasks, a bounded number at a time (the record loop of
``clean``).  The functions are pure (a
shard's outputs depend only on the shard and the parameters), so which engine ran
them, and in what order they finished, never changes the result.

* ``engine="local"``, ``workers=1`` (or a single task): in this process.
* ``engine="local"``, ``workers=N``: a :class:`~concurrent.futures.ProcessPoolExecutor`
  (``spawn``: no state inherited by accident), whose workers end with this process
  even when it is killed (:mod:`.lifetime`).  A worker that dies (killed, out of
  memory, a crash in C code) breaks the pool: the unfinished tasks are retried in a
  fresh pool, and a task that was running during ``retries + 1`` breaks is reported
  with :class:`TaskFailed`.
* ``engine="dask"``: ``dask.distributed`` — a ``LocalCluster`` of ``workers``
  processes (ending with this process, like the pool's), or the cluster at
  ``scheduler`` (``tcp://host:8786``).  Dask retries a
  task whose worker died (``retries``).  Workers must see the same file system as
  this process (inputs and OUTDIR): tasks carry paths and small settings, never data.

The local cluster is set up for this kind of work (:data:`DASK_LOCAL_CONFIG`): no
dashboard, quiet logs, one thread per worker process, no work stealing (tasks are
few and of similar size), workers forked from a ``forkserver`` that imported Dask
once (starts in ~0.9 s instead of ~1.4 s, closes in 0.05 s instead of 0.3 s), and
glibc's own memory trimming — Dask's default ``MALLOC_TRIM_THRESHOLD_=65536`` also
switches off glibc's adaptive mmap threshold, so every large numpy array is a fresh
``mmap`` whose pages fault in again (the events stage ran 1.7x slower).
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from .lifetime import die_with_parent

ENGINES = ("local", "dask")
DASK_LOCAL_CONFIG: dict[str, Any] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,  # None: not set (glibc's default)
    "distributed.scheduler.work-stealing": False,
}
if "forkserver" in multiprocessing.get_all_start_methods():  # workers forked from one that imported Dask once
    DASK_LOCAL_CONFIG["distributed.worker.multiprocessing-method"] = "forkserver"


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


class Engine:
    """Runs per-shard functions; keeps its process pool or Dask cluster between calls
    to :meth:`map` (a run maps twice: starting workers once saves seconds).  Use as a
    context manager, or call :meth:`close`."""

    def __init__(self, workers: int = 1, engine: str = "local", scheduler: str | None = None,
                 retries: int = 1) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        self.workers, self.engine, self.scheduler, self.retries = workers, engine, scheduler, retries
        self._pool: Any = None
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """``(position, fn(tasks[position]))`` for every task, in completion order.

        On a pool or a cluster the tasks start at once, before their results are asked
        for, so the caller can do other work meanwhile; inline, each runs when its
        result is asked for.
        """
        if not tasks:
            return iter(())
        if self.engine == "dask":
            return self._dask(fn, tasks)
        if self.workers <= 1 or len(tasks) == 1:
            return ((k, fn(t)) for k, t in enumerate(tasks))
        return self._local(fn, tasks)

    def imap(self, fn: Callable[[Any], Any], tasks: Iterable[Any], *, window: int) -> Iterator[Any]:
        """``fn(task)`` for every task, in task order, with at most ``window`` tasks given
        out at once: tasks are taken from ``tasks`` as results are, so a stream of any
        length runs in bounded memory.  A worker that dies raises :class:`TaskFailed`
        (a stream cannot be replayed, so there is no retry)."""
        if self.engine == "local" and self.workers <= 1:
            yield from map(fn, tasks)
            return
        submit = self._dask_client().submit if self.engine == "dask" else self._local_pool().submit
        running: deque[Any] = deque()
        position = 0
        for task in tasks:
            running.append(submit(fn, task, pure=False) if self.engine == "dask" else submit(fn, task))
            if len(running) >= window:
                yield self._in_order(running.popleft(), position)
                position += 1
        while running:
            yield self._in_order(running.popleft(), position)
            position += 1

    @staticmethod
    def _in_order(future: Any, position: int) -> Any:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool:
            raise TaskFailed(position, "a worker process died while running it") from None

    def _local_pool(self) -> Any:
        if self._pool is None:
            self._pool = self._new_pool()
        return self._pool

    def _new_pool(self) -> Any:
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=die_with_parent, initargs=(os.getpid(),))

    def _local(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        running = {self._local_pool().submit(fn, t): k for k, t in enumerate(tasks)}
        return self._local_results(fn, tasks, running)

    def _local_results(self, fn: Callable[[Any], Any], tasks: Sequence[Any],
                       running: dict[Any, int]) -> Iterator[tuple[int, Any]]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        pending = list(range(len(tasks)))
        breaks = [0] * len(tasks)
        while pending:
            if not running:  # after a break: the unfinished ones again, in a fresh pool
                if self._pool is None:
                    self._pool = self._new_pool()
                running = {self._pool.submit(fn, tasks[k]): k for k in pending}
            broken = False
            try:
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
                        for k in running.values():  # they went down with the pool
                            breaks[k] += 1
                        running = {}
                        break
            except BaseException:
                for fut in running:
                    fut.cancel()
                raise
            if broken:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
                dead = [k for k in pending if breaks[k] > self.retries]
                if dead:
                    raise TaskFailed(dead[0], f"a worker process died {breaks[dead[0]]} times while running it")

    def _dask(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        client = self._dask_client()
        futures = client.map(fn, list(tasks), pure=False, retries=self.retries)
        return self._dask_results(futures)

    @staticmethod
    def _dask_results(futures: list[Any]) -> Iterator[tuple[int, Any]]:
        from dask.distributed import as_completed

        position = {f.key: k for k, f in enumerate(futures)}
        for fut in as_completed(futures):
            yield position[fut.key], fut.result()

    def _dask_client(self) -> Any:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise RuntimeError("--engine dask needs dask.distributed: pip install 'newsclean[dask]'") from None
        from .dask_plugin import DieWithRun

        if self._client is None:
            if self.scheduler:
                self._client = Client(self.scheduler)
            else:
                import logging

                import dask

                with dask.config.set(DASK_LOCAL_CONFIG):
                    self._cluster = LocalCluster(n_workers=max(1, self.workers), threads_per_worker=1,
                                                 processes=True, dashboard_address=None,
                                                 silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
                self._client.register_plugin(DieWithRun(os.getpid()))
        return self._client


def map_tasks(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    retries: int = 1,
) -> Iterator[tuple[int, Any]]:
    """``(position, fn(tasks[position]))`` for every task, in completion order (one-off :class:`Engine`)."""
    with Engine(workers, engine, scheduler, retries) as runner:
        yield from runner.map(fn, tasks)

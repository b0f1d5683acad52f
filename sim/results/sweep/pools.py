"""Where a sweep's tasks run: a local process pool, a Dask cluster or a given executor, with
how many workers it has and how a task's input files travel to them.

On Dask each grid point's files are scattered once and every task names them, so a file goes
to a worker once, not once per task; the workers read nothing from their own disks, so a
cluster needs no shared filesystem.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sim.results.sweep.errors import SweepError

__all__ = ["Pool", "check_executor", "open_pool"]


def _by_value(files: Mapping[str, bytes]) -> Any:
    return files


@dataclass(frozen=True)
class Pool:
    """An executor, its number of workers, and ``ship``: files -> what a task is given for them."""

    executor: Executor
    workers: int
    ship: Callable[[Mapping[str, bytes]], Any] = _by_value


def check_executor(executor: str | Executor, address: str | None, workers: int | None) -> None:
    if isinstance(executor, Executor):
        return
    if executor not in ("local", "dask"):
        raise SweepError(f"--executor: expected local or dask, got {executor!r}")
    if address is not None and executor != "dask":
        raise SweepError("--address: names a dask scheduler; add --executor dask")
    if workers is not None and workers < 1:
        raise SweepError(f"--workers: must be >= 1, got {workers}")


@contextmanager
def open_pool(kind: str | Executor, address: str | None, workers: int | None) -> Iterator[Pool]:
    """The pool to run on (``workers``: default one per CPU); one made here is shut down here."""
    count = workers or os.cpu_count() or 1
    if isinstance(kind, Executor):
        yield Pool(kind, count)
    elif kind == "dask":
        with _dask_pool(address, count) as pool:
            yield pool
    else:
        from sim.results.sweep.procs import local_pool

        executor = local_pool(count)
        try:
            yield Pool(executor, count)
        finally:
            executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _dask_pool(address: str | None, workers: int) -> Iterator[Pool]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepError("--executor dask needs dask.distributed: pip install "
                         "'mvsched[dist]'") from None
    cluster = None if address else LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        client = Client(address or cluster)
    except OSError as exc:
        raise SweepError(f"--address {address}: no dask scheduler answers ({exc})") from None
    try:
        threads = sum(client.nthreads().values()) or workers

        def ship(files: Mapping[str, bytes]) -> Any:
            return client.scatter([files], hash=False)[0]

        yield Pool(client.get_executor(pure=False), threads, ship)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

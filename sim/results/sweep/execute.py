"""Running a sweep's tasks in-process or on Dask, each run written atomically as it
finishes, resumable after a kill."""


import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from sim.common.atomic import write_text_atomic
from sim.config.inputs import load_inputs
from sim.results import layout
from sim.results.sweep.aggregate import aggregate, csv_text
from sim.results.sweep.errors import SweepError
from sim.results.sweep.load import load_sweep
from sim.results.sweep.lock import remove_temp_files, sweep_lock
from sim.results.sweep.runs import recompute_line, run_path, todo
from sim.results.sweep.spec import RunTask, Sweep, SweepResult, point_text
from sim.results.sweep.trust import fingerprint, input_digest


# -- running ------------------------------------------------------------------------------
def run_one(task: RunTask) -> dict[str, Any]:
    """Run one point on one seed (in a worker): its identity and overall metrics."""
    import warnings

    from sim.config.plausibility import PlausibilityWarning
    from sim.runner import run_inputs

    with warnings.catch_warnings():  # load_sweep has shown them once already
        warnings.simplefilter("ignore", PlausibilityWarning)
        inputs = load_inputs(task.scenario, seed=task.seed, overrides=task.overrides)
    result = run_inputs(inputs, [task.scheduler], out=None)[0]
    seen = input_digest(inputs)  # as this worker read them
    return {**task.identity(), "inputs": seen,
            "fingerprint": fingerprint(task.scenario_sha256, task.key, seen),
            "overall": result.metrics["overall"]}


def run_sweep(sweep: Sweep | str | os.PathLike[str], out: str | os.PathLike[str],
              executor: str | Executor = "local", address: str | None = None,
              workers: int | None = None, progress: bool = False,
              on_result: Callable[[dict[str, Any]], None] | None = None,
              on_notice: Callable[[str], None] | None = None) -> SweepResult:
    """Run every run of the sweep whose file ``out/runs/<key>.json`` is missing or was
    computed from other inputs than the current ones, then write ``out/sweep.csv``.

    ``executor``: ``"local"`` (a spawn process pool of ``workers``, default one per CPU),
    ``"dask"`` (the scheduler at ``address``, else a local cluster of ``workers`` processes)
    or any :class:`concurrent.futures.Executor`. ``on_result`` sees each record once its file
    is written; ``on_notice`` gets the line saying which runs are recomputed and why. While it
    runs, ``out`` is locked: another sweep into it raises
    :class:`sim.results.sweep.lock.SweepLocked`, a :class:`SweepError`.
    """
    sw = sweep if isinstance(sweep, Sweep) else load_sweep(sweep)
    folder = Path(out)
    _check_executor(executor, address, workers)
    tasks = sw.tasks()
    with sweep_lock(folder):
        remove_temp_files(folder)
        pending, stale, why = todo(folder, tasks)
        if stale and on_notice is not None:
            on_notice(recompute_line(stale, why))
        write_text_atomic(folder / layout.SWEEP_YAML, _resolved_yaml(sw))
        if pending:
            with _executor(executor, address, workers or os.cpu_count() or 1) as pool:
                _drive(pool, pending, folder, sw, progress, on_result)
        rows = aggregate(sw, folder)
        path = write_text_atomic(folder / layout.SWEEP_CSV, csv_text(rows))
    return SweepResult(rows, len(tasks), len(tasks) - len(pending), path, stale)


def _resolved_yaml(sw: Sweep) -> str:
    """The sweep as run: absolute scenario path, explicit seeds and schedulers."""
    d = {"scenario": str(sw.scenario), "seeds": list(sw.seeds),
         "schedulers": list(sw.schedulers), "grid": sw.spec.grid, "params": sw.spec.params}
    head = f"# {sw.source} as run (mvsched sweep); run files in runs/, summary in sweep.csv\n"
    return head + yaml.safe_dump(d, sort_keys=False, default_flow_style=None)


def _check_executor(executor: str | Executor, address: str | None,
                    workers: int | None) -> None:
    if isinstance(executor, Executor):
        return
    if executor not in ("local", "dask"):
        raise SweepError(f"--executor: expected local or dask, got {executor!r}")
    if address is not None and executor != "dask":
        raise SweepError("--address: names a dask scheduler; add --executor dask")
    if workers is not None and workers < 1:
        raise SweepError(f"--workers: must be >= 1, got {workers}")


@contextmanager
def _executor(kind: str | Executor, address: str | None, workers: int) -> Iterator[Executor]:
    """The pool to run on; one made here is shut down here."""
    if isinstance(kind, Executor):
        yield kind
    elif kind == "dask":
        with _dask_executor(address, workers) as pool:
            yield pool
    else:
        from sim.results.sweep.procs import local_pool

        pool = local_pool(workers)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _dask_executor(address: str | None, workers: int) -> Iterator[Executor]:
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
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _drive(pool: Executor, tasks: Sequence[RunTask], out: Path, sw: Sweep, progress: bool,
           on_result: Callable[[dict[str, Any]], None] | None) -> None:
    """Submit every task; write each result as soon as it completes. Progress: a bar on a
    terminal, else one plain line per finished run (:func:`sim.runner.progress_line`)."""
    import time

    from tqdm import tqdm

    from sim.runner import progress_bars, progress_line

    bars = progress and progress_bars()
    start = time.perf_counter()
    futures: dict[Future[dict[str, Any]], RunTask] = {pool.submit(run_one, t): t for t in tasks}
    try:
        with tqdm(total=len(tasks), desc=sw.source.stem, unit="run", disable=not bars) as bar:
            for done, fut in enumerate(as_completed(futures), 1):
                task = futures[fut]
                record = _outcome(fut, task, sw)
                write_text_atomic(run_path(out, record["key"]),
                                  json.dumps(record, indent=1) + "\n")
                bar.update()
                if progress and not bars:
                    point = ", ".join(filter(None, (point_text(task.grid), point_text(task.params))))
                    progress_line(done, len(tasks), f"{task.scheduler} seed {task.seed}"
                                  f"{' (' + point + ')' if point else ''}",
                                  f"{time.perf_counter() - start:.1f} s since the start")
                if on_result is not None:
                    on_result(record)
    finally:
        for fut in futures:
            fut.cancel()


def _outcome(fut: Future[dict[str, Any]], task: RunTask, sw: Sweep) -> dict[str, Any]:
    try:
        return fut.result()
    except ValueError as exc:
        point = ", ".join(filter(None, (point_text(task.grid), point_text(task.params))))
        raise SweepError(f"{sw.source}: run {task.key} ({task.scheduler}, seed {task.seed}"
                         f"{', ' + point if point else ''}): {exc}") from None



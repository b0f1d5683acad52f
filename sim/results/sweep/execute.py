"""Running a sweep's tasks in-process or on Dask, each run written atomically as it
finishes, resumable after a kill.

A task is a batch of runs (:mod:`sim.results.sweep.batches`) with the files its grid point read
when the sweep was loaded; the worker reads those and nothing else, and sends back each run's
record, which this process writes. So a worker needs neither the inputs nor the results folder
on its disk.
"""


import json
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from pathlib import Path
from typing import Any, NoReturn

import yaml

from sim.common.atomic import write_text_atomic
from sim.common.input_files import input_overlay
from sim.config.inputs import load_inputs
from sim.results import layout
from sim.results.sweep.aggregate import aggregate, csv_text
from sim.results.sweep.batches import Batch, RunFailure, batches, run_each
from sim.results.sweep.errors import SweepError
from sim.results.sweep.load import load_sweep
from sim.results.sweep.lock import remove_temp_files, sweep_lock
from sim.results.sweep.pools import Pool, check_executor, open_pool
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


def run_batch(tasks: Sequence[RunTask],
              files: Mapping[str, bytes]) -> list[dict[str, Any] | RunFailure]:
    """Run several runs in one worker task, reading only ``files`` (absolute path -> content,
    ``Sweep.files``): each run's record, or its failure in its place."""
    with input_overlay(files):
        return run_each(run_one, tasks)


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
    check_executor(executor, address, workers)
    tasks = sw.tasks()
    with sweep_lock(folder):
        remove_temp_files(folder)
        pending, stale, why = todo(folder, tasks)
        if stale and on_notice is not None:
            on_notice(recompute_line(stale, why))
        write_text_atomic(folder / layout.SWEEP_YAML, _resolved_yaml(sw))
        if pending:
            with open_pool(executor, address, workers) as pool:
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


def _drive(pool: Pool, tasks: Sequence[RunTask], out: Path, sw: Sweep, progress: bool,
           on_result: Callable[[dict[str, Any]], None] | None) -> None:
    """Submit the runs in batches, each with its grid point's files; write each run's result
    as soon as its batch completes. Progress: a bar on a terminal, else one plain line per
    finished run (:func:`sim.runner.progress_line`)."""
    import time

    from tqdm import tqdm

    from sim.runner import progress_bars

    bars = progress and progress_bars()
    start = time.perf_counter()
    groups = batches(tasks, pool.workers)
    shipped = {o: pool.ship(sw.files[o]) for o in dict.fromkeys(b.overrides for b in groups)}
    futures: dict[Future[list[dict[str, Any] | RunFailure]], Batch] = {
        pool.executor.submit(run_batch, b.tasks, shipped[b.overrides]): b for b in groups}
    done = 0
    try:
        with tqdm(total=len(tasks), desc=sw.source.stem, unit="run", disable=not bars) as bar:
            for fut in as_completed(futures):
                failed: tuple[RunTask, RunFailure] | None = None
                for task, got in zip(futures[fut].tasks, fut.result(), strict=True):
                    if isinstance(got, RunFailure):
                        failed = failed or (task, got)
                        continue
                    write_text_atomic(run_path(out, got["key"]), json.dumps(got, indent=1) + "\n")
                    done += 1
                    bar.update()
                    if progress and not bars:
                        _progress_line(done, len(tasks), task, start)
                    if on_result is not None:
                        on_result(got)
                if failed is not None:
                    _raise_failure(*failed, sw)
    finally:
        for fut in futures:
            fut.cancel()


def _progress_line(done: int, total: int, task: RunTask, start: float) -> None:
    import time

    from sim.runner import progress_line

    point = _point(task)
    progress_line(done, total, f"{task.scheduler} seed {task.seed}"
                  f"{' (' + point + ')' if point else ''}",
                  f"{time.perf_counter() - start:.1f} s since the start")


def _point(task: RunTask) -> str:
    return ", ".join(filter(None, (point_text(task.grid), point_text(task.params))))


def _raise_failure(task: RunTask, failure: RunFailure, sw: Sweep) -> NoReturn:
    """A run's ValueError as one line naming the run; any other error as it was raised."""
    if isinstance(failure.error, ValueError):
        point = _point(task)
        raise SweepError(f"{sw.source}: run {task.key} ({task.scheduler}, seed {task.seed}"
                         f"{', ' + point if point else ''}): {failure.error}") from None
    failure.reraise()

"""A sweep's runs grouped into worker tasks, and a run's failure carried back from one.

A task costs a round trip through the executor (on Dask, milliseconds of scheduling and the
shipping of its files), as much as a short run takes, so several runs of one grid point, which
read the same files, go in one task. Enough tasks remain for every worker to get several, so
one slow task does not leave the others idle. A run that fails does not stop the others of its
task: its exception comes back in its place (:class:`RunFailure`).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from sim.results.sweep.spec import RunTask, point_overrides

__all__ = ["MAX_RUNS_PER_TASK", "TASKS_PER_WORKER", "Batch", "RunFailure", "batches",
           "run_each"]

TASKS_PER_WORKER = 4
"""Fewest tasks per worker that batching leaves (when there are that many runs)."""
MAX_RUNS_PER_TASK = 16
"""Most runs in one task: a finished task reports its runs' progress at once."""


@dataclass(frozen=True)
class Batch:
    """Runs of one grid point (``overrides``, the key of ``Sweep.files``) run by one task."""

    overrides: tuple[str, ...]
    tasks: tuple[RunTask, ...]


def batches(tasks: Sequence[RunTask], workers: int) -> list[Batch]:
    """The runs in tasks of at most :data:`MAX_RUNS_PER_TASK` runs of one grid point, about
    equal in size, and at least :data:`TASKS_PER_WORKER` per worker when runs allow it."""
    size = max(1, min(MAX_RUNS_PER_TASK, len(tasks) // (max(1, workers) * TASKS_PER_WORKER)))
    groups: dict[tuple[str, ...], list[RunTask]] = {}
    for task in tasks:
        groups.setdefault(point_overrides(task.grid), []).append(task)
    out = []
    for overrides, group in groups.items():
        parts = -(-len(group) // size)
        base, extra = divmod(len(group), parts)
        at = 0
        for k in range(parts):
            n = base + (k < extra)
            out.append(Batch(overrides, tuple(group[at:at + n])))
            at += n
    return out


class WorkerTraceback(Exception):
    """Where a run failed in its worker: the cause shown under a re-raised error."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class RunFailure:
    """A run's exception, in its place among its task's results, with the worker's trace."""

    error: Exception
    trace: str

    def reraise(self) -> NoReturn:
        raise self.error from WorkerTraceback(self.trace)


def run_each(run: Callable[[RunTask], dict[str, Any]],
             tasks: Sequence[RunTask]) -> list[dict[str, Any] | RunFailure]:
    """Each run's record, or its :class:`RunFailure`; one failure does not stop the rest."""
    out: list[dict[str, Any] | RunFailure] = []
    for task in tasks:
        try:
            out.append(run(task))
        except Exception as exc:
            out.append(RunFailure(exc, traceback.format_exc()))
    return out

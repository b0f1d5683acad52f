"""A sweep's run files, ``OUT/runs/<key>.json``: which to (re)compute on resume, and which
may go into ``sweep.csv``.

A run file whose scenario digest is not the sweep's belongs to another sweep: it is refused.
One whose fingerprint (:mod:`sim.results.sweep.trust`) is not the one its inputs have now was
computed from other profiles, traces or another mvsched version: a resumed sweep recomputes
it and says so in one line, and aggregation refuses it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sim.results.sweep.errors import SweepError
from sim.results.sweep.trust import changes

__all__ = ["current_run", "read_run", "recompute_line", "run_path", "todo"]


class RunTask(Protocol):
    """What is read here of a :class:`sim.results.sweep.RunTask`."""

    @property
    def key(self) -> str: ...
    @property
    def scenario(self) -> str: ...
    @property
    def scenario_sha256(self) -> str: ...
    @property
    def inputs(self) -> Mapping[str, Any]: ...
    @property
    def fingerprint(self) -> str: ...


T = TypeVar("T", bound=RunTask)


def run_path(out: Path, key: str) -> Path:
    return out / "runs" / f"{key}.json"


def read_run(path: Path) -> dict[str, Any]:
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepError(f"{path}: missing; run the sweep to compute it") from None
    except (ValueError, OSError) as exc:
        raise SweepError(f"{path}: not a readable run file ({exc}); delete it to recompute "
                         "that run") from None
    if not isinstance(rec, dict) or not isinstance(rec.get("overall"), dict):
        raise SweepError(f"{path}: not a sweep run file (no 'overall' metrics); delete it to "
                         "recompute that run")
    return rec


def _other_scenario(path: Path, task: RunTask) -> SweepError:
    return SweepError(f"{path}: computed from another version of {task.scenario}; use "
                      f"another --out, or delete {path.parent} to recompute")


def todo(out: Path, tasks: Sequence[T]) -> tuple[list[T], int, list[str]]:
    """The runs to compute: those without a file, and those whose file was computed from
    other inputs (how many of those, and what changed)."""
    pending: list[T] = []
    stale, why = 0, {}
    for task in tasks:
        path = run_path(out, task.key)
        if not path.exists():
            pending.append(task)
            continue
        rec = read_run(path)
        if rec.get("scenario_sha256") != task.scenario_sha256:
            raise _other_scenario(path, task)
        changed = changes(rec, task.inputs, task.fingerprint, Path(task.scenario))
        if changed:
            pending.append(task)
            stale += 1
            why.update(dict.fromkeys(changed))
    return pending, stale, list(why)


def recompute_line(stale: int, why: Sequence[str]) -> str:
    """``N runs recomputed: inputs changed (profiles/cpu-1t/x.json)``."""
    shown = list(why[:3]) + ([f"+{len(why) - 3} more"] if len(why) > 3 else [])
    return (f"{stale} run{'s' if stale != 1 else ''} recomputed: inputs changed "
            f"({', '.join(shown)})")


def current_run(out: Path, task: RunTask) -> dict[str, Any]:
    """The run's record, if computed from the sweep's scenario and its current inputs."""
    path = run_path(out, task.key)
    rec = read_run(path)
    if rec.get("scenario_sha256") != task.scenario_sha256:
        raise _other_scenario(path, task)
    changed = changes(rec, task.inputs, task.fingerprint, Path(task.scenario))
    if changed:
        raise SweepError(f"{path}: computed from other inputs than this sweep's (changed: "
                         f"{', '.join(changed)}); run the sweep again to recompute it")
    return rec

"""The Python API for notebooks: load a scenario, run it under schedulers, get plain rows.

    >>> from sim.runner import run_scenario
    >>> results = run_scenario("scenarios/default.yaml")          # every listed scheduler
    >>> results[0].metrics["overall"]["accuracy"]
    >>> import pandas as pd; pd.DataFrame(results[0].frames())   # one row per frame

The CLI is a thin layer over these functions.

Progress (``progress=True``) is drawn as bars only when stderr is a terminal; otherwise
(a log file, a pipe, CI) it is one plain line per finished run, ``run 2/4: nestdnn done
(60 simulated s in 0.8 s)``, with no carriage return or cursor control in it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.common.paths import name_problem
from sim.config.inputs import RunInputs, load_inputs
from sim.config.scenario import Scenario, ScenarioError, SchedulerSpec
from sim.engine.world import EngineResult, Simulation
from sim.results.folder import (
    ResultsFolderError,
    cannot_write,
    check_replaceable,
    mark,
    replacing,
)
from sim.results.metrics import compute_metrics, frame_rows, write_outputs
from sim.schedulers.base import Scheduler
from sim.schedulers.contract import AppSetup
from sim.schedulers.contract import scheduler_misfit as contract_misfit
from sim.schedulers.registry import SchedulerError, create_scheduler

__all__ = [
    "RunResult", "create_schedulers", "progress_bars", "progress_line", "resolved_scenario",
    "run_inputs", "run_scenario", "scheduler_misfit",
]


def progress_bars() -> bool:
    """Whether progress may be drawn as bars: only on a terminal, since a bar's carriage
    returns and cursor movements end up as garbage in a log file."""
    err = sys.stderr
    try:
        return bool(err is not None and err.isatty())
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def progress_line(done: int, total: int, what: str, how_long: str) -> None:
    """One plain progress line on stderr, ``run 2/4: nestdnn done (60 simulated s in
    0.8 s)``, for output that is not a terminal."""
    print(f"run {done}/{total}: {what} done ({how_long})", file=sys.stderr, flush=True)


@dataclass
class RunResult:
    """One scheduler's run: metrics as a dict, the raw engine result, where files went."""

    label: str
    metrics: dict[str, Any]
    engine: EngineResult
    out_dir: Path | None = None

    def frames(self) -> list[dict[str, Any]]:
        return frame_rows(self.engine)

    def timeline(self) -> list[dict[str, Any]]:
        return [d._asdict() for d in self.engine.timeline]


def resolved_scenario(inputs: RunInputs) -> dict[str, Any]:
    """The scenario as run, with file paths made absolute so the output folder reproduces it."""
    base = inputs.source.parent.resolve()
    d = inputs.scenario.model_dump(mode="json")
    d["profiles_dir"] = str((base / d["profiles_dir"]).resolve())

    def fix(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("kind") == "csv" and "path" in node:
                node["path"] = str((base / node["path"]).resolve())
            for v in node.values():
                fix(v)
        elif isinstance(node, list):
            for v in node:
                fix(v)

    fix(d)
    return d


def _specs(inputs: RunInputs, names: Sequence[str] | None) -> list[SchedulerSpec]:
    if not names:
        return list(inputs.scenario.schedulers)
    by_key = {s.key: s for s in inputs.scenario.schedulers}
    return [by_key.get(n, SchedulerSpec(name=n)) for n in names]


def create_schedulers(
    inputs: RunInputs, names: Sequence[str] | None = None
) -> list[tuple[SchedulerSpec, Scheduler]]:
    """Instantiate the schedulers to run; errors name the scenario file and the entry."""
    listed = list(inputs.scenario.schedulers)
    made = []
    for spec in _specs(inputs, names):
        where = f"schedulers[{listed.index(spec)}]" if spec in listed else "--scheduler"
        try:
            sched = create_scheduler(spec.name, **spec.params)
        except SchedulerError as exc:
            raise ScenarioError(f"{inputs.source}: {where}: {exc}") from None
        problem = scheduler_misfit(sched, inputs)
        if problem:
            raise ScenarioError(f"{inputs.source}: {where}: {problem}")
        made.append((spec, sched))
    return made


def scheduler_misfit(sched: Scheduler, inputs: RunInputs) -> str | None:
    """Why a scheduler cannot run this scenario's apps (None if it can): the contract's rule,
    :func:`sim.schedulers.contract.scheduler_misfit`."""
    sc = inputs.scenario
    apps = [AppSetup(app.name, app.family, inputs.profiles[app.family],
                     inputs.server_profiles.get(app.family)) for app in sc.apps]
    return contract_misfit(sched, apps, sc.server.name if sc.server is not None else None)


def run_inputs(
    inputs: RunInputs,
    schedulers: Sequence[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool = False,
    *,
    count: tuple[int, int, str] | None = None,
) -> list[RunResult]:
    """Run resolved inputs under each scheduler (default: those the scenario lists).

    A name the scenario lists uses its parameters; any other registered name runs with its
    defaults. With ``out``, each run writes its files to ``out/<label>/``, which it replaces
    whole once they are all written (nothing of an earlier run stays in it). ``progress``:
    bars on a terminal, else a plain line per run; ``count`` (runs before these, runs in
    all, text after each label) numbers those lines for a caller running several batches.
    """
    from tqdm import tqdm

    made = create_schedulers(inputs, schedulers)  # fail before running anything
    if out is not None:
        out = Path(out)
        _prepare_out(out, [spec.key for spec, _ in made], inputs)
    results = []
    duration = inputs.scenario.duration_s
    bars = progress and progress_bars()
    before, total, note = count or (0, len(made), "")
    for i, (spec, sched) in enumerate(tqdm(made, desc=inputs.scenario.name, disable=not bars,
                                           unit="run")):
        start = time.perf_counter()
        with tqdm(total=duration, desc=f"  {spec.key}", disable=not bars, leave=False,
                  bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} "
                             "simulated s [{elapsed}<{remaining}]") as bar:
            def tick(now: float, bar: Any = bar) -> None:
                bar.update(now - bar.n)

            # the same stretches of simulated time whether or not a bar shows them
            eng = Simulation(inputs, sched, label=spec.key).run(tick if progress else None)
        metrics = compute_metrics(eng)
        res = RunResult(spec.key, metrics, eng)
        if out is not None:
            res.out_dir = out / spec.key
            with replacing(res.out_dir, legacy="metrics.json") as folder:
                write_outputs(eng, metrics, folder, resolved_scenario(inputs))
        results.append(res)
        if progress and not bars:
            progress_line(before + i + 1, total, spec.key + note,
                          f"{duration:g} simulated s in {time.perf_counter() - start:.1f} s")
    return results


def _prepare_out(out: Path, labels: Sequence[str], inputs: RunInputs) -> None:
    """Refuse, before anything runs, a label that is no safe folder name or a run folder
    that must not be replaced; a new or empty ``out`` gets our marker."""
    for label in labels:
        problem = name_problem(label)
        if problem:
            raise ScenarioError(f"{inputs.source}: scheduler label {label!r} {problem}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        if next(out.iterdir(), None) is None:
            mark(out)
    except OSError as exc:
        raise cannot_write(out, exc) from None
    for label in labels:
        check_replaceable(out / label, legacy="metrics.json")


def run_scenario(
    path: str | os.PathLike[str] | dict[str, Any] | Scenario,
    schedulers: Sequence[str] | None = None,
    seed: int | None = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool = False,
    overrides: Sequence[str] = (),
) -> list[RunResult]:
    """Load, resolve and run a scenario: a file, a mapping or a :class:`Scenario`;
    ``overrides`` are ``PATH=VALUE`` changes (:mod:`sim.config.overrides`). With ``out``, the runs
    replace ``out`` whole once all are written: no scheduler folder of an earlier run into
    the same place stays beside them."""
    inputs = load_inputs(path, seed=seed, overrides=overrides)
    if out is None:
        return run_inputs(inputs, schedulers, None, progress)
    out = Path(out)
    with replacing(out) as folder:
        try:
            results = run_inputs(inputs, schedulers, folder, progress)
        except ResultsFolderError as exc:  # name the folder the user gave, not ours
            raise ResultsFolderError(str(exc).replace(str(folder), str(out))) from None
    for res in results:
        res.out_dir = out / res.label
    return results

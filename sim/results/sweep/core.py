"""``mvsched sweep``: a scenario over a grid of field values, scheduler parameters and seeds,
run in parallel, resumable, and summarised as one ``sweep.csv`` row per point.

A sweep file (YAML) names a scenario (relative to the sweep file), the seeds (``n``: the
scenario's seed and the next ``n - 1``, or a list), optionally the scheduler labels to run
(default: all the scenario lists), a ``grid`` of dotted scenario paths (:mod:`sim.config.overrides`)
to lists of values (their full product, for every scheduler) and ``params``: per scheduler
label, parameter lists whose product varies only that scheduler's runs. One run is a grid
point, a scheduler, its parameter point and a seed. Every point is validated by the scenario
itself before anything runs, so a typo costs an error line, not a half-finished sweep.

Each finished run is written atomically to ``OUT/runs/<key>.json`` (the key hashes the run's
identity), so a re-run after a kill computes only the runs whose file is missing. Runs are
deterministic, so the results do not depend on the executor that ran them. A run file also
records the content of every profile and trace file the run read and the mvsched version
(:mod:`sim.results.sweep.trust`): a re-run recomputes the runs whose inputs changed since, and
``sweep.csv`` is made only of runs computed from the current ones. One sweep at a time
writes to a folder (:mod:`sim.results.sweep.lock`); a killed local sweep leaves no worker behind
(:mod:`sim.results.sweep.procs`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from sim.atomic import write_text_atomic
from sim.config.inputs import RunInputs, load_inputs
from sim.config.overrides import OverrideError, split_path
from sim.paths import path_problem
from sim.config.scenario import MAX_SEEDS, load_scenario
from sim.results.sweep.errors import SweepError
from sim.results.sweep.lock import remove_temp_files, sweep_lock
from sim.results.sweep.runs import current_run, recompute_line, run_path, todo
from sim.results.sweep.trust import FileHasher, fingerprint, input_digest
from sim.yaml_input import read_yaml

__all__ = [
    "RunTask", "Sweep", "SweepError", "SweepResult", "SweepSpec", "aggregate", "load_sweep",
    "run_key", "run_one", "run_sweep",
]

_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


MAX_RUNS = 100_000
"""Most runs in one sweep (points x schedulers x parameter points x seeds)."""


class SweepSpec(BaseModel):
    """The sweep file as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str
    seeds: int | list[int] = 1
    schedulers: list[str] | None = None
    grid: dict[str, list[Any]] = {}
    params: dict[str, dict[str, list[Any]]] = {}

    @field_validator("grid", "params", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return {} if v is None else v

    @field_validator("scenario")
    @classmethod
    def _scenario_path(cls, v: str) -> str:
        problem = path_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("seeds", mode="before")
    @classmethod
    def _seeds(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (int, list)):
            raise ValueError(f"expected a number of seeds (>= 1) or a list of seeds, got {v!r}")
        if isinstance(v, int) and not 1 <= v <= MAX_SEEDS:
            raise ValueError(f"expected 1 to {MAX_SEEDS} seeds, got {v}")
        if isinstance(v, list):
            if not v:
                raise ValueError("an empty list runs nothing")
            if len(v) > MAX_SEEDS:
                raise ValueError(f"expected at most {MAX_SEEDS} seeds, got a list of {len(v)}")
            for i, s in enumerate(v):
                if isinstance(s, bool) or not isinstance(s, int):
                    raise ValueError(f"item [{i}] {s!r} is not an integer seed")
                if s in v[:i]:
                    raise ValueError(f"seed {s} is listed twice")
        return v


@dataclass(frozen=True)
class RunTask:
    """One run, self-contained so that any worker process can execute it."""

    key: str
    scenario: str
    overrides: tuple[str, ...]
    scheduler: str
    grid: Mapping[str, Any]
    params: Mapping[str, Any]
    seed: int
    scenario_sha256: str
    inputs: Mapping[str, Any]
    """the files the run reads, by content hash, and the mvsched version (sim.results.sweep.trust)"""

    @property
    def fingerprint(self) -> str:
        """Digest of everything the run's result depends on, as the sweep sees it now."""
        return fingerprint(self.scenario_sha256, self.key, self.inputs)

    def identity(self) -> dict[str, Any]:
        return {"key": self.key, "scheduler": self.scheduler, "grid": dict(self.grid),
                "params": dict(self.params), "seed": self.seed,
                "scenario_sha256": self.scenario_sha256}


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: every point checked against the scenario, ready to run."""

    source: Path
    spec: SweepSpec
    scenario: Path
    seeds: tuple[int, ...]
    schedulers: tuple[str, ...]
    grid_points: tuple[dict[str, Any], ...]
    params_points: Mapping[str, tuple[dict[str, Any], ...]]
    param_paths: Mapping[str, str]
    """scheduler label -> ``schedulers[i].params``, the path its parameters override"""
    scenario_sha256: str
    inputs: Mapping[tuple[str, ...], Mapping[str, Any]]
    """grid point's overrides -> the input digest of its runs (sim.results.sweep.trust)"""

    def points(self) -> Iterator[tuple[dict[str, Any], str, dict[str, Any]]]:
        """(grid point, scheduler, params point) in the order of ``sweep.csv``."""
        for g in self.grid_points:
            for label in self.schedulers:
                for p in self.params_points[label]:
                    yield g, label, p

    def tasks(self) -> list[RunTask]:
        return [RunTask(run_key(g, label, p, s), str(self.scenario),
                        _overrides(g) + _overrides(p, self.param_paths[label]),
                        label, g, p, s, self.scenario_sha256, self.inputs[_overrides(g)])
                for g, label, p in self.points() for s in self.seeds]


@dataclass(frozen=True)
class SweepResult:
    """The ``sweep.csv`` rows and how many runs this call computed or found done."""

    rows: list[dict[str, Any]]
    runs: int
    skipped: int
    csv: Path
    recomputed: int = 0
    """runs whose file was there but computed from other inputs (counted in computed)"""

    @property
    def computed(self) -> int:
        return self.runs - self.skipped


def run_key(grid: Mapping[str, Any], scheduler: str, params: Mapping[str, Any],
            seed: int) -> str:
    """First 16 hex digits of the sha256 of the run's canonical identity."""
    ident = {"grid": dict(grid), "scheduler": scheduler, "params": dict(params), "seed": seed}
    return hashlib.sha256(_canonical(ident).encode("utf-8")).hexdigest()[:16]


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def _value_text(value: Any) -> str:
    """A value as the YAML text an override carries; it must read back as the same value."""
    text = yaml.safe_dump(value, default_flow_style=True, width=2**31 - 1).strip()
    return text.removesuffix("...").strip()


def _overrides(point: Mapping[str, Any], prefix: str = "") -> tuple[str, ...]:
    """``PATH=VALUE`` texts of a grid point, or of a params point under ``prefix``."""
    return tuple(f"{prefix + '.' if prefix else ''}{path}={_value_text(v)}"
                 for path, v in point.items())


def _product(axes: Mapping[str, list[Any]]) -> tuple[dict[str, Any], ...]:
    return tuple(dict(zip(axes, vals)) for vals in itertools.product(*axes.values()))


def _show(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_value_text(v)}" for k, v in point.items())


# -- loading and checking -----------------------------------------------------------------
def load_sweep(path: str | os.PathLike[str]) -> Sweep:
    """Read a sweep file and check every point against its scenario before anything runs."""
    src = Path(path)
    spec = _parse(src)
    check = _Checker(src, (src.parent / spec.scenario).resolve())
    base = check.inputs((), "scenario")
    labels, param_paths = _labels(check, spec, [s.key for s in base.scenario.schedulers])
    _check_size(check, spec, labels)
    _check_shape(check, spec)
    seeds = _seed_list(check, spec, base.scenario.seed)
    grid_points = _check_grid(check, spec, base)
    params_points = {label: _product(spec.params.get(label, {})) for label in labels}
    for label in labels:
        _check_params(check, spec, label, param_paths[label], grid_points)
    digest = hashlib.sha256(_canonical(base.scenario.model_dump(mode="json")).encode())
    hasher = FileHasher()
    inputs = {_overrides(g): input_digest(check.inputs(_overrides(g), "grid"), hasher)
              for g in grid_points}
    return Sweep(src, spec, check.scenario, seeds, labels, grid_points, params_points,
                 param_paths, digest.hexdigest(), inputs)


def _parse(src: Path) -> SweepSpec:
    raw = read_yaml(src, "sweep", SweepError)
    if not isinstance(raw, dict):
        raise SweepError(f"{src}: expected a mapping with keys {list(SweepSpec.model_fields)}, "
                         f"got {type(raw).__name__}")
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise SweepError(_validation_line(src, exc)) from None


def _validation_line(src: Path, exc: ValidationError) -> str:
    """The first error as ``file: field.path[i]: message``."""
    errs = exc.errors()
    err = errs[0]
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = f"unknown key; a sweep has {', '.join(SweepSpec.model_fields)}"
    elif err["type"] not in ("missing", "value_error") and not isinstance(err["input"], dict | list):
        msg += f" (got {err['input']!r})"
    more = f" [+{len(errs) - 1} more]" if len(errs) > 1 else ""
    return f"{src}: {loc or '(top level)'}: {msg}{more}"


class _Checker:
    """Loads the scenario under overrides (each set once); errors name the sweep field."""

    def __init__(self, src: Path, scenario: Path) -> None:
        self.src, self.scenario = src, scenario
        self._cache: dict[tuple[str, ...], RunInputs] = {}

    def error(self, where: str, exc: Exception | str, overrides: Sequence[str] = ()) -> SweepError:
        msg = str(exc)
        for text in overrides:
            msg = msg.replace(f"--set {text!r}: ", "")
        return SweepError(f"{self.src}: {where}: {msg}")

    def inputs(self, overrides: tuple[str, ...], where: str) -> RunInputs:
        if overrides not in self._cache:
            try:
                self._cache[overrides] = load_inputs(self.scenario, overrides=overrides)
            except ValueError as exc:
                raise self.error(where, exc, overrides) from None
        return self._cache[overrides]


def _labels(check: _Checker, spec: SweepSpec,
            listed: list[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The labels to run, and the override path of each one's parameters."""
    chosen = listed if spec.schedulers is None else spec.schedulers
    if not chosen:
        raise check.error("schedulers", "an empty list runs nothing; leave it out to run "
                                        "every scheduler the scenario lists")
    for i, label in enumerate(chosen):
        if label not in listed:
            raise check.error(f"schedulers[{i}]", f"unknown scheduler label {label!r}; the "
                                                  f"scenario lists {listed}")
        if label in chosen[:i]:
            raise check.error(f"schedulers[{i}]", f"{label!r} is listed twice")
    for label in spec.params:
        if label not in listed:
            raise check.error(f"params.{label}", f"unknown scheduler label {label!r}; the "
                                                 f"scenario lists {listed}")
        if label not in chosen:
            raise check.error(f"params.{label}", f"{label!r} is not among the sweep's "
                                                 f"schedulers {list(chosen)}")
    return tuple(chosen), {label: f"schedulers[{listed.index(label)}].params" for label in chosen}


def _check_size(check: _Checker, spec: SweepSpec, labels: Sequence[str]) -> None:
    """Refuse a sweep of more than MAX_RUNS runs before expanding any product."""
    seeds = spec.seeds if isinstance(spec.seeds, int) else len(spec.seeds)
    grid = math.prod(len(v) for v in spec.grid.values())
    params = sum(math.prod(len(v) for v in spec.params.get(label, {}).values())
                 for label in labels)
    runs = grid * params * seeds
    if runs > MAX_RUNS:
        raise check.error("grid", f"{runs:,} runs ({grid:,} grid points x {params:,} scheduler "
                                  f"settings x {seeds} seeds); at most {MAX_RUNS:,} per sweep")


def _check_shape(check: _Checker, spec: SweepSpec) -> None:
    """Paths that name fields, parameter names, lists that are not empty and not repeated."""
    fields: dict[tuple[str | int, ...], str] = {}
    for path, values in spec.grid.items():
        try:
            parts = tuple(split_path(path))
        except OverrideError as exc:
            raise check.error(f"grid.{path}", exc, [path]) from None
        if "=" in path or path != path.strip():
            raise check.error(f"grid.{path}", "expected a dotted path such as apps[0].fps")
        if parts[0] == "seed":
            raise check.error(f"grid.{path}", "the seed is varied by 'seeds', not the grid")
        if parts in fields:
            raise check.error(f"grid.{path}", f"names the same field as grid.{fields[parts]}")
        fields[parts] = path
        _check_values(check, f"grid.{path}", values)
    for label, axes in spec.params.items():
        for name, values in axes.items():
            if not _PARAM_NAME.fullmatch(name):
                raise check.error(f"params.{label}.{name}", "expected a parameter name "
                                                            "(letters, digits and _)")
            _check_values(check, f"params.{label}.{name}", values)


def _check_values(check: _Checker, where: str, values: list[Any]) -> None:
    if not values:
        raise check.error(where, "an empty list gives no runs")
    seen: set[str] = set()
    for i, v in enumerate(values):
        if yaml.safe_load(_value_text(v)) != v:
            raise check.error(f"{where}[{i}]", f"{v!r} does not read back from YAML")
        if _canonical(v) in seen:
            raise check.error(f"{where}[{i}]", f"{v!r} is listed twice")
        seen.add(_canonical(v))


def _seed_list(check: _Checker, spec: SweepSpec, first: int) -> tuple[int, ...]:
    seeds = range(first, first + spec.seeds) if isinstance(spec.seeds, int) else spec.seeds
    for s in {min(seeds), max(seeds)}:
        try:
            load_scenario(check.scenario, seed=s)
        except ValueError as exc:
            raise check.error("seeds", f"seed {s}: {exc}") from None
    return tuple(seeds)


def _check_grid(check: _Checker, spec: SweepSpec, base: RunInputs) -> tuple[dict[str, Any], ...]:
    """Each value alone first, so an error names the value; then every combination."""
    for path, values in spec.grid.items():
        for v in values:
            check.inputs(_overrides({path: v}), f"grid.{path}: value {_value_text(v)}")
    points = _product(spec.grid)
    listed = [s.key for s in base.scenario.schedulers]
    for g in points:
        got = [s.key for s in check.inputs(_overrides(g), f"grid point {_show(g)}")
               .scenario.schedulers]
        if got != listed:
            raise check.error(f"grid point {_show(g)}", f"changes the scenario's scheduler "
                                                        f"labels {listed} to {got}")
    return points


def _check_params(check: _Checker, spec: SweepSpec, label: str, prefix: str,
                  grid_points: Sequence[dict[str, Any]]) -> None:
    """Create the scheduler once per parameter value, then once per point and grid point."""
    from sim.runner import create_schedulers

    def create(g: dict[str, Any], p: dict[str, Any], where: str) -> None:
        inputs = check.inputs(_overrides(g), f"grid point {_show(g)}")
        ov = _overrides(g) + _overrides(p, prefix)
        try:
            create_schedulers(replace(inputs, scenario=load_scenario(check.scenario,
                                                                      overrides=ov)), [label])
        except ValueError as exc:
            raise check.error(where, exc, ov) from None

    axes = spec.params.get(label, {})
    for name, values in axes.items():
        for v in values:
            create({}, {name: v}, f"params.{label}.{name}: value {_value_text(v)}")
    for g in grid_points:
        for p in _product(axes):
            at = f" at grid point {_show(g)}" if g else ""
            create(g, p, f"params.{label}: {_show(p) or 'scenario parameters'}{at}")


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
        write_text_atomic(folder / "sweep.yaml", _resolved_yaml(sw))
        if pending:
            with _executor(executor, address, workers or os.cpu_count() or 1) as pool:
                _drive(pool, pending, folder, sw, progress, on_result)
        rows = aggregate(sw, folder)
        path = write_text_atomic(folder / "sweep.csv", _csv_text(rows))
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
                    point = ", ".join(filter(None, (_show(task.grid), _show(task.params))))
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
        point = ", ".join(filter(None, (_show(task.grid), _show(task.params))))
        raise SweepError(f"{sw.source}: run {task.key} ({task.scheduler}, seed {task.seed}"
                         f"{', ' + point if point else ''}): {exc}") from None


# -- aggregation --------------------------------------------------------------------------
def aggregate(sweep: Sweep, out: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One row per (grid point, scheduler, params point), from the run files in
    ``out/runs``: the mean and 95% interval over seeds of every overall metric (the same
    columns whatever the results: :func:`_metric_keys`). A run
    file computed from another scenario or other inputs than the sweep's now is refused."""
    from sim.results.compare import summarize

    folder = Path(out)
    runs = {t.key: current_run(folder, t)["overall"] for t in sweep.tasks()}
    keys = _metric_keys(runs.values())
    names = list(dict.fromkeys(n for label in sweep.schedulers
                               for n in sweep.spec.params.get(label, {})))
    rows = []
    for g, label, p in sweep.points():
        group = [{"scheduler": label, **runs[run_key(g, label, p, s)]} for s in sweep.seeds]
        stats = summarize(group, keys)[0]
        row: dict[str, Any] = {"scheduler": label, **{k: _cell(v) for k, v in g.items()},
                               **{f"params.{n}": _cell(p.get(n)) for n in names},
                               "seeds": len(group)}
        for k in keys:
            row[f"{k}_mean"], row[f"{k}_ci95"] = stats[k], stats[f"{k}_ci95"]
        rows.append(row)
    return rows


WALL_CLOCK = ("decision_ms_median",)
"""overall metrics measured in wall time (None unless timed): not in ``sweep.csv``"""


def _metric_keys(runs: Iterable[Mapping[str, Any]]) -> list[str]:
    """The metrics of ``sweep.csv``, whatever the results: every name of
    :data:`sim.results.compare.COLUMNS` but the wall-clock ones, in that order (an empty cell where a
    run lacks the value), then any other overall metric that is a number (or None) in every
    run and a number in some."""
    from sim.results.compare import COLUMNS

    some: dict[str, bool] = {}
    other: set[str] = set()
    for overall in runs:
        for k, v in overall.items():
            number = isinstance(v, (int, float)) and not isinstance(v, bool)
            some[k] = some.get(k, False) or number
            if not number and v is not None:
                other.add(k)
    extra = [k for k, yes in some.items() if yes and k not in other]
    return [k for k in dict.fromkeys([*COLUMNS, *extra]) if k not in WALL_CLOCK]


def _cell(v: Any) -> Any:
    """A parameter value as a CSV cell: scalars as they are, structures as compact JSON."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None or isinstance(v, (int, float, str)):
        return v
    return _canonical(v)


def _csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for r in rows for k in r)),
                       lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()

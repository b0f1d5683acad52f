"""Loading a sweep file and checking every point against the scenario before anything
runs, so a typo costs one error line, not a half-finished sweep.

Every file is read once, while loading (:func:`sim.common.input_files.recording_inputs`): the
checks, the input digests and the runs all see that version, and the runs of each grid point
get the files it read (``Sweep.files``) shipped with them, so a worker needs no shared
filesystem.
"""


import hashlib
import math
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.common.input_files import recording_inputs
from sim.config.inputs import RunInputs, load_inputs
from sim.config.overrides import OverrideError, split_path
from sim.config.scenario import load_scenario
from sim.config.yaml_input import read_yaml
from sim.results.sweep.errors import SweepError
from sim.results.sweep.spec import (
    MAX_RUNS,
    PARAM_NAME,
    Sweep,
    SweepSpec,
    canonical_json,
    grid_product,
    point_overrides,
    point_text,
    value_text,
)
from sim.results.sweep.trust import FileHasher, input_digest


# -- loading and checking -----------------------------------------------------------------
def load_sweep(path: str | os.PathLike[str]) -> Sweep:
    """Read a sweep file and check every point against its scenario before anything runs."""
    with recording_inputs():  # one version of each file for every check and digest
        return _load(Path(path))


def _load(src: Path) -> Sweep:
    spec = _parse(src)
    check = _Checker(src, (src.parent / spec.scenario).resolve())
    base = check.inputs((), "scenario")
    labels, param_paths = _labels(check, spec, [s.key for s in base.scenario.schedulers])
    _check_size(check, spec, labels)
    _check_shape(check, spec)
    seeds = _seed_list(check, spec, base.scenario.seed)
    grid_points = _check_grid(check, spec, base)
    params_points = {label: grid_product(spec.params.get(label, {})) for label in labels}
    for label in labels:
        _check_params(check, spec, label, param_paths[label], grid_points)
    digest = hashlib.sha256(canonical_json(base.scenario.model_dump(mode="json")).encode())
    inputs, files = {}, {}
    for g in grid_points:
        ov = point_overrides(g)
        with recording_inputs() as hashed:  # a fresh hasher: a run reads what it hashes
            inputs[ov] = input_digest(check.inputs(ov, "grid"), FileHasher())
        files[ov] = {**check.read[ov], **hashed}
    return Sweep(src, spec, check.scenario, seeds, labels, grid_points, params_points,
                 param_paths, digest.hexdigest(), inputs, files)


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
        self.read: dict[tuple[str, ...], dict[str, bytes]] = {}
        """overrides -> the files their scenario read (input_key -> content)"""

    def error(self, where: str, exc: Exception | str, overrides: Sequence[str] = ()) -> SweepError:
        msg = str(exc)
        for text in overrides:
            msg = msg.replace(f"--set {text!r}: ", "")
        return SweepError(f"{self.src}: {where}: {msg}")

    def inputs(self, overrides: tuple[str, ...], where: str) -> RunInputs:
        if overrides not in self._cache:
            try:
                with recording_inputs() as read:
                    self._cache[overrides] = load_inputs(self.scenario, overrides=overrides)
            except ValueError as exc:
                raise self.error(where, exc, overrides) from None
            self.read[overrides] = read
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
            if not PARAM_NAME.fullmatch(name):
                raise check.error(f"params.{label}.{name}", "expected a parameter name "
                                                            "(letters, digits and _)")
            _check_values(check, f"params.{label}.{name}", values)


def _check_values(check: _Checker, where: str, values: list[Any]) -> None:
    if not values:
        raise check.error(where, "an empty list gives no runs")
    seen: set[str] = set()
    for i, v in enumerate(values):
        if yaml.safe_load(value_text(v)) != v:
            raise check.error(f"{where}[{i}]", f"{v!r} does not read back from YAML")
        if canonical_json(v) in seen:
            raise check.error(f"{where}[{i}]", f"{v!r} is listed twice")
        seen.add(canonical_json(v))


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
            check.inputs(point_overrides({path: v}), f"grid.{path}: value {value_text(v)}")
    points = grid_product(spec.grid)
    listed = [s.key for s in base.scenario.schedulers]
    for g in points:
        got = [s.key for s in check.inputs(point_overrides(g), f"grid point {point_text(g)}")
               .scenario.schedulers]
        if got != listed:
            raise check.error(f"grid point {point_text(g)}", f"changes the scenario's scheduler "
                                                        f"labels {listed} to {got}")
    return points


def _check_params(check: _Checker, spec: SweepSpec, label: str, prefix: str,
                  grid_points: Sequence[dict[str, Any]]) -> None:
    """Create the scheduler once per parameter value, then once per point and grid point."""
    from sim.runner import create_schedulers

    def create(g: dict[str, Any], p: dict[str, Any], where: str) -> None:
        inputs = check.inputs(point_overrides(g), f"grid point {point_text(g)}")
        ov = point_overrides(g) + point_overrides(p, prefix)
        try:
            create_schedulers(replace(inputs, scenario=load_scenario(check.scenario,
                                                                      overrides=ov)), [label])
        except ValueError as exc:
            raise check.error(where, exc, ov) from None

    axes = spec.params.get(label, {})
    for name, values in axes.items():
        for v in values:
            create({}, {name: v}, f"params.{label}.{name}: value {value_text(v)}")
    for g in grid_points:
        for p in grid_product(axes):
            at = f" at grid point {point_text(g)}" if g else ""
            create(g, p, f"params.{label}: {point_text(p) or 'scenario parameters'}{at}")



"""What a sweep is: the sweep file's data model, the checked sweep (base inputs, grid points,
seeds, tasks) and the key that names each run."""


import hashlib
import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from sim.common.paths import path_problem
from sim.config.limits import MAX_SEEDS
from sim.results.sweep.trust import fingerprint

PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    files: Mapping[tuple[str, ...], Mapping[str, bytes]] = field(repr=False, compare=False)
    """grid point's overrides -> the files its runs read (absolute path -> content), as read
    when the sweep was loaded; shipped with its runs, which read nothing else"""

    def points(self) -> Iterator[tuple[dict[str, Any], str, dict[str, Any]]]:
        """(grid point, scheduler, params point) in the order of ``sweep.csv``."""
        for g in self.grid_points:
            for label in self.schedulers:
                for p in self.params_points[label]:
                    yield g, label, p

    def tasks(self) -> list[RunTask]:
        return [RunTask(run_key(g, label, p, s), str(self.scenario),
                        point_overrides(g) + point_overrides(p, self.param_paths[label]),
                        label, g, p, s, self.scenario_sha256, self.inputs[point_overrides(g)])
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
    return hashlib.sha256(canonical_json(ident).encode("utf-8")).hexdigest()[:16]


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def value_text(value: Any) -> str:
    """A value as the YAML text an override carries; it must read back as the same value."""
    text = yaml.safe_dump(value, default_flow_style=True, width=2**31 - 1).strip()
    return text.removesuffix("...").strip()


def point_overrides(point: Mapping[str, Any], prefix: str = "") -> tuple[str, ...]:
    """``PATH=VALUE`` texts of a grid point, or of a params point under ``prefix``."""
    return tuple(f"{prefix + '.' if prefix else ''}{path}={value_text(v)}"
                 for path, v in point.items())


def grid_product(axes: Mapping[str, list[Any]]) -> tuple[dict[str, Any], ...]:
    return tuple(dict(zip(axes, vals)) for vals in itertools.product(*axes.values()))


def point_text(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={value_text(v)}" for k, v in point.items())



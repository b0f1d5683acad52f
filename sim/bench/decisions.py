"""Decision-time benchmark of the NestDNN solvers on synthetic random instances.

The instances are generated, not measured: each app gets a random multi-capacity family
(3-6 nested descendants whose size, latency and accuracy grow together, accuracy with
diminishing returns), a frame rate, a latency goal, an accuracy floor and a priority; the
memory budget is a random fraction of the apps' largest models and the available capacity is
random. They exercise the solvers the way a device with a few to many apps does; they say
nothing about any real network. ``mvsched bench`` prints the rows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm import tqdm  # type: ignore[import-untyped]

from sim.profile import DeviceInfo, LatencyStats, Measured, Profile, Task, Variant
from sim.schedulers.base import AppView, SystemView
from sim.schedulers.builtin.nestdnn.exact import solve_exact, solve_ilp
from sim.schedulers.builtin.nestdnn.greedy import solve_greedy
from sim.schedulers.builtin.nestdnn.problem import build_problem, evaluate, to_plan

__all__ = ["bench_decisions", "synthetic_profile", "synthetic_view"]

_SOLVERS = {"exact": solve_exact, "greedy": solve_greedy, "ilp": solve_ilp}
_MB = 1_000_000
_GAP_FLOOR = 0.01
"""Relative gaps divide by max(optimum, 0.01): one accuracy point, so that optima near 0 do
not turn a tiny absolute difference into a huge ratio."""


def synthetic_profile(rng: np.random.Generator, family: str) -> Profile:
    """A random multi-capacity family (plus one independent copy of its largest model)."""
    n = int(rng.integers(3, 7))
    size = np.sort(rng.uniform(2, 60, n)) * _MB
    lat = np.sort(rng.uniform(3, 90, n))
    top1 = np.sort(0.95 - rng.uniform(0.0, 0.4, n) ** 1.5)
    variants = [
        Variant(
            id=f"d{i}",
            arch=f"synthetic descendant {i}",
            weight_bytes=int(size[i]),
            peak_activation_bytes=int(rng.uniform(0.5, 4) * _MB),
            latency_ms=LatencyStats(median=float(lat[i])),
            top1=float(top1[i]),
            parent=f"d{i - 1}" if i else None,
            shared_bytes=int(size[i - 1]) if i else 0,
        )
        for i in range(n)
    ]
    variants.append(
        variants[-1].model_copy(update={"id": "vanilla", "parent": None, "independent": True})
    )
    return Profile(
        family=family,
        kind="multi_capacity",
        task=Task(dataset="synthetic", classes=10, input_shape=(3, 32, 32), eval_samples=0),
        provenance=Measured(tool="synthetic generator (not a measurement)", tool_version="0"),
        device=DeviceInfo(name="synthetic", processor="none", framework="none"),
        variants=tuple(variants),
    )


def synthetic_view(rng: np.random.Generator, n_apps: int) -> SystemView:
    """A random system with ``n_apps`` running apps (see the module docstring)."""
    apps = []
    for k in range(n_apps):
        profile = synthetic_profile(rng, f"fam{k}")
        fps = float(rng.choice([5.0, 10.0, 15.0, 30.0]))
        floor = float(rng.uniform(0.0, 0.7)) if rng.random() < 0.5 else 0.0
        apps.append(
            AppView(
                name=f"app{k:02d}",
                family=profile.family,
                profile=profile,
                fps=fps,
                latency_goal_ms=1000.0 / fps * float(rng.uniform(0.5, 1.5)),
                accuracy_floor=floor,
                priority=float(rng.choice([1.0, 1.0, 2.0, 3.0])),
                current=None,
                latency_ratio=float(rng.uniform(0.9, 1.2)),
            )
        )
    largest = sum(max(v.known_weight_bytes() for v in a.profile.variants) for a in apps)
    return SystemView(
        time_s=0.0,
        reason="bench",
        apps=tuple(apps),
        capacity=float(rng.uniform(0.5, 1.0)),
        memory_budget_bytes=int(largest * rng.uniform(0.3, 0.8)),
        storage_read_bytes_per_s=100.0 * _MB,
    )


def _objective_value(worst_total: tuple[float, float], objective: str) -> float:
    return worst_total[0] if objective == "minmax" else worst_total[1]


def bench_decisions(
    app_counts: Sequence[int] = (2, 6, 12, 25, 50),
    trials: int = 50,
    seed: int = 0,
    quick: bool = False,
    solvers: Sequence[str] = ("exact", "greedy"),
    share_step: float = 0.05,
) -> list[dict[str, Any]]:
    """Rows of (apps, solver, objective) with median/p90/p99/max decision time in ms and, for every
    solver but "exact", the mean and max relative gap of its cost to the exact optimum (the
    objective's value: total for MinTotalCost, worst app for MinMaxCost; see ``_GAP_FLOOR``).

    A decision is timed end to end (option table + solver + plan), as the engine sees it.
    One untimed warm-up decision per solver comes first; ``quick`` runs 5 trials. Rows also
    give the mean number of apps left running after eviction.
    """
    unknown = set(solvers) - set(_SOLVERS)
    if unknown:
        raise ValueError(f"solvers: unknown {sorted(unknown)}; known: {sorted(_SOLVERS)}")
    trials = 5 if quick else trials
    rows: list[dict[str, Any]] = []
    jobs = [(n, obj) for n in app_counts for obj in ("mintotal", "minmax")]
    for n_apps, objective in tqdm(jobs, desc="bench decisions", leave=False):
        rng = np.random.default_rng([seed, n_apps])
        times: dict[str, list[float]] = {s: [] for s in solvers}
        gaps: dict[str, list[float]] = {s: [] for s in solvers}
        running = []
        warm = build_problem(synthetic_view(np.random.default_rng(seed), n_apps))
        for name in ("exact", *solvers):  # untimed warm-up (imports, caches)
            _SOLVERS[name](warm, objective)  # type: ignore[operator]
        for _ in range(trials):
            view = synthetic_view(rng, n_apps)
            optimum = None
            for name in ("exact", *[s for s in solvers if s != "exact"]):
                t0 = time.perf_counter_ns()
                problem = build_problem(view, share_step=share_step)
                assignment = _SOLVERS[name](problem, objective)  # type: ignore[operator]
                to_plan(problem, assignment)
                elapsed = (time.perf_counter_ns() - t0) / 1e6
                value = _objective_value(evaluate(problem, assignment), objective)
                if name == "exact":
                    optimum = value
                    running.append(len(problem.apps))
                if name in times:
                    times[name].append(elapsed)
                    if name != "exact" and optimum is not None:
                        gaps[name].append((value - optimum) / max(abs(optimum), _GAP_FLOOR))
        for name in solvers:
            t = np.array(times[name])
            g = np.array(gaps[name]) if gaps[name] else None
            rows.append(
                {
                    "apps": n_apps,
                    "running": float(np.mean(running)),
                    "solver": name,
                    "objective": objective,
                    "median_ms": float(np.median(t)),
                    "p90_ms": float(np.percentile(t, 90)),
                    "p99_ms": float(np.percentile(t, 99)),
                    "max_ms": float(t.max()),
                    "mean_gap": None if g is None else float(g.mean()),
                    "max_gap": None if g is None else float(g.max()),
                    "trials": trials,
                }
            )
    return rows

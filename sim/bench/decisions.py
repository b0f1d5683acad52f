"""Decision-time benchmark of the NestDNN solvers on synthetic random instances.

The instances are generated, not measured (:func:`sim.schedulers.check_views.synthetic_view`,
the generator the scheduler contract checks use too): random multi-capacity families, frame
rates, goals, floors and priorities, a random memory budget and capacity. They exercise the
solvers the way a device with a few to many apps does; they say nothing about any real
network. ``mvsched bench`` prints the rows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm import tqdm  # type: ignore[import-untyped]

from sim.schedulers.builtin.nestdnn.exact import solve_exact, solve_ilp
from sim.schedulers.builtin.nestdnn.greedy import solve_greedy
from sim.schedulers.builtin.nestdnn.problem import build_problem, evaluate, to_plan
from sim.schedulers.check_views import synthetic_view

__all__ = ["bench_decisions"]

_SOLVERS = {"exact": solve_exact, "greedy": solve_greedy, "ilp": solve_ilp}
_GAP_FLOOR = 0.01
"""Relative gaps divide by max(optimum, 0.01): one accuracy point, so that optima near 0 do
not turn a tiny absolute difference into a huge ratio."""


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

"""SPINN's scheduler (ALGORITHMS 2.5): per app, the (split, exit threshold) that meets every
hard constraint and is best by the ordered soft objectives.

Every configuration (device only, each split point, cloud only; thresholds from
``thresholds``, ``None`` meaning no early exit) is estimated by
:mod:`sim.schedulers.builtin.spinn.offload_model`. Configurations that break a hard constraint are dropped;
the rest are filtered objective by objective, keeping those within ``tolerance`` (relative)
of the best, and the remaining tie goes to the lowest latency, then the least server work,
then the earliest configuration. When nothing is feasible (ALGORITHMS 2.5's fallback) the
least-violating configurations (sum of relative violations) are kept, the objectives choose
among them as usual, and the timeline says which constraint no configuration meets (with the
best any reaches) or that they cannot be met together. Degenerate estimates (no bandwidth,
no round trip, a server with no capacity, extreme frame rates or goals) still give a plan:
the performance model never returns NaN, and an infinite best objective keeps what equals it.

An app without ``spinn`` goals gets ``latency_ms <= latency_goal_ms`` as its constraint and
(accuracy max, throughput max) as objectives. Several apps: each gets a priority-weighted
share of the device and an equal share of link and server with every other app that
offloads; the number of offloading apps is found by iterating the choice (at most three
rounds). When the link is down or unknown, only on-device configurations are considered.
The engine re-decides when an estimate drifts by more than ``monitor.drift_threshold``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import ClassVar

import numpy as np

from sim.schedulers.allocation import fit_memory, priority_shares
from sim.schedulers.base import AppPlan, AppView, Plan, Scheduler, SpinnGoals, SystemView
from sim.schedulers.builtin.spinn.offload_model import Estimates, config_table, estimate
from sim.schedulers.constraints import Declaration, Interval
from sim.schedulers.registry import register_scheduler

__all__ = ["DEFAULT_THRESHOLDS", "Spinn", "check_thresholds", "choose", "default_goals"]

DEFAULT_THRESHOLDS: tuple[float | None, ...] = (None, *(round(0.1 * k, 1) for k in range(11)))


def check_thresholds(thresholds: Sequence[float | None]) -> tuple[float | None, ...]:
    ths = tuple(thresholds)
    if not ths or any(t is not None and not (isinstance(t, int | float) and 0 <= t <= 1)
                      for t in ths):
        raise ValueError(f"thresholds must be a non-empty list of numbers in [0, 1] or null, "
                         f"got {list(thresholds)}")
    return ths


def default_goals(app: AppView) -> SpinnGoals:
    return SpinnGoals((("latency_ms", "<=", app.latency_goal_ms),),
                      (("accuracy", "max"), ("throughput_fps", "max")))


def _violation(values: dict[str, np.ndarray], goals: SpinnGoals) -> np.ndarray:
    """Sum of the relative violations of the hard constraints (inf where one is unbounded)."""
    out = np.zeros_like(values["latency_ms"])
    with np.errstate(invalid="ignore", over="ignore"):
        for metric, op, bound in goals.constraints:
            x = values[metric]
            scale = max(abs(bound), 1e-9) if math.isfinite(bound) else math.inf
            gap = (x - bound) if op == "<=" else (bound - x)
            out = out + np.maximum(gap, 0.0) / scale
    return np.where(np.isnan(out), np.inf, out)


def _meets(x: np.ndarray, op: str, bound: float) -> np.ndarray:
    return (x <= bound + 1e-12) if op == "<=" else (x >= bound - 1e-12)


def _infeasible_note(vals: dict[str, np.ndarray], usable: np.ndarray, goals: SpinnGoals,
                     k: int) -> str:
    """Which constraints no configuration meets (with the best any reaches), or that they
    cannot be met together; and what the chosen configuration has."""
    alone = []
    for metric, op, bound in goals.constraints:
        x = vals[metric][usable]
        if not _meets(x, op, bound).any():
            best = float(x.min() if op == "<=" else x.max())
            alone.append(f"{metric} {op} {bound:g} (best possible {best:.4g})")
    if alone:
        what = "no configuration meets " + "; ".join(alone)
    else:
        wanted = ", ".join(f"{m} {op} {v:g}" for m, op, v in goals.constraints)
        what = f"no configuration meets {wanted} together"
    got = ", ".join(f"{m} {vals[m][k]:.4g}" for m, _, _ in goals.constraints)
    return f"infeasible: {what}; least violating has {got}"


def choose(est: Estimates, goals: SpinnGoals, tolerance: float) -> tuple[int, str | None]:
    """Index of the chosen configuration and a note when no configuration was feasible.

    A configuration with an infinite latency cannot run; an estimate that is not a number
    meets no constraint and loses every objective; an infinite best keeps only what equals
    it (no tolerance around it)."""
    vals = est.values
    usable = np.isfinite(vals["latency_ms"])
    if not usable.any():
        raise ValueError("no configuration can run")
    ok = usable.copy()
    for metric, op, bound in goals.constraints:
        ok &= _meets(vals[metric], op, bound)
    infeasible = not ok.any()
    if infeasible:  # the least violating ones, then the objectives as usual
        viol = np.where(usable, _violation(vals, goals), np.inf)
        least = float(viol.min())
        ok = usable & (viol <= least * (1.0 + 1e-9)) if math.isfinite(least) else usable.copy()
    for metric, sense in goals.objectives:
        x = vals[metric]
        best = float(x[ok].max() if sense == "max" else x[ok].min())
        if math.isnan(best):  # not a number: no better or worse than anything
            ok_x = ok & ~np.isnan(x)
            if not ok_x.any():
                continue
            best = float(x[ok_x].max() if sense == "max" else x[ok_x].min())
        if math.isfinite(best):
            tol = tolerance * max(abs(best), 1e-12)
            keep = (x >= best - tol) if sense == "max" else (x <= best + tol)
        else:
            keep = x == best
        ok &= keep
    idx = np.flatnonzero(ok)
    order = np.lexsort((idx, vals["server_ms"][idx], vals["latency_ms"][idx]))
    k = int(idx[order[0]])
    return k, (_infeasible_note(vals, usable, goals, k) if infeasible else None)


@register_scheduler("spinn")
class Spinn(Scheduler):
    """SPINN: split point and exit threshold per app under hard constraints, soft objectives."""

    kinds: ClassVar[frozenset[str] | None] = frozenset({"progressive"})

    param_docs: ClassVar[dict[str, str]] = {
        'thresholds': 'exit confidence thresholds in [0, 1] to consider; null means no early exit',
        'tolerance': 'relative slack within which an objective counts as a tie',
        'offload': 'false: consider on-device configurations only',
    }
    param_constraints: ClassVar[Mapping[str, Declaration]] = {
        "tolerance": Interval(0, 1, closed="left"),
    }

    def __init__(self, thresholds: Sequence[float | None] = DEFAULT_THRESHOLDS,
                 tolerance: float = 0.01, offload: bool = True) -> None:
        self.thresholds = check_thresholds(thresholds)
        self.tolerance = float(tolerance)
        self.offload = bool(offload)

    def decide(self, view: SystemView) -> Plan:
        notes: dict[str, str] = {}
        apps = fit_memory(view, notes=notes)
        if not apps:
            return Plan({}, notes=notes)
        shares = priority_shares(apps)
        n_off = len(apps)
        picks: dict[str, tuple[Estimates, int, str | None]] = {}
        for _ in range(3):
            picks = {a.name: self._pick(a, view, shares[a.name], n_off) for a in apps}
            m = sum(1 for est, k, _ in picks.values() if est.table.offload[k] > 0)
            if max(m, 1) == n_off:
                break
            n_off = max(m, 1)
        plan = {}
        for a in apps:
            est, k, note = picks[a.name]
            t = est.table
            plan[a.name] = AppPlan(variant=t.variant, share=shares[a.name], split=t.splits[k],
                                   threshold=t.thresholds[k])
            if note is not None:
                notes[a.name] = note
        return Plan(plan, notes=notes)

    def _pick(self, app: AppView, view: SystemView, share: float,
              n_off: int) -> tuple[Estimates, int, str | None]:
        server = app.server_profile if self.offload else None
        table = config_table(app.profile, server, app.upload_bytes, self.thresholds)
        est = estimate(table, app, view, share, n_off, n_off)
        k, note = choose(est, app.spinn or default_goals(app), self.tolerance)
        return est, k, note

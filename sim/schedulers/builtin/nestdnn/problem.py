"""NestDNN's allocation problem built from a SystemView (ALGORITHMS 1.6-1.8).

For every app k, candidate descendant d and compute share u on a grid of ``units`` steps:

    C_k(d, u) = (A_max - A(d)) + alpha * max(0, (L - tau) / tau) + beta * load_s / horizon_s
    L = latency_median(d) * r_k / (u * capacity)

``r_k`` is 1 by default: NestDNN plans from its profiles and the available compute, which the
capacity term already carries. With ``observed_latency=True`` it is the monitor's EWMA of
observed / expected latency (for devices slower than their profile); under work-conserving
sharing that ratio also moves with the other apps' idleness, so it is off by default.

Every cost the solvers see is weighted by the app's priority ``w_k`` over the largest
priority of the view (the plan is the same for any common factor), and capped before
weighting at :data:`MAX_COST` (a goal of 1e-310 ms must not overflow the costs to inf).
Candidates are the multi-capacity descendants (``Profile.nested()``, smallest first), or
every variant when the profile has none; only descendants with ``top1 >= accuracy_floor`` are eligible, and when
none is, the most accurate one is the only candidate (the app still runs, as well as it can).
Memory of a choice is ``weight_bytes + peak_activation_bytes``.

Apps that cannot run are evicted before solving
(:func:`sim.schedulers.allocation.eviction_order`): first those whose
smallest model alone exceeds the budget, then the lowest-priority app (ties: the latest name)
until the cheapest configuration of every remaining app fits memory and the share grid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from sim.config.limits import MAX_DURATION_S
from sim.profile import Profile, Variant
from sim.schedulers.allocation import eviction_order, pause_notes
from sim.schedulers.base import AppPlan, AppView, Plan, SystemView
from sim.schedulers.constraints import Declaration, Interval, violation
from sim.schedulers.contract import memory_bytes

__all__ = [
    "MAX_COST",
    "PARAM_CONSTRAINTS",
    "AppTable",
    "Assignment",
    "Problem",
    "build_problem",
    "candidates",
    "check_params",
    "evaluate",
    "is_feasible",
    "load_bytes",
    "to_plan",
]

Assignment = tuple[tuple[int, int], ...]
"""Per app of :attr:`Problem.apps`: (candidate index, compute units >= 1)."""

_MIN_CAPACITY = 1e-9
MAX_COST = 1e12
"""An app's cost (before its priority weight) is at most this: a latency a trillion times
its goal (a goal of 1e-310 ms) or a switch that takes ages costs the same as one just over a
trillion, instead of overflowing to inf (which left the exact solvers without a finite
level to search). Below it, costs and so plans are unchanged."""


@dataclass(frozen=True, eq=False)
class AppTable:
    """One app's options. ``cost[d, j]`` is the weighted cost with ``j + 1`` units.

    ``opt_*`` list the options left after removing dominated ones (another option with no
    more units, no more memory and no higher cost), ordered by candidate then units, so
    earlier options win ties (smaller model, then smaller share). They are computed on
    first use (the heuristic does not need them).
    """

    name: str
    weight: float
    variants: tuple[str, ...]
    memory: np.ndarray
    cost: np.ndarray

    @property
    def min_memory(self) -> int:
        return int(self.memory.min())

    @cached_property
    def _options(self) -> tuple[np.ndarray, ...]:
        return _prune(self.memory, self.cost)

    @property
    def opt_d(self) -> np.ndarray:
        return self._options[0]

    @property
    def opt_units(self) -> np.ndarray:
        return self._options[1]

    @property
    def opt_memory(self) -> np.ndarray:
        return self._options[2]

    @property
    def opt_cost(self) -> np.ndarray:
        return self._options[3]


@dataclass(frozen=True, eq=False)
class Problem:
    """The apps that run (sorted by name), those evicted, the grid and the memory budget."""

    apps: tuple[AppTable, ...]
    evicted: tuple[str, ...]
    units: int
    step: float
    memory_budget: int
    pause_notes: Mapping[str, str] = field(default_factory=dict)
    """evicted app -> why it is paused (the plan's notes; the timeline shows them)"""


def candidates(profile: Profile, accuracy_floor: float) -> list[Variant]:
    """Eligible descendants, smallest first (see the module docstring for the fallback)."""
    pool = profile.nested() or sorted(profile.variants, key=lambda v: v.known_weight_bytes())
    eligible = [v for v in pool if v.top1 >= accuracy_floor]
    if eligible:
        return eligible
    best = max(v.top1 for v in pool)
    return [next(v for v in pool if v.top1 == best)]


def load_bytes(profile: Profile, old: str | None, new: str) -> int:
    """Bytes read from storage to switch ``old -> new`` (ALGORITHMS 1.8), as the engine
    charges them (:meth:`sim.profile.Profile.switch_bytes`)."""
    try:
        return profile.switch_bytes(old, new)
    except KeyError:  # the old variant is not in this profile: a whole load
        return profile.variant(new).known_weight_bytes()


PARAM_CONSTRAINTS: dict[str, Declaration] = {
    "alpha": Interval(0, 1e6, closed="right"),
    "share_step": Interval(0.005, 1),
    "beta": Interval(0, 1e6),
    "horizon_s": Interval(1e-3, MAX_DURATION_S, unit="s"),
}
"""The values the cost model's parameters accept (the schedulers declare these, with their
solver). ``share_step`` 0.005 is a grid of 200 steps: the exact solver's memory grows with
the cube of the grid (a 0.001 step took 2 GB and 13 s for one decision of six apps; 0.005
takes 17 MB and 0.06 s for twenty); times are at most the longest scenario (30 days)."""


def check_params(alpha: float, share_step: float, beta: float, horizon_s: float) -> None:
    """ValueError naming the first parameter outside :data:`PARAM_CONSTRAINTS`."""
    problem = violation(PARAM_CONSTRAINTS, {"alpha": alpha, "share_step": share_step,
                                            "beta": beta, "horizon_s": horizon_s})
    if problem:
        raise ValueError(problem)


def _prune(memory: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, ...]:
    """Options (d, u) that no other option dominates, in (d, u) order.

    (d', u') dominates (d, u) when it needs no more units, no more memory, costs no more, and
    is better in one of them or listed earlier. Costs never rise with units, so it is enough
    to compare with (d, u - 1) and with every other d' at the same u (O(D^2 U), not (DU)^2).
    """
    n_d, units = cost.shape
    same_d = np.zeros_like(cost, dtype=bool)
    same_d[:, 1:] = cost[:, :-1] <= cost[:, 1:]
    m_le = memory[:, None] <= memory[None, :]  # [d', d]
    m_lt = memory[:, None] < memory[None, :]
    c_le = cost[:, None, :] <= cost[None, :, :]  # [d', d, u]
    c_lt = cost[:, None, :] < cost[None, :, :]
    fewer = np.zeros_like(c_le)
    fewer[:, :, 1:] = cost[:, None, :-1] <= cost[None, :, 1:]
    earlier = np.arange(n_d)[:, None] < np.arange(n_d)[None, :]
    other = (m_le[:, :, None] & c_le) & (m_lt[:, :, None] | c_lt | fewer | earlier[:, :, None])
    other &= ~np.eye(n_d, dtype=bool)[:, :, None]
    keep = ~(same_d | other.any(axis=0))
    d, j = np.nonzero(keep)
    return d, j + 1, memory[d], cost[d, j]


def _table(
    app: AppView,
    view: SystemView,
    units: int,
    step: float,
    alpha: float,
    beta: float,
    horizon_s: float,
    observed_latency: bool = False,
    top_priority: float = 1.0,
) -> AppTable:
    """``top_priority``: the largest priority of the view; costs are weighted by
    ``priority / top_priority`` in [0, 1] (both objectives are unchanged by a common factor,
    and 1e308 x a cost would overflow)."""
    if not 0 < app.latency_goal_ms < math.inf:
        raise ValueError(
            f"app {app.name!r}: latency_goal_ms must be > 0, got {app.latency_goal_ms}"
        )
    if not 0 <= app.priority < math.inf:
        raise ValueError(f"app {app.name!r}: priority must be >= 0, got {app.priority}")
    cands = candidates(app.profile, app.accuracy_floor)
    top1 = np.array([v.top1 for v in cands])
    lat = np.array([v.latency_ms.median for v in cands])
    if observed_latency:
        lat = lat * app.latency_ratio
    memory = np.array([memory_bytes(v) for v in cands], dtype=np.int64)
    shares = np.arange(1, units + 1) * step * max(view.capacity, _MIN_CAPACITY)
    tau = app.latency_goal_ms
    with np.errstate(over="ignore"):  # a subnormal goal: capped below
        late = np.minimum(np.maximum(0.0, (lat[:, None] / shares[None, :] - tau) / tau),
                          MAX_COST)
        cost = (top1.max() - top1)[:, None] + alpha * late
        if beta > 0:
            rate = max(view.storage_read_bytes_per_s, 1.0)
            old = None if app.current is None else app.current.variant
            switch = np.array([load_bytes(app.profile, old, v.id) / rate for v in cands])
            cost = cost + (beta / horizon_s) * switch[:, None]
    cost = (app.priority / top_priority) * np.minimum(cost, MAX_COST)
    return AppTable(
        name=app.name,
        weight=app.priority,
        variants=tuple(v.id for v in cands),
        memory=memory,
        cost=cost,
    )


def build_problem(
    view: SystemView,
    alpha: float = 1.0,
    share_step: float = 0.05,
    beta: float = 0.0,
    horizon_s: float = 10.0,
    observed_latency: bool = False,
) -> Problem:
    """Option tables of the apps that can run; bad parameters -> ValueError naming them."""
    check_params(alpha, share_step, beta, horizon_s)
    units = int(np.floor(1.0 / share_step + 1e-9))
    top = max((a.priority for a in view.apps), default=1.0)
    top = top if 0 < top < math.inf else 1.0  # 0: every cost 0; inf: refused by _table
    tables = {
        a.name: _table(a, view, units, share_step, alpha, beta, horizon_s, observed_latency,
                       top)
        for a in view.apps
    }
    kept, evicted = eviction_order(
        sorted(tables),
        lambda n: tables[n].weight,
        lambda n: tables[n].min_memory,
        view.memory_budget_bytes,
        units,
    )
    return Problem(
        apps=tuple(tables[n] for n in sorted(kept)),
        evicted=tuple(evicted),
        units=units,
        step=share_step,
        memory_budget=view.memory_budget_bytes,
        pause_notes=pause_notes(evicted, lambda n: tables[n].min_memory,
                                view.memory_budget_bytes, units, len(kept)),
    )


def evaluate(problem: Problem, assignment: Assignment) -> tuple[float, float]:
    """(max, total) of the weighted costs of an assignment (0, 0 when no app runs)."""
    costs = [float(t.cost[d, u - 1]) for t, (d, u) in zip(problem.apps, assignment, strict=True)]
    return (max(costs), sum(costs)) if costs else (0.0, 0.0)


def is_feasible(problem: Problem, assignment: Assignment) -> bool:
    """Compute units and memory within budget, one valid option per app."""
    if len(assignment) != len(problem.apps):
        return False
    used = sum(u for _, u in assignment)
    mem = sum(int(t.memory[d]) for t, (d, _) in zip(problem.apps, assignment, strict=True))
    ok = all(
        0 <= d < len(t.variants) and u >= 1
        for t, (d, u) in zip(problem.apps, assignment, strict=True)
    )
    return ok and used <= problem.units and mem <= problem.memory_budget


def to_plan(problem: Problem, assignment: Assignment) -> Plan:
    """The Plan of an assignment, unused units split in proportion to the shares (so the
    shares sum to 1 whenever an app runs; more compute never raises a cost)."""
    total = sum(u for _, u in assignment)
    return Plan(
        {
            t.name: AppPlan(variant=t.variants[d], share=u / total)
            for t, (d, u) in zip(problem.apps, assignment, strict=True)
        },
        notes=dict(problem.pause_notes),
    )

"""Exact NestDNN solvers on a :class:`Problem`: dynamic programming and a PuLP ILP.

MinTotalCost is a multiple-choice knapsack over apps x compute units. The DP keeps, for each
number of units used, the Pareto frontier of (cost, memory) of partial plans, so memory stays
exact (no memory grid). Partial plans are cut when they cannot beat the heuristic's plan: a
lower bound of the remaining apps' cost (their cheapest options for the units left, memory
ignored) and of their memory (their smallest models) is added first.

MinMaxCost binary-searches the optimal worst cost among the distinct option costs with a
feasibility DP (least memory for each unit count using only options costing <= c), then runs
the MinTotalCost DP restricted to options costing <= c*: the lowest total among plans that
reach the optimal maximum. Among equally good plans the one using fewer compute units, then
less memory, then options listed earlier (smaller model, then smaller share; apps in name
order) wins, so the same problem always gives the same plan.
"""

from __future__ import annotations

import warnings

import numpy as np
import pulp  # type: ignore[import-untyped]

from sim.schedulers.builtin.nestdnn.greedy import Objective, solve_greedy
from sim.schedulers.builtin.nestdnn.problem import Assignment, Problem, evaluate, is_feasible

__all__ = ["solve_exact", "solve_ilp"]

_INF = float("inf")


def _tol(x: float) -> float:
    return 1e-9 * (1.0 + abs(x))


def _suffix_unit_bounds(problem: Problem, masks: list[np.ndarray]) -> np.ndarray:
    """``h[k, r]``: least total cost of apps k.. with at most r units (memory ignored)."""
    n, units = len(problem.apps), problem.units
    h = np.full((n + 1, units + 1), _INF)
    h[n, :] = 0.0
    r = np.arange(units + 1)
    a = np.arange(1, units + 1)
    prev_idx = r[:, None] - a[None, :]
    valid = prev_idx >= 0
    prev_idx = np.where(valid, prev_idx, 0)
    for k in range(n - 1, -1, -1):
        t, mask = problem.apps[k], masks[k]
        best = np.full(units + 1, _INF)
        np.minimum.at(best, t.opt_units[mask], t.opt_cost[mask])
        best = np.minimum.accumulate(best)  # at most a units
        cand = np.where(valid, h[k + 1][prev_idx] + best[1:][None, :], _INF)
        h[k] = cand.min(axis=1)
    return h


def _min_total(problem: Problem, masks: list[np.ndarray], upper: float) -> Assignment | None:
    """Least-total assignment using only the masked options, or None if none fits."""
    apps, units, budget = problem.apps, problem.units, problem.memory_budget
    n = len(apps)
    h = _suffix_unit_bounds(problem, masks)
    min_mem = [
        int(t.opt_memory[m].min()) if m.any() else 0 for t, m in zip(apps, masks, strict=True)
    ]
    mem_left = np.concatenate([np.cumsum(min_mem[::-1])[::-1], [0]])
    limit = upper + _tol(upper)
    s_units = np.zeros(1, dtype=np.int64)
    s_mem = np.zeros(1, dtype=np.int64)
    s_cost = np.zeros(1)
    layers: list[tuple[np.ndarray, np.ndarray]] = []
    for k, (t, mask) in enumerate(zip(apps, masks, strict=True)):
        ou, om, oc = t.opt_units[mask], t.opt_memory[mask], t.opt_cost[mask]
        opt_idx = np.flatnonzero(mask)
        c_units = (s_units[:, None] + ou[None, :]).ravel()
        c_mem = (s_mem[:, None] + om[None, :]).ravel()
        c_cost = (s_cost[:, None] + oc[None, :]).ravel()
        ok = (c_units <= units) & (c_mem + mem_left[k + 1] <= budget)
        ok &= c_cost + h[k + 1][np.minimum(units - c_units, units).clip(0)] <= limit
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            return None
        c_units, c_mem, c_cost = c_units[idx], c_mem[idx], c_cost[idx]
        order = np.lexsort((c_cost, c_mem, c_units))
        c_units, c_mem, c_cost, idx = c_units[order], c_mem[order], c_cost[order], idx[order]
        keep = np.ones(len(idx), dtype=bool)
        starts = np.flatnonzero(np.diff(c_units, prepend=-1))
        ends = np.append(starts[1:], len(idx))
        for s, e in zip(starts, ends, strict=True):
            run = np.minimum.accumulate(c_cost[s:e])
            keep[s + 1 : e] = c_cost[s + 1 : e] < run[:-1]
        idx = idx[keep]
        n_opt = len(ou)
        layers.append((idx // n_opt, opt_idx[idx % n_opt]))
        s_units, s_mem, s_cost = c_units[keep], c_mem[keep], c_cost[keep]
    at = int(np.argmin(s_cost))
    chosen: list[tuple[int, int]] = []
    for k in range(n - 1, -1, -1):
        parent, opt = layers[k]
        o = int(opt[at])
        chosen.append((int(problem.apps[k].opt_d[o]), int(problem.apps[k].opt_units[o])))
        at = int(parent[at])
    return tuple(reversed(chosen))


def _fits_under(
    problem: Problem, level: float, trace: list[tuple[np.ndarray, np.ndarray]] | None = None
) -> bool:
    """Is there a plan in which every app's cost is <= level? With ``trace``, record per app
    (option with least memory for at most a units, units given to it for a total of j)."""
    units, budget = problem.units, problem.memory_budget
    a = np.arange(1, units + 1)
    f = np.zeros(units + 1)  # least memory of the apps so far with at most j units
    j = np.arange(units + 1)
    prev_idx = j[:, None] - a[None, :]
    valid = prev_idx >= 0
    prev_idx = np.where(valid, prev_idx, 0)
    limit = level + _tol(level)
    for t in problem.apps:
        mask = t.opt_cost <= limit
        if not mask.any():
            return False
        g = np.full(units + 1, _INF)
        np.minimum.at(g, t.opt_units[mask], t.opt_memory[mask].astype(float))
        step = np.minimum.accumulate(g)
        table = np.where(valid, f[prev_idx] + step[1:][None, :], _INF)
        if trace is not None:
            exact = np.flatnonzero(mask)[np.lexsort((t.opt_memory[mask], t.opt_units[mask]))]
            best_at = np.full(units + 1, -1)
            first = np.unique(t.opt_units[exact], return_index=True)
            best_at[first[0]] = exact[first[1]]
            at_best = np.where(g == step, j, 0)
            best_at = best_at[np.maximum.accumulate(at_best)]
            trace.append((best_at, table.argmin(axis=1) + 1))
        f = table.min(axis=1)
    return bool(f.min() <= budget)


def _plan_under(problem: Problem, level: float) -> Assignment | None:
    """A plan with every app's cost <= level and the least memory, or None."""
    trace: list[tuple[np.ndarray, np.ndarray]] = []
    if not _fits_under(problem, level, trace):
        return None
    j = problem.units
    chosen = []
    for t, (best_at, give) in zip(reversed(problem.apps), reversed(trace), strict=True):
        a = int(give[j])
        o = int(best_at[a])
        chosen.append((int(t.opt_d[o]), int(t.opt_units[o])))
        j -= a
    return tuple(reversed(chosen))


def _min_max_level(problem: Problem, upper: float) -> float:
    levels = np.unique(np.concatenate([t.opt_cost for t in problem.apps]))
    lower = max(float(t.opt_cost.min()) for t in problem.apps)
    levels = levels[(levels >= lower - _tol(lower)) & (levels <= upper + _tol(upper))]
    lo, hi = 0, len(levels) - 1  # levels[hi] is feasible: the heuristic reaches `upper`
    while lo < hi:
        mid = (lo + hi) // 2
        if _fits_under(problem, float(levels[mid])):
            hi = mid
        else:
            lo = mid + 1
    return float(levels[lo])


def solve_exact(problem: Problem, objective: Objective) -> Assignment:
    """An optimal assignment on the share grid (empty when no app runs)."""
    if not problem.apps:
        return ()
    start = solve_greedy(problem, objective)
    worst, total = evaluate(problem, start)
    if objective == "mintotal":
        masks = [np.ones(len(t.opt_cost), dtype=bool) for t in problem.apps]
        best = _min_total(problem, masks, total)
    else:
        level = _min_max_level(problem, worst)
        masks = [t.opt_cost <= level + _tol(level) for t in problem.apps]
        if level < worst - _tol(worst):
            start = _plan_under(problem, level) or start
            total = evaluate(problem, start)[1]
        best = _min_total(problem, masks, total)
    return start if best is None else best


def solve_ilp(problem: Problem, objective: Objective) -> Assignment:
    """The same optimum from a PuLP/CBC integer program (binary x[k, option]; MinMaxCost
    with an auxiliary z, then the least total at the optimal z).

    Memory enters as a fraction of the budget: raw byte counts (up to 1e12) defeat CBC's
    preprocessing, which then calls feasible instances infeasible. The answer is checked in
    exact integers; should rounding admit a plan a few bytes over the budget, the program is
    solved again with the budget tightened by CBC's tolerance."""
    if not problem.apps:
        return ()
    if objective not in ("mintotal", "minmax"):
        raise ValueError(f"objective must be 'mintotal' or 'minmax', got {objective!r}")
    for slack in (1.0, 1.0 - 1e-6):
        chosen = _ilp(problem, objective, slack)
        if is_feasible(problem, chosen):
            return chosen
    raise RuntimeError("ILP solver's plans exceed the memory budget after rounding")


def _ilp(problem: Problem, objective: Objective, slack: float) -> Assignment:
    apps = problem.apps
    prob = pulp.LpProblem("nestdnn", pulp.LpMinimize)
    x = {
        (k, o): _variable(prob, f"x_{k}_{o}", "Binary")
        for k, t in enumerate(apps)
        for o in range(len(t.opt_cost))
    }
    app_cost = {
        k: pulp.lpSum(float(t.opt_cost[o]) * x[k, o] for o in range(len(t.opt_cost)))
        for k, t in enumerate(apps)
    }
    for k, t in enumerate(apps):
        prob += pulp.lpSum(x[k, o] for o in range(len(t.opt_cost))) == 1
    prob += pulp.lpSum(int(apps[k].opt_units[o]) * v for (k, o), v in x.items()) <= problem.units
    budget = max(float(problem.memory_budget), 1.0)
    prob += (
        pulp.lpSum(float(apps[k].opt_memory[o]) / budget * v for (k, o), v in x.items())
        <= slack
    )
    total = pulp.lpSum(app_cost.values())
    with warnings.catch_warnings():  # the bundled CBC is deprecated in PuLP 3.x, still works
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=False, gapRel=0.0)
    if objective == "minmax":
        z = _variable(prob, "z", "Continuous")
        for k in app_cost:
            prob += app_cost[k] <= z
        prob.setObjective(z)
        prob.solve(solver)
        z_opt = float(pulp.value(z))
        prob += z <= z_opt + 1e-7 * (1.0 + abs(z_opt))
    prob.setObjective(total)
    status = prob.solve(solver)
    if pulp.LpStatus[status] != "Optimal":
        raise RuntimeError(f"ILP solver returned {pulp.LpStatus[status]}")
    chosen = []
    for k, t in enumerate(apps):
        picked = [float(pulp.value(x[k, o]) or 0.0) for o in range(len(t.opt_cost))]
        o = picked.index(max(picked))
        chosen.append((int(t.opt_d[o]), int(t.opt_units[o])))
    return tuple(chosen)


def _variable(prob: pulp.LpProblem, name: str, cat: str) -> pulp.LpVariable:
    """A variable attached to ``prob`` (PuLP >= 3.3 API, older constructor otherwise)."""
    add = getattr(prob, "add_variable", None)
    return add(name, cat=cat) if add is not None else pulp.LpVariable(name, cat=cat)

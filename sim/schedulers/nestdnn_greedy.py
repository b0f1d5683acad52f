"""NestDNN's heuristic scheduler (ALGORITHMS 1.7), on a :class:`Problem`.

Every app starts at its smallest-memory eligible descendant with one compute unit. Each step
looks at two moves per app, one more compute unit ("cpu+") and the next larger descendant
("model+"), and applies the one with the largest cost decrease per normalised resource
(a unit is ``1/units`` of the processor, a model upgrade ``extra bytes / memory budget``);
ties go to the smaller model, then the app listed first. MinMaxCost only considers moves of
the currently worst app (ties: the first listed). It stops when no move lowers the cost
(MinTotalCost) or the worst app's cost (MinMaxCost). Runs in O(K * (units + sum |D_k|))
cost look-ups. A move changes one resource at a time, so the heuristic can stop on a small
model when a larger one would only pay off with more compute as well (a local optimum the
exact solvers avoid).
"""

from __future__ import annotations

from typing import Literal

from sim.schedulers.nestdnn_problem import Assignment, Problem

__all__ = ["solve_greedy"]

Objective = Literal["mintotal", "minmax"]


def solve_greedy(problem: Problem, objective: Objective) -> Assignment:
    """A feasible assignment found by the heuristic (empty when no app runs)."""
    if objective not in ("mintotal", "minmax"):
        raise ValueError(f"objective must be 'mintotal' or 'minmax', got {objective!r}")
    apps = problem.apps
    if not apps:
        return ()
    cost = [t.cost.tolist() for t in apps]
    memory = [t.memory.tolist() for t in apps]
    d = [min(range(len(m)), key=m.__getitem__) for m in memory]
    u = [1] * len(apps)
    used_units = len(apps)
    used_mem = sum(m[i] for m, i in zip(memory, d, strict=True))
    budget = problem.memory_budget
    unit_share = 1.0 / problem.units
    mem_norm = float(max(budget, 1))
    while True:
        ks: list[int] = list(range(len(apps)))
        if objective == "minmax":
            current = [cost[k][d[k]][u[k] - 1] for k in ks]
            ks = [current.index(max(current))]
        best: tuple[float, int, int, int] | None = None  # (score, -model size, -k, kind)
        best_move: tuple[int, int, int] | None = None
        for k in ks:
            now = cost[k][d[k]][u[k] - 1]
            if used_units < problem.units:
                drop = now - cost[k][d[k]][u[k]]
                if drop > 0:
                    key = (drop / unit_share, -memory[k][d[k]], -k, 0)
                    if best is None or key > best:
                        best, best_move = key, (k, d[k], u[k] + 1)
            nxt = d[k] + 1
            if nxt < len(memory[k]):
                extra = memory[k][nxt] - memory[k][d[k]]
                if used_mem + extra <= budget:
                    drop = now - cost[k][nxt][u[k] - 1]
                    if drop > 0:
                        score = drop / (extra / mem_norm) if extra > 0 else float("inf")
                        key = (score, -memory[k][nxt], -k, 1)
                        if best is None or key > best:
                            best, best_move = key, (k, nxt, u[k])
        if best_move is None:
            break
        k, nd, nu = best_move
        used_units += nu - u[k]
        used_mem += memory[k][nd] - memory[k][d[k]]
        d[k], u[k] = nd, nu
    return tuple(zip(d, u, strict=True))

"""NestDNN's resource-aware schedulers (ALGORITHMS 1.6-1.8): per app, a descendant of its
multi-capacity model and a share of compute.

``nestdnn-mintotal`` minimises the priority-weighted sum of app costs; ``nestdnn-minmax``
the largest priority-weighted app cost (priorities weight both, so a more important app is
protected first), and among plans with the same maximum, the lower total. Parameters:
``alpha`` (latency violation vs accuracy loss), ``solver`` ("exact" dynamic programming,
"greedy" paper-style heuristic, "ilp" PuLP/CBC), ``share_step`` (the compute grid),
``beta`` and ``horizon_s`` (switching penalty ``beta * load_s / horizon_s``; beta = 0 is the
paper's rule), ``observed_latency`` (scale profiled latencies by the monitor's observed
ratio; off by default, see nestdnn_problem). Apps that cannot run even at their smallest model are left out of the plan
(paused), lowest priority first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sim.schedulers.base import Plan, Scheduler, SystemView
from sim.schedulers.builtin.nestdnn.exact import solve_exact, solve_ilp
from sim.schedulers.builtin.nestdnn.greedy import Objective, solve_greedy
from sim.schedulers.builtin.nestdnn.problem import PARAM_CONSTRAINTS, build_problem, to_plan
from sim.schedulers.constraints import Declaration, Options
from sim.schedulers.registry import register_scheduler

__all__ = ["NestDnnMinMax", "NestDnnMinTotal", "NestDnnScheduler"]

_SOLVERS = {"exact": solve_exact, "greedy": solve_greedy, "ilp": solve_ilp}


class NestDnnScheduler(Scheduler):
    """Shared body of both objectives; subclasses set :attr:`objective`."""

    objective: ClassVar[Objective] = "mintotal"

    param_docs: ClassVar[dict[str, str]] = {
        'alpha': "weight of a latency violation against an accuracy loss in each app's cost",
        'solver': "'exact' (dynamic programming), 'greedy' (the paper's heuristic) or 'ilp' (PuLP/CBC)",
        'share_step': "the compute-share grid the solver searches (at most 200 steps)",
        'beta': "switching penalty weight, beta * load_s / horizon_s (0: the paper's rule)",
        'horizon_s': "the horizon the switching penalty spreads a model load over",
        'observed_latency': "true: scale profiled latencies by the monitor's observed ratio",
    }
    param_constraints: ClassVar[Mapping[str, Declaration]] = {
        **PARAM_CONSTRAINTS, "solver": Options(_SOLVERS)}

    def __init__(
        self,
        alpha: float = 1.0,
        solver: str = "exact",
        share_step: float = 0.05,
        beta: float = 0.0,
        horizon_s: float = 10.0,
        observed_latency: bool = False,
    ) -> None:
        self.alpha = alpha
        self.solver = solver
        self.share_step = share_step
        self.beta = beta
        self.horizon_s = horizon_s
        self.observed_latency = observed_latency

    def decide(self, view: SystemView) -> Plan:
        problem = build_problem(
            view, self.alpha, self.share_step, self.beta, self.horizon_s, self.observed_latency
        )
        assignment = _SOLVERS[self.solver](problem, self.objective)
        return to_plan(problem, assignment)


@register_scheduler("nestdnn-mintotal")
class NestDnnMinTotal(NestDnnScheduler):
    """MinTotalCost: maximise aggregate performance."""

    objective: ClassVar[Objective] = "mintotal"


@register_scheduler("nestdnn-minmax")
class NestDnnMinMax(NestDnnScheduler):
    """MinMaxCost: protect the worst-off app."""

    objective: ClassVar[Objective] = "minmax"

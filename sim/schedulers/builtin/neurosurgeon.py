"""Neurosurgeon-style baseline (Kang et al., ASPLOS 2017): the single split point (device
only, any split, or cloud only) with the lowest estimated latency (or device energy) for the
current bandwidth estimate, with no early exits; re-decided as the estimates move. It uses the
same performance model as SPINN (:mod:`sim.schedulers.builtin.spinn.offload_model`), with one threshold:
none. With several apps each assumes that all of them offload (equal shares of link and
server), as a per-app partitioner would."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from sim.schedulers.allocation import fit_memory, priority_shares
from sim.schedulers.base import AppPlan, Plan, Scheduler, SystemView
from sim.schedulers.builtin.spinn.offload_model import config_table, estimate
from sim.schedulers.constraints import Declaration, Options
from sim.schedulers.registry import register_scheduler

__all__ = ["Neurosurgeon"]


@register_scheduler("neurosurgeon")
class Neurosurgeon(Scheduler):
    """Best single split for latency (or energy), no early exits."""

    kinds: ClassVar[frozenset[str] | None] = frozenset({"progressive"})
    needs_server: ClassVar[bool] = True

    param_docs: ClassVar[dict[str, str]] = {
        'objective': "what the single split point minimises: latency or the device's energy",
    }
    param_constraints: ClassVar[Mapping[str, Declaration]] = {
        "objective": Options({"latency_ms", "energy_mj"}),
    }

    def __init__(self, objective: str = "latency_ms") -> None:
        self.objective = objective

    def decide(self, view: SystemView) -> Plan:
        notes: dict[str, str] = {}
        apps = fit_memory(view, notes=notes)
        if not apps:
            return Plan({}, notes=notes)
        shares = priority_shares(apps)
        plan = {}
        n_off = len(apps)
        for a in apps:
            table = config_table(a.profile, a.server_profile, a.upload_bytes, (None,))
            vals = estimate(table, a, view, shares[a.name], n_off, n_off).values
            x = vals[self.objective]
            k = int(np.lexsort((np.arange(len(x)), vals["latency_ms"], x))[0])
            plan[a.name] = AppPlan(table.variant, shares[a.name], table.splits[k], None)
        return Plan(plan, notes=notes)

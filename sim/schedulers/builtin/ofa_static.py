"""Once-for-all's deployment (ALGORITHMS 4): before deployment, per app, the most accurate
specialised subnet whose nominal latency (its profiled latency, the device unloaded and the
app alone) meets the app's latency goal, or the fastest when none does; it never changes
afterwards, whatever the load or later goal changes (the pre-deployment baseline). Shares
are priority-weighted; apps whose subnets do not fit memory are left out, lowest priority
first."""

from __future__ import annotations

from typing import ClassVar

from sim.profile import Variant
from sim.schedulers.allocation import fit_memory, priority_shares
from sim.schedulers.base import AppPlan, AppView, Plan, Scheduler, SystemView
from sim.schedulers.contract import memory_bytes
from sim.schedulers.registry import register_scheduler

__all__ = ["OfaStatic"]


def specialise(app: AppView) -> Variant:
    """The subnet deployed for this app (see the module docstring)."""
    variants = list(app.profile.variants)
    meets = [v for v in variants if v.latency_ms.median <= app.latency_goal_ms]
    if meets:
        return max(meets, key=lambda v: (v.top1, -v.latency_ms.median, v.id))
    return min(variants, key=lambda v: (v.latency_ms.median, v.id))


@register_scheduler("ofa-static")
class OfaStatic(Scheduler):
    """OFA: one specialised subnet per app, chosen before deployment, never changed."""

    stateful: ClassVar[bool] = True
    kinds: ClassVar[frozenset[str] | None] = frozenset({"supernet", "elastified"})

    def __init__(self) -> None:
        self._deployed: dict[str, str] = {}

    def decide(self, view: SystemView) -> Plan:
        for a in view.apps:
            self._deployed.setdefault(a.name, specialise(a).id)
        size = {a.name: memory_bytes(a.profile.variant(self._deployed[a.name]))
                for a in view.apps}
        notes: dict[str, str] = {}
        apps = fit_memory(view, size, notes)
        shares = priority_shares(apps) if apps else {}
        return Plan({a.name: AppPlan(self._deployed[a.name], shares[a.name]) for a in apps},
                    notes=notes)

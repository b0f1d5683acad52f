"""Device-only baseline for progressive networks: the whole network on the device, every
frame, with a priority-weighted share of it; no offloading. ``threshold`` (default None: no
early exit runs) lets it use the exits on the device at a fixed confidence threshold."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sim.profile import Profile
from sim.profile.routes import threshold_problem
from sim.schedulers.allocation import fit_memory, priority_shares
from sim.schedulers.base import AppPlan, Plan, Scheduler, SystemView
from sim.schedulers.constraints import Declaration, Interval
from sim.schedulers.registry import register_scheduler

__all__ = ["DeviceOnly"]


@register_scheduler("device-only")
class DeviceOnly(Scheduler):
    """Everything on the device (optionally with early exits at a fixed threshold)."""

    kinds: ClassVar[frozenset[str] | None] = frozenset({"progressive"})

    param_docs: ClassVar[dict[str, str]] = {
        'threshold': 'the confidence at which a frame leaves at an early exit (null: no early exit)',
    }
    param_constraints: ClassVar[Mapping[str, Declaration]] = {
        "threshold": [None, Interval(0, 1)],
    }

    def __init__(self, threshold: float | None = None) -> None:
        self.threshold = threshold

    def misfit(self, profiles: Mapping[str, Profile]) -> str | None:
        """A threshold a published exit table was not measured at cannot run."""
        for app, profile in profiles.items():
            problem = threshold_problem(profile, self.threshold)
            if problem:
                return f"app {app!r}: {problem}"
        return None

    def decide(self, view: SystemView) -> Plan:
        notes: dict[str, str] = {}
        apps = fit_memory(view, notes=notes)
        shares = priority_shares(apps) if apps else {}
        return Plan({a.name: AppPlan(a.profile.variants[0].id, shares[a.name], None,
                                     self.threshold) for a in apps}, notes=notes)

"""NestDNN's resource-agnostic status quo: every app runs one fixed, independently trained
model chosen before deployment, with an equal share of compute, whatever the load.

Parameter ``model``: "largest" (default: the vanilla model), "smallest", "fastest" (lowest
profiled latency), or a variant id.
Models come from ``Profile.independents()``, or from all variants when the profile has none.
The choice depends only on the profile, so an app keeps the same variant at every decision.
When the fixed models do not fit memory, the lowest-priority app (ties: the latest name) is
left out of the plan (paused) until they do; the remaining apps share the device equally.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sim.profile import Profile, Variant
from sim.schedulers.allocation import eviction_order, pause_notes
from sim.schedulers.base import AppPlan, AppView, Plan, Scheduler, SystemView
from sim.schedulers.constraints import Declaration, Options, Text
from sim.schedulers.contract import memory_bytes
from sim.schedulers.registry import register_scheduler

__all__ = ["Agnostic"]

_CHOICES = ("largest", "smallest", "fastest")


@register_scheduler("agnostic")
class Agnostic(Scheduler):
    """Fixed model per app, equal shares (1/K)."""

    param_docs: ClassVar[dict[str, str]] = {
        'model': "the fixed model every app runs: the largest, smallest or fastest, or a variant id",
    }
    param_constraints: ClassVar[Mapping[str, Declaration]] = {
        "model": [Options(_CHOICES), Text("a variant id")],
    }

    def __init__(self, model: str = "largest") -> None:
        self.model = model

    def fixed_model(self, app: AppView) -> Variant:
        """The model this app runs; ValueError naming the app when the id is unknown."""
        pool = app.profile.independents() or sorted(
            app.profile.variants, key=lambda v: v.known_weight_bytes()
        )
        if self.model == "largest":
            return pool[-1]
        if self.model == "smallest":
            return pool[0]
        if self.model == "fastest":
            return min(app.profile.variants, key=lambda v: (v.latency_ms.median, v.id))
        try:
            return app.profile.variant(self.model)
        except KeyError:
            known = [v.id for v in app.profile.variants]
            raise ValueError(
                f"agnostic: app {app.name!r} has no variant {self.model!r}; known: {known}"
            ) from None

    def misfit(self, profiles: Mapping[str, Profile]) -> str | None:
        if self.model in _CHOICES:
            return None
        for app, profile in profiles.items():
            if not any(v.id == self.model for v in profile.variants):
                known = [v.id for v in profile.variants]
                shown = known if len(known) <= 8 else [*known[:8], "..."]
                return (f"parameter model: app {app!r} (profile {profile.family}) has no "
                        f"variant {self.model!r}; its variants: {shown}")
        return None

    def decide(self, view: SystemView) -> Plan:
        fixed = {a.name: self.fixed_model(a) for a in view.apps}
        priority = {a.name: a.priority for a in view.apps}
        def size(n: str) -> int:
            return memory_bytes(fixed[n])

        kept, evicted = eviction_order(sorted(fixed), priority.__getitem__, size,
                                       view.memory_budget_bytes, None)
        return Plan({n: AppPlan(variant=fixed[n].id, share=1.0 / len(kept)) for n in kept},
                    notes=pause_notes(evicted, size, view.memory_budget_bytes, None, len(kept)))

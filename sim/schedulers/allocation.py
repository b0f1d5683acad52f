"""Shares and memory for schedulers that give every running app a model: priority-weighted
shares of the device, and the lowest-priority apps left out (paused) while even their
smallest models do not fit memory (as NestDNN evicts)."""

from __future__ import annotations

from collections.abc import Sequence

from sim.schedulers.base import AppView, SystemView
from sim.schedulers.nestdnn_problem import eviction_order, pause_notes

__all__ = ["fit_memory", "priority_shares"]


def priority_shares(apps: Sequence[AppView]) -> dict[str, float]:
    """Each app's share of the device: its priority over the sum of priorities."""
    total = sum(a.priority for a in apps)
    return {a.name: a.priority / total for a in apps}


def fit_memory(view: SystemView, size: dict[str, int] | None = None,
               notes: dict[str, str] | None = None) -> list[AppView]:
    """The apps that run, by name: ``size`` (default: each app's smallest model) must fit
    the budget; the lowest priority (ties: the latest name) is left out first. ``notes``
    (the plan's) gets why each app left out is paused."""
    if size is None:
        size = {a.name: min(v.known_weight_bytes() + v.peak_activation_bytes for v in a.profile.variants)
                for a in view.apps}
    prio = {a.name: a.priority for a in view.apps}
    kept, evicted = eviction_order(sorted(size), prio.__getitem__, size.__getitem__,
                                   view.memory_budget_bytes, None)
    if notes is not None:
        notes.update(pause_notes(evicted, size.__getitem__, view.memory_budget_bytes, None,
                                 len(kept)))
    keep = set(kept)
    return sorted((a for a in view.apps if a.name in keep), key=lambda a: a.name)

"""Shares and memory for schedulers that give every running app a model: priority-weighted
shares of the device, and the lowest-priority apps left out (paused) while even their
smallest models do not fit memory (as NestDNN evicts)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from sim.schedulers.base import AppView, SystemView
from sim.schedulers.builtin.nestdnn.problem import eviction_order, pause_notes

__all__ = ["MIN_SHARE", "fit_memory", "priority_shares"]

MIN_SHARE = 1e-6
"""The least share an app that runs is given (a millionth of the device): priorities a
million or more times apart would otherwise give shares that underflow to 0 (which the
engine refuses) or vanish beside 1 when added (and shares so small that they round away
once summed do not leave the device's accounting exact)."""


def priority_shares(apps: Sequence[AppView]) -> dict[str, float]:
    """Each app's share of the device: its priority over the sum of priorities, at least
    :data:`MIN_SHARE` (``1 / (2 n)`` for n > 500,000 apps), the others scaled down to make
    room. Priorities are divided by the largest first, so that none overflows the sum
    (1e308 beside 1e308) or underflows (5e-324 everywhere). Shares are positive, at most 1,
    and sum to 1 within rounding; ValueError for a priority that is not a positive finite
    number."""
    if not apps:
        return {}
    for a in apps:
        if not 0 < a.priority < math.inf:
            raise ValueError(f"app {a.name!r}: priority must be a positive finite number, "
                             f"got {a.priority!r}")
    top = max(a.priority for a in apps)
    weight = {a.name: a.priority / top for a in apps}  # in [0, 1]; the largest is 1
    floor = min(MIN_SHARE, 0.5 / len(apps))
    floored: set[str] = set()
    while True:  # ends: the largest weight's share stays >= 1 / (2 n) >= floor
        rest = math.fsum(w for n, w in weight.items() if n not in floored)
        room = 1.0 - floor * len(floored)
        low = {n for n, w in weight.items() if n not in floored and room * w / rest < floor}
        if not low:
            break
        floored |= low
    return {n: floor if n in floored else min(1.0, room * w / rest)
            for n, w in weight.items()}


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

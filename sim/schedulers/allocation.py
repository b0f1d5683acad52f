"""Shares and memory for schedulers that give every running app a model: priority-weighted
shares of the device, and the lowest-priority apps left out (paused) while even their
smallest models do not fit memory (NestDNN's eviction, :func:`eviction_order`, which its
solver uses too), with the note that says why each one is paused (:func:`pause_notes`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from sim.schedulers.base import AppView, SystemView
from sim.schedulers.contract import memory_bytes

__all__ = ["MIN_SHARE", "eviction_order", "fit_memory", "pause_notes", "priority_shares"]

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
        size = {a.name: min(memory_bytes(v) for v in a.profile.variants) for a in view.apps}
    prio = {a.name: a.priority for a in view.apps}
    kept, evicted = eviction_order(sorted(size), prio.__getitem__, size.__getitem__,
                                   view.memory_budget_bytes, None)
    if notes is not None:
        notes.update(pause_notes(evicted, size.__getitem__, view.memory_budget_bytes, None,
                                 len(kept)))
    keep = set(kept)
    return sorted((a for a in view.apps if a.name in keep), key=lambda a: a.name)


def eviction_order(
    names: Sequence[str],
    priority: Callable[[str], float],
    min_memory: Callable[[str], int],
    budget: int,
    max_apps: int | None,
) -> tuple[list[str], list[str]]:
    """Split apps into (kept, evicted) so the smallest models fit ``budget`` and at most
    ``max_apps`` run: hopeless apps first, then lowest priority, ties the latest name.

    O(n log n): the victims are a prefix of the apps sorted by (priority, latest name), found
    with a running total of the memory left (whole bytes, so it is exact)."""
    size = [min_memory(n) for n in names]
    if not all(isinstance(m, int | np.integer) for m in size):
        return _eviction_order_sums(names, priority, min_memory, budget, max_apps)
    kept = [n for n, m in zip(names, size, strict=True) if m <= budget]
    evicted = [n for n, m in zip(names, size, strict=True) if m > budget]
    mem = [m for m in size if m <= budget]
    order = sorted(range(len(kept)), key=lambda i: (priority(kept[i]), _desc(kept[i])))
    total, count, k = sum(mem), len(kept), 0
    while count and (total > budget or (max_apps is not None and count > max_apps)):
        total -= mem[order[k]]
        count -= 1
        k += 1
    if not k:
        return kept, evicted
    victims = [kept[i] for i in order[:k]]
    # kept.remove(victim) took the first app of that name each time
    left: dict[str, int] = {}
    for v in victims:
        left[v] = left.get(v, 0) + 1
    rest = []
    for n in kept:
        if left.get(n, 0):
            left[n] -= 1
        else:
            rest.append(n)
    return rest, evicted + victims


def _eviction_order_sums(
    names: Sequence[str],
    priority: Callable[[str], float],
    min_memory: Callable[[str], int],
    budget: int,
    max_apps: int | None,
) -> tuple[list[str], list[str]]:
    """:func:`eviction_order` for sizes that are not whole numbers: the memory of the apps
    kept is summed afresh after each eviction (a running total would round differently)."""
    kept = [n for n in names if min_memory(n) <= budget]
    evicted = [n for n in names if min_memory(n) > budget]
    victims = sorted(kept, key=lambda n: (priority(n), _desc(n)))
    while kept and (
        sum(min_memory(n) for n in kept) > budget or (max_apps is not None and len(kept) > max_apps)
    ):
        victim = victims.pop(0)
        kept.remove(victim)
        evicted.append(victim)
    return kept, evicted


def pause_notes(evicted: Sequence[str], min_memory: Callable[[str], int], budget: int,
                max_apps: int | None, n_kept: int) -> dict[str, str]:
    """Why each evicted app is paused, for the plan's notes (and so the timeline)."""
    mb = budget / 1e6
    notes = {}
    for n in evicted:
        if min_memory(n) > budget:
            notes[n] = (f"memory: its smallest model needs {min_memory(n) / 1e6:.1f} MB, over "
                        f"the {mb:.1f} MB budget")
        elif max_apps is not None and n_kept >= max_apps:
            notes[n] = f"the share grid has room for {max_apps} apps (lowest priority paused first)"
        else:
            notes[n] = (f"memory: the smallest models of higher-priority apps fill the "
                        f"{mb:.1f} MB budget")
    return notes


def _desc(name: str) -> tuple[int, ...]:
    """Sort key that orders names descending (the latest name first)."""
    return tuple(-ord(ch) for ch in name) + (1,)

"""AdaptiveNet's runtime adaptation (ALGORITHMS 3.5): per app, the most accurate subnet of its
pool whose latency, scaled by the observed latency ratio, fits the goal.

- Entries: the profile's pool (``pool.ids``) plus the model the supernet was grown from
  (``original``), or every variant when the profile has no pool (published tables, OFA).
- Ratio ρ: the device monitor's measured / profiled time of the app's own frames
  (``device_slowdown``); before any frame, ``1 / (share * capacity)``.
- Rule: a subnet whose ρ-scaled latency exceeds the goal steps down to the most accurate
  entry that fits; with slack the app steps up to a more accurate entry only if it fits with
  ``epsilon_ms`` to spare (1 ms, the artifact's ε); otherwise it keeps its subnet. When none
  fits, the fastest runs.
- Re-search: when nothing has fitted for ``research_after_s``, and the profile records the
  on-device search, the app searches again: for ``pool.search.seconds`` (the measured time of
  one search) it keeps its subnet, then it chooses among everything the profile's searches
  evaluated (``pool.search.candidates`` as well as the pool). The search's own compute is not
  charged to the device; its duration is.
- The latency monitor loop: the scheduler asks to decide again every ``monitor_period_s``.

State (ρ history is the monitor's; the scheduler keeps when nothing fitted and the search's
progress per app) lives in the scheduler instance, one per run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from sim.config.limits import MAX_DURATION_S
from sim.profile import Profile, Variant
from sim.schedulers.allocation import fit_memory, priority_shares
from sim.schedulers.base import AppPlan, AppView, Plan, Scheduler, SystemView
from sim.schedulers.constraints import Declaration, Interval
from sim.schedulers.contract import memory_bytes
from sim.schedulers.registry import register_scheduler

__all__ = ["AdaptiveNet", "pool_entries"]


@dataclass
class _AppState:
    none_since: float | None = None
    search_until: float | None = None
    searched: bool = False


def pool_entries(profile: Profile, searched: bool = False) -> list[Variant]:
    """The subnets an app switches among (see the module docstring)."""
    pool = profile.pool
    if pool is None:
        return list(profile.variants)
    ids = list(pool.ids)
    if any(v.id == "original" for v in profile.variants) and "original" not in ids:
        ids.append("original")
    if searched and pool.search is not None:
        ids += [c.id for c in pool.search.candidates]
    return [profile.variant(i) for i in ids]


def _best(entries: list[Variant]) -> Variant:
    return max(entries, key=lambda v: (v.top1, -v.latency_ms.median, v.id))


def _fastest(entries: list[Variant]) -> Variant:
    return min(entries, key=lambda v: (v.latency_ms.median, -v.top1, v.id))


@register_scheduler("adaptivenet")
class AdaptiveNet(Scheduler):
    """AdaptiveNet: best pool subnet under the latency goal, scaled by the observed ratio."""

    stateful: ClassVar[bool] = True
    kinds: ClassVar[frozenset[str] | None] = frozenset({"elastified", "supernet"})

    param_docs: ClassVar[dict[str, str]] = {
        'epsilon_ms': "slack a more accurate subnet must leave under the goal before the app steps up (the artifact's 1 ms)",
        'research_after_s': "how long nothing may fit before the app searches its subnet space again",
        'monitor_period_s': "how often the latency monitor asks for a new decision",
    }
    param_constraints: ClassVar[Mapping[str, Declaration]] = {
        "epsilon_ms": Interval(0, MAX_DURATION_S * 1000, unit="ms"),
        "research_after_s": Interval(0, MAX_DURATION_S, unit="s"),
        # under a millisecond is a hang (1e-300 s never advances the clock)
        "monitor_period_s": Interval(1e-3, MAX_DURATION_S, unit="s"),
    }
    """times are at most the longest scenario (30 days)"""

    def __init__(self, epsilon_ms: float = 1.0, research_after_s: float = 5.0,
                 monitor_period_s: float = 1.0) -> None:
        self.epsilon_ms = float(epsilon_ms)
        self.research_after_s = float(research_after_s)
        self.monitor_period_s = float(monitor_period_s)
        self._state: dict[str, _AppState] = {}

    def decide(self, view: SystemView) -> Plan:
        now = view.time_s
        notes: dict[str, str] = {}
        apps = fit_memory(view, {a.name: min(memory_bytes(v) for v in pool_entries(a.profile))
                                 for a in view.apps}, notes)
        shares = priority_shares(apps) if apps else {}
        plan: dict[str, AppPlan] = {}
        wake = now + self.monitor_period_s
        for a in apps:
            st = self._state.setdefault(a.name, _AppState())
            variant, note = self._choose(a, view, shares[a.name], st, now)
            plan[a.name] = AppPlan(variant.id, shares[a.name])
            if note:
                notes[a.name] = note
            for t in (st.search_until,
                      None if st.none_since is None or st.searched
                      else st.none_since + self.research_after_s):
                if t is not None and t > now:
                    wake = min(wake, t)
        return Plan(plan, notes=notes, wake_at_s=wake if apps else None)

    def _choose(self, a: AppView, view: SystemView, share: float, st: _AppState,
                now: float) -> tuple[Variant, str | None]:
        note = None
        if st.search_until is not None and now >= st.search_until:
            st.search_until, st.searched = None, True
            n = len(a.profile.pool.search.candidates) if a.profile.pool and a.profile.pool.search else 0
            note = f"re-search done: {n} more subnets to choose from"
        entries = pool_entries(a.profile, st.searched)
        allowance = view.memory_budget_bytes * share
        fitting_mem = [v for v in entries if memory_bytes(v) <= allowance]
        entries = fitting_mem or [min(entries, key=lambda v: v.known_weight_bytes())]
        rho = a.device_slowdown
        if rho is None:
            rho = 1.0 / max(share * view.capacity, 1e-9)
        goal = a.latency_goal_ms
        fits = [v for v in entries if v.latency_ms.median * rho <= goal]
        current = None
        if a.current is not None:
            current = next((v for v in entries if v.id == a.current.variant), None)
        if fits:
            st.none_since = None
        elif st.none_since is None:
            st.none_since = now
        if st.search_until is not None and current is not None:
            return current, note  # searching: keep the subnet meanwhile
        if not fits:
            search = a.profile.pool.search if a.profile.pool is not None else None
            assert st.none_since is not None  # set above whenever nothing fits
            waited = now - st.none_since  # a launch at t = 0 has waited from 0.0, not unset
            if search is not None and not st.searched and waited >= self.research_after_s:
                st.search_until = now + search.seconds
                note = (f"nothing fits for {waited:.1f} s (x{rho:.2f}): re-search for "
                        f"{search.seconds:.1f} s")
                if current is not None:
                    return current, note
            return _fastest(entries), note
        if current is None or current.latency_ms.median * rho > goal:
            return _best(fits), note
        slack = [v for v in fits if v.top1 > current.top1
                 and v.latency_ms.median * rho <= goal - self.epsilon_ms]
        return (_best(slack) if slack else current), note

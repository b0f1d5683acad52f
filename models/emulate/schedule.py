"""What each emulated process must do and when: a simulated run's timeline made into per-app
sessions, shares made into kernel scheduling weights, the background load made into steps.

The emulation replays the simulated run's decisions (it does not run the scheduler again),
so any difference between the two runs is the simulator's modelling error, not a different
plan. Only device-side plans can be replayed: a split or an exit threshold is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sim.engine.world import EngineResult

__all__ = ["AppSession", "EmulationError", "app_sessions", "kernel_weight", "nice_levels",
           "load_steps"]

NICE_WEIGHT = (
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
    9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277,
    1024, 820, 655, 526, 423, 335, 272, 215, 172, 137,
    110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
)
"""Linux CFS load weight of nice -20 ... 19 (``sched_prio_to_weight`` in kernel/sched/core.c)."""


class EmulationError(ValueError):
    """A run that cannot be emulated; one line naming the cause."""


@dataclass
class AppSession:
    """One launch-to-exit stretch of an app: plan changes ``(t, variant or None, share)``."""

    launch_s: float
    exit_s: float
    changes: list[tuple[float, str | None, float]] = field(default_factory=list)


def app_sessions(res: EngineResult) -> dict[str, list[AppSession]]:
    """Each app's sessions, from the run's timeline (``None`` variant: paused or not yet
    decided)."""
    end = res.duration_s
    out: dict[str, list[AppSession]] = {}
    for d in res.timeline:
        if d.app == "*":
            continue
        if d.split is not None or d.threshold is not None:
            raise EmulationError(
                f"app {d.app!r} at t={d.t_s:.3f}s runs split {d.split!r} / threshold "
                f"{d.threshold!r}: emulate replays device-side plans only")
        sessions = out.setdefault(d.app, [])
        if d.reason == "launch":
            sessions.append(AppSession(d.t_s, end, [(d.t_s, None, 0.0)]))
        elif d.reason == "exit":
            sessions[-1].exit_s = d.t_s
        else:
            sessions[-1].changes.append((d.t_s, d.variant or None, d.share if d.variant else 0.0))
    return out


def kernel_weight(nice: int) -> int:
    return NICE_WEIGHT[nice + 20]


def nice_levels(shares: dict[str, float]) -> dict[str, int]:
    """Nice values whose CFS weights are closest (in log ratio) to the shares: the largest
    share runs at nice 0, the others lower (each nice step is a factor ~1.25)."""
    live = {k: s for k, s in shares.items() if s > 0.0}
    if not live:
        return {}
    top = max(live.values())
    out = {}
    for k, s in live.items():
        ratio = top / s
        out[k] = min(range(0, 20), key=lambda n: abs(math.log(1024 / kernel_weight(n))
                                                     - math.log(ratio)))
    return out


def load_steps(res: EngineResult) -> list[tuple[float, float]]:
    """The device's background load as ``(t, fraction)`` steps over the run."""
    trace = res.inputs.load
    t, steps = 0.0, []
    while t < res.duration_s:
        steps.append((t, float(trace.value_at(t))))
        t = trace.next_change_after(t)
    return steps

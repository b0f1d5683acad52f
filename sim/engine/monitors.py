"""Monitors: what the schedulers are allowed to know (estimates, not the true traces).

The load monitor reads the average background utilisation over each period, as an OS CPU
counter would, and smooths it with an EWMA. The latency monitor smooths, per app, the ratio of
observed frame latency to the latency the current plan should give. With ``oracle`` the true
instantaneous capacity is reported instead (for upper-bound runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.traces import Trace

__all__ = ["Monitors"]


@dataclass
class Monitors:
    load: Trace
    ewma: float
    period_s: float
    oracle: bool = False
    capacity_est: float = field(init=False)
    latency_ratio: dict[str, float] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.capacity_est = max(0.0, 1.0 - self.load.value_at(0.0))

    def sample_load(self, now: float) -> None:
        """One monitor period ended at ``now``: fold the observed average load in."""
        t0 = max(0.0, now - self.period_s)
        if now <= t0:
            return
        observed = 1.0 - self.load.integral(t0, now) / (now - t0)
        self.capacity_est += self.ewma * (max(0.0, observed) - self.capacity_est)

    def capacity(self, now: float) -> float:
        """Capacity the scheduler is told about."""
        if self.oracle:
            return max(0.0, 1.0 - self.load.value_at(now))
        return self.capacity_est

    def observe_frame(self, app: str, latency_s: float, expected_s: float) -> None:
        """Fold one processed frame's latency in (``expected_s`` from the plan and estimate)."""
        ms = latency_s * 1000.0
        ratio = latency_s / expected_s if expected_s > 0 else 1.0
        if app not in self.latency_ratio:
            self.latency_ratio[app] = ratio
            self.latency_ms[app] = ms
        else:
            self.latency_ratio[app] += self.ewma * (ratio - self.latency_ratio[app])
            self.latency_ms[app] += self.ewma * (ms - self.latency_ms[app])

    def forget(self, app: str) -> None:
        self.latency_ratio.pop(app, None)
        self.latency_ms.pop(app, None)

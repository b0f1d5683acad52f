"""Monitors: what the schedulers are allowed to know (estimates, not the true traces).

- Device load: the average background utilisation over each period, as an OS CPU counter
  would read it, smoothed by an EWMA into ``capacity``.
- Per app: the EWMA of observed frame latency and of observed / expected latency for the
  current plan (``latency_ratio``), and the device slowdown, EWMA of measured / profiled
  device time of each device job (SPINN's k_dev, AdaptiveNet's latency ratio).
- Link (SPINN 2.3): bandwidth from each finished transfer, its bytes over its share of the
  link's time (so it estimates the link, not one app's share of it), and the round trip from
  each response; both EWMAs. The radio's state is known locally; after a timeout the server
  counts as unreachable until a probe (one per monitor period) gets an answer.
- Server: slowdown, EWMA of measured / profiled server time of each job over its share of the
  server; ``server_capacity`` is its inverse.

Estimates start from what a connection set-up would measure at t = 0. With ``oracle`` every
field reports the truth at the decision instant instead (for upper-bound runs).
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
    device_slowdown: dict[str, float] = field(default_factory=dict)
    bandwidth_mbps: float | None = None
    rtt_ms: float | None = None
    server_slowdown: float = 1.0
    link_up: bool = True
    """radio connected and server believed reachable"""

    def __post_init__(self) -> None:
        self.capacity_est = max(0.0, 1.0 - self.load.value_at(0.0))

    # -- device ------------------------------------------------------------------------------
    def sample_load(self, now: float) -> None:
        """One monitor period ended at ``now``: fold the observed average load in."""
        t0 = max(0.0, now - self.period_s)
        if now <= t0:
            return
        observed = 1.0 - self.load.integral(t0, now) / (now - t0)
        self.capacity_est += self.ewma * (max(0.0, observed) - self.capacity_est)

    def capacity(self, now: float) -> float:
        """Device capacity the scheduler is told about."""
        if self.oracle:
            return max(0.0, 1.0 - self.load.value_at(now))
        return self.capacity_est

    def observe_frame(self, app: str, latency_s: float, expected_s: float) -> None:
        """Fold one device-only frame's latency in (``expected_s`` from the plan and estimate)."""
        ms = latency_s * 1000.0
        ratio = latency_s / expected_s if expected_s > 0 else 1.0
        old = self.latency_ratio.get(app)
        if old is None:
            self.latency_ratio[app] = ratio
            self.latency_ms[app] = ms
        else:
            a = self.ewma
            self.latency_ratio[app] = old + a * (ratio - old)
            self.latency_ms[app] += a * (ms - self.latency_ms[app])

    def observe_device(self, app: str, measured_s: float, work_s: float) -> None:
        """One device job took ``measured_s`` for ``work_s`` of profiled work."""
        if work_s <= 0.0:
            return
        ratio = measured_s / work_s
        old = self.device_slowdown.get(app)
        self.device_slowdown[app] = ratio if old is None else old + self.ewma * (ratio - old)

    def forget(self, app: str) -> None:
        self.latency_ratio.pop(app, None)
        self.latency_ms.pop(app, None)
        self.device_slowdown.pop(app, None)

    # -- link and server ----------------------------------------------------------------------
    def start_link(self, bandwidth_mbps: float, rtt_ms: float, up: bool) -> None:
        self.bandwidth_mbps, self.rtt_ms, self.link_up = bandwidth_mbps, rtt_ms, up

    def observe_transfer(self, nbytes: float, share_time_s: float) -> None:
        if share_time_s <= 0.0 or nbytes <= 0.0 or self.bandwidth_mbps is None:
            return
        sample = nbytes * 8.0 / 1e6 / share_time_s
        self.bandwidth_mbps += self.ewma * (sample - self.bandwidth_mbps)

    def observe_rtt(self, rtt_s: float) -> None:
        if self.rtt_ms is not None:
            self.rtt_ms += self.ewma * (rtt_s * 1000.0 - self.rtt_ms)

    def observe_server(self, share_time_s: float, work_s: float) -> None:
        if work_s > 0.0 and share_time_s > 0.0:
            self.server_slowdown += self.ewma * (share_time_s / work_s - self.server_slowdown)

    @property
    def server_capacity(self) -> float:
        return min(1.0, 1.0 / max(self.server_slowdown, 1e-9))

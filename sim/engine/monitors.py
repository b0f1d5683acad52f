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
  server; ``server_capacity`` is its inverse. A request that times out without an answer is
  information too: the server took longer than the device waited (less the round trip), a
  lower bound that lifts the estimate at once, so a server slower than the deadlines allow is
  learnt within a few timeouts instead of never. When no job of any app finished on the server
  during a monitor period and the server is reachable, a probe (a load report; its own cost is
  not modelled) measures the server's capacity, so an estimate no longer goes stale while
  nothing is offloaded. Probing goes beyond SPINN's paper, which learns only from requests.

Estimates start from what a connection set-up would measure at t = 0 (bandwidth, round trip
and the server's capacity). With ``oracle`` every field reports the truth at the decision
instant instead (for upper-bound runs), and offload deadlines use the truth as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.traces import Trace

__all__ = ["Monitors"]


class AppEstimates:
    """One app's EWMAs (None before its first frame). The app's runtime updates them in place
    on every frame (the engine's hot path); the view reads them."""

    __slots__ = ("latency_ratio", "latency_ms", "device_slowdown")

    def __init__(self) -> None:
        self.latency_ratio: float | None = None
        self.latency_ms: float | None = None
        self.device_slowdown: float | None = None

    def reset(self) -> None:
        self.latency_ratio = self.latency_ms = self.device_slowdown = None


@dataclass
class Monitors:
    load: Trace
    ewma: float
    period_s: float
    oracle: bool = False
    capacity_est: float = field(init=False)
    apps: dict[str, AppEstimates] = field(default_factory=dict)
    bandwidth_mbps: float | None = None
    rtt_ms: float | None = None
    server_slowdown: float = 1.0
    link_up: bool = True
    """radio connected and server believed reachable"""
    server_seen: bool = False
    """a server job finished (or a probe answered) since the last monitor period"""
    true_bandwidth: Trace | None = None
    """with ``oracle``: the link's true bandwidth (Mbit/s)"""
    true_server: Trace | None = None
    """with ``oracle``: the server's true capacity"""

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

    def app(self, name: str) -> AppEstimates:
        """The estimates of one app (created on first use)."""
        est = self.apps.get(name)
        if est is None:
            est = self.apps[name] = AppEstimates()
        return est

    def observe_local(self, est: AppEstimates, measured_s: float, work_s: float,
                      latency_s: float, expected_s: float) -> None:
        """A frame answered on the device: device slowdown (measured / profiled device time)
        and latency (observed, and observed / expected under the plan)."""
        a = self.ewma
        x = measured_s / work_s if work_s > 0.0 else 1.0
        old = est.device_slowdown
        est.device_slowdown = x if old is None else old + a * (x - old)
        ms = latency_s * 1000.0
        x = latency_s / expected_s if expected_s > 0.0 else 1.0
        old = est.latency_ratio
        if old is None or est.latency_ms is None:
            est.latency_ratio, est.latency_ms = x, ms
        else:
            est.latency_ratio = old + a * (x - old)
            est.latency_ms += a * (ms - est.latency_ms)

    def observe_device(self, est: AppEstimates, measured_s: float, work_s: float) -> None:
        """One device job (of a frame that then left the device, or a fallback)."""
        if work_s <= 0.0:
            return
        x = measured_s / work_s
        old = est.device_slowdown
        est.device_slowdown = x if old is None else old + self.ewma * (x - old)

    def forget(self, app: str) -> None:
        est = self.apps.get(app)
        if est is not None:
            est.reset()

    def latency_ratios(self) -> dict[str, float]:
        return {n: e.latency_ratio for n, e in self.apps.items() if e.latency_ratio is not None}

    # -- link and server ----------------------------------------------------------------------
    def start_link(self, bandwidth_mbps: float, rtt_ms: float, up: bool,
                   server_capacity: float = 1.0) -> None:
        self.bandwidth_mbps, self.rtt_ms, self.link_up = bandwidth_mbps, rtt_ms, up
        if server_capacity > 0.0:
            self.server_slowdown = 1.0 / server_capacity

    def bandwidth_at(self, now: float) -> float | None:
        """Bandwidth the device plans with (the truth under ``oracle``)."""
        if self.oracle and self.true_bandwidth is not None:
            return self.true_bandwidth.value_at(now)
        return self.bandwidth_mbps

    def server_slowdown_at(self, now: float) -> float:
        """Server slowdown the device plans with (the truth under ``oracle`` while it is up)."""
        if self.oracle and self.true_server is not None:
            cap = self.true_server.value_at(now)
            if cap > 0.0:
                return 1.0 / cap
        return self.server_slowdown

    def observe_transfer(self, nbytes: float, share_time_s: float) -> None:
        if share_time_s <= 0.0 or nbytes <= 0.0 or self.bandwidth_mbps is None:
            return
        sample = nbytes * 8.0 / 1e6 / share_time_s
        self.bandwidth_mbps += self.ewma * (sample - self.bandwidth_mbps)

    def observe_rtt(self, rtt_s: float) -> None:
        if self.rtt_ms is not None:
            self.rtt_ms += self.ewma * (rtt_s * 1000.0 - self.rtt_ms)

    def observe_server(self, share_time_s: float, work_s: float) -> None:
        self.server_seen = True
        if work_s > 0.0 and share_time_s > 0.0:
            self.server_slowdown += self.ewma * (share_time_s / work_s - self.server_slowdown)

    def observe_server_timeout(self, waited_s: float, scale_s: float) -> None:
        """A request got no answer after ``waited_s`` at (or queued for) the server, where
        ``scale_s`` profiled seconds were expected per unit of slowdown: the slowdown is at
        least their ratio."""
        if scale_s > 0.0 and waited_s > 0.0:
            self.server_slowdown = max(self.server_slowdown, waited_s / scale_s)

    def probe_server(self, capacity: float) -> None:
        """A monitor period passed without a server answer: a probe reads its capacity (no
        answer while it is down)."""
        if self.server_seen:
            self.server_seen = False
            return
        if capacity > 0.0:
            self.server_slowdown += self.ewma * (1.0 / capacity - self.server_slowdown)

    @property
    def server_capacity(self) -> float:
        return min(1.0, 1.0 / max(self.server_slowdown, 1e-9))

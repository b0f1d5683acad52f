"""Weighted processor sharing with exact completion times (no time slicing).

Capacity at time t is ``1 - background_load(t)`` (a piecewise-constant trace). Busy jobs share
it by weight: with work conservation a job gets ``cap * w / sum(w of busy jobs)``, otherwise
``cap * w`` (shares are absolute fractions). A job's work is its profiled latency at the full
device, in seconds. Whenever jobs, weights or capacity change, remaining work is advanced
exactly and the single next event (first completion or next capacity change) is rescheduled;
stale events are ignored by a version counter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import simpy

from sim.traces import Trace

__all__ = ["Job", "SharedProcessor"]

_EPS = 1e-12


@dataclass(eq=False)
class Job:
    """Work in full-device seconds for one owner; ``on_done(job)`` fires at completion."""

    owner: str
    work: float
    on_done: Callable[[Job], None]
    remaining: float = field(init=False)
    started: float = 0.0

    def __post_init__(self) -> None:
        self.remaining = self.work


class SharedProcessor:
    """The device's compute, shared among at most one job per owner."""

    def __init__(self, env: simpy.Environment, load: Trace, work_conserving: bool = True) -> None:
        self.env = env
        self.load = load
        self.work_conserving = work_conserving
        self.jobs: dict[str, Job] = {}
        self.weights: dict[str, float] = {}
        self.work_done: dict[str, float] = {}
        """Full-device seconds of compute each owner received (for energy)."""
        self.busy_time = 0.0
        """Seconds during which at least one job ran with non-zero capacity."""
        self._rates: dict[str, float] = {}
        self._last = env.now
        self._version = 0
        self._cap = 0.0
        self._cap_from = math.inf  # cached capacity holds on [_cap_from, _cap_until)
        self._cap_until = -math.inf
        self._deferred = False  # inside _wake: one reschedule at the end serves all changes

    # -- public API -------------------------------------------------------------------------
    def capacity(self) -> float:
        """True available capacity now (the engine's truth, not a monitor estimate)."""
        now = self.env.now
        if not self._cap_from <= now < self._cap_until:
            self._cap = max(0.0, 1.0 - self.load.value_at(now))
            self._cap_from, self._cap_until = now, self.load.next_change_after(now)
        return self._cap

    def set_weight(self, owner: str, weight: float) -> None:
        """Set an owner's share; takes effect immediately for a running job."""
        self._advance()
        self.weights[owner] = weight
        self._reschedule()

    def submit(self, job: Job) -> None:
        """Start a job; an owner has at most one job at a time."""
        if job.owner in self.jobs:
            raise RuntimeError(f"{job.owner}: a job is already running")
        self._advance()
        job.started = self.env.now
        self.jobs[job.owner] = job
        self._reschedule()

    def cancel(self, owner: str) -> Job | None:
        """Abort an owner's running job (app exit or pause); returns it."""
        self._advance()
        job = self.jobs.pop(owner, None)
        self._reschedule()
        return job

    def forget(self, owner: str) -> None:
        """Drop an owner's weight (it no longer runs)."""
        self.cancel(owner)
        self.weights.pop(owner, None)

    def rate(self, owner: str) -> float:
        """Current service rate of an owner's job (0 if none)."""
        return self._rates.get(owner, 0.0)

    def sync(self) -> None:
        """Bring work accounting up to now (before reading ``work_done``)."""
        self._advance()

    # -- internals ---------------------------------------------------------------------------
    def _compute_rates(self) -> dict[str, float]:
        cap = self.capacity()
        if not self.jobs or cap <= 0.0:
            return {}
        w = {o: self.weights.get(o, 0.0) for o in self.jobs}
        if self.work_conserving:
            total = sum(w.values())
            if total <= 0.0:
                return {o: cap / len(w) for o in w}
            return {o: cap * x / total for o, x in w.items()}
        return {o: cap * x for o, x in w.items()}

    def _advance(self) -> None:
        now = self.env.now
        dt = now - self._last
        if dt > 0.0:
            if self._rates:
                self.busy_time += dt
            for owner, r in self._rates.items():
                if r > 0.0:
                    job = self.jobs[owner]
                    done = min(job.remaining, r * dt)
                    job.remaining -= done
                    self.work_done[owner] = self.work_done.get(owner, 0.0) + done
        self._last = now

    def _reschedule(self) -> None:
        if self._deferred:
            return
        self._version += 1
        self._rates = self._compute_rates()
        now = self.env.now
        if self.jobs:
            self.capacity()
            nxt = self._cap_until - now
        else:
            nxt = math.inf
        for owner, r in self._rates.items():
            if r > 0.0:
                nxt = min(nxt, self.jobs[owner].remaining / r)
        if math.isinf(nxt):
            return
        ev = self.env.timeout(max(nxt, 0.0))
        version = self._version
        ev.callbacks.append(lambda _e: self._wake(version))

    def _wake(self, version: int) -> None:
        if version != self._version:
            return
        self._advance()
        finished = [j for j in self.jobs.values() if j.remaining <= _EPS * max(1.0, j.work)]
        for job in finished:
            del self.jobs[job.owner]
            job.remaining = 0.0
        self._deferred = True
        try:
            for job in finished:
                job.on_done(job)
        finally:
            self._deferred = False
        self._reschedule()

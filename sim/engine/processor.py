"""Weighted processor sharing with exact completion times (no time slicing).

One class serves the device (capacity ``1 - background_load(t)``, work in full-device
seconds), the uplink (capacity the bandwidth in bytes/s, work in bytes) and the server
(capacity ``1 - server_load(t)``). Busy jobs share the capacity by weight: with work
conservation a job gets ``cap * w / W`` (``W`` the sum of the busy jobs' weights), otherwise
``cap * w``.

Exactness by virtual time: ``v`` grows at ``cap / W`` (or ``cap``), so a job started at ``v0``
with work ``x`` and weight ``w`` ends when ``v`` reaches ``v0 + x / w``, whatever happens in
between. An event only updates ``v``; the single next event (first completion or next capacity
change) is recomputed and stale events are ignored by a version counter. A completion is
decided by the virtual finish time it was scheduled for, never by comparing leftover work
with a threshold, so it fires once at any simulated time (floating-point ``now + dt == now``
cannot stall it). ``v`` restarts at 0 whenever the resource is idle.

A job may be submitted to start later (:meth:`SharedProcessor.submit_at`: an app whose next
camera frame has not arrived yet). The start is one more breakpoint of the same single
pending event, so the app needs no wake-up of its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import simpy
from simpy.events import Event

from sim.traces import Trace

__all__ = ["MIN_WEIGHT", "Job", "SharedProcessor", "at", "notify"]

_TIE = 1e-12  # virtual finish times this close (relative) complete together
MIN_WEIGHT = 1e-100
"""Smallest positive weight (share) a processor uses: ``cap / W`` must stay finite."""
_REBASE = 1e3  # virtual time past which it restarts at 0 (keeps a new job's work/w exact)


class _Call(Event):
    """An already-triggered event with one callback (what ``env.timeout`` plus a callback
    does, with less work on the engine's hottest path)."""

    def __init__(self, env: simpy.Environment, callback: Callable[[Event], None]) -> None:
        self.env = env
        self.callbacks = [callback]
        self._ok = True
        self._value = None


def at(env: simpy.Environment, delay: float, callback: Callable[[Event], None],
       priority: int = 1) -> Event:
    """Call ``callback(event)`` after ``delay`` seconds; ``priority`` orders events of one
    instant (lower first; SimPy's own events use 1)."""
    ev = _Call(env, callback)
    env.schedule(ev, priority, delay)  # type: ignore[arg-type]  # any int orders events
    return ev


class _Processor(Protocol):
    _deferred: bool

    def _reschedule(self) -> None: ...


def notify(proc: _Processor, finished: list[Job]) -> None:
    """Tell the owners of finished jobs (their callbacks may submit more: one reschedule
    after all of them), then plan the processor's next event."""
    proc._deferred = True
    try:
        for job in finished:
            job.on_done(job)
    finally:
        proc._deferred = False
    proc._reschedule()


class Job:
    """Work (full-capacity seconds, or bytes on the link) for one owner; ``on_done(job)``
    fires at completion. ``share_time`` is, once done or cancelled, the integral of the job's
    share of the resource over its life (its time-at-full-capacity equivalent, for the
    monitors and the radio's energy); ``served`` the work it received (all of it once done)."""

    __slots__ = ("owner", "work", "on_done", "weight", "finish_v", "started", "u0", "share_time",
                 "served")

    def __init__(self, owner: str, work: float, on_done: Callable[[Job], None]) -> None:
        self.owner = owner
        self.work = work
        self.on_done = on_done
        self.weight = 1.0
        self.finish_v = 0.0
        self.started = 0.0
        self.u0 = 0.0
        self.share_time = 0.0
        self.served = 0.0


class SharedProcessor:
    """A shared resource with at most one job per owner."""

    def __init__(self, env: simpy.Environment, capacity: Trace, work_conserving: bool = True,
                 default_weight: float = 1.0) -> None:
        self.env = env
        self.capacity_trace = capacity
        self.work_conserving = work_conserving
        self.default_weight = default_weight
        self.jobs: dict[str, Job] = {}
        self.weights: dict[str, float] = {}
        self.busy_time = 0.0
        """Seconds during which at least one job ran with non-zero capacity."""
        self._done: dict[str, float] = {}  # work completed (or cancelled part) per owner
        self._v = 0.0
        self._u = 0.0  # integral of dt / W while busy (share-time per unit weight)
        self._w = 0.0  # sum of busy weights
        self._last = env.now
        self._pending: Event | None = None  # the one event that is not stale
        self._future: dict[str, tuple[float, Job]] = {}  # owner -> (start time, job)
        self._starts_at = math.inf  # the pending event starts the future jobs due by then
        self._due = math.nan  # virtual finish time the pending event completes (nan: none)
        self._cap = 0.0
        self._cap_from = math.inf
        self._cap_until = -math.inf
        self._deferred = False

    # -- public API -------------------------------------------------------------------------
    def capacity(self) -> float:
        """True capacity now (the engine's truth, not a monitor estimate)."""
        now = self.env.now
        if not self._cap_from <= now < self._cap_until:
            self._load_capacity(now)
        return self._cap

    def set_weight(self, owner: str, weight: float) -> None:
        """Set an owner's weight; takes effect immediately for a running job. A positive
        weight below :data:`MIN_WEIGHT` counts as that (rates would overflow below it)."""
        if 0.0 < weight < MIN_WEIGHT:
            weight = MIN_WEIGHT
        job = self.jobs.get(owner)
        self.weights[owner] = weight
        if job is None or job.weight == weight:
            return
        self._advance()
        if weight > 0 and job.weight > 0:
            job.finish_v = self._v + (job.finish_v - self._v) * job.weight / weight
        elif weight > 0:  # a starved job resumes with what it had left
            job.finish_v = self._v + job.work / weight
        else:
            job.finish_v = math.inf
        job.weight = weight
        self._reschedule()

    def submit_at(self, job: Job, t: float) -> None:
        """Start a job at time ``t`` >= now (its weight is read then); cancel() withdraws it."""
        if job.owner in self.jobs or job.owner in self._future:
            raise RuntimeError(f"{job.owner}: a job is already running or waiting")
        if t <= self.env._now:
            self.submit(job)
            return
        self._future[job.owner] = (t, job)
        if t < self._starts_at:
            self._advance()
            self._reschedule()

    def submit(self, job: Job) -> None:
        """Start a job; an owner has at most one job at a time."""
        if job.owner in self.jobs:
            raise RuntimeError(f"{job.owner}: a job is already running")
        self._advance()
        w = self.weights.get(job.owner, self.default_weight)
        job.weight = w
        job.started = self._last
        job.u0 = self._u
        job.finish_v = self._v + job.work / w if w > 0 else math.inf
        self.jobs[job.owner] = job
        self._reschedule()

    def cancel(self, owner: str) -> Job | None:
        """Abort an owner's running (or waiting) job; returns it, with ``served`` and
        ``share_time`` what it got so far (served work counts as done)."""
        waiting = self._future.pop(owner, None)
        if waiting is not None:
            if waiting[0] <= self._starts_at:
                self._advance()
                self._reschedule()
            later = waiting[1]
            later.served = later.share_time = 0.0
            return later
        job = self.jobs.get(owner)
        if job is None:
            return None
        self._advance()
        del self.jobs[owner]
        left = (job.finish_v - self._v) * job.weight if job.weight > 0 else job.work
        job.served = job.work - max(0.0, min(job.work, left))
        job.share_time = (self._u - job.u0) * job.weight
        self._credit(owner, job.served)
        self._reschedule()
        return job

    def forget(self, owner: str) -> None:
        """Drop an owner (it no longer runs)."""
        self.cancel(owner)
        self.weights.pop(owner, None)

    def finish_if_due(self, owner: str, within_s: float) -> bool:
        """Complete the owner's running job now if it would complete within ``within_s``
        (the same instant, see :mod:`sim.engine.ties`); True if it did."""
        job = self.jobs.get(owner)
        if job is None:
            return False
        self._advance()
        cap = self.capacity()
        if cap <= 0.0 or job.weight <= 0.0:
            return False
        left = (job.finish_v - self._v) * (self._w / cap if self.work_conserving else 1.0 / cap)
        if left > within_s:
            return False
        del self.jobs[owner]
        self._credit(owner, job.work)
        job.share_time = (self._u - job.u0) * job.weight
        job.served = job.work
        notify(self, [job])
        return True

    def rate(self, owner: str) -> float:
        """Current service rate of an owner's job (0 if none)."""
        job = self.jobs.get(owner)
        cap = self.capacity()
        if job is None or cap <= 0.0 or job.weight <= 0.0:
            return 0.0
        return cap * job.weight / self._w if self.work_conserving else cap * job.weight

    def is_waiting(self, owner: str) -> bool:
        """True while the owner's job is submitted to start later and has not started."""
        return owner in self._future

    def busy(self) -> int:
        return len(self.jobs)

    def work_done(self) -> dict[str, float]:
        """Work each owner received so far (jobs in progress included, pro rata)."""
        self._advance()
        out = dict(self._done)
        for owner, job in self.jobs.items():
            left = (job.finish_v - self._v) * job.weight if job.weight > 0 else job.work
            out[owner] = out.get(owner, 0.0) + job.work - max(0.0, min(job.work, left))
        return out

    # -- internals ---------------------------------------------------------------------------
    def _credit(self, owner: str, work: float) -> None:
        self._done[owner] = self._done.get(owner, 0.0) + work

    def _load_capacity(self, t: float) -> None:
        trace = self.capacity_trace
        self._cap = trace.value_at(t)
        self._cap_from, self._cap_until = min(t, self.env.now), trace.next_change_after(t)

    def _advance(self) -> None:
        now = self.env._now  # the property costs a call; this is the engine's hottest path
        dt = now - self._last
        self._last = now
        if dt > 0.0 and self.jobs:
            if not self._cap_from <= now - dt < self._cap_until:
                self._load_capacity(now - dt)
            cap = self._cap
            if cap > 0.0:
                self.busy_time += dt
                if self.work_conserving:
                    w = self._w
                    if w > 0.0:
                        self._v += dt * cap / w
                        self._u += dt / w
                else:
                    self._v += dt * cap
                    self._u += dt
                if self._v > _REBASE:
                    self._rebase()

    def _rebase(self) -> None:
        """Move virtual time back to 0 (finish times and share marks with it). A tiny total
        weight makes ``v`` race ahead (cap / W per second), and a job started then would
        have ``v + work / w == v`` in floating point: done in no time."""
        v, u = self._v, self._u
        for job in self.jobs.values():
            job.finish_v -= v
            job.u0 -= u
        self._v = self._u = 0.0
        if self._due == self._due:
            self._due -= v

    def _reschedule(self) -> None:
        if self._deferred:
            return
        self._pending = None
        jobs = self.jobs
        now = self.env._now
        start = math.inf
        if self._future:
            start = min(t for t, _ in self._future.values())
        self._starts_at = start
        if not jobs:
            self._v = self._u = self._w = 0.0  # idle: restart virtual time (precision)
            self._due = math.nan
            if start < math.inf:
                ev = self._pending = _Call(self.env, self._wake)
                self.env.schedule(ev, 1, start - now)  # type: ignore[arg-type]
            return
        if not self._cap_from <= now < self._cap_until:
            self._load_capacity(now)
        cap = self._cap
        total, fmin = 0.0, math.inf
        for j in jobs.values():  # W is re-summed, never drifted by increments
            total += j.weight
            if j.finish_v < fmin:
                fmin = j.finish_v
        self._w = total
        to_change = self._cap_until - now
        due = math.nan
        delay = to_change
        if cap > 0.0 and fmin < math.inf:
            dt = (fmin - self._v) * (total / cap if self.work_conserving else 1.0 / cap)
            if dt <= to_change:
                delay, due = (dt if dt > 0.0 else 0.0), fmin
        if start - now < delay:
            delay, due = start - now, math.nan
        else:
            self._starts_at = math.inf  # this event starts nothing
        if delay == math.inf:
            return
        self._due = due
        ev = self._pending = _Call(self.env, self._wake)
        self.env.schedule(ev, 1, delay)  # type: ignore[arg-type]

    def _wake(self, event: Event) -> None:
        if event is not self._pending:
            return
        due = self._due
        if due != due:  # nan: a start, or a capacity change
            self._advance()
            starts = self._starts_at
            if starts < math.inf:
                self._start_due(starts)
            else:  # read the next segment even if now rounds below it
                self._load_capacity(max(self.env.now, self._cap_until))
            self._reschedule()
            return
        self._advance()
        due = self._due  # (rebased with virtual time, if it was)
        if self._v < due:
            self._v = due
        limit = due + _TIE * max(1.0, abs(due))
        jobs, done, u = self.jobs, self._done, self._u
        finished = [j for j in jobs.values() if j.finish_v <= limit]
        for job in finished:
            owner = job.owner
            del jobs[owner]
            done[owner] = done.get(owner, 0.0) + job.work
            job.share_time = (u - job.u0) * job.weight
            job.served = job.work
        notify(self, finished)

    def _start_due(self, t: float) -> None:
        """Start every waiting job whose start time is <= t (the scheduled one)."""
        now, v, u, weights = self._last, self._v, self._u, self.weights
        for owner, (start, job) in list(self._future.items()):
            if start <= t:
                del self._future[owner]
                w = weights.get(owner, self.default_weight)
                job.weight, job.started, job.u0 = w, now, u
                job.finish_v = v + job.work / w if w > 0 else math.inf
                self.jobs[owner] = job

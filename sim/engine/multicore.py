"""A device with several cores: weighted shares water-filled under per-job caps.

Why a second processor: on one core every busy job's rate is proportional to its weight, so
one virtual clock gives exact completion times (:mod:`sim.engine.processor`). With ``n``
cores a job measured at ``k`` threads cannot use more than ``k`` cores (``min(k, n)``, its
*demand*), and what a capped job cannot use goes to the others, so rates are no longer
proportional to weights. Here each job keeps its work left explicitly and every event
recomputes the allocation; rates are constant between events, so completion times are
still exact (no time slicing).

Allocation at capacity ``C = cores * (1 - background_load(t))``: with work conservation the
weights are water-filled, ``a_j = min(d_j, lam * w_j)`` with ``lam`` such that the ``a_j``
sum to ``C`` (or every job at its demand when ``C`` is enough); otherwise ``a_j = min(d_j,
C * w_j)``. A job allotted ``a_j`` cores runs at ``a_j / d_j`` of its profiled speed (work is
in seconds of the profiled latency). ``work_done`` is in full-device seconds (``work * d_j /
cores``) so energy keeps its meaning. A one-core device uses :class:`SharedProcessor`
unchanged; this class is only built for ``device.cores > 1`` or ``engine.interference``.

Interference (``engine.interference``, :mod:`models.interference` measures it): a job runs
``factor(k)`` times slower while ``k = busy / cores - 1`` other jobs compete for each core
(the profile's co-run slowdown, interpolated), so its rate is ``a_j / (d_j * factor(k))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import simpy
from simpy.events import Event

from sim.engine.processor import MIN_WEIGHT, Job, _Call, notify
from sim.traces import Trace

__all__ = ["MultiCoreProcessor", "water_fill"]

_TIE = 1e-12  # finish times this close (relative) complete together


def water_fill(capacity: float, demand: dict[str, float], weight: dict[str, float],
               work_conserving: bool = True) -> dict[str, float]:
    """Cores allotted to each job: weights water-filled over ``capacity`` under the caps
    ``demand`` (a job of weight 0 gets nothing)."""
    alloc = {k: 0.0 for k in demand}
    live = [k for k in demand if weight[k] > 0.0 and demand[k] > 0.0]
    if capacity <= 0.0 or not live:
        return alloc
    if not work_conserving:
        for k in live:
            alloc[k] = min(demand[k], capacity * weight[k])
        return alloc
    top = max(weight[k] for k in live)  # only ratios matter: scale the largest to 1
    w = {k: weight[k] / top for k in live}
    live.sort(key=lambda k: (demand[k] / w[k], k))
    rest_w = [0.0] * (len(live) + 1)  # weight of live[i:], summed from the smallest (exact
    for i in range(len(live) - 1, -1, -1):  # enough that tiny weights never cancel to 0)
        rest_w[i] = rest_w[i + 1] + w[live[i]]
    left_c = capacity
    for i, k in enumerate(live):
        if left_c <= 0.0:
            break
        if demand[k] * rest_w[i] <= left_c * w[k]:  # its cap is below the water level
            alloc[k] = min(demand[k], left_c)
            left_c -= alloc[k]
            continue
        level = left_c / rest_w[i]
        for rest in live[i:]:
            alloc[rest] = level * w[rest]
        break
    return alloc


class MultiCoreProcessor:
    """The device stage of ``cores`` cores; same interface as :class:`SharedProcessor`."""

    def __init__(self, env: simpy.Environment, capacity: Trace, cores: int,
                 work_conserving: bool = True, default_weight: float = 1.0) -> None:
        self.env = env
        self.capacity_trace = capacity
        self.cores = cores
        self.work_conserving = work_conserving
        self.default_weight = default_weight
        self.jobs: dict[str, Job] = {}
        self.weights: dict[str, float] = {}
        self.demand: dict[str, float] = {}
        self.interference: dict[str, Callable[[float], float]] = {}
        self.busy_time = 0.0
        """Seconds during which at least one job ran with non-zero capacity."""
        self._left: dict[str, float] = {}  # work left per running owner
        self._slow: dict[str, float] = {}  # interference factor now in force per owner
        self._rate: dict[str, float] = {}  # fraction of profiled speed, per running owner
        self._alloc: dict[str, float] = {}  # cores allotted, per running owner
        self._done: dict[str, float] = {}  # full-device seconds served per owner
        self._future: dict[str, tuple[float, Job]] = {}
        self._last = env.now
        self._pending: Event | None = None
        self._due: set[str] = set()  # owners the pending event completes
        self._change_at = -math.inf  # capacity change the pending event is for
        self._segment = -math.inf  # capacity is read at max(now, this): a change never rounds away
        self._deferred = False

    # -- public API (as SharedProcessor) -----------------------------------------------------
    def set_demand(self, owner: str, threads: int) -> None:
        """An owner's jobs use at most ``min(threads, cores)`` cores."""
        self._advance()
        self.demand[owner] = float(min(threads, self.cores))
        self._reschedule()

    def set_interference(self, owner: str, factor: Callable[[float], float]) -> None:
        """An owner's jobs run ``factor(k)`` times slower while ``k`` other jobs compete for
        each core (``k = busy / cores - 1``, at least 0)."""
        self._advance()
        self.interference[owner] = factor
        self._reschedule()

    def capacity(self) -> float:
        """Cores available now (the engine's truth)."""
        return self.cores * self.capacity_trace.value_at(self.env.now)

    def set_weight(self, owner: str, weight: float) -> None:
        if 0.0 < weight < MIN_WEIGHT:  # as SharedProcessor.set_weight
            weight = MIN_WEIGHT
        self._advance()
        self.weights[owner] = weight
        job = self.jobs.get(owner)
        if job is not None:
            job.weight = weight
        self._reschedule()

    def submit_at(self, job: Job, t: float) -> None:
        if job.owner in self.jobs or job.owner in self._future:
            raise RuntimeError(f"{job.owner}: a job is already running or waiting")
        if t <= self.env.now:
            self.submit(job)
            return
        self._advance()
        self._future[job.owner] = (t, job)
        self._reschedule()

    def submit(self, job: Job) -> None:
        if job.owner in self.jobs:
            raise RuntimeError(f"{job.owner}: a job is already running")
        self._advance()
        self._start(job)
        self._reschedule()

    def cancel(self, owner: str) -> Job | None:
        self._advance()
        waiting = self._future.pop(owner, None)
        if waiting is not None:
            self._reschedule()
            return waiting[1]
        job = self.jobs.pop(owner, None)
        if job is None:
            return None
        self._left.pop(owner)
        self._rate.pop(owner)
        self._alloc.pop(owner)
        self._reschedule()
        return job

    def forget(self, owner: str) -> None:
        self.cancel(owner)
        self.weights.pop(owner, None)

    def finish_if_due(self, owner: str, within_s: float) -> bool:
        """As :meth:`SharedProcessor.finish_if_due`."""
        job = self.jobs.get(owner)
        if job is None:
            return False
        self._advance()
        r = self._rate.get(owner, 0.0)
        if r <= 0.0 or self._left[owner] / r > within_s:
            return False
        del self.jobs[owner]
        left = self._left.pop(owner)
        if left > 0.0:
            d = self.demand.get(owner, 1.0)
            self._done[owner] = self._done.get(owner, 0.0) + left * d / self.cores
        self._rate.pop(owner)
        self._alloc.pop(owner)
        notify(self, [job])
        return True

    def rate(self, owner: str) -> float:
        """Current speed of an owner's job as a fraction of its profiled speed (0 if none)."""
        self._advance()
        return self._rate.get(owner, 0.0)

    def is_waiting(self, owner: str) -> bool:
        return owner in self._future

    def busy(self) -> int:
        return len(self.jobs)

    def work_done(self) -> dict[str, float]:
        """Full-device seconds each owner received so far (jobs in progress included)."""
        self._advance()
        return dict(self._done)

    # -- internals ---------------------------------------------------------------------------
    def _start(self, job: Job) -> None:
        owner = job.owner
        job.weight = self.weights.get(owner, self.default_weight)
        job.started = self._last
        job.share_time = 0.0
        self.jobs[owner] = job
        self._left[owner] = job.work
        self._rate[owner] = 0.0
        self._alloc[owner] = 0.0

    def _advance(self) -> None:
        now = self.env.now
        dt = now - self._last
        self._last = now
        if dt <= 0.0 or not self.jobs:
            return
        if any(a > 0.0 for a in self._alloc.values()):
            self.busy_time += dt
        cores, done = self.cores, self._done
        for owner, job in self.jobs.items():
            r = self._rate[owner]
            if r <= 0.0:
                continue
            served = min(self._left[owner], r * dt)
            self._left[owner] -= served
            d = self.demand.get(owner, 1.0)
            # core seconds used: a slowed-down job burns factor x its profiled work
            done[owner] = done.get(owner, 0.0) + served * d * self._slow.get(owner, 1.0) / cores
            job.share_time += self._alloc[owner] / cores * dt

    def _allocate(self, now: float) -> None:
        jobs = self.jobs
        cap = self.cores * self.capacity_trace.value_at(max(now, self._segment))
        demand = {k: self.demand.get(k, 1.0) for k in jobs}
        alloc = water_fill(cap, demand, {k: j.weight for k, j in jobs.items()},
                           self.work_conserving)
        self._alloc = alloc
        self._rate = {k: alloc[k] / demand[k] for k in jobs}
        self._slow = {}
        if self.interference:
            busy = sum(1 for a in alloc.values() if a > 0.0)
            others = max(0.0, busy / self.cores - 1.0)
            for k, f in self.interference.items():
                if k in jobs and others > 0.0:
                    self._slow[k] = f(others)
                    self._rate[k] /= self._slow[k]

    def _reschedule(self) -> None:
        if self._deferred:
            return
        self._pending = None
        self._due = set()
        now = self.env.now
        if self._future:
            start = min(t for t, _ in self._future.values())
        else:
            start = math.inf
        change = self.capacity_trace.next_change_after(now) if self.jobs else math.inf
        finish, due = math.inf, set()
        if self.jobs:
            self._allocate(now)
            times = {k: (self._left[k] / r if r > 0.0 else math.inf)
                     for k, r in self._rate.items()}
            first = min(times.values())
            if first < math.inf:
                limit = first + _TIE * max(1.0, first)
                due = {k for k, t in times.items() if t <= limit}
                finish = first
        delay = min(finish, change - now, start - now)
        if delay == math.inf:
            return
        if finish <= change - now and finish <= start - now:
            self._due = due
        self._change_at = change if change - now <= min(finish, start - now) else -math.inf
        ev = self._pending = _Call(self.env, self._wake)
        self.env.schedule(ev, 1, max(delay, 0.0))  # type: ignore[arg-type]

    def _wake(self, event: Event) -> None:
        if event is not self._pending:
            return
        self._advance()
        now = self.env.now
        self._segment = self._change_at
        for owner, (t, job) in list(self._future.items()):
            if t <= now:
                del self._future[owner]
                self._start(job)
        finished = []
        for owner in sorted(self._due):
            job = self.jobs.pop(owner)
            left = self._left.pop(owner)
            if left > 0.0:  # rounding: the event was scheduled for its completion
                d = self.demand.get(owner, 1.0)
                self._done[owner] = self._done.get(owner, 0.0) + left * d / self.cores
            self._rate.pop(owner)
            self._alloc.pop(owner)
            finished.append(job)
        self._due = set()
        notify(self, finished)

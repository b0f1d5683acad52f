"""One app: its camera, its device stage and, for split plans, its frames on link and server.

Camera. Frames arrive at ``launch + k / fps``. Arrivals are counted analytically, not
simulated one event each: when the device stage becomes free it takes the oldest of the
newest ``queue_length`` frames not yet consumed, and every older one is dropped
(latest-frame semantics), exactly what a per-frame simulation with a bounded replace-oldest
queue would do, at one event per processed frame.

Pipeline (``engine.pipelined``, default on). Device, link and server are separate resources
and an app has at most one frame on each: the device may run frame k+1 while frame k is on
the link or the server. A frame that finishes its device part while the app's link stage is
busy waits, holding the device stage (blocking after service). Propagation (half the round
trip each way) holds no stage; a transfer does not start while an earlier frame of the app
waits at the server (flow control), so nothing piles up there. Server jobs of one app run in
order. With ``pipelined: false`` a frame enters the device only after the previous one has
its answer. Cloud-only frames have no device part: the camera frame is taken when the link
stage is free.

Failures (SPINN 2.7). An offloaded frame that has no answer by its deadline (``timeout_factor``
times the predicted transfer + round trip + server time), or that is ready to send while the
link is down, is finished on the device from the split (see :mod:`sim.engine.routes`); such
work runs before the next camera frame. A plan with ``local_fallback: false`` (cloud-only
baselines) loses the frame instead (counted as failed).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import simpy
from simpy.events import Event

from sim.engine.link import BYTES_PER_MBIT, Link
from sim.engine.monitors import Monitors
from sim.engine.multicore import MultiCoreProcessor
from sim.engine.processor import Job, SharedProcessor, at
from sim.engine.records import AppRecord
from sim.engine.server import Server
from sim.engine.ties import TIE_REL, tie_s
from sim.profile import Profile
from sim.routes import Route
from sim.config.scenario import AppSpec

__all__ = ["AppRuntime", "EngineContext", "P_DEADLINE", "P_NORMAL"]

_BATCH = 4096
_ARRIVAL_EPS = 1e-9
P_NORMAL = 1
"""frame and resource events"""
P_DEADLINE = 2
"""offload deadlines: an answer arriving at the deadline instant still counts"""


@dataclass
class EngineContext:
    """What every app shares: the clock, the resources, the monitors, the settings."""

    env: simpy.Environment
    device: SharedProcessor | MultiCoreProcessor
    link: Link | None
    server: Server | None
    monitors: Monitors
    storage_bytes_per_s: float
    queue_length: int
    pipelined: bool
    timeout_factor: float
    on_link_trouble: Callable[[str, str], None]
    """(app, what) when an offload times out or finds the link down"""
    interference: bool = False
    """apply the profile's after-idle slowdown to a frame the device stage waited for"""


class Frame:
    """A frame after its device part, while it is offloaded (or finished locally)."""

    __slots__ = ("arrival", "sample", "route", "goal_ms", "state", "sent_at", "link_done",
                 "at_server", "served_at", "fallback", "bern", "server_scale")

    def __init__(self, arrival: float, sample: int, route: Route, goal_ms: float,
                 fallback: bool, bern: bool) -> None:
        self.arrival = arrival
        self.sample = sample
        self.route = route
        self.goal_ms = goal_ms
        self.state = "hold"  # hold, link, up, queued, server, down, local, done
        self.sent_at = 0.0
        self.link_done = 0.0
        self.at_server = 0.0
        self.served_at = 0.0
        self.fallback = fallback
        self.bern = bern
        self.server_scale = 0.0
        """profiled server seconds the deadline allowed for, before the slowdown estimate"""


class AppRuntime:
    """Camera, device stage and offload pipeline of one app inside the engine."""

    def __init__(self, ctx: EngineContext, spec: AppSpec, profile: Profile,
                 rng: np.random.Generator) -> None:
        self.ctx = ctx
        self.env = ctx.env
        self.spec = spec
        self.name = spec.name
        self.profile = profile
        self.rng = rng
        self.record = AppRecord(spec.name)
        self.priority = spec.priority
        self.goal_ms = spec.goal_ms
        self._goal_times: list[float] = [-math.inf]
        self._goal_values: list[float] = [spec.goal_ms]
        self.period = 1.0 / spec.fps
        self.running = False
        self.variant: str | None = None  # loaded model
        self.share = 0.0
        self.target: str | None = None  # variant the current plan wants
        self.route: Route | None = None
        self.local_fallback = True
        self._t0 = 0.0
        self._next = 0  # first frame index not yet consumed or dropped
        self._launched_at = 0.0
        self._stalled_until = -math.inf
        self._waiting: Event | None = None  # the pending wake-up; others are stale
        self._job = Job(spec.name, 0.0, self._device_done)
        self._device = ctx.device
        self._monitors = ctx.monitors
        self._est = ctx.monitors.app(spec.name)
        self._queue_length = ctx.queue_length
        self._pipelined = ctx.pipelined
        self._dev_busy = False
        self._reserved = False  # the device job waits for its frame to arrive
        self._dev_frame: Frame | None = None  # a fallback being finished on the device
        self._cur_arrival = 0.0
        self._cur_sample = 0
        self._cur_route: Route | None = None
        self._hold: Frame | None = None
        self._local: deque[Frame] = deque()
        self._link_frame: Frame | None = None
        self._server_queue: deque[Frame] = deque()
        self._server_frame: Frame | None = None
        self._flying: set[Frame] = set()
        self._samples: list[int] = []
        self._sample_pos = 0
        self._n_eval = profile.outcomes.samples if profile.outcomes else 0
        self._interference = profile.interference if ctx.interference else None
        self._interfering: str | None = None  # variant whose co-run factors the device holds
        self._after_idle = 1.0

    # -- lifecycle -------------------------------------------------------------------------
    def launch(self) -> None:
        self.running = True
        self._t0 = self._launched_at = self.env.now
        self._next = 0
        self.variant = None
        self.target = None
        self.route = None

    def exit(self) -> None:
        """Stop: every frame in flight or waiting counts as dropped. An app runs from its
        launch up to, not including, its exit (or the end of the run): a frame arriving at
        that instant is not its own (it is the first of a launch at the same instant)."""
        if not self.running:
            return
        now = self.env.now
        self._settle(now)
        self._abandon()
        self._drop_pending(now)
        self.record.forget_from(now - tie_s(now))
        self.ctx.device.forget(self.name)
        self.record.active_s += now - self._launched_at
        self.running = False
        self.variant = None
        self.target = None
        self.route = None
        self._waiting = None

    def set_goal(self, goal_ms: float) -> None:
        """The latency goal from now on; frames that arrived earlier keep theirs."""
        self.goal_ms = goal_ms
        self._goal_times.append(self.env.now)
        self._goal_values.append(goal_ms)

    def goal_at(self, arrival: float) -> float:
        """The goal in force when a frame arrived (a change at that very instant applies)."""
        times = self._goal_times
        if len(times) == 1:
            return self.goal_ms
        return self._goal_values[bisect_right(times, arrival + tie_s(arrival)) - 1]

    def apply(self, variant: str | None, share: float, route: Route | None,
              local_fallback: bool = True) -> None:
        """Adopt a plan entry (``variant=None`` pauses the app and unloads its model)."""
        self.share = share if variant is not None else 0.0
        self.ctx.device.set_weight(self.name, self.share)
        if variant != self.target or route is not self.route:
            self._unreserve()  # the waiting frame should run under the new plan
        self.target = variant
        self.route = route
        self.local_fallback = local_fallback
        if variant is None:  # pausing unloads the model: what is in flight is lost
            self._settle(self.env.now)
            self._abandon()
            self.variant = None
            self._stalled_until = -math.inf
            return
        self._kick()

    def _settle(self, now: float) -> None:
        """Before the app stops: whatever completes at this very instant (within the tie of
        :mod:`sim.engine.ties`) completes, whichever way the rounding ordered it."""
        tie = tie_s(now)
        name = self.name
        if self._dev_busy and not self._device.is_waiting(name):
            self._device.finish_if_due(name, tie)
        for res, busy in ((self.ctx.link, self._link_frame), (self.ctx.server, self._server_frame)):
            if res is not None and busy is not None:
                res.finish_if_due(name, tie)
        link = self.ctx.link
        if link is not None:
            for frame in sorted(self._flying, key=lambda f: f.arrival):
                if frame.state == "down" and frame.served_at + link.rtt_s / 2.0 <= now + tie:
                    self._respond(frame)

    def _abandon(self) -> None:
        """Drop the frame on the device and every frame past it (held, sent, finishing
        locally: all of them are in ``_flying``)."""
        rec = self.record
        self._unreserve()
        if self._dev_busy:
            self.ctx.device.cancel(self.name)
            self._dev_busy = False
            if self._dev_frame is None:
                rec.drop(self._cur_arrival, 0.0, 1)
        self._dev_frame = None
        self._hold = None
        for f in self._flying:
            f.state = "done"
        for arrival in sorted(f.arrival for f in self._flying):
            rec.drop(arrival, 0.0, 1)
        self._flying.clear()
        self._local.clear()
        if self.ctx.link is not None:
            self._charge_radio(self.ctx.link.cancel(self.name))
        if self.ctx.server is not None:
            self.ctx.server.cancel(self.name)
        self._link_frame = self._server_frame = None
        self._server_queue.clear()

    # -- camera ------------------------------------------------------------------------------
    def _drop_pending(self, now: float) -> None:
        # frames strictly before ``now`` arrived, and one already consumed at ``now``; the
        # exit then un-counts those at ``now`` (not the stopping app's: record.forget_from)
        eps = max(_ARRIVAL_EPS, tie_s(now) / self.period)
        n = max(self._next, int(math.ceil((now - self._t0) / self.period - eps)))
        if n > self._next:
            self.record.drop(self._t0 + self._next * self.period, self.period, n - self._next)
            self._next = n
        self.record.arrived += n

    def _refill(self) -> None:
        """The next batch of eval-sample draws (or uniform ints for Bernoulli draws)."""
        high = self._n_eval if self._n_eval else 1_000_000_000
        self._samples = self.rng.integers(0, high, size=_BATCH).tolist()

    # -- device stage ------------------------------------------------------------------------
    def _kick(self) -> None:
        """The device stage may be free: start the next piece of work, if any."""
        if (self._dev_busy or self._hold is not None or self.target is None
                or not self.running):
            return
        now = self.env._now  # the property costs a call on the hottest path
        if now < self._stalled_until:
            return
        if self.variant != self.target:
            self._switch(now)
            return
        if self._local:
            frame = self._local.popleft()
            self._dev_frame = frame
            self._dev_busy = True
            job = self._job
            job.work = frame.route.fallback_work[frame.sample]
            self._interfere(frame.route.variant)
            self._device.submit(job)
            return
        route = self.route
        if route is None:
            return
        if self._flying and not self._pipelined:
            return
        if route.cloud and (self._link_frame is not None or self._server_queue):
            return
        t0, period = self._t0, self.period
        eps = (now * TIE_REL if now > 1.0 else TIE_REL) / period  # tie_s(now), inlined
        n = int((now - t0) / period + (eps if eps > _ARRIVAL_EPS else _ARRIVAL_EPS)) + 1
        pending = n - self._next
        if pending <= 0:  # the next frame (index n) has not arrived: start it when it does
            idx = n
            start = t0 + n * period
        else:
            keep = self._queue_length if pending > self._queue_length else pending
            if pending > keep:
                self.record.drop(t0 + self._next * period, period, pending - keep)
            idx = n - keep
            start = now
        arrival = t0 + idx * period
        if arrival > start:  # arrived within the tie, a float step after now: start it then
            start = arrival
        pos = self._sample_pos
        if pos >= len(self._samples):
            self._refill()
            pos = 0
        r = self._samples[pos]
        work = route.device_work[r if self._n_eval else 0]
        if start > now and work <= 0.0:  # nothing to reserve on the device: wake up then
            self._waiting = at(self.env, start - now, self._resume)
            return
        self._sample_pos = pos + 1
        self._next = idx + 1
        self._cur_arrival = arrival
        self._cur_sample = r
        self._cur_route = route
        if work <= 0.0:
            self._offload(route, r, r if self._n_eval else 0)
            return
        self._dev_busy = True
        job = self._job
        job.work = work
        self._interfere(route.variant)
        if start > now:
            if pending <= 0:  # it slept until its frame: cold caches (not for a tie's step)
                job.work = work * self._after_idle
            self._reserved = True
            self._device.submit_at(job, start)
        else:
            self._device.submit(job)

    def _interfere(self, variant: str) -> None:
        """Give the device this variant's co-run slowdown (and take its after-idle factor)
        before its job is submitted: small models lose more to cold caches than large ones."""
        found = self._interference
        if found is None or variant == self._interfering:
            return
        self._interfering = variant
        self._after_idle = found.idle_factor(variant)
        assert isinstance(self._device, MultiCoreProcessor)
        self._device.set_interference(self.name, partial(found.factor, variant=variant))

    def _unreserve(self) -> bool:
        """Withdraw a device job waiting for its frame to arrive (the frame is not taken)."""
        if not self._reserved or not self._device.is_waiting(self.name):
            self._reserved = False  # (it has started: the frame is taken)
            return False
        self._reserved = False
        self._device.cancel(self.name)
        self._dev_busy = False
        self._next -= 1
        self._sample_pos -= 1
        return True

    def _switch(self, now: float) -> None:
        rec = self.record
        assert self.target is not None
        nbytes = self.profile.switch_bytes(self.variant, self.target)
        delay = nbytes / self.ctx.storage_bytes_per_s
        if self.variant is not None:
            rec.switches += 1
            rec.switch_s += delay
        else:
            rec.load_s += delay
        rec.loaded_bytes += nbytes
        self.variant = self.target
        if delay > 0.0:
            self._stalled_until = now + delay
            self._waiting = at(self.env, delay, self._resume)
            return
        self._kick()

    def _resume(self, event: Event) -> None:
        if event is self._waiting:
            self._waiting = None
            self._kick()

    def _device_done(self, job: Job) -> None:
        self._dev_busy = False
        self._reserved = False
        now = self.env._now
        frame = self._dev_frame
        if frame is None:  # the current camera frame
            route = self._cur_route
            assert route is not None
            r = self._cur_sample
            s = r if self._n_eval else 0
            if route.offload[s]:
                self._monitors.observe_device(self._est, now - job.started, job.work)
                self._offload(route, r, s)
                if self._hold is not None:
                    return
            else:
                arrival = self._cur_arrival
                correct = route.correct[s] if route.samples else r < route.top1 * 1e9
                self.record.frames.append(
                    arrival_s=arrival, finish_s=now, correct=correct, variant=route.variant,
                    exit=route.exit_used[s], offloaded=False, fallback=False,
                    goal_ms=self.goal_at(arrival))
                cap = self._monitors.capacity_est * self.share
                self._monitors.observe_local(self._est, now - job.started, job.work,
                                             now - arrival, job.work / (cap if cap > 1e-9 else 1e-9))
        else:  # a failed offload finished locally
            self._monitors.observe_device(self._est, now - job.started, job.work)
            self._dev_frame = None
            self._flying.discard(frame)
            frame.state = "done"
            route, s = frame.route, frame.sample
            correct = route.fallback_correct[s] if route.samples else frame.bern
            self.record.frames.append(
                arrival_s=frame.arrival, finish_s=now, correct=correct, variant=route.variant,
                exit=route.fallback_exit[s], offloaded=False, fallback=True,
                goal_ms=frame.goal_ms)
        self._kick()

    def _offload(self, route: Route, r: int, s: int) -> None:
        """The current frame leaves the device: send it (or hold it, or fall back)."""
        frame = Frame(self._cur_arrival, s, route, self.goal_at(self._cur_arrival),
                      self.local_fallback, r < route.top1 * 1e9)
        self._flying.add(frame)
        self._send(frame)

    # -- link --------------------------------------------------------------------------------
    def _send(self, frame: Frame) -> None:
        """Hand a frame to the link stage, or hold it when the stage is busy."""
        link = self.ctx.link
        mon = self.ctx.monitors
        now = self.env.now
        assert link is not None
        if not link.radio_up(now) or not mon.link_up:
            self._fail(frame, "link down")
            return
        if self._link_frame is not None or self._server_queue:
            frame.state = "hold"
            self._hold = frame
            return
        frame.state = "link"
        frame.sent_at = now
        self._link_frame = frame
        nbytes = frame.route.upload_bytes[frame.sample]
        server = self.ctx.server
        assert server is not None
        bw = (mon.bandwidth_at(now) or 0.0) * BYTES_PER_MBIT / (link.busy() + 1)
        mine = self._server_frame is not None
        ahead = len(self._server_queue) + mine
        others = server.busy() - mine
        frame.server_scale = frame.route.server_work * (ahead + 1) * (others + 1)
        srv = frame.server_scale * mon.server_slowdown_at(now)
        predicted = (nbytes / bw if bw > 0 else math.inf) + (mon.rtt_ms or 0.0) / 1000.0 + srv
        if predicted < math.inf:
            at(self.env, self.ctx.timeout_factor * predicted,
               lambda _e: self._deadline(frame), P_DEADLINE)
        link.submit(Job(self.name, nbytes, self._link_done))

    def _charge_radio(self, job: Job | None) -> None:
        """A transfer cut short (timeout, pause, exit): the radio sent what it sent."""
        if job is None:
            return
        self.record.radio_s += job.share_time
        self.record.sent_bytes += job.served

    def _link_done(self, job: Job) -> None:
        frame = self._link_frame
        self._link_frame = None
        link = self.ctx.link
        assert frame is not None and link is not None
        self.record.radio_s += job.share_time
        self.record.sent_bytes += job.work
        self.ctx.monitors.observe_transfer(job.work, job.share_time)
        frame.state = "up"
        frame.link_done = self.env.now
        frame.at_server = self.env.now + link.rtt_s / 2.0
        at(self.env, link.rtt_s / 2.0, lambda _e: self._arrive(frame))
        self._unblock()

    def _unblock(self) -> None:
        """The link stage (or the flow-control condition) freed up."""
        hold = self._hold
        if hold is not None and self._link_frame is None and not self._server_queue:
            self._hold = None
            self._send(hold)
        self._kick()

    # -- server ------------------------------------------------------------------------------
    def _arrive(self, frame: Frame) -> None:
        if frame.state != "up":
            return
        if self._server_frame is None:
            self._serve(frame)
        else:
            frame.state = "queued"
            self._server_queue.append(frame)

    def _serve(self, frame: Frame) -> None:
        server = self.ctx.server
        assert server is not None
        frame.state = "server"
        self._server_frame = frame
        server.submit(Job(self.name, frame.route.server_work, self._server_done))

    def _server_done(self, job: Job) -> None:
        frame = self._server_frame
        self._server_frame = None
        link = self.ctx.link
        assert frame is not None and link is not None
        self.ctx.monitors.observe_server(job.share_time, job.work)
        frame.state = "down"
        frame.served_at = self.env.now
        at(self.env, link.rtt_s / 2.0, lambda _e: self._respond(frame))
        self._next_server()

    def _next_server(self) -> None:
        if self._server_frame is None and self._server_queue:
            self._serve(self._server_queue.popleft())
            self._unblock()

    def _respond(self, frame: Frame) -> None:
        if frame.state != "down":
            return
        now = self.env.now
        frame.state = "done"
        self._flying.discard(frame)
        route, s = frame.route, frame.sample
        correct = route.correct[s] if route.samples else frame.bern
        self.ctx.monitors.observe_rtt(frame.at_server - frame.link_done + now - frame.served_at)
        self.record.frames.append(
            arrival_s=frame.arrival, finish_s=now, correct=correct, variant=route.variant,
            exit=route.exit_used[s], offloaded=True, fallback=False, goal_ms=frame.goal_ms)
        if not self.ctx.pipelined:
            self._kick()

    # -- failures ----------------------------------------------------------------------------
    def _deadline(self, frame: Frame) -> None:
        if frame.state in ("done", "local"):
            return
        mon = self.ctx.monitors
        if frame.state == "link":
            assert self.ctx.link is not None
            job = self.ctx.link.cancel(self.name)
            self._charge_radio(job)
            if job is not None:  # the bytes acknowledged so far measure the link
                mon.observe_transfer(job.served, job.share_time)
            self._link_frame = None
        elif frame.state == "server":
            assert self.ctx.server is not None
            self.ctx.server.cancel(self.name)
            self._server_frame = None
        elif frame.state == "queued":
            self._server_queue.remove(frame)
        if frame.state in ("queued", "server"):  # no answer yet: the server is this slow at least
            waited = self.env.now - frame.link_done - (mon.rtt_ms or 0.0) / 1000.0
            mon.observe_server_timeout(waited, frame.server_scale)
        self.record.timeouts += 1
        self.ctx.on_link_trouble(self.name, "timeout")
        self._fail(frame, "timeout")
        self._next_server()
        self._unblock()

    def _fail(self, frame: Frame, why: str) -> None:
        """The offload of ``frame`` failed: finish it on the device, or lose it."""
        if why == "link down":
            self.ctx.on_link_trouble(self.name, why)
        if frame.fallback and self.running:
            frame.state = "local"
            self._local.append(frame)
            self._unreserve()  # finishing it goes before the next camera frame
            self._kick()
            return
        frame.state = "done"
        self._flying.discard(frame)
        self.record.drop(frame.arrival, 0.0, 1, "failed")
        self._kick()

"""One app: its camera, its device stage and, for split plans, its frames on link and server.

An app is made of parts, each in its own module: the camera (:mod:`sim.engine.camera`:
arrivals counted analytically with latest-frame semantics, eval-sample draws), the device
stage (:mod:`sim.engine.device_stage`), and for split plans the offload
(:mod:`sim.engine.offload`: the link and server stages, :mod:`sim.engine.link_stage` and
:mod:`sim.engine.server_stage`, deadlines and failures). :class:`AppRuntime` composes them:
launch and exit, plans, model switches, and the device stage's loop (:meth:`AppRuntime.kick`:
what the device runs next, taking the camera's frames).

Pipeline (``engine.pipelined``, default on). Device, link and server are separate resources
and an app has at most one frame on each: the device may run frame k+1 while frame k is on
the link or the server. With ``pipelined: false`` a frame enters the device only after the
previous one has its answer. Cloud-only frames have no device part: the camera frame is
taken when the link stage is free. A failed offload finished on the device (see
:mod:`sim.engine.offload`) runs before the next camera frame.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np
from simpy.events import Event

from sim.config.scenario import AppSpec
from sim.engine.camera import ARRIVAL_EPS, Camera
from sim.engine.context import EngineContext
from sim.engine.device_stage import DeviceStage
from sim.engine.frames import Frame
from sim.engine.latency import WorkDraw
from sim.engine.offload import Offload
from sim.engine.processor import Job, at
from sim.engine.records import AppRecord
from sim.engine.ties import TIE_REL, tie_s
from sim.profile import Profile
from sim.profile.routes import Route

__all__ = ["AppRuntime"]


class AppRuntime:
    """One app inside the engine: its plan and lifecycle, composing its camera
    (``camera``), device stage (``device_stage``) and offload (``offload``)."""

    def __init__(self, ctx: EngineContext, spec: AppSpec, profile: Profile,
                 rng: np.random.Generator, work_draw: WorkDraw | None = None) -> None:
        self.ctx = ctx
        self.env = ctx.env
        self.spec = spec
        self.name = spec.name
        self.profile = profile
        self.record = AppRecord(spec.name)
        self.priority = spec.priority
        self.goal_ms = spec.goal_ms
        self._goal_times: list[float] = [-math.inf]
        self._goal_values: list[float] = [spec.goal_ms]
        self.running = False
        self.variant: str | None = None
        """the loaded model"""
        self.share = 0.0
        self.target: str | None = None
        """the variant the current plan wants"""
        self.route: Route | None = None
        self.local_fallback = True
        self._launched_at = 0.0
        self._stalled_until = -math.inf
        self._waiting: Event | None = None  # the pending wake-up; others are stale
        self._monitors = ctx.monitors
        self._est = ctx.monitors.app(spec.name)
        self._pipelined = ctx.pipelined
        self.camera = Camera(spec.fps, ctx.queue_length,
                             profile.outcomes.samples if profile.outcomes else 0, rng,
                             self.record)
        self.device_stage = DeviceStage(spec.name, ctx.device, self._device_done,
                                        profile.interference if ctx.interference else None)
        self.offload = Offload(self, ctx)
        self.work_draw = work_draw
        """per-inference work factors (engine.latency: measured), or None: the median"""

    # -- lifecycle -------------------------------------------------------------------------
    def launch(self) -> None:
        self.running = True
        self._launched_at = self.env.now
        self.camera.start(self.env.now)
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
        self.camera.drop_pending(now)
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
            self.unreserve()  # the waiting frame should run under the new plan
        self.target = variant
        self.route = route
        self.local_fallback = local_fallback
        if variant is None:  # pausing unloads the model: what is in flight is lost
            self._settle(self.env.now)
            self._abandon()
            self.variant = None
            self._stalled_until = -math.inf
            return
        self.kick()

    def _settle(self, now: float) -> None:
        """Before the app stops: whatever completes at this very instant (within the tie of
        :mod:`sim.engine.ties`) completes, whichever way the rounding ordered it."""
        tie = tie_s(now)
        self.device_stage.settle(tie)
        self.offload.settle(now, tie)

    def _abandon(self) -> None:
        """Drop the frame on the device and every frame past it (held, sent, finishing
        locally: all of them are in the offload's ``flying``)."""
        self.unreserve()
        if self.device_stage.cancel():
            self.record.drop(self.device_stage.arrival, 0.0, 1)
        self.offload.abandon()

    # -- device stage ------------------------------------------------------------------------
    def kick(self) -> None:
        """The device stage may be free: start the next piece of work, if any."""
        dev = self.device_stage
        if dev.busy or dev.held is not None or self.target is None or not self.running:
            return
        now = self.env._now  # the property costs a call on the hottest path
        if now < self._stalled_until:
            return
        if self.variant != self.target:
            self._switch(now)
            return
        if dev.local:
            frame = dev.local.popleft()
            dev.fallback = frame
            dev.start(frame.route.fallback_work[frame.sample], frame.route.variant, now, now,
                      False)
            return
        route = self.route
        if route is None:
            return
        offload = self.offload
        if offload.flying and not self._pipelined:
            return
        if route.cloud and (offload.link.frame is not None or offload.server.queue):
            return
        # the camera's next frame (see sim.engine.camera), taken here: the hottest path
        cam = self.camera
        t0, period = cam.t0, cam.period
        eps = (now * TIE_REL if now > 1.0 else TIE_REL) / period  # tie_s(now), inlined
        n = int((now - t0) / period + (eps if eps > ARRIVAL_EPS else ARRIVAL_EPS)) + 1
        pending = n - cam.next
        if pending <= 0:  # the next frame (index n) has not arrived: start it when it does
            idx = n
            start = t0 + n * period
        else:
            keep = cam.queue_length if pending > cam.queue_length else pending
            if pending > keep:
                self.record.drop(t0 + cam.next * period, period, pending - keep)
            idx = n - keep
            start = now
        arrival = t0 + idx * period
        if arrival > start:  # arrived within the tie, a float step after now: start it then
            start = arrival
        pos = cam.sample_pos
        if pos >= len(cam.samples):
            cam.refill()
            pos = 0
        r = cam.samples[pos]
        n_eval = cam.n_eval
        work = route.device_work[r if n_eval else 0]
        if start > now and work <= 0.0:  # nothing to reserve on the device: wake up then
            self._waiting = at(self.env, start - now, self._resume)
            return
        cam.sample_pos = pos + 1
        cam.next = idx + 1
        dev.arrival = arrival
        dev.sample = r
        dev.route = route
        if work <= 0.0:
            self._offload(route, r, r if n_eval else 0)
            return
        if self.work_draw is not None:
            work *= self.work_draw.factor(route.variant)
        # after sleeping until its frame, cold caches (not for a tie's float step)
        dev.start(work, route.variant, start, now, pending <= 0)

    def unreserve(self) -> bool:
        """Withdraw a device job waiting for its frame to arrive (the frame is not taken)."""
        if self.device_stage.unreserve():
            self.camera.put_back()
            return True
        return False

    def finish_locally(self, frame: Frame) -> None:
        """A failed offload is finished on the device, before the next camera frame."""
        self.device_stage.local.append(frame)
        self.unreserve()
        self.kick()

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
        self.kick()

    def _resume(self, event: Event) -> None:
        if event is self._waiting:
            self._waiting = None
            self.kick()

    def _device_done(self, job: Job) -> None:
        dev = self.device_stage
        dev.busy = False
        dev.reserved = False
        now = self.env._now
        frame = dev.fallback
        if frame is None:  # the current camera frame
            route = dev.route
            assert route is not None
            r = dev.sample
            s = r if self.camera.n_eval else 0
            if route.offload[s]:
                self._monitors.observe_device(self._est, now - job.started, job.work)
                self._offload(route, r, s)
                if dev.held is not None:
                    return
            else:
                arrival = dev.arrival
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
            dev.fallback = None
            self.offload.finished(frame)
            route, s = frame.route, frame.sample
            correct = route.fallback_correct[s] if route.samples else frame.bern
            self.record.frames.append(
                arrival_s=frame.arrival, finish_s=now, correct=correct, variant=route.variant,
                exit=route.fallback_exit[s], offloaded=False, fallback=True,
                goal_ms=frame.goal_ms)
        self.kick()

    def _offload(self, route: Route, r: int, s: int) -> None:
        """The current frame leaves the device: send it (or hold it, or fall back)."""
        arrival = self.device_stage.arrival
        self.offload.add(Frame(arrival, s, route, self.goal_at(arrival), self.local_fallback,
                               r < route.top1 * 1e9))

"""One app's frames after their device part: sent on the link, served, answered, or failed.

Device, link and server are separate stages (:mod:`sim.engine.device_stage`,
:mod:`sim.engine.link_stage`, :mod:`sim.engine.server_stage`) with at most one frame of the
app each. A frame done on the device while the link stage is busy waits, holding the device
stage (blocking after service). Propagation (half the round trip each way) holds no stage;
a transfer does not start while an earlier frame of the app waits at the server (flow
control), so nothing piles up there. Server jobs of one app run in order.

Failures (SPINN 2.7). An offloaded frame that has no answer by its deadline
(``timeout_factor`` times the predicted transfer + round trip + server time), or that is
ready to send while the link is down, is finished on the device from the split (see
:mod:`sim.profile.routes`); such work runs before the next camera frame. A plan with
``local_fallback: false`` (cloud-only baselines) loses the frame instead (counted as failed).
"""

from __future__ import annotations

import math
from typing import Protocol

from sim.engine.context import P_DEADLINE, EngineContext
from sim.engine.device_stage import DeviceStage
from sim.engine.frames import DONE, DOWN, HOLD, LINK, LOCAL, QUEUED, SERVER, UP, Frame
from sim.engine.link import BYTES_PER_MBIT
from sim.engine.link_stage import LinkStage
from sim.engine.processor import Job, at
from sim.engine.records import AppRecord
from sim.engine.server_stage import ServerStage

__all__ = ["Offload", "OffloadOwner"]


class OffloadOwner(Protocol):
    """What the offload needs of its app (:class:`sim.engine.app.AppRuntime`)."""

    name: str
    running: bool
    record: AppRecord
    device_stage: DeviceStage
    """the app's device stage, where a frame waits (``held``) for the link stage"""

    def kick(self) -> None:
        """The device stage may be free: start its next piece of work."""

    def finish_locally(self, frame: Frame) -> None:
        """Finish a failed offload on the device, before the next camera frame."""


class Offload:
    """The link and server stages of one app and its frames past the device."""

    __slots__ = ("app", "ctx", "env", "link", "server", "flying")

    def __init__(self, app: OffloadOwner, ctx: EngineContext) -> None:
        self.app = app
        self.ctx = ctx
        self.env = ctx.env
        self.link = LinkStage(app.name, ctx.link, app.record)
        self.server = ServerStage(app.name, ctx.server, self._server_done)
        self.flying: set[Frame] = set()
        """frames past the device: held, sent, at the server, or finishing locally"""

    def add(self, frame: Frame) -> None:
        """A frame leaves the device: send it (or hold it, or fall back)."""
        self.flying.add(frame)
        self._send(frame)

    def settle(self, now: float, tie: float) -> None:
        """Before the app stops: transfers, server jobs and answers that complete within
        ``tie`` of ``now`` complete."""
        ctx = self.ctx
        name = self.app.name
        for res, busy in ((ctx.link, self.link.frame), (ctx.server, self.server.frame)):
            if res is not None and busy is not None:
                res.finish_if_due(name, tie)
        link = ctx.link
        if link is not None:
            for frame in sorted(self.flying, key=lambda f: f.arrival):
                if frame.state is DOWN and frame.served_at + link.rtt_s / 2.0 <= now + tie:
                    self._respond(frame)

    def abandon(self) -> None:
        """Drop every frame past the device (in arrival order) and stop link and server."""
        rec = self.app.record
        for f in self.flying:
            f.state = DONE
        for arrival in sorted(f.arrival for f in self.flying):
            rec.drop(arrival, 0.0, 1)
        self.flying.clear()
        self.link.cancel()
        self.server.cancel()

    def finished(self, frame: Frame) -> None:
        """A failed offload was finished on the device."""
        self.flying.discard(frame)
        frame.state = DONE

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
        srv_stage = self.server
        if self.link.frame is not None or srv_stage.queue:
            frame.state = HOLD
            self.app.device_stage.held = frame
            return
        frame.state = LINK
        self.link.frame = frame
        nbytes = frame.route.upload_bytes[frame.sample]
        server = self.ctx.server
        assert server is not None
        bw = (mon.bandwidth_at(now) or 0.0) * BYTES_PER_MBIT / (link.busy() + 1)
        mine = srv_stage.frame is not None
        ahead = len(srv_stage.queue) + mine
        others = server.busy() - mine
        frame.server_scale = frame.route.server_work * (ahead + 1) * (others + 1)
        srv = frame.server_scale * mon.server_slowdown_at(now)
        predicted = (nbytes / bw if bw > 0 else math.inf) + (mon.rtt_ms or 0.0) / 1000.0 + srv
        if predicted < math.inf:
            at(self.env, self.ctx.timeout_factor * predicted,
               lambda _e: self._deadline(frame), P_DEADLINE)
        link.submit(Job(self.app.name, nbytes, self._link_done))

    def _link_done(self, job: Job) -> None:
        frame = self.link.frame
        self.link.frame = None
        link = self.ctx.link
        assert frame is not None and link is not None
        self.link.charge_sent(job)
        self.ctx.monitors.observe_transfer(job.work, job.share_time)
        frame.state = UP
        frame.link_done = self.env.now
        frame.at_server = self.env.now + link.rtt_s / 2.0
        at(self.env, link.rtt_s / 2.0, lambda _e: self._arrive(frame))
        self.unblock()

    def unblock(self) -> None:
        """The link stage (or the flow-control condition) freed up."""
        dev = self.app.device_stage
        hold = dev.held
        if hold is not None and self.link.frame is None and not self.server.queue:
            dev.held = None
            self._send(hold)
        self.app.kick()

    # -- server ------------------------------------------------------------------------------
    def _arrive(self, frame: Frame) -> None:
        if frame.state is not UP:
            return
        if self.server.frame is None:
            self.server.serve(frame)
        else:
            frame.state = QUEUED
            self.server.queue.append(frame)

    def _server_done(self, job: Job) -> None:
        frame = self.server.frame
        self.server.frame = None
        link = self.ctx.link
        assert frame is not None and link is not None
        self.ctx.monitors.observe_server(job.share_time, job.work)
        frame.state = DOWN
        frame.served_at = self.env.now
        at(self.env, link.rtt_s / 2.0, lambda _e: self._respond(frame))
        self._next_server()

    def _next_server(self) -> None:
        stage = self.server
        if stage.frame is None and stage.queue:
            stage.serve(stage.queue.popleft())
            self.unblock()

    def _respond(self, frame: Frame) -> None:
        if frame.state is not DOWN:
            return
        now = self.env.now
        frame.state = DONE
        self.flying.discard(frame)
        route, s = frame.route, frame.sample
        correct = route.correct[s] if route.samples else frame.bern
        self.ctx.monitors.observe_rtt(frame.at_server - frame.link_done + now - frame.served_at)
        self.app.record.frames.append(
            arrival_s=frame.arrival, finish_s=now, correct=correct, variant=route.variant,
            exit=route.exit_used[s], offloaded=True, fallback=False, goal_ms=frame.goal_ms)
        if not self.ctx.pipelined:
            self.app.kick()

    # -- failures ----------------------------------------------------------------------------
    def _deadline(self, frame: Frame) -> None:
        state = frame.state
        if state is DONE or state is LOCAL:
            return
        mon = self.ctx.monitors
        if state is LINK:
            job = self.link.cancel()
            if job is not None:  # the bytes acknowledged so far measure the link
                mon.observe_transfer(job.served, job.share_time)
        elif state is SERVER:
            server = self.ctx.server
            assert server is not None
            server.cancel(self.app.name)
            self.server.frame = None
        elif state is QUEUED:
            self.server.queue.remove(frame)
        if state is QUEUED or state is SERVER:
            # no answer yet: the server is this slow at least
            waited = self.env.now - frame.link_done - (mon.rtt_ms or 0.0) / 1000.0
            mon.observe_server_timeout(waited, frame.server_scale)
        self.app.record.timeouts += 1
        self.ctx.on_link_trouble(self.app.name, "timeout")
        self._fail(frame, "timeout")
        self._next_server()
        self.unblock()

    def _fail(self, frame: Frame, why: str) -> None:
        """The offload of ``frame`` failed: finish it on the device, or lose it."""
        app = self.app
        if why == "link down":
            self.ctx.on_link_trouble(app.name, why)
        if frame.fallback and app.running:
            frame.state = LOCAL
            app.finish_locally(frame)
            return
        frame.state = DONE
        self.flying.discard(frame)
        app.record.drop(frame.arrival, 0.0, 1, "failed")
        app.kick()

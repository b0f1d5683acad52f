"""One app's device stage: its job on the shared device and what that job is working on.

The stage runs one job at a time: the device part of a camera frame, or a frame whose
offload failed, finished from the split (those go first, see :mod:`sim.engine.offload`). A
job may be submitted ahead of its frame's arrival (``reserved``): the device starts it when
the frame arrives, and a new plan withdraws it. A frame done on the device while the app's
link stage is busy stays here (``held``, blocking after service) until the link takes it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import partial

from sim.engine.frames import Frame
from sim.engine.multicore import MultiCoreProcessor
from sim.engine.processor import Job, SharedProcessor
from sim.profile import Interference
from sim.profile.routes import Route

__all__ = ["DeviceStage"]


class DeviceStage:
    """The app's slot on the shared device."""

    __slots__ = ("name", "device", "job", "busy", "reserved", "fallback", "arrival", "sample",
                 "route", "local", "held", "interference", "interfering", "after_idle")

    def __init__(self, name: str, device: SharedProcessor | MultiCoreProcessor,
                 done: Callable[[Job], None], interference: Interference | None) -> None:
        self.name = name
        self.device = device
        self.job = Job(name, 0.0, done)
        self.busy = False
        """the job is submitted (running, or reserved)"""
        self.reserved = False
        """the job waits for its frame to arrive"""
        self.fallback: Frame | None = None
        """the failed offload the job finishes (None: the job is a camera frame's)"""
        self.arrival = 0.0
        """the camera frame taken last: its arrival, eval sample and route"""
        self.sample = 0
        self.route: Route | None = None
        self.local: deque[Frame] = deque()
        """failed offloads waiting to be finished here"""
        self.held: Frame | None = None
        """a frame done here that waits for the link stage"""
        self.interference = interference
        """the profile's co-run slowdowns (None: the scenario ignores them)"""
        self.interfering: str | None = None
        """the variant whose co-run factors the device holds"""
        self.after_idle = 1.0

    def start(self, work: float, variant: str, start: float, now: float, cold: bool) -> None:
        """Submit the job: ``work`` of ``variant`` from ``start`` (>= ``now``; later: a
        reservation). ``cold``: the stage slept until its frame, caches are cold (the
        after-idle factor applies; not for a frame a tie's float step late)."""
        self.busy = True
        job = self.job
        job.work = work
        if self.interference is not None and variant != self.interfering:
            self.interfere(variant)
        if start > now:
            if cold:
                job.work = work * self.after_idle
            self.reserved = True
            self.device.submit_at(job, start)
        else:
            self.device.submit(job)

    def interfere(self, variant: str) -> None:
        """Give the device this variant's co-run slowdown (and take its after-idle factor)
        before its job is submitted: small models lose more to cold caches than large ones."""
        found = self.interference
        assert found is not None and isinstance(self.device, MultiCoreProcessor)
        self.interfering = variant
        self.after_idle = found.idle_factor(variant)
        self.device.set_interference(self.name, partial(found.factor, variant=variant))

    def unreserve(self) -> bool:
        """Withdraw a job waiting for its frame to arrive; True if there was one (its frame
        is not taken: the camera puts it back)."""
        if not self.reserved or not self.device.is_waiting(self.name):
            self.reserved = False  # (it has started: the frame is taken)
            return False
        self.reserved = False
        self.device.cancel(self.name)
        self.busy = False
        return True

    def settle(self, tie: float) -> None:
        """Complete a running job that completes within ``tie`` (this very instant)."""
        if self.busy and not self.device.is_waiting(self.name):
            self.device.finish_if_due(self.name, tie)

    def cancel(self) -> bool:
        """Stop the job; True if it was a camera frame's (that frame is lost)."""
        lost = False
        if self.busy:
            self.device.cancel(self.name)
            self.busy = False
            lost = self.fallback is None
        self.fallback = None
        self.held = None
        self.local.clear()
        return lost

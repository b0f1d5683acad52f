"""A frame after its device part, and the states it passes through while it is offloaded."""

from __future__ import annotations

from enum import Enum

from sim.profile.routes import Route

__all__ = ["DONE", "DOWN", "HOLD", "LINK", "LOCAL", "QUEUED", "SERVER", "UP", "Frame",
           "FrameState"]


class FrameState(Enum):
    """Where an offloaded frame is. It moves HOLD -> LINK -> UP -> (QUEUED ->) SERVER ->
    DOWN -> DONE; a failed offload makes it LOCAL (finished on the device) or DONE (lost)."""

    HOLD = "hold"
    """done on the device; waits there until the app's link stage takes it"""
    LINK = "link"
    """being sent"""
    UP = "up"
    """sent; propagating to the server"""
    QUEUED = "queued"
    """at the server, behind the app's frame being served"""
    SERVER = "server"
    """being served"""
    DOWN = "down"
    """served; the answer propagating back"""
    LOCAL = "local"
    """its offload failed: finishing on the device from the split (waiting or running)"""
    DONE = "done"
    """answered, finished on the device, or lost"""


# the states as module constants: looking a member up on an Enum class costs several times
# a global's, and the offload paths compare states many times a frame
HOLD = FrameState.HOLD
LINK = FrameState.LINK
UP = FrameState.UP
QUEUED = FrameState.QUEUED
SERVER = FrameState.SERVER
DOWN = FrameState.DOWN
LOCAL = FrameState.LOCAL
DONE = FrameState.DONE


class Frame:
    """A frame after its device part, while it is offloaded (or finished locally)."""

    __slots__ = ("arrival", "sample", "route", "goal_ms", "state", "link_done", "at_server",
                 "served_at", "fallback", "bern", "server_scale")

    def __init__(self, arrival: float, sample: int, route: Route, goal_ms: float,
                 fallback: bool, bern: bool) -> None:
        self.arrival = arrival
        self.sample = sample
        self.route = route
        self.goal_ms = goal_ms
        self.state = HOLD
        self.link_done = 0.0
        """when its last byte was sent"""
        self.at_server = 0.0
        """when it reached the server"""
        self.served_at = 0.0
        """when the server finished it"""
        self.fallback = fallback
        """whether the device finishes it should the offload fail (else it is lost)"""
        self.bern = bern
        """its correctness when the route has no per-sample outcomes"""
        self.server_scale = 0.0
        """profiled server seconds the deadline allowed for, before the slowdown estimate"""

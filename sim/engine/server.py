"""The edge/cloud server: its own profile's timings, capacity ``1 - server_load(t)``, down
windows with no capacity at all, shared equally among the apps' server jobs.

A server that is down computes nothing: requests wait on it, time out on the device and the
device finishes those frames itself (when the plan allows a local fallback).
"""

from __future__ import annotations

import simpy

from sim.engine.processor import SharedProcessor
from sim.traces import Trace

__all__ = ["Server"]


class Server(SharedProcessor):
    """An equal-share processor over ``1 - load``, zero while down."""

    def __init__(self, env: simpy.Environment, load: Trace,
                 down: list[tuple[float, float]]) -> None:
        self.capacity_now = load.complement().zeroed(down)
        super().__init__(env, self.capacity_now)

    def up(self, t: float) -> bool:
        return self.capacity_now.value_at(t) > 0.0

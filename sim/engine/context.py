"""What every app of a run shares inside the engine, and the priorities of its events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import simpy

from sim.engine.link import Link
from sim.engine.monitors import Monitors
from sim.engine.multicore import MultiCoreProcessor
from sim.engine.processor import SharedProcessor
from sim.engine.server import Server

__all__ = ["EngineContext", "P_DEADLINE"]

P_DEADLINE = 2
"""offload deadlines, after frame and resource events (priority 1, the default of
:func:`sim.engine.processor.at`): an answer arriving at the deadline instant still counts"""


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

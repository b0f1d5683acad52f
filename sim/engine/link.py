"""The uplink between the device and the server.

Bandwidth follows the scenario's trace (Mbit/s), forced to 0 during outage windows; the
transfers of all apps in progress share it equally (processor sharing, integrated exactly over
each transfer). A request also pays the round-trip time: half on the way up, after its last
byte is sent, and half for the response, which is small enough that its bytes are ignored.
The device's radio knows whether it has a connection (bandwidth > 0 and no outage); whether
the server answers it learns only from responses and timeouts.
"""

from __future__ import annotations

import simpy

from sim.engine.processor import SharedProcessor
from sim.traces import Trace

__all__ = ["Link"]

BYTES_PER_MBIT = 1e6 / 8.0


class Link(SharedProcessor):
    """An equal-share processor over the bandwidth trace in bytes/s, with a round trip."""

    def __init__(self, env: simpy.Environment, bandwidth_mbps: Trace,
                 outages: list[tuple[float, float]], rtt_ms: float) -> None:
        self.bandwidth_mbps = bandwidth_mbps.zeroed(outages)
        super().__init__(env, self.bandwidth_mbps.scaled(BYTES_PER_MBIT))
        self.rtt_s = rtt_ms / 1000.0

    def radio_up(self, t: float) -> bool:
        """True connectivity at ``t`` (the device's radio state)."""
        return self.bandwidth_mbps.value_at(t) > 0.0

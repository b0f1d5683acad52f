"""Values that are legal but almost surely a unit slip: warned about, never refused.

A latency of 0.0004 ms per inference is seconds written as milliseconds divided by a
thousand too many; a 40,000 Mbit/s phone link is a trace in kbit/s. The run goes ahead (the
user may mean it), but the warning is printed by the CLI, raised as a Python warning for
API users, and kept in every metrics.json of the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sim.config.scenario import Scenario
from sim.profile import Profile
from sim.traces import Trace

__all__ = ["MAX_BANDWIDTH_MBPS", "MAX_LATENCY_MS", "MIN_LATENCY_MS", "PlausibilityWarning",
           "plausibility_warnings"]

MIN_LATENCY_MS = 1e-3
"""Under 1 microsecond per inference: no DNN on any device is that fast."""
MAX_LATENCY_MS = 60_000.0
"""Over a minute per inference: not a vision app's model."""
MAX_BANDWIDTH_MBPS = 10_000.0
"""Over 10 Gbit/s: beyond any mobile link."""
MAX_RTT_MS = 60_000.0
"""A round trip over a minute: no link a scheduler would offload over."""


class PlausibilityWarning(UserWarning):
    """A legal value that is probably in the wrong unit."""


def _latency(where: str, what: str, ms: float) -> str | None:
    if 0 < ms < MIN_LATENCY_MS:
        return (f"{where}: {what}: {ms:g} ms is under 1 microsecond per inference; "
                "is it in seconds where ms are expected, or scaled twice?")
    if ms > MAX_LATENCY_MS:
        return (f"{where}: {what}: {ms:g} ms is over a minute per inference; is it in "
                "microseconds where ms are expected?")
    return None


def plausibility_warnings(sc: Scenario, profiles: Mapping[Path, Profile],
                          bandwidth: Trace | None, where: str) -> list[str]:
    """One line per implausible value: profile latencies (file, variant), link bandwidth
    and round trip (scenario field)."""
    out: list[str] = []
    for path, prof in profiles.items():
        for i, v in enumerate(prof.variants):
            line = _latency(str(path), f"variants[{i}] ({v.id}).latency_ms.median",
                            v.latency_ms.median)
            if line:
                out.append(line)
                break  # one line per file: the rest of its variants share the unit
    if bandwidth is not None:
        peak = float(bandwidth.values.max(initial=0.0))
        if peak > MAX_BANDWIDTH_MBPS:
            out.append(f"{where}: network.bandwidth_mbps: peaks at {peak:g} Mbit/s, over "
                       "10 Gbit/s; is the trace in kbit/s (scale: 0.001) or bit/s?")
    if sc.network is not None and sc.network.rtt_ms > MAX_RTT_MS:
        out.append(f"{where}: network.rtt_ms: {sc.network.rtt_ms:g} ms is over a minute; is "
                   "it in microseconds?")
    return out

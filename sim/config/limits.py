"""What a scenario may ask for: the caps on its size (apps, events, seeds, duration) and
the physical ranges of its values, checked while it is read, so an impossible scenario is
refused before it runs (scenarios/README.md, "Limits and warnings")."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

from sim.common.paths import name_problem, path_problem
from sim.config.workload import MAX_MEAN_S

__all__ = ["MAX_APPS", "MAX_DURATION_S", "MAX_EVENTS", "MAX_GOAL_MS", "MAX_MONITOR_SAMPLES",
           "MAX_PERIODIC_DECISIONS", "MAX_SEEDS", "MAX_WORKLOAD_DRAWS", "RANGES", "Range"]

MAX_DURATION_S = 30 * 86400.0
"""Longest simulated time accepted (30 days): anything longer is almost surely a unit slip."""
MAX_APPS = 1000
"""Most apps in one scenario: far beyond any phone, and what the engine handles in seconds."""
MAX_SEEDS = 1000
"""Most seeds of one comparison or sweep point: a confidence interval is tight long before."""
MAX_EVENTS = 1_000_000
"""Most timed events listed in one scenario."""
MAX_WORKLOAD_DRAWS = 100_000
"""Most launch/exit draws expected from random_workload (len(pool) x duration_s / the
shorter mean time). Measured on this CPU: 1e5 draws (~67,000 events) take 0.25 s to
generate and ~7 s to simulate under agnostic (two apps), ~75 s under nestdnn-mintotal with
six apps (a decision per event); 1e6 draws take 2.5 s, ~1 min and (estimated) ~13 min. A
scenario that needs more is almost surely a unit slip in mean_on_s/mean_off_s."""
MAX_MONITOR_SAMPLES = 10_000_000
"""Most monitor samples (duration_s / monitor.period_s) of one run: ~25 s of sampling alone
on this CPU (the default 1 s period over the longest, 30-day scenario is 2.6e6)."""
MAX_PERIODIC_DECISIONS = 100_000
"""Most periodic decisions (duration_s / monitor.decision_period_s) of one run: 1e5 NestDNN
decisions of one app took 30 s on this CPU (the default 30 s period over 30 days is
86,400)."""


def number_text(x: float) -> str:
    """A bound as people write it: 1,000 and 3,600,000, 0.01, 1e-06, 1e+09."""
    if x == int(x) and 1 <= abs(x) < 1e7:
        return f"{int(x):,}"
    return f"{x:g}"


@dataclass(frozen=True)
class Range:
    """The values of a numeric field that a scenario can mean: ``[lo, hi]`` (``(lo, hi]``
    with ``open_lo``) in ``unit``. Outside it the engine or a scheduler would overflow,
    underflow, hang or run out of memory, or the number is no physical quantity (a 1e-310 ms
    goal, a 1e308 W phone): refused at validation in one line naming the field and range."""

    lo: float
    hi: float
    unit: str = ""
    open_lo: bool = False

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{'(' if self.open_lo else '['}{number_text(self.lo)}, {number_text(self.hi)}]{unit}"

    def __contains__(self, v: object) -> bool:
        if not isinstance(v, int | float) or isinstance(v, bool):
            return False
        if isinstance(v, float) and not math.isfinite(v):
            return False
        return (self.lo < v if self.open_lo else self.lo <= v) and v <= self.hi

    def check(self, v: float) -> float:
        """``v``, or ValueError ``must be in RANGE (got v)``."""
        if v not in self:
            got = repr(v)
            if len(got) > 30:  # a 400-digit integer
                got = f"{got[:12]}... ({len(got)} digits)"
            raise ValueError(f"must be in {self} (got {got})")
        return v

    def field(self) -> AfterValidator:
        """The pydantic validator of a field with this range."""
        return AfterValidator(self.check)


MAX_GOAL_MS = 3_600_000.0
"""Longest latency goal: an hour per frame."""
RANGES: dict[str, Range] = {
    "device.storage_read_mbps": Range(1e-3, 1e9, "MB/s"),
    "device.power.idle_w": Range(0, 1e4, "W"),
    "device.power.busy_w": Range(0, 1e4, "W"),
    "device.power.radio_j_per_byte": Range(0, 1e-3, "J/byte"),
    "device.power.radio_tx_w": Range(0, 1e4, "W"),
    "network.rtt_ms": Range(0, 600_000, "ms"),
    "network.timeout_factor": Range(1, 1000),
    "apps[].fps": Range(1e-6, 1000, "frames/s"),  # 1e-6: a frame in 11.6 days; 1/fps finite
    "apps[].latency_goal_ms": Range(0.01, MAX_GOAL_MS, "ms"),
    "apps[].priority": Range(1e-6, 1e6),
    "apps[].upload_bytes": Range(1, 1e10, "bytes"),
    "apps[].spinn.constraints[].value": Range(0, 1e9, "(the metric's unit)"),
    "events[].value (action priority)": Range(1e-6, 1e6),
    "events[].value (action goal)": Range(0.01, MAX_GOAL_MS, "ms"),
    "random_workload.mean_on_s": Range(0, MAX_MEAN_S, "s", open_lo=True),
    "random_workload.mean_off_s": Range(0, MAX_MEAN_S, "s", open_lo=True),
    "monitor.period_s": Range(1e-3, MAX_DURATION_S, "s"),
    "monitor.drift_threshold": Range(0, 1000, open_lo=True),
    "monitor.decision_period_s": Range(1e-3, MAX_DURATION_S, "s"),
    "engine.queue_length": Range(1, 1_000_000, "frames"),
}
"""Every numeric scenario field's physical range, by key path (documented in
scenarios/README.md, "Limits and warnings"). Bounds given elsewhere: ``duration_s`` (0, 30
days], ``device.memory_mb`` (0, 1e9], ``device.cores`` [1, 256], ``apps[].accuracy_floor``
[0, 1], ``events[].t`` [0, duration_s], trace values (:data:`sim.traces.MAX_VALUE`), and
random_workload's expected draws (:data:`MAX_WORKLOAD_DRAWS`)."""


def ranged(key: str) -> AfterValidator:
    return RANGES[key].field()


def short_repr(text: str, limit: int = 40) -> str:
    """``repr(text)``, cut to ``limit`` characters (a 300-character name need not be echoed)."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def file_name(v: str) -> str:
    problem = name_problem(v)
    if problem:
        raise ValueError(f"{short_repr(v)} {problem}")
    return v


def file_path(v: str) -> str:
    problem = path_problem(v)
    if problem:
        raise ValueError(problem)
    return v


FileName = Annotated[str, AfterValidator(file_name)]
"""A name that becomes one file or folder name (a profile folder, a profile file)."""
FilePath = Annotated[str, AfterValidator(file_path)]


def windows_checked(v: list[tuple[float, float]], what: str) -> list[tuple[float, float]]:
    for a, b in v:
        if not 0 <= a < b:
            raise ValueError(f"{what} [{a}, {b}] must have 0 <= start < end")
    return v



"""One app's camera: frames arrive at ``launch + k / fps``, counted, not simulated.

Arrivals are counted analytically, not simulated one event each: when the device stage
becomes free it takes the oldest of the newest ``queue_length`` frames not yet consumed, and
every older one is dropped (latest-frame semantics), exactly what a per-frame simulation with
a bounded replace-oldest queue would do, at one event per processed frame. The taking is
done inline by :meth:`sim.engine.app.AppRuntime.kick` (the hottest path of a run); this
class holds the camera's state and does the rest.

Each frame taken draws an eval sample (which one decides its exit, work and correctness) or,
for a route without per-sample outcomes, a uniform integer for a Bernoulli draw; draws come
from the app's generator in batches.
"""

from __future__ import annotations

import math

import numpy as np

from sim.engine.records import AppRecord
from sim.engine.ties import tie_s

__all__ = ["ARRIVAL_EPS", "Camera"]

_BATCH = 4096
ARRIVAL_EPS = 1e-9
"""a frame counts as arrived this many periods early (float steps of ``k / fps``)"""


class Camera:
    """Frame arrivals of one app since its launch, and its eval-sample draws."""

    __slots__ = ("period", "t0", "next", "queue_length", "record", "rng", "n_eval",
                 "samples", "sample_pos")

    def __init__(self, fps: float, queue_length: int, n_eval: int, rng: np.random.Generator,
                 record: AppRecord) -> None:
        self.period = 1.0 / fps
        self.t0 = 0.0
        """the launch: frame k arrives at ``t0 + k * period``"""
        self.next = 0
        """first frame index not yet consumed or dropped"""
        self.queue_length = queue_length
        self.record = record
        self.rng = rng
        self.n_eval = n_eval
        """eval samples of the profile's outcomes (0: none, draws are Bernoulli)"""
        self.samples: list[int] = []
        self.sample_pos = 0

    def start(self, now: float) -> None:
        """The app launches: frame 0 arrives now."""
        self.t0 = now
        self.next = 0

    def drop_pending(self, now: float) -> None:
        """The app stops: count every frame that arrived, dropping those not consumed."""
        # frames strictly before ``now`` arrived, and one already consumed at ``now``; the
        # exit then un-counts those at ``now`` (not the stopping app's: record.forget_from)
        eps = max(ARRIVAL_EPS, tie_s(now) / self.period)
        n = max(self.next, int(math.ceil((now - self.t0) / self.period - eps)))
        if n > self.next:
            self.record.drop(self.t0 + self.next * self.period, self.period, n - self.next)
            self.next = n
        self.record.arrived += n

    def refill(self) -> None:
        """The next batch of eval-sample draws (or uniform ints for Bernoulli draws)."""
        high = self.n_eval if self.n_eval else 1_000_000_000
        self.samples = self.rng.integers(0, high, size=_BATCH).tolist()

    def put_back(self) -> None:
        """The frame last taken was not used after all: it and its draw come again."""
        self.next -= 1
        self.sample_pos -= 1

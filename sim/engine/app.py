"""One app's camera stream and inference worker.

Frames arrive at ``launch + k / fps``. Arrivals are counted analytically, not simulated one
event each: when the worker becomes free it takes the oldest of the newest ``queue_length``
frames not yet consumed, and every older one is dropped (latest-frame semantics). That is
exactly what a per-frame simulation with a bounded replace-oldest queue would do, at one
event per processed frame instead of two or three.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.engine.processor import Job, SharedProcessor
from sim.profile import Profile
from sim.scenario import AppSpec

__all__ = ["AppRecord", "AppRuntime"]

_BATCH = 4096
_ARRIVAL_EPS = 1e-9


@dataclass
class AppRecord:
    """Everything measured about one app during a run (plain lists: cheap to append)."""

    name: str
    arrival: list[float] = field(default_factory=list)
    finish: list[float] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)
    variant: list[str] = field(default_factory=list)
    arrived: int = 0
    dropped: int = 0
    active_s: float = 0.0
    switches: int = 0
    switch_s: float = 0.0
    load_s: float = 0.0
    loaded_bytes: int = 0


class AppRuntime:
    """Camera + worker of one app inside the engine."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: AppSpec,
        profile: Profile,
        processor: SharedProcessor,
        rng: np.random.Generator,
        storage_bytes_per_s: float,
        queue_length: int,
        on_frame: Callable[[AppRuntime, float, float], None],
    ) -> None:
        self.env = env
        self.spec = spec
        self.profile = profile
        self.processor = processor
        self.rng = rng
        self.storage_bytes_per_s = storage_bytes_per_s
        self.queue_length = queue_length
        self.on_frame = on_frame
        self.record = AppRecord(spec.name)
        self.priority = spec.priority
        self.goal_ms = spec.goal_ms
        self.period = 1.0 / spec.fps
        self.running = False
        self.variant: str | None = None  # loaded model
        self.share = 0.0
        self.target: str | None = None  # variant the current plan wants
        self._t0 = 0.0
        self._next = 0  # first frame index not yet consumed or dropped
        self._busy = False  # a job is in the processor
        self._frame_arrival = 0.0
        self._stalled_until = -math.inf
        self._wait_version = 0
        self._launched_at = 0.0
        self._samples = np.empty(0, dtype=np.int64)
        self._sample_pos = 0
        self._correct_bits: dict[str, np.ndarray] = {}
        self._n_eval = profile.outcomes.samples if profile.outcomes else 0
        self._work = {v.id: v.latency_ms.median / 1000.0 for v in profile.variants}
        self._top1 = {v.id: v.top1 for v in profile.variants}

    # -- lifecycle -------------------------------------------------------------------------
    def launch(self) -> None:
        self.running = True
        self._t0 = self._launched_at = self.env.now
        self._next = 0
        self.variant = None
        self.target = None

    def exit(self) -> None:
        """Stop: the in-flight frame and every waiting frame count as dropped."""
        if not self.running:
            return
        now = self.env.now
        if self._busy:
            self.processor.cancel(self.spec.name)
            self._busy = False
            self.record.dropped += 1
        self._drop_pending(now)
        self.processor.forget(self.spec.name)
        self.record.active_s += now - self._launched_at
        self.running = False
        self.variant = None
        self.target = None
        self._wait_version += 1

    def apply(self, variant: str | None, share: float) -> None:
        """Adopt a plan entry (``variant=None`` pauses the app and unloads its model)."""
        self.share = share if variant is not None else 0.0
        self.processor.set_weight(self.spec.name, self.share)
        self.target = variant
        if variant is None:
            if self._busy:  # pausing unloads the model: the frame in flight is lost
                self.processor.cancel(self.spec.name)
                self._busy = False
                self.record.dropped += 1
            self.variant = None
            self._stalled_until = -math.inf
            return
        if not self._busy:
            self._maybe_switch_then_start()

    # -- frames ----------------------------------------------------------------------------
    def _arrived_by(self, t: float) -> int:
        return int(math.floor((t - self._t0) / self.period + _ARRIVAL_EPS)) + 1

    def _drop_pending(self, now: float) -> None:
        # frames strictly before ``now`` arrived; one consumed at ``now`` itself counts too
        n = max(self._next, int(math.ceil((now - self._t0) / self.period - _ARRIVAL_EPS)))
        if n > self._next:
            self.record.dropped += n - self._next
            self._next = n
        self.record.arrived += n

    def _maybe_switch_then_start(self) -> None:
        now = self.env.now
        if self.target is None or not self.running:
            return
        if now < self._stalled_until:
            return
        if self.variant != self.target:
            nbytes = self.profile.switch_bytes(self.variant, self.target)
            delay = nbytes / self.storage_bytes_per_s
            if self.variant is not None:
                self.record.switches += 1
                self.record.switch_s += delay
            else:
                self.record.load_s += delay
            self.record.loaded_bytes += nbytes
            self.variant = self.target
            if delay > 0.0:
                self._stalled_until = now + delay
                self._wait_version += 1
                version = self._wait_version
                ev = self.env.timeout(delay)
                ev.callbacks.append(lambda _e: self._resume(version))
                return
        self._start_next()

    def _resume(self, version: int) -> None:
        if version == self._wait_version and self.running and not self._busy:
            self._maybe_switch_then_start()

    def _start_next(self) -> None:
        now = self.env.now
        n = self._arrived_by(now)
        pending = n - self._next
        if pending <= 0:
            # idle until the next frame arrives
            t_next = self._t0 + n * self.period
            self._wait_version += 1
            version = self._wait_version
            ev = self.env.timeout(max(0.0, t_next - now))
            ev.callbacks.append(lambda _e: self._resume(version))
            return
        keep = min(pending, self.queue_length)
        self.record.dropped += pending - keep
        idx = n - keep
        self._next = idx + 1
        self._frame_arrival = self._t0 + idx * self.period
        assert self.variant is not None
        work = self._work[self.variant]
        self._busy = True
        self.processor.submit(Job(self.spec.name, work, self._done))

    def _done(self, job: Job) -> None:
        now = self.env.now
        self._busy = False
        rec = self.record
        rec.arrival.append(self._frame_arrival)
        rec.finish.append(now)
        rec.correct.append(self._sample_correct())
        assert self.variant is not None
        rec.variant.append(self.variant)
        self.on_frame(self, now - self._frame_arrival, job.work)
        if self.running:
            self._maybe_switch_then_start()

    # -- accuracy --------------------------------------------------------------------------
    def _sample_correct(self) -> bool:
        """Correctness of one frame: a real eval sample's outcome, else Bernoulli(top1)."""
        assert self.variant is not None
        if self._sample_pos >= len(self._samples):
            if self._n_eval:
                self._samples = self.rng.integers(0, self._n_eval, size=_BATCH)
            else:
                self._samples = (self.rng.random(_BATCH) * 1e9).astype(np.int64)
            self._sample_pos = 0
        s = int(self._samples[self._sample_pos])
        self._sample_pos += 1
        bits = self._bits(self.variant)
        if bits is not None:
            return bool(bits[s])
        return s < self._top1[self.variant] * 1e9

    def _bits(self, variant: str) -> np.ndarray | None:
        if variant not in self._correct_bits:
            out = self.profile.outcomes
            if out is None or variant not in out.correct:
                return None
            self._correct_bits[variant] = np.frombuffer(out.correct[variant].encode(), np.uint8) == 49
        return self._correct_bits[variant]

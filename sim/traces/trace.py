"""Piecewise-constant time series: link bandwidth (Mbit/s), background load, server load.

A :class:`Trace` is ground truth the engine replays. Value ``values[i]`` holds on
``[times[i], times[i+1])`` and the last value holds forever. Everything is exact: the engine
asks when the next breakpoint is and how long an amount of work or data takes at a varying
rate, and gets closed-form answers segment by segment, never a time-sliced approximation.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from sim.traces.limits import MAX_POINTS, TraceError, check_markov, points_problem, row_problem
from sim.traces.readers import read_csv, read_whitespace


def _check_time(t: float) -> None:
    if not t >= 0:  # also rejects NaN
        raise ValueError(f"time must be >= 0, got {t}")


class Trace:
    """Immutable step function of time, t >= 0; see the module docstring for the contract.

    ``times`` is strictly increasing float64 starting at 0.0; ``values`` is finite and >= 0.
    Both are exposed as read-only numpy arrays. Lookups are O(log n).
    """

    __slots__ = ("_times", "_values", "_t", "_v", "_areas", "_change_t")
    _times: np.ndarray
    _values: np.ndarray
    _t: list[float]  # Python copies: scalar lookups (the engine's hot path) run faster on them
    _v: list[float]
    _areas: np.ndarray  # area of each bounded segment, for O(k) integrals
    _change_t: list[float]  # breakpoints where the value actually changes

    def __init__(self, times: ArrayLike, values: ArrayLike) -> None:
        t = np.array(times, dtype=np.float64)
        v = np.array(values, dtype=np.float64)
        if t.ndim != 1 or v.shape != t.shape or t.size == 0:
            raise TraceError(
                f"Trace needs two equal-length, non-empty 1-D arrays, got shapes {t.shape}, {v.shape}"
            )
        if t[0] != 0.0:
            raise TraceError(f"Trace times must start at 0.0, got times[0]={t[0]:g}")
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(t) | ~np.isfinite(v) | (v < 0)
            bad[1:] |= ~(np.diff(t) > 0)
        if bad.any():  # vectorised check; the scalar one below only words the message
            i = int(np.argmax(bad))
            reason = row_problem(float(t[i - 1]) if i else None, float(t[i]), float(v[i]))
            raise TraceError(f"Trace point {i}: {reason}")
        t.setflags(write=False)
        v.setflags(write=False)
        areas = v[:-1] * np.diff(t)
        areas.setflags(write=False)
        changes = np.flatnonzero(v[1:] != v[:-1]) + 1
        init = object.__setattr__  # instances are frozen; see __setattr__
        init(self, "_times", t)
        init(self, "_values", v)
        init(self, "_t", t.tolist())
        init(self, "_v", v.tolist())
        init(self, "_areas", areas)
        init(self, "_change_t", t[changes].tolist())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Trace is immutable")

    def __reduce__(self) -> tuple[type[Trace], tuple[np.ndarray, np.ndarray]]:
        """Pickle/copy by rebuilding (sweeps send traces to worker processes)."""
        return Trace, (self._times, self._values)

    # ----- construction -------------------------------------------------------------------
    @classmethod
    def constant(cls, value: float) -> Trace:
        """The same value forever."""
        return cls([0.0], [value])

    @classmethod
    def from_points(cls, points: Sequence[Sequence[float]]) -> Trace:
        """Trace through ``[(t, value), ...]``, times strictly increasing (never sorted here:
        out-of-order input is an author's mistake). If the first t > 0, its value also holds
        from 0."""
        problem = points_problem(points, "points[{i}]")
        if problem is not None:
            raise TraceError(problem)
        times = [float(p[0]) for p in points]
        values = [float(p[1]) for p in points]
        if times[0] > 0:
            times.insert(0, 0.0)
            values.insert(0, values[0])
        return cls(times, values)

    step = from_points  # ``step([[0, 0.0], [300, 0.4]])`` reads better for load steps.

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        column: str = "value",
        *,
        loop: bool = False,
        duration_s: float | None = None,
    ) -> Trace:
        """Read a CSV with a header naming ``t_s`` and ``column`` (``t_s,value`` by default).

        Blank lines and lines starting with ``#`` are skipped. Times follow :meth:`from_points`
        (no shift). ``loop`` repeats the trace to cover ``duration_s`` (see :meth:`looped`).
        """
        trace = cls.from_points(list(read_csv(Path(path), column)))
        return trace._maybe_looped(loop, duration_s)

    @classmethod
    def from_whitespace(
        cls, path: str | Path, *, loop: bool = False, duration_s: float | None = None
    ) -> Trace:
        """Read two whitespace-separated columns, seconds and value, no header (the Norway 3G
        format). Times are shifted so the first sample is at t=0."""
        rows = list(read_whitespace(Path(path)))
        t0 = rows[0][0]
        trace = cls([t - t0 for t, _ in rows], [v for _, v in rows])
        return trace._maybe_looped(loop, duration_s)

    @classmethod
    def markov(
        cls,
        states: Sequence[float],
        mean_dwell_s: float | Sequence[float],
        duration_s: float,
        rng: np.random.Generator,
        transition: Sequence[Sequence[float]] | None = None,
    ) -> Trace:
        """Markov-modulated trace over [0, duration_s): exponential dwell times (one mean, or
        one per state), start state uniform, next state uniform among the *other* states
        unless a row-stochastic ``transition`` matrix is given. Same rng state, same trace."""
        check_markov(states, mean_dwell_s, transition)
        if not duration_s > 0:
            raise ValueError(f"duration_s must be > 0, got {duration_s}")
        n = len(states)
        dwell = np.broadcast_to(np.asarray(mean_dwell_s, dtype=np.float64), (n,))
        if transition is not None:
            matrix = np.asarray(transition, dtype=np.float64)
        elif n == 1:
            matrix = np.ones((1, 1))
        else:
            matrix = (1.0 - np.eye(n)) / (n - 1)
        cum = np.cumsum(matrix, axis=1)
        expected = duration_s / float(np.min(dwell))
        if expected > MAX_POINTS:
            raise TraceError(f"markov: {duration_s:g} s / mean_dwell_s {float(np.min(dwell)):g} "
                             f"gives ~{expected:.3g} changes, over {MAX_POINTS:,} points")
        state = int(rng.integers(n))
        times, values = [0.0], [float(states[state])]
        t = 0.0
        while (t := t + float(rng.exponential(dwell[state]))) < duration_s:
            if len(times) >= MAX_POINTS:
                raise TraceError(f"markov: over {MAX_POINTS:,} changes in {duration_s:g} s; "
                                 "raise mean_dwell_s")
            state = min(int(np.searchsorted(cum[state], rng.random(), side="right")), n - 1)
            if t > times[-1]:
                times.append(t)
                values.append(float(states[state]))
            else:  # a dwell below one ulp of t: the new state replaces the old one
                values[-1] = float(states[state])
        return cls(times, values)

    # ----- queries ------------------------------------------------------------------------
    @property
    def times(self) -> np.ndarray:
        """Breakpoints (read-only float64), strictly increasing from 0.0."""
        return self._times

    @property
    def values(self) -> np.ndarray:
        """Value on each ``[times[i], times[i+1])`` (read-only float64, >= 0)."""
        return self._values

    def value_at(self, t: float) -> float:
        """Value holding at time t >= 0 (right-continuous: a breakpoint takes its new value)."""
        _check_time(t)
        return self._v[bisect_right(self._t, t) - 1]

    def next_change_after(self, t: float) -> float:
        """First time > t at which the value changes (math.inf if never), so the engine can
        sleep until then. Breakpoints that repeat the previous value are skipped."""
        _check_time(t)
        k = bisect_right(self._change_t, t)
        return self._change_t[k] if k < len(self._change_t) else math.inf

    def integral(self, t0: float, t1: float) -> float:
        """Exact integral of the step function over [t0, t1], 0 <= t0 <= t1."""
        _check_time(t0)
        if not t1 >= t0:
            raise ValueError(f"integral needs t1 >= t0, got t0={t0}, t1={t1}")
        t, v = self._t, self._v
        i = bisect_right(t, t0) - 1
        j = bisect_right(t, t1) - 1
        if i == j:
            return v[i] * (t1 - t0)
        middle = float(self._areas[i + 1 : j].sum()) if j > i + 1 else 0.0
        return v[i] * (t[i + 1] - t0) + middle + v[j] * (t1 - t[j])

    def scaled(self, factor: float) -> Trace:
        """Every value multiplied by factor >= 0 (unit changes, what-if sweeps)."""
        if not (factor >= 0 and math.isfinite(factor)):
            raise ValueError(f"factor must be finite and >= 0, got {factor}")
        return Trace(self._times, self._values * factor)

    def complement(self) -> Trace:
        """``max(0, 1 - value)``: the capacity left by a load fraction."""
        return Trace(self._times, np.maximum(0.0, 1.0 - self._values))

    def zeroed(self, windows: Sequence[tuple[float, float]]) -> Trace:
        """The value forced to 0 on each ``[start, end)`` window (outages, a server down).

        Windows may overlap; after a window the trace's own value resumes."""
        if not windows:
            return self
        cuts = sorted({0.0, *self._t, *(float(t) for w in windows for t in w)})
        vals = [self.value_at(t) for t in cuts]
        for i, t in enumerate(cuts):
            if any(a <= t < b for a, b in windows):
                vals[i] = 0.0
        return Trace(cuts, vals)

    def looped(self, duration_s: float, period_s: float | None = None) -> Trace:
        """The trace repeated every ``period_s`` until it covers [0, duration_s).

        Recordings (~300 s) are shorter than scenarios. The default period is the last
        breakpoint plus the median sample spacing, so the last sample lasts a typical interval.
        """
        if len(self) == 1:
            return self
        last = self._t[-1]
        period = last + float(np.median(np.diff(self._times))) if period_s is None else period_s
        if not period > last:
            if period_s is None:  # the median spacing vanished into a huge last time
                raise TraceError(f"loop: the last time {last:g} s is too large to repeat after "
                                 "(one more sample spacing does not change it); drop loop or "
                                 "fix the times")
            raise ValueError(f"period_s must exceed the last breakpoint {last:g}, got {period}")
        reps = max(1, math.ceil(duration_s / period))
        if reps == 1:
            return self
        if reps * len(self) > MAX_POINTS:
            raise TraceError(f"loop: {len(self):,} points repeated {reps:,} times to cover "
                             f"{duration_s:g} s is over {MAX_POINTS:,} points")
        offsets = np.repeat(np.arange(reps) * period, len(self))
        return Trace(np.tile(self._times, reps) + offsets, np.tile(self._values, reps))

    def _maybe_looped(self, loop: bool, duration_s: float | None) -> Trace:
        if not loop:
            return self
        if duration_s is None:
            raise ValueError("loop=True needs duration_s")
        return self.looped(duration_s)

    # ----- dunders ------------------------------------------------------------------------
    def __len__(self) -> int:
        """Number of breakpoints (segments)."""
        return len(self._t)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return np.array_equal(self._times, other._times) and np.array_equal(
            self._values, other._values
        )

    def __hash__(self) -> int:
        return hash((self._times.tobytes(), self._values.tobytes()))

    def __repr__(self) -> str:
        if len(self) <= 4:
            pts = ", ".join(f"({t:g}, {v:g})" for t, v in zip(self._t, self._v, strict=True))
            return f"Trace([{pts}])"
        return (
            f"Trace(n={len(self)}, last breakpoint {self._t[-1]:g} s, "
            f"values {min(self._v):g}..{max(self._v):g})"
        )


# ----- file readers -----------------------------------------------------------------------

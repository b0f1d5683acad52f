"""Piecewise-constant time series: link bandwidth (Mbit/s), background load, server load.

A :class:`Trace` is ground truth the engine replays. Value ``values[i]`` holds on
``[times[i], times[i+1])`` and the last value holds forever. Everything is exact: the engine
asks when the next breakpoint is and how long an amount of work or data takes at a varying
rate, and gets closed-form answers segment by segment, never a time-sliced approximation.

Scenario YAML describes traces with the pydantic models at the bottom (a union tagged by
``kind``); :func:`build_trace` turns a validated spec into a :class:`Trace`.
"""

from __future__ import annotations

import csv
import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.input_files import TRACE_MAX_BYTES, InputFileError, read_input_text
from sim.messages import OneLineError, excerpt
from sim.paths import path_problem

__all__ = [
    "ConstantTraceSpec",
    "CsvTraceSpec",
    "InlineTraceSpec",
    "MarkovTraceSpec",
    "StepTraceSpec",
    "Trace",
    "TraceError",
    "TraceSpec",
    "TraceSpecOrNumber",
    "MAX_VALUE",
    "as_trace_spec",
    "build_trace",
]


MAX_POINTS = 2_000_000
"""Most breakpoints of one built trace (a file, a loop, a Markov chain): ~32 MB of arrays and
far more detail than any scenario needs; beyond it, a dwell or a period is almost surely a
unit slip."""


MAX_VALUE = 100_000.0
"""Largest value a trace in a scenario or trace file may hold: a bandwidth of 100 Gbit/s in
Mbit/s (loads are fractions below 1). Larger numbers are no physical link, and at 1e305
the engine's conversion to bytes/s overflows."""
_TOO_BIG = f"must be at most {MAX_VALUE:,.0f} (100 Gbit/s in Mbit/s; loads are below 1)"


class TraceError(OneLineError):
    """Bad trace input; the message names the source (file and line, or point index)."""


def _row_problem(prev_t: float | None, t: float, v: float) -> str | None:
    """Why the sample (t, v) breaks the Trace contract after a sample at prev_t, or None."""
    if not math.isfinite(t):
        return f"time must be a finite number, got {t}"
    if prev_t is not None and t <= prev_t:
        return f"time {t:g} is not after the previous time {prev_t:g} (must strictly increase)"
    if not math.isfinite(v):
        return f"value must be a finite number, got {v}"
    if v < 0:
        return f"value must be >= 0, got {v:g}"
    return None


def _points_problem(points: Sequence[Sequence[float]], where: str) -> str | None:
    """Why ``[(t, value), ...]`` breaks the Trace contract, located by ``where.format(i=i)``;
    None if it is fine."""
    if len(points) == 0:
        return "expected at least one [t, value] point, got none"
    prev: float | None = None
    for i, (t, v) in enumerate(points):
        t, v = float(t), float(v)
        reason = _row_problem(prev, t, v)
        if reason is None and prev is None and t < 0:
            reason = f"time must be >= 0, got {t:g}"
        if reason is not None:
            return f"{where.format(i=i)}: {reason}"
        prev = t
    return None


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
            reason = _row_problem(float(t[i - 1]) if i else None, float(t[i]), float(v[i]))
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
        problem = _points_problem(points, "points[{i}]")
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
        trace = cls.from_points(list(_read_csv(Path(path), column)))
        return trace._maybe_looped(loop, duration_s)

    @classmethod
    def from_whitespace(
        cls, path: str | Path, *, loop: bool = False, duration_s: float | None = None
    ) -> Trace:
        """Read two whitespace-separated columns, seconds and value, no header (the Norway 3G
        format). Times are shifted so the first sample is at t=0."""
        rows = list(_read_whitespace(Path(path)))
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
        _check_markov(states, mean_dwell_s, transition)
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

    def time_to_serve(self, t0: float, amount: float, scale: float = 1.0) -> float:
        """Smallest T >= 0 with integral of ``scale * value`` over [t0, t0+T] equal to amount.

        E.g. seconds to send B bytes on a Mbit/s trace with ``scale=1e6/8``, or to finish work
        at a varying rate. Zero-rate stretches are waited through; returns math.inf if the rate
        is zero forever after. O(log n + k) for k segments crossed.
        """
        _check_time(t0)
        if not (amount >= 0 and math.isfinite(amount)):
            raise ValueError(f"amount must be finite and >= 0, got {amount}")
        if not (scale >= 0 and math.isfinite(scale)):
            raise ValueError(f"scale must be finite and >= 0, got {scale}")
        if amount == 0:
            return 0.0
        t, v = self._t, self._v
        last = len(t) - 1
        i = bisect_right(t, t0) - 1
        start, remaining = t0, amount
        while i < last:  # bounded segments; indices, not slices, keep this O(k)
            end = t[i + 1]
            rate = scale * v[i]
            if rate > 0:
                capacity = rate * (end - start)
                if remaining <= capacity:
                    return min((start - t0) + remaining / rate, end - t0)
                remaining -= capacity
            start = end
            i += 1
        rate = scale * v[-1]
        return math.inf if rate == 0 else (start - t0) + remaining / rate

    # ----- derived traces -----------------------------------------------------------------
    def scaled(self, factor: float) -> Trace:
        """Every value multiplied by factor >= 0 (unit changes, what-if sweeps)."""
        if not (factor >= 0 and math.isfinite(factor)):
            raise ValueError(f"factor must be finite and >= 0, got {factor}")
        return Trace(self._times, self._values * factor)

    def clipped(self, lo: float = 0.0, hi: float = math.inf) -> Trace:
        """Values clipped into [lo, hi], 0 <= lo <= hi (e.g. keep a load fraction below 1)."""
        if not 0 <= lo <= hi:
            raise ValueError(f"clipped needs 0 <= lo <= hi, got lo={lo}, hi={hi}")
        return Trace(self._times, np.clip(self._values, lo, hi))

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
def _data_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of non-blank, non-comment lines; I/O errors name the file.
    Only a regular file of at most :data:`sim.input_files.TRACE_MAX_BYTES` is read (a FIFO
    or a device is refused before it is opened)."""
    try:
        content = read_input_text(path, "trace", TRACE_MAX_BYTES, encoding="utf-8-sig")
    except InputFileError as exc:
        raise TraceError(f"{path}: cannot read trace file: {exc.reason}") from None
    for lineno, raw in enumerate(content.split("\n"), start=1):
        text = raw.strip()
        if text and not text.startswith("#"):
            yield lineno, text


def _checked(
    path: Path, rows: Iterable[tuple[int, float, float]], *, nonneg_start: bool
) -> Iterator[tuple[float, float]]:
    """Validate (line, t, v) rows against the Trace contract, naming file and line."""
    prev: float | None = None
    for n, (lineno, t, v) in enumerate(rows):
        if n >= MAX_POINTS:
            raise TraceError(f"{path} line {lineno}: over {MAX_POINTS:,} data rows")
        reason = _row_problem(prev, t, v)
        if reason is None and prev is None and nonneg_start and t < 0:
            reason = f"time must be >= 0, got {t:g}"
        if reason is None and v > MAX_VALUE:
            reason = f"value {_TOO_BIG}, got {v:g}"
        if reason is not None:
            raise TraceError(f"{path} line {lineno}: {reason}")
        prev = t
        yield t, v
    if prev is None:
        raise TraceError(f"{path}: no data rows")


def _csv_fields(path: Path, lineno: int, text: str) -> list[str]:
    """The fields of one CSV line; a line the csv module refuses (a field over its size
    limit) is a TraceError naming the line."""
    try:
        return next(csv.reader([text]))
    except csv.Error as exc:
        raise TraceError(f"{path} line {lineno}: not a CSV line ({exc})") from None


def _read_csv(path: Path, column: str) -> Iterator[tuple[float, float]]:
    lines = _data_lines(path)
    expected_header = f"a header naming columns 't_s' and '{column}'"
    try:
        header_line, header_text = next(lines)
    except StopIteration:
        raise TraceError(f"{path}: empty file, expected {expected_header}") from None
    header = [h.strip() for h in _csv_fields(path, header_line, header_text)]
    if "t_s" not in header or column not in header:
        raise TraceError(
            f"{path} line {header_line}: expected {expected_header}, got {excerpt(header_text)}"
        )
    it, iv = header.index("t_s"), header.index(column)
    what = (
        "two numbers 't_s,value'"
        if header == ["t_s", column]
        else f"{len(header)} fields {excerpt(','.join(header))} with numbers in 't_s' and "
             f"{excerpt(column)}"
    )

    def rows() -> Iterator[tuple[int, float, float]]:
        for lineno, text in lines:
            fields = _csv_fields(path, lineno, text)
            try:
                if len(fields) != len(header):
                    raise ValueError
                yield lineno, float(fields[it]), float(fields[iv])
            except ValueError:
                raise TraceError(f"{path} line {lineno}: expected {what}, got "
                                 f"{excerpt(text)}") from None

    yield from _checked(path, rows(), nonneg_start=True)


def _read_whitespace(path: Path) -> Iterator[tuple[float, float]]:
    def rows() -> Iterator[tuple[int, float, float]]:
        for lineno, text in _data_lines(path):
            fields = text.split()
            try:
                if len(fields) != 2:
                    raise ValueError
                yield lineno, float(fields[0]), float(fields[1])
            except ValueError:
                raise TraceError(
                    f"{path} line {lineno}: expected two numbers 'seconds value', got "
                    f"{excerpt(text)}"
                ) from None

    yield from _checked(path, rows(), nonneg_start=False)  # shifted to 0 by the caller


def _check_markov(
    states: Sequence[float],
    mean_dwell_s: float | Sequence[float],
    transition: Sequence[Sequence[float]] | None,
) -> None:
    """Raise ValueError (plain message) if Markov parameters are inconsistent."""
    if len(states) == 0:
        raise ValueError("states must not be empty")
    if not all(math.isfinite(s) and s >= 0 for s in states):
        raise ValueError(f"states must be finite and >= 0, got {list(states)}")
    _check_dwell(len(states), mean_dwell_s)
    if transition is not None:
        _check_transition(len(states), transition)


def _check_dwell(n: int, mean_dwell_s: float | Sequence[float]) -> None:
    dwell = np.atleast_1d(np.asarray(mean_dwell_s, dtype=np.float64)).tolist()
    if len(dwell) not in (1, n):
        raise ValueError(f"expected one mean dwell or one per state ({n}), got {len(dwell)}")
    if not all(math.isfinite(d) and d > 0 for d in dwell):
        raise ValueError(f"mean dwell times must be finite and > 0, got {mean_dwell_s}")


def _check_transition(n: int, transition: Sequence[Sequence[float]]) -> None:
    if len(transition) != n or any(len(row) != n for row in transition):
        raise ValueError(f"expected a {n}x{n} matrix (one row and one column per state)")
    for i, row in enumerate(transition):
        if any(not (p >= 0) for p in row) or not math.isclose(sum(row), 1.0, abs_tol=1e-6):
            raise ValueError(f"row {i} must be non-negative and sum to 1, got {list(row)}")


# ----- scenario specs -----------------------------------------------------------------------
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Point = tuple[NonNegFloat, NonNegFloat]


def _check_spec_points(points: tuple[Point, ...]) -> None:
    problem = _points_problem(points, "point {i}")
    if problem is not None:
        raise ValueError(problem)
    for i, (_, v) in enumerate(points):
        if v > MAX_VALUE:
            raise ValueError(f"point {i}: value {_TOO_BIG}, got {v:g}")


def _at_most_max(v: float) -> float:
    if v > MAX_VALUE:
        raise ValueError(f"{_TOO_BIG}, got {v:g}")
    return v


TraceValue = Annotated[float, Field(ge=0, allow_inf_nan=False), AfterValidator(_at_most_max)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ConstantTraceSpec(_Spec):
    """``{kind: constant, value: 0.2}``."""

    kind: Literal["constant"] = "constant"
    value: TraceValue


class StepTraceSpec(_Spec):
    """``{kind: step, steps: [[0, 0.0], [300, 0.4]]}``: value from each time on."""

    kind: Literal["step"] = "step"
    steps: tuple[Point, ...]

    @field_validator("steps")
    @classmethod
    def _increasing(cls, v: tuple[Point, ...]) -> tuple[Point, ...]:
        _check_spec_points(v)
        return v


class InlineTraceSpec(_Spec):
    """``{kind: inline, points: [[0, 5.0], [1.5, 3.2]]}``: a short trace written in place."""

    kind: Literal["inline"] = "inline"
    points: tuple[Point, ...]

    @field_validator("points")
    @classmethod
    def _increasing(cls, v: tuple[Point, ...]) -> tuple[Point, ...]:
        _check_spec_points(v)
        return v


class CsvTraceSpec(_Spec):
    """``{kind: csv, path: traces/x.csv, column: value, loop: true, scale: 1.0}``.

    ``path`` is relative to the scenario file's folder. ``format`` defaults by extension:
    ``.csv`` is CSV with header, anything else two whitespace columns (Norway 3G logs).
    """

    kind: Literal["csv"] = "csv"
    path: Path
    format: Literal["csv", "whitespace"] | None = None
    column: str | None = None
    loop: bool = False
    scale: PosFloat = 1.0

    @field_validator("path", mode="before")
    @classmethod
    def _path_usable(cls, v: Any) -> Any:
        problem = path_problem(v) if isinstance(v, str) else None
        if problem:
            raise ValueError(problem)
        return v

    @property
    def resolved_format(self) -> Literal["csv", "whitespace"]:
        """``format`` if given, else decided by the file extension."""
        if self.format is not None:
            return self.format
        return "csv" if self.path.suffix.lower() == ".csv" else "whitespace"

    @model_validator(mode="after")
    def _column_only_for_csv(self) -> CsvTraceSpec:
        if self.column is not None and self.resolved_format == "whitespace":
            raise ValueError(
                "column applies only to format 'csv' (whitespace traces have no header)"
            )
        return self


class MarkovTraceSpec(_Spec):
    """``{kind: markov, states: [1.0, 5.0, 20.0], mean_dwell_s: 10, transition: [[...]]}``."""

    kind: Literal["markov"] = "markov"
    states: tuple[TraceValue, ...] = Field(min_length=1)
    mean_dwell_s: PosFloat | tuple[PosFloat, ...]
    transition: tuple[tuple[float, ...], ...] | None = None

    @field_validator("mean_dwell_s")
    @classmethod
    def _one_dwell_or_per_state(
        cls, v: float | tuple[float, ...], info: ValidationInfo
    ) -> float | tuple[float, ...]:
        if "states" in info.data:  # else states failed and is reported on its own
            _check_dwell(len(info.data["states"]), v)
        return v

    @field_validator("transition")
    @classmethod
    def _row_stochastic(
        cls, v: tuple[tuple[float, ...], ...] | None, info: ValidationInfo
    ) -> tuple[tuple[float, ...], ...] | None:
        if v is not None and "states" in info.data:
            _check_transition(len(info.data["states"]), v)
        return v


TraceSpec = Annotated[
    ConstantTraceSpec | StepTraceSpec | InlineTraceSpec | CsvTraceSpec | MarkovTraceSpec,
    Field(discriminator="kind"),
]


def as_trace_spec(v: Any) -> Any:
    """Turn a bare number into ``{kind: constant, value: v}`` so YAML can say
    ``background_load: 0.3``; anything else passes through to the tagged union."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return {"kind": "constant", "value": v}
    return v


TraceSpecOrNumber = Annotated[TraceSpec, BeforeValidator(as_trace_spec)]


def build_trace(
    spec: TraceSpec, base_dir: Path, duration_s: float, rng: np.random.Generator
) -> Trace:
    """Build the Trace a validated spec describes. File paths resolve against ``base_dir``
    (the scenario's folder); ``duration_s`` sizes looped and generated traces; ``rng`` is
    used only by generators."""
    if isinstance(spec, ConstantTraceSpec):
        return Trace.constant(spec.value)
    if isinstance(spec, StepTraceSpec):
        return Trace.step(spec.steps)
    if isinstance(spec, InlineTraceSpec):
        return Trace.from_points(spec.points)
    if isinstance(spec, CsvTraceSpec):
        path = spec.path if spec.path.is_absolute() else Path(base_dir) / spec.path
        if spec.resolved_format == "csv":
            trace = Trace.from_csv(path, spec.column or "value")
        else:
            trace = Trace.from_whitespace(path)
        if spec.scale != 1.0:
            peak = float(trace.values.max(initial=0.0))
            if peak * spec.scale > MAX_VALUE:
                raise TraceError(f"{path}: scale {spec.scale:g} makes values up to "
                                 f"{peak * spec.scale:g}; a value {_TOO_BIG}")
            trace = trace.scaled(spec.scale)
        return trace.looped(duration_s) if spec.loop else trace
    if isinstance(spec, MarkovTraceSpec):
        return Trace.markov(spec.states, spec.mean_dwell_s, duration_s, rng, spec.transition)
    raise TypeError(f"not a trace spec: {spec!r}")

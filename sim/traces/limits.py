"""What a trace may hold: size and value limits, and the row checks every reader and
generator shares, so a bad trace is refused with the same message wherever it comes from."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.common.messages import OneLineError

MAX_POINTS = 2_000_000
"""Most breakpoints of one built trace (a file, a loop, a Markov chain): ~32 MB of arrays and
far more detail than any scenario needs; beyond it, a dwell or a period is almost surely a
unit slip."""


MAX_VALUE = 100_000.0
"""Largest value a trace in a scenario or trace file may hold: a bandwidth of 100 Gbit/s in
Mbit/s (loads are fractions below 1). Larger numbers are no physical link, and at 1e305
the engine's conversion to bytes/s overflows."""
TOO_BIG = f"must be at most {MAX_VALUE:,.0f} (100 Gbit/s in Mbit/s; loads are below 1)"


class TraceError(OneLineError):
    """Bad trace input; the message names the source (file and line, or point index)."""


def row_problem(prev_t: float | None, t: float, v: float) -> str | None:
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


def points_problem(points: Sequence[Sequence[float]], where: str) -> str | None:
    """Why ``[(t, value), ...]`` breaks the Trace contract, located by ``where.format(i=i)``;
    None if it is fine."""
    if len(points) == 0:
        return "expected at least one [t, value] point, got none"
    prev: float | None = None
    for i, (t, v) in enumerate(points):
        t, v = float(t), float(v)
        reason = row_problem(prev, t, v)
        if reason is None and prev is None and t < 0:
            reason = f"time must be >= 0, got {t:g}"
        if reason is not None:
            return f"{where.format(i=i)}: {reason}"
        prev = t
    return None




def check_markov(
    states: Sequence[float],
    mean_dwell_s: float | Sequence[float],
    transition: Sequence[Sequence[float]] | None,
) -> None:
    """Raise ValueError (plain message) if Markov parameters are inconsistent."""
    if len(states) == 0:
        raise ValueError("states must not be empty")
    if not all(math.isfinite(s) and s >= 0 for s in states):
        raise ValueError(f"states must be finite and >= 0, got {list(states)}")
    check_dwell(len(states), mean_dwell_s)
    if transition is not None:
        check_transition(len(states), transition)


def check_dwell(n: int, mean_dwell_s: float | Sequence[float]) -> None:
    dwell = np.atleast_1d(np.asarray(mean_dwell_s, dtype=np.float64)).tolist()
    if len(dwell) not in (1, n):
        raise ValueError(f"expected one mean dwell or one per state ({n}), got {len(dwell)}")
    if not all(math.isfinite(d) and d > 0 for d in dwell):
        raise ValueError(f"mean dwell times must be finite and > 0, got {mean_dwell_s}")


def check_transition(n: int, transition: Sequence[Sequence[float]]) -> None:
    if len(transition) != n or any(len(row) != n for row in transition):
        raise ValueError(f"expected a {n}x{n} matrix (one row and one column per state)")
    for i, row in enumerate(transition):
        if any(not (p >= 0) for p in row) or not math.isclose(sum(row), 1.0, abs_tol=1e-6):
            raise ValueError(f"row {i} must be non-negative and sum to 1, got {list(row)}")

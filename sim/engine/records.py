"""What a run records: every finished frame, every run of lost frames, every decision, and
counters per app.

Frames and lost runs are kept column by column (:class:`FrameLog`, :class:`LostLog`): one
typed array per field (8-byte floats, 1-byte flags, shared strings), so a long run costs a
few dozen bytes a frame and no object per frame. Rows are written by field name
(``append(arrival_s=..., ...)``) and read by field name, as whole columns
(``column("arrival_s")``, a numpy array) or as named rows (``rows()``, :class:`FrameRow`
and :class:`LostRun`), so ``pandas.DataFrame(log.rows())`` reads them directly.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np

__all__ = ["AppRecord", "Decision", "FrameLog", "FrameRow", "LostFrame", "LostLog", "LostRun"]


class FrameRow(NamedTuple):
    """One frame that produced a result."""

    arrival_s: float
    finish_s: float
    correct: bool
    variant: str
    exit: str
    """exit that answered (an exit name, or the variant id when no exit ran)"""
    offloaded: bool
    """answered by the server"""
    fallback: bool
    """offload failed; the device finished it"""
    goal_ms: float
    """the app's latency goal when the frame arrived"""


class LostRun(NamedTuple):
    """``frames`` frames without a result, arriving every ``spacing_s`` from ``first_s``."""

    first_s: float
    spacing_s: float
    frames: int
    why: str
    """'dropped' (a newer frame replaced it, or the app exited or was paused first) or
    'failed' (its offload failed with no local fallback)"""


class LostFrame(NamedTuple):
    """One frame without a result."""

    arrival_s: float
    why: str


class Decision(NamedTuple):
    """One timeline entry: what an app runs from ``t_s`` on, and why."""

    t_s: float
    app: str
    variant: str
    share: float
    split: str | None
    threshold: float | None
    reason: str


_NUMPY = {"d": np.float64, "b": np.bool_, "q": np.int64}


class _Columns:
    """Rows stored as one column per field of ``ROW``: ``array`` of the type code in
    ``TYPES`` (``'d'`` float, ``'b'`` flag, ``'q'`` integer), or a list (strings)."""

    ROW: ClassVar[type[Any]]
    TYPES: ClassVar[dict[str, str | None]]
    __slots__ = ()

    def __init__(self) -> None:
        for name, code in self.TYPES.items():
            setattr(self, name, array(code) if code else [])

    def __init_subclass__(cls) -> None:
        assert tuple(cls.TYPES) == cls.ROW._fields == cls.__slots__, cls

    def __len__(self) -> int:
        return len(getattr(self, self.ROW._fields[0]))

    def column(self, name: str) -> np.ndarray:
        """One field of every row, as a new numpy array (strings: an object array)."""
        code = self.TYPES[name]
        values = getattr(self, name)
        if code is None:
            out = np.empty(len(values), dtype=object)
            out[:] = values
            return out
        flat: np.ndarray = np.frombuffer(values, dtype=np.int8 if code == "b" else _NUMPY[code])
        return flat.astype(_NUMPY[code])  # a copy: the array may grow again

    def rows(self) -> Iterator[Any]:
        """Every row, as a ``ROW`` named tuple, in the order they were appended."""
        cols = [map(bool, getattr(self, name)) if code == "b" else getattr(self, name)
                for name, code in self.TYPES.items()]
        return map(self.ROW._make, zip(*cols))


class FrameLog(_Columns):
    """Every frame that produced a result, in finish order (:class:`FrameRow` columns)."""

    ROW = FrameRow
    TYPES = {"arrival_s": "d", "finish_s": "d", "correct": "b", "variant": None,
             "exit": None, "offloaded": "b", "fallback": "b", "goal_ms": "d"}
    __slots__ = ("arrival_s", "finish_s", "correct", "variant", "exit", "offloaded",
                 "fallback", "goal_ms")
    arrival_s: array[float]
    finish_s: array[float]
    correct: array[int]
    variant: list[str]
    exit: list[str]
    offloaded: array[int]
    fallback: array[int]
    goal_ms: array[float]

    def append(self, *, arrival_s: float, finish_s: float, correct: bool, variant: str,
               exit: str, offloaded: bool, fallback: bool, goal_ms: float) -> None:
        self.arrival_s.append(arrival_s)
        self.finish_s.append(finish_s)
        self.correct.append(correct)
        self.variant.append(variant)
        self.exit.append(exit)
        self.offloaded.append(offloaded)
        self.fallback.append(fallback)
        self.goal_ms.append(goal_ms)


class LostLog(_Columns):
    """Frames without a result, as runs (:class:`LostRun` columns), so that a long pause
    costs one row."""

    ROW = LostRun
    TYPES = {"first_s": "d", "spacing_s": "d", "frames": "q", "why": None}
    __slots__ = ("first_s", "spacing_s", "frames", "why")
    first_s: array[float]
    spacing_s: array[float]
    frames: array[int]
    why: list[str]

    def append(self, *, first_s: float, spacing_s: float, frames: int, why: str) -> None:
        self.first_s.append(first_s)
        self.spacing_s.append(spacing_s)
        self.frames.append(frames)
        self.why.append(why)


@dataclass
class AppRecord:
    """Everything measured about one app during a run."""

    name: str
    frames: FrameLog = field(default_factory=FrameLog)
    """frames with a result, in finish order"""
    arrived: int = 0
    dropped: int = 0
    failed: int = 0
    """frames lost because an offload failed and the plan allowed no local fallback"""
    active_s: float = 0.0
    switches: int = 0
    switch_s: float = 0.0
    load_s: float = 0.0
    loaded_bytes: int = 0
    sent_bytes: float = 0.0
    radio_s: float = 0.0
    """the app's share of the time the radio was sending"""
    timeouts: int = 0
    lost: LostLog = field(default_factory=LostLog)
    """frames without a result, as runs (see :class:`LostRun`)"""

    def drop(self, first_s: float, spacing_s: float, count: int, why: str = "dropped") -> None:
        """Record ``count`` frames lost, arriving every ``spacing_s`` from ``first_s``."""
        if count <= 0:
            return
        if why == "failed":
            self.failed += count
        else:
            self.dropped += count
        self.lost.append(first_s=first_s, spacing_s=spacing_s, frames=count, why=why)

    def forget_from(self, t: float) -> None:
        """Un-count the lost frames arriving at ``t`` or later (the end of the run: they
        arrived outside it)."""
        kept = LostLog()
        for run in self.lost.rows():
            first, spacing, count = run.first_s, run.spacing_s, run.frames
            if first + (count - 1) * spacing < t:
                n = count  # all inside (also every run of spacing 0 that starts inside)
            elif first >= t:
                n = 0
            else:  # spacing > 0: the frames before t, checked against the same sums
                n = min(count, max(0, int(math.ceil((t - first) / spacing))))
                while n > 0 and first + (n - 1) * spacing >= t:
                    n -= 1
                while n < count and first + n * spacing < t:
                    n += 1
            gone = count - n
            if run.why == "failed":
                self.failed -= gone
            else:
                self.dropped -= gone
            self.arrived -= gone
            if n > 0:
                kept.append(first_s=first, spacing_s=spacing, frames=n, why=run.why)
        self.lost = kept

    def lost_frames(self) -> list[LostFrame]:
        """Every lost frame, in arrival order."""
        out = [LostFrame(arrival_s=run.first_s + i * run.spacing_s, why=run.why)
               for run in self.lost.rows() for i in range(run.frames)]
        out.sort()
        return out

"""What a run records: one row per finished frame, one per decision, counters per app.

Rows are plain tuples while the run goes (cheap to append) and become named rows when read
(:meth:`AppRecord.rows`), so ``pandas.DataFrame(rows)`` reads them directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["AppRecord", "Decision", "FrameRow"]


class FrameRow(NamedTuple):
    """One frame that produced a result (``finish_s`` set) or was lost in flight."""

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


class Decision(NamedTuple):
    """One timeline entry: what an app runs from ``t_s`` on, and why."""

    t_s: float
    app: str
    variant: str
    share: float
    split: str | None
    threshold: float | None
    reason: str


@dataclass
class AppRecord:
    """Everything measured about one app during a run."""

    name: str
    frames: list[tuple] = field(default_factory=list)  # FrameRow fields, in finish order
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
    lost: list[tuple[float, float, int, str]] = field(default_factory=list)
    """frames without a result, as runs (first arrival s, spacing s, count, why); why is
    'dropped' (a newer frame replaced it, or the app exited or was paused first) or 'failed'
    (its offload failed with no local fallback). Runs keep a long pause cheap to record."""

    def rows(self) -> list[FrameRow]:
        return [FrameRow(*f) for f in self.frames]

    def drop(self, first_s: float, spacing_s: float, count: int, why: str = "dropped") -> None:
        """Record ``count`` frames lost, arriving every ``spacing_s`` from ``first_s``."""
        if count <= 0:
            return
        if why == "failed":
            self.failed += count
        else:
            self.dropped += count
        self.lost.append((first_s, spacing_s, count, why))

    def forget_from(self, t: float) -> None:
        """Un-count the lost frames arriving at ``t`` or later (the end of the run: they
        arrived outside it)."""
        kept = []
        for first, spacing, count, why in self.lost:
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
            if why == "failed":
                self.failed -= gone
            else:
                self.dropped -= gone
            self.arrived -= gone
            if n > 0:
                kept.append((first, spacing, n, why))
        self.lost = kept

    def lost_rows(self) -> list[tuple[float, str]]:
        """(arrival s, why) of every lost frame, in arrival order."""
        out = [(first + i * spacing, why) for first, spacing, count, why in self.lost
               for i in range(count)]
        out.sort()
        return out

    @property
    def arrival(self) -> list[float]:
        return [f[0] for f in self.frames]

    @property
    def finish(self) -> list[float]:
        return [f[1] for f in self.frames]

    @property
    def correct(self) -> list[bool]:
        return [f[2] for f in self.frames]

    @property
    def variant(self) -> list[str]:
        return [f[3] for f in self.frames]

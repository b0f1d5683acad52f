"""The per-app log an emulated app process writes and the parent reads back: one CSV line per
event, a kind letter first, its fields named here once so writer and reader cannot drift.

A line cut short (the process killed mid-write) has too few fields and is skipped."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import NamedTuple, get_type_hints

__all__ = ["EndLine", "FrameLine", "SwitchLine", "format_line", "read_lines"]


class FrameLine(NamedTuple):
    """A frame answered: its times since the run's start, the variant and whether it was
    right (1, 0; -1 when the data set has no labels), and the process's CPU time so far."""

    arrival_s: float
    start_s: float
    finish_s: float
    variant: str
    correct: int
    cpu_s: float


class SwitchLine(NamedTuple):
    """A model loaded: when, how long it took, the variant it replaced ('' at first) and the
    new one."""

    t_s: float
    seconds: float
    replaced: str
    variant: str


class EndLine(NamedTuple):
    """A session ended: its launch and exit times, frames arrived and answered."""

    launch_s: float
    end_s: float
    arrived: int
    processed: int


_KINDS: dict[str, type[FrameLine] | type[SwitchLine] | type[EndLine]] = {
    "F": FrameLine, "S": SwitchLine, "E": EndLine}
_LETTER = {cls: letter for letter, cls in _KINDS.items()}
_TYPES = {cls: get_type_hints(cls) for cls in _KINDS.values()}
"""each record's field -> its type, which converts the field's text back"""


def _cell(value: object) -> str:
    return f"{value:.6f}" if isinstance(value, float) else str(value)


def format_line(record: FrameLine | SwitchLine | EndLine) -> str:
    """One log line (with its newline)."""
    return ",".join([_LETTER[type(record)], *(_cell(v) for v in record)]) + "\n"


def read_lines(text: str) -> Iterator[FrameLine | SwitchLine | EndLine]:
    """The records of a log, typed by field; lines cut short or of no known kind skipped."""
    for row in csv.reader(io.StringIO(text)):
        cls = _KINDS.get(row[0]) if row else None
        if cls is None or len(row) != len(cls._fields) + 1:
            continue
        types = _TYPES[cls]
        yield cls(*(types[f](v) for f, v in zip(cls._fields, row[1:])))

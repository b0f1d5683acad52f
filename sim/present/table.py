"""Plain aligned text tables for the terminal, shared by every command that prints results
(``mvsched run``/``compare``/``bench``/``emulate``); kept apart from the CLI so modules that
print tables need not import the command line. Results tables fit in 100 columns, and
wall-clock figures, which no seed reproduces, are printed apart from the metrics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["ABBREVIATIONS", "COUNT_KEYS", "WALL_CLOCK_KEYS", "WIDTH", "format_results",
           "format_table", "format_tables", "format_value"]

COUNT_KEYS = frozenset({
    "frames", "processed", "dropped", "failed", "deadline_misses", "switches", "decisions",
    "refused_plans", "offloaded", "early_exits", "fallbacks", "timeouts", "seeds",
})
"""metrics that count things: printed as whole numbers (a mean over seeds is rounded)"""


def format_value(v: Any, key: str | None = None) -> str:
    """A cell: ``-`` for missing, 4 significant digits for floats below 1e5; a count
    (``key`` in :data:`COUNT_KEYS`) as a whole number, never in exponent notation."""
    if v is None:
        return "-"
    if isinstance(v, float) and key in COUNT_KEYS and math.isfinite(v):
        return f"{v:.0f}" if abs(v) >= 10 or v == round(v) else f"{v:.1f}"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.0f}"
    return str(v)


def format_table(rows: list[dict[str, Any]], keys: Sequence[str],
                 headers: Sequence[str] | None = None) -> str:
    """Aligned table of ``rows`` over ``keys`` (first column left-aligned); ``headers``
    replaces the key names in the header line."""
    cells = [list(headers or keys)] + [[format_value(r.get(k), k) for k in keys] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(keys))]
    lines = []
    for j, row in enumerate(cells):
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(parts))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


WIDTH = 100
"""the widest line a printed table may take"""
WALL_CLOCK_KEYS = frozenset({"decision_ms_median"})
"""measured in wall time on this machine: printed apart, they vary from run to run"""
ABBREVIATIONS = {
    "accuracy": "acc", "accuracy_in_time": "acc_t", "accuracy_arrived": "acc_arr", "worst_app_accuracy": "worst",
    "latency_ms_mean": "lat_ms", "latency_ms_p95": "p95", "dropped": "drop",
    "deadline_misses": "late", "energy_j": "J", "switches": "sw", "switch_s": "sw_s",
    "offloaded": "offl", "early_exits": "exits", "fallbacks": "fallb", "server_s": "srv_s",
    "decisions": "dec", "refused_plans": "refused", "decision_ms_median": "dec_ms_med",
}
"""short headers of the results tables, explained by the key line printed below them"""


def _column_width(rows: list[dict[str, Any]], key: str, header: str) -> int:
    return max([len(header)] + [len(format_value(r.get(key), key)) for r in rows])


def format_tables(rows: list[dict[str, Any]], keys: Sequence[str], width: int = WIDTH,
                  abbreviate: bool = True) -> str:
    """``rows`` over ``keys`` (the first is the label column) as tables no wider than
    ``width``: headers abbreviated (a key line names them), the columns split over several
    tables, each repeating the label column, when one would be wider."""
    label, rest = keys[0], list(keys[1:])
    head = {k: ABBREVIATIONS.get(k, k) if abbreviate else k for k in keys}
    label_w = _column_width(rows, label, head[label])
    groups: list[list[str]] = [[]]
    used = label_w
    for k in rest:
        w = _column_width(rows, k, head[k]) + 2
        if groups[-1] and used + w > width:
            groups.append([])
            used = label_w
        groups[-1].append(k)
        used += w
    text = "\n\n".join(format_table(rows, [label, *g], [head[label], *(head[k] for k in g)])
                       for g in groups)
    short = [f"{head[k]} = {k}" for k in keys if head[k] != k]
    if short:
        text += "\n" + _wrap_items("key: ", short, width)
    return text


def _wrap_items(prefix: str, items: list[str], width: int) -> str:
    """``prefix`` then ``items`` separated by commas, broken between items only."""
    lines, line = [], prefix
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if len(line) + len(piece) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = "  "
        line += piece + " "
    lines.append(line.rstrip())
    return "\n".join(lines)


def format_results(rows: list[dict[str, Any]], keys: Sequence[str],
                   width: int = WIDTH) -> str:
    """A results table (:func:`format_tables`) with the wall-clock columns of ``keys``
    printed apart below it, under a title saying they vary from run to run."""
    repro = [k for k in keys if k not in WALL_CLOCK_KEYS]
    wall = [k for k in keys[1:] if k in WALL_CLOCK_KEYS and any(r.get(k) is not None
                                                                  for r in rows)]
    text = format_tables(rows, repro, width)
    if wall:
        text += ("\n\nwall-clock (varies run to run):\n"
                 + format_tables(rows, [keys[0], *wall], width, abbreviate=False))
    return text

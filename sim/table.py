"""Plain aligned text tables for the terminal, shared by every command that prints results
(``mvsched run``/``compare``/``bench``/``emulate``); kept apart from the CLI so modules that
print tables need not import the command line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["format_table", "format_value"]


def format_value(v: Any) -> str:
    """A cell: ``-`` for missing, 4 significant digits for floats below 1e5."""
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.0f}"
    return str(v)


def format_table(rows: list[dict[str, Any]], keys: Sequence[str],
                 headers: Sequence[str] | None = None) -> str:
    """Aligned table of ``rows`` over ``keys`` (first column left-aligned); ``headers``
    replaces the key names in the header line."""
    cells = [list(headers or keys)] + [[format_value(r.get(k)) for k in keys] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(keys))]
    lines = []
    for j, row in enumerate(cells):
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(parts))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)

"""The look of mvsched's figures, as matplotlib rc settings applied only while a figure is
drawn (never to the caller's global settings).

:data:`BASE` embeds fonts as TrueType (``pdf.fonttype``/``ps.fonttype`` 42), never as Type 3
bitmaps, which publishers' PDF checks (and ``pdffonts``) reject. :data:`WIDTHS` names the
figure widths of a two-column paper: ``"single"`` (3.5 in, one column, with smaller fonts)
and ``"double"`` (7.16 in, the full page width). A user's style, a matplotlib style file
(``.mplstyle``), a style name or a dict of rc settings, is layered over ours, so it wins
wherever the two set the same key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

__all__ = ["BASE", "DOUBLE_COLUMN_IN", "SINGLE_COLUMN_IN", "WIDTHS", "Style", "layers",
           "resolve_width"]

Style: TypeAlias = "str | os.PathLike[str] | Mapping[str, Any]"
"""a matplotlib style file, a style name (``"seaborn-v0_8-paper"``) or a dict of rc settings"""

SINGLE_COLUMN_IN = 3.5
"""one column of a two-column paper (IEEE, ACM), in inches"""
DOUBLE_COLUMN_IN = 7.16
"""the full text width of a two-column paper, in inches"""

BASE: dict[str, Any] = {
    "font.size": 9, "axes.titlesize": 10, "axes.grid": True, "grid.alpha": 0.3,
    "axes.spines.top": False, "axes.spines.right": False, "legend.fontsize": 8,
    "legend.frameon": False,
    "pdf.fonttype": 42, "ps.fonttype": 42,  # TrueType, not Type 3: print-ready PDF
}
"""every figure's settings"""

WIDTHS: dict[str, tuple[float, dict[str, Any]]] = {
    "single": (SINGLE_COLUMN_IN, {"font.size": 7, "axes.titlesize": 7.5, "axes.labelsize": 7,
                                  "xtick.labelsize": 6.5, "ytick.labelsize": 6.5,
                                  "legend.fontsize": 6.5, "figure.titlesize": 8,
                                  "lines.markersize": 4}),
    "double": (DOUBLE_COLUMN_IN, {"font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7,
                                  "figure.titlesize": 9.5}),
}
"""width name -> (inches, settings over :data:`BASE` that fit that width)"""


def resolve_width(width: str | float | None) -> tuple[float | None, dict[str, Any]]:
    """``"single"``, ``"double"``, a width in inches, or None (each figure's own size): the
    inches and the settings that go with them."""
    if width is None:
        return None, {}
    if isinstance(width, str):
        if width not in WIDTHS:
            raise ValueError(f"width: {width!r}; expected one of {list(WIDTHS)} or inches")
        inches, rc = WIDTHS[width]
        return inches, dict(rc)
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 < width <= 50:
        raise ValueError(f"width: {width!r}; expected one of {list(WIDTHS)} or inches "
                         "(a number between 0 and 50)")
    return float(width), {}


def layers(style: Style | Sequence[Style] | None = None,
           width: str | float | None = None) -> list[Any]:
    """The list :func:`matplotlib.style.context` takes: ours, the width's, the user's."""
    _, rc = resolve_width(width)
    user: list[Any] = []
    if style is not None:
        many = isinstance(style, Sequence) and not isinstance(style, (str, bytes))
        for s in (style if many else [style]):  # type: ignore[union-attr]
            if isinstance(s, Mapping):
                user.append(dict(s))
            elif isinstance(s, os.PathLike) or (isinstance(s, str) and (
                    os.sep in s or s.endswith(".mplstyle") or Path(s).is_file())):
                path = Path(s)
                if not path.is_file():
                    raise ValueError(f"style: {path}: no such style file")
                user.append(str(path))
            else:
                user.append(s)
    return [dict(BASE), rc, *user]

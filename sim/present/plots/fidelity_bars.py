"""Emulation fidelity: simulated against measured metrics per scheduler, with the
agreement goals."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np

from sim.results import layout

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.present.plots.comparison import format_value
from sim.present.plots.figure import (
    FIDELITY_GOALS,
    FORMATS,
    PALETTE,
    PlotError,
    save_figure,
    styled,
)
from sim.present.plots.folders import cell_number, need_columns, read_table
from sim.present.plots.sweep import metric_label


# -- emulation fidelity -------------------------------------------------------------------
@styled
def fidelity(folder: str | Path, out: str | Path, *, colors: Mapping[str, str] | None = None,
             fmt: Sequence[str] = FORMATS, name: str = "fidelity") -> list[Path]:
    """Relative error of the simulation against the emulated run per app, for frame rate,
    mean and p95 latency, with the goals as dashed lines; from ``fidelity.csv``."""
    path = Path(folder) / layout.FIDELITY
    columns, rows = read_table(path, "written by mvsched emulate")
    need_columns(columns, ["app", *(f"err_{k}" for k in FIDELITY_GOALS)], str(path))
    if not rows:
        raise PlotError(f"{path}: no rows")
    label = layout.run_label(Path(folder), PlotError) if (Path(folder) / layout.METRICS).is_file() else ""
    color = (colors or {}).get(label, PALETTE[0])
    apps = [r["app"] for r in rows]
    x = np.arange(len(apps))
    fig, axes = plt.subplots(1, len(FIDELITY_GOALS), layout="constrained",
                             figsize=(3.4 * len(FIDELITY_GOALS), 3.4))
    for ax, (key, goal) in zip(axes, FIDELITY_GOALS.items()):
        errs = np.array([cell_number(r[f"err_{key}"], f"err_{key}") * 100 for r in rows])
        drawn = ax.bar(x, np.nan_to_num(errs), color=color)
        for patch, e in zip(drawn.patches, errs):
            if math.isfinite(e) and abs(e) > goal * 100:
                patch.set_hatch("//")
        for xi, e in zip(x, errs):
            ax.annotate(format_value(e), (xi, np.nan_to_num(e)), ha="center", fontsize=7,
                        va="bottom" if not e < 0 else "top", xytext=(0, 2 if not e < 0 else -2),
                        textcoords="offset points")
        for sign in (1, -1):
            ax.axhline(sign * goal * 100, ls="--", color="0.3", lw=1)
        ax.axhline(0, color="0.5", lw=0.6)
        top = max(goal * 130, float(np.nanmax(np.abs(errs), initial=0.0)) * 1.25)
        ax.set_ylim(-top, top)
        ax.set_xticks(x, apps, rotation=30, ha="right")
        ax.set_ylabel("relative error (%)")
        ax.set_title(f"{metric_label(key).split(' (')[0]} (goal ±{goal:.0%}, dashed)")
    fig.suptitle(f"simulation fidelity{': ' + label if label else ''}: (emulated - simulated) "
                 "/ simulated per app; hatched: outside the goal")
    return save_figure(fig, Path(out), name, fmt)



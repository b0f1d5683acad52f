"""Figures of a comparison: latency CDFs and bars of the headline metrics per scheduler
(with 95% error bars over seeds)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from sim.results import layout

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.present.plots.figure import (
    BAR_IF_NONZERO,
    BAR_METRICS,
    FALLBACK,
    FORMATS,
    PlotError,
    save_figure,
    scheduler_colors,
    styled,
)
from sim.present.plots.folders import cell_number, frame_latencies, need_runs, seed_means
from sim.present.plots.sweep import metric_label


# -- comparisons --------------------------------------------------------------------------
def _scenario_name(runs: Mapping[str, Path]) -> str:
    first = next(iter(runs.values()))
    return str(layout.read_json(first / layout.METRICS, PlotError).get("scenario") or first.parent.name)


@styled
def cdf(folder: str | Path, out: str | Path, *, colors: Mapping[str, str] | None = None,
        fmt: Sequence[str] = FORMATS, name: str = "cdf") -> list[Path]:
    """Frame latency CDF, one line per scheduler; needs each run's ``frames.csv``."""
    runs = need_runs(Path(folder))
    lats = {label: frame_latencies(run) for label, run in runs.items()}
    colors = colors or scheduler_colors(runs)
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for label, lat in lats.items():
        lat = np.sort(lat[np.isfinite(lat)])
        c = colors.get(label, FALLBACK)
        if lat.size == 0:
            ax.plot([], [], color=c, label=f"{label} (no frames)")
            continue
        frac = np.arange(1, lat.size + 1) / lat.size
        ax.step(lat, frac, where="post", color=c, lw=1.6,
                label=f"{label} (p95 {np.percentile(lat, 95):.3g} ms)")
    finite = np.concatenate([x[np.isfinite(x)] for x in lats.values()])
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 20:
        ax.set_xscale("log")
    ax.set_xlabel("frame latency (ms)")
    ax.set_ylabel("fraction of frames (CDF)")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{_scenario_name(runs)}: frame latency")
    ax.legend(loc="lower right")
    return save_figure(fig, Path(out), name, fmt)


def _bar_keys(overall: Mapping[str, Mapping[str, Any]]) -> list[str]:
    def values(key: str) -> list[Any]:
        return [o.get(key) for o in overall.values() if o.get(key) is not None]

    keys = [k for k in BAR_METRICS if values(k)]
    return keys + [k for k in BAR_IF_NONZERO if any(v != 0 for v in values(k))]


def format_value(v: float) -> str:
    """Three significant digits; whole numbers from 1,000 up in full (31607, not 3.16e+04)."""
    if not math.isfinite(v):
        return "n/a"
    return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _bar_panel(ax: Axes, key: str, overall: Mapping[str, Mapping[str, Any]],
               colors: Mapping[str, str],
               half: Mapping[str, Mapping[str, float]] | None = None) -> None:
    labels = list(overall)
    vals = [cell_number(overall[lab].get(key), key) for lab in labels]
    x = np.arange(len(labels))
    err = None
    if half is not None:
        err = np.nan_to_num([half.get(lab, {}).get(key, 0.0) for lab in labels])
    ax.bar(x, np.nan_to_num(vals), color=[colors.get(lab, FALLBACK) for lab in labels],
           yerr=err, capsize=3 if err is not None else 0)
    for i, (xi, v) in enumerate(zip(x, vals)):
        top = (0 if not math.isfinite(v) else v) + (float(err[i]) if err is not None else 0.0)
        ax.annotate(format_value(v), (xi, top), ha="center",
                    va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_ylabel(metric_label(key))
    title = metric_label(key).split(" (")[0]
    ax.set_title(title + (" (overall incl. idle power)" if key == "energy_j" else ""))
    ax.margins(y=0.15)


@styled
def bars(folder: str | Path, out: str | Path, *, colors: Mapping[str, str] | None = None,
         fmt: Sequence[str] = FORMATS, name: str = "bars") -> list[Path]:
    """One panel per overall metric (accuracy, frame rate, latency, energy, ...), one bar
    per scheduler; from each run's ``metrics.json``, or for a ``compare --seeds`` folder the
    mean over the seeds with its 95% interval as an error bar (comparison.csv)."""
    means, half = seed_means(Path(folder))
    if means:
        overall: Mapping[str, Mapping[str, Any]] = means
        title = f"mean of {len(layout.seed_folders(Path(folder))) or 'several'} seeds, 95% intervals"
        labels: Iterable[str] = list(means)
    else:
        runs = need_runs(Path(folder))
        overall = {lab: layout.read_json(run / layout.METRICS, PlotError).get("overall") or {}
                   for lab, run in runs.items()}
        half = {}
        title = _scenario_name(runs)
        labels = runs
    keys = _bar_keys(overall)
    if not keys:
        raise PlotError(f"{folder}: metrics.json has no overall metrics to plot")
    colors = colors or scheduler_colors(labels)
    ncols = min(3, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                             figsize=(3.3 * ncols, 0.6 + 2.6 * nrows))
    for ax, key in zip(axes.flat, keys):
        _bar_panel(ax, key, overall, colors, half if means else None)
    for ax in axes.flat[len(keys):]:
        ax.set_visible(False)
    fig.legend(handles=[Patch(color=colors.get(lab, FALLBACK), label=lab) for lab in overall],
               loc="outside lower center", ncol=min(len(overall), 5))
    fig.suptitle(f"{title}: overall metrics per scheduler")
    return save_figure(fig, Path(out), name, fmt)



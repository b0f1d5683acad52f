"""Figures of a sweep: a metric against the swept parameter, one line per scheduler, and
the paper-style figures built on it."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.present.plots.figure import (
    FALLBACK,
    FORMATS,
    METRIC_LABELS,
    SWEEP_METRICS,
    UNIT_SUFFIXES,
    PlotError,
    save_figure,
    scheduler_colors,
    styled,
)
from sim.present.plots.folders import cell_number, need_columns


# -- sweeps -------------------------------------------------------------------------------
def metric_label(metric: str) -> str:
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
    unit = next((u for suffix, u in UNIT_SUFFIXES if metric.endswith(suffix)), "value")
    return f"{metric} ({unit})"


def _param_label(path: str) -> str:
    last = path.split(".")[-1] if not path.endswith(".value") else path.split(".")[-2]
    low = path.lower()
    if "bandwidth" in low:
        return f"{last} (Mbit/s)"
    if "threshold" in low:
        return f"{last} (exit confidence, 0-1)"
    if low.endswith(("_ms", "_ms.value")):
        return f"{last} (ms)"
    return metric_label(last) if last in METRIC_LABELS else f"{last} (parameter value)"


def sweep_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if not rows:
        raise PlotError("sweep: no rows to plot")
    return list(dict.fromkeys(k for r in rows for k in r))


def _params(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Columns that are swept parameters: neither the scheduler nor a metric statistic."""
    return [c for c in sweep_columns(rows) if c != "scheduler" and not c.endswith(("_mean", "_ci95"))]


def _param_column(rows: Sequence[Mapping[str, Any]], keywords: Sequence[str]) -> str:
    hits = [c for c in _params(rows) if any(k in c.lower() for k in keywords)]
    varying = [c for c in hits if len({r.get(c) for r in rows}) > 1]
    if len(hits) == 1 or len(varying) == 1:
        return hits[0] if len(hits) == 1 else varying[0]
    what = " or ".join(repr(k) for k in keywords)
    if not hits:
        raise PlotError(f"sweep: no parameter column naming {what}; columns present: "
                        f"{sweep_columns(rows)}")
    raise PlotError(f"sweep: several parameter columns name {what}: {hits}; pass x=")


def _curve(ax: Axes, rows: list[Mapping[str, Any]], x: str, y: str, color: str, label: str,
           marker_only: bool, annotate: str | None) -> None:
    """One scheduler: mean line with a ±ci95 band, or a marker when it has one x value."""
    pts = sorted((cell_number(r.get(x), x), cell_number(r.get(f"{y}_mean"), f"{y}_mean"),
                  cell_number(r.get(f"{y}_ci95"), f"{y}_ci95"), _x_ci(r, x),
                  str(r.get(annotate, "")) if annotate else "") for r in rows)
    xs, ys, ci, xci = (np.array([p[i] for p in pts]) for i in range(4))
    if marker_only or len(set(xs.tolist())) == 1:
        ax.errorbar(xs, ys, yerr=np.nan_to_num(ci), xerr=np.nan_to_num(xci), fmt="*", ms=11,
                    color=color, capsize=3, label=label)
        return
    ax.plot(xs, ys, marker="o", ms=4, color=color, lw=1.6, label=label)
    ax.fill_between(xs, ys - ci, ys + ci, color=color, alpha=0.2, lw=0)
    if np.isfinite(xci).any():
        ax.errorbar(xs, ys, xerr=np.nan_to_num(xci), fmt="none", color=color, alpha=0.5)
    for xv, yv, *_, text in pts:
        if text and math.isfinite(xv) and math.isfinite(yv):
            ax.annotate(text, (xv, yv), xytext=(3, 3), textcoords="offset points", fontsize=7)


def _x_ci(row: Mapping[str, Any], x: str) -> float:
    """The ci95 of x when x is itself a measured metric (``fps_mean``), else NaN."""
    if not x.endswith("_mean"):
        return math.nan
    return cell_number(row.get(x[: -len("_mean")] + "_ci95"), x)


@styled
def sweep_curve(rows: Sequence[Mapping[str, Any]], x: str, ys: Sequence[str], out: str | Path,
                name: str, xlabel: str, ylabels: Sequence[str], *,
                colors: Mapping[str, str] | None = None, markers_only: Iterable[str] = (),
                annotate: str | None = None, title: str | None = None,
                fmt: Sequence[str] = FORMATS) -> list[Path]:
    """One panel per metric in ``ys``: per scheduler, ``<metric>_mean`` against column ``x``
    with a shaded ±``<metric>_ci95`` band; a scheduler with a single x value (or named in
    ``markers_only``) is drawn as its own marker. ``annotate`` labels points by a column."""
    rows = list(rows)
    ys, ylabels = list(ys), list(ylabels)
    if not ys or len(ys) != len(ylabels):
        raise PlotError(f"sweep: {len(ys)} metrics but {len(ylabels)} axis labels")
    columns = sweep_columns(rows)
    need_columns(columns, ["scheduler", x, *(f"{y}_mean" for y in ys)], "sweep")
    if annotate is not None:
        need_columns(columns, [annotate], "sweep")
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(str(r["scheduler"]), []).append(r)
    colors = colors or scheduler_colors(groups)
    only = set(markers_only)
    fig, axes = plt.subplots(1, len(ys), squeeze=False, layout="constrained",
                             figsize=(4.3 * len(ys), 3.6))
    for ax, y, ylabel in zip(axes[0], ys, ylabels):
        for label, group in groups.items():
            _curve(ax, group, x, y, colors.get(label, FALLBACK), label, label in only, annotate)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if len(ys) > 1 or not title:
            ax.set_title(f"{ylabel.split(' (')[0]} vs {xlabel.split(' (')[0]}")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 5))
    if title:
        fig.suptitle(title)
    return save_figure(fig, Path(out), name, fmt)


def _spec_sweep(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    varying = [c for c in _params(rows) if len({r.get(c) for r in rows}) > 1]
    if len(varying) != 1:
        raise PlotError(f"sweep: {len(varying)} parameter columns vary ({varying}); the "
                        "generic curve needs exactly one (call sweep_curve with x=)")
    columns = sweep_columns(rows)
    ys = [m for m in SWEEP_METRICS if f"{m}_mean" in columns]
    ys = ys or [c[: -len("_mean")] for c in columns if c.endswith("_mean")][:6]
    if not ys:
        raise PlotError("sweep: no column ending in _mean (a metric's mean over seeds); "
                        f"columns present: {columns}")
    return {"x": varying[0], "ys": ys, "name": "sweep", "xlabel": _param_label(varying[0]),
            "ylabels": [metric_label(y) for y in ys], "title": f"sweep of {varying[0]}"}


def _spec_accuracy_vs_fps(rows: Sequence[Mapping[str, Any]], alpha: str | None = None,
                          baseline: Iterable[str] = ()) -> dict[str, Any]:
    alpha = alpha or _param_column(rows, ("alpha",))
    need_columns(sweep_columns(rows), [alpha, "fps_mean", "accuracy_mean"], "accuracy_vs_fps")
    return {"x": "fps_mean", "ys": ["accuracy"], "name": "accuracy_vs_fps",
            "xlabel": "frame rate (fps)", "ylabels": ["accuracy (fraction correct)"],
            "annotate": alpha, "markers_only": tuple(baseline),
            "title": f"accuracy vs frame rate, one point per {alpha.split('.')[-1]}"}


def _spec_bandwidth(rows: Sequence[Mapping[str, Any]], x: str | None = None) -> dict[str, Any]:
    x = x or _param_column(rows, ("bandwidth",))
    return {"x": x, "ys": ["fps", "latency_ms_mean"], "name": "throughput_latency_vs_bandwidth",
            "xlabel": "bandwidth (Mbit/s)", "ylabels": ["throughput (fps)", "mean latency (ms)"],
            "title": "throughput and latency vs bandwidth"}


def _spec_threshold(rows: Sequence[Mapping[str, Any]], x: str | None = None,
                    exit_rate: str = "early_exit_rate") -> dict[str, Any]:
    x = x or _param_column(rows, ("threshold",))
    return {"x": x, "ys": ["accuracy", exit_rate], "name": "accuracy_exit_rate_vs_threshold",
            "xlabel": "exit threshold (confidence, 0-1)",
            "ylabels": ["accuracy (fraction correct)", metric_label(exit_rate)],
            "title": "accuracy and early-exit rate vs exit threshold"}


def _spec_budget(rows: Sequence[Mapping[str, Any]], x: str | None = None) -> dict[str, Any]:
    x = x or _param_column(rows, ("budget", "latency_goal"))
    return {"x": x, "ys": ["accuracy"], "name": "accuracy_vs_budget",
            "xlabel": "latency budget (ms)", "ylabels": ["accuracy (fraction correct)"],
            "title": "accuracy vs latency budget"}


def accuracy_vs_fps(rows: Sequence[Mapping[str, Any]], out: str | Path, *,
                    alpha: str | None = None, baseline: Iterable[str] = (),
                    colors: Mapping[str, str] | None = None,
                    fmt: Sequence[str] = FORMATS) -> list[Path]:
    """NestDNN's trade-off: accuracy against frame rate over an alpha sweep, one point per
    alpha value (the column naming ``alpha`` unless given); ``baseline`` schedulers as
    markers."""
    return sweep_curve(rows, out=out, colors=colors, fmt=fmt,
                       **_spec_accuracy_vs_fps(rows, alpha, baseline))


def throughput_latency_vs_bandwidth(rows: Sequence[Mapping[str, Any]], out: str | Path, *,
                                    x: str | None = None,
                                    colors: Mapping[str, str] | None = None,
                                    fmt: Sequence[str] = FORMATS) -> list[Path]:
    """SPINN's figure: frame rate and mean latency against the bandwidth column."""
    return sweep_curve(rows, out=out, colors=colors, fmt=fmt, **_spec_bandwidth(rows, x))


def accuracy_exit_rate_vs_threshold(rows: Sequence[Mapping[str, Any]], out: str | Path, *,
                                    x: str | None = None, exit_rate: str = "early_exit_rate",
                                    colors: Mapping[str, str] | None = None,
                                    fmt: Sequence[str] = FORMATS) -> list[Path]:
    """SPINN's figure: accuracy and early-exit rate (``<exit_rate>_mean``) against the
    exit threshold column."""
    return sweep_curve(rows, out=out, colors=colors, fmt=fmt,
                       **_spec_threshold(rows, x, exit_rate))


def accuracy_vs_budget(rows: Sequence[Mapping[str, Any]], out: str | Path, *,
                       x: str | None = None, colors: Mapping[str, str] | None = None,
                       fmt: Sequence[str] = FORMATS) -> list[Path]:
    """AdaptiveNet / once-for-all: accuracy against the latency budget column."""
    return sweep_curve(rows, out=out, colors=colors, fmt=fmt, **_spec_budget(rows, x))


SWEEP_SPECS: dict[str, Callable[[Sequence[Mapping[str, Any]]], dict[str, Any]]] = {
    "sweep": _spec_sweep, "accuracy_vs_fps": _spec_accuracy_vs_fps,
    "throughput_latency_vs_bandwidth": _spec_bandwidth,
    "accuracy_exit_rate_vs_threshold": _spec_threshold, "accuracy_vs_budget": _spec_budget,
}



"""Figures of a sweep: a metric against the swept parameter, one line per scheduler, and
the paper-style figures built on it."""

from __future__ import annotations

import json
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
    scheduler_markers,
    styled,
)
from sim.present.plots.folders import cell_number, need_columns


# -- sweeps -------------------------------------------------------------------------------
def metric_label(metric: str) -> str:
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
    unit = next((u for suffix, u in UNIT_SUFFIXES if metric.endswith(suffix)), "value")
    return f"{metric} ({unit})"


def _param_label(path: str, rows: Sequence[Mapping[str, Any]] = ()) -> str:
    if rows and not _numeric(rows, path):
        return path.split(".")[-1].replace("_mbps", "") + (" trace" if "bandwidth" in path or "load" in path else "")
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
    return [c for c in sweep_columns(rows)
            if c not in ("scheduler", "seeds") and not c.endswith(("_mean", "_ci95"))]


def _param_column(rows: Sequence[Mapping[str, Any]], keywords: Sequence[str]) -> str:
    hits = [c for c in _params(rows) if any(k in c.lower() for k in keywords)]
    varying = [c for c in hits if len({r.get(c) for r in rows}) > 1]
    if len(hits) == 1 or len(varying) == 1:
        return hits[0] if len(hits) == 1 else varying[0]
    what = " or ".join(repr(k) for k in keywords)
    if not hits:
        raise PlotError(f"sweep: no parameter column naming {what}; parameter columns: "
                        f"{_params(rows)}")
    raise PlotError(f"sweep: several parameter columns name {what}: {hits}; pass x=")


def value_label(cell: Any) -> str:
    """A swept value as a legend or tick names it: a trace spec (JSON text in sweep.csv) by its
    file's name or its kind and value, a number as written, anything else as text."""
    text = "" if cell is None else str(cell)
    if text.startswith("{"):
        try:
            spec = json.loads(text)
        except ValueError:
            return text
        if isinstance(spec, dict):
            if spec.get("path"):
                return Path(str(spec["path"])).name
            shown = {k: v for k, v in spec.items() if k != "kind"}
            return f"{spec.get('kind', 'trace')} {json.dumps(shown, separators=(',', ':'))}"
    return text


def legend_columns(fig: Any, labels: Sequence[str], most: int = 4) -> int:
    """How many legend columns fit the figure's width: long hue values (a swept list, a
    trace) get fewer columns, so no entry runs off the page."""
    if not labels:
        return 1
    per_entry = 0.075 * max(len(label) for label in labels) + 0.7  # inches at the legend's font
    return max(1, min(len(labels), most, int(fig.get_figwidth() // per_entry)))


def _numeric(rows: Sequence[Mapping[str, Any]], x: str) -> bool:
    """True when every cell of column ``x`` is a number (else x is drawn as categories)."""
    try:
        for r in rows:
            cell = r.get(x)
            if cell not in (None, "", "None", "null"):
                float(cell)
    except (TypeError, ValueError):
        return False
    return True


def x_positions(rows: Sequence[Mapping[str, Any]], x: str) -> tuple[dict[str, float], list[str]]:
    """Each x cell's position on the axis, and the tick labels when x is categorical (a
    trace, a device name): categories keep their order of first appearance."""
    cells = list(dict.fromkeys(str(r.get(x)) for r in rows))
    if _numeric(rows, x):
        return {c: cell_number(c, x) for c in cells}, []
    return {c: float(i) for i, c in enumerate(cells)}, [value_label(c) for c in cells]


LINESTYLES = ("-", "--", ":", "-.")
"""line styles of the values of a sweep's second field (a scheduler keeps colour and marker)"""


def _point_text(row: Mapping[str, Any], annotate: Sequence[str]) -> str:
    """The first non-empty cell of the ``annotate`` columns (alpha, else the model)."""
    return next((str(row[c]) for c in annotate if row.get(c) not in (None, "")), "")


def _curve(ax: Axes, rows: list[Mapping[str, Any]], x: str, y: str, where: Mapping[str, float],
           style: Mapping[str, Any], label: str, marker_only: bool,
           annotate: Sequence[str]) -> list[tuple[float, float, float, float, str]]:
    """One line: mean with a ±ci95 band, or markers with error bars when it has one x value
    or x is categorical. Markers are hollow, so curves that coincide stay visible. Returns
    the points (x, y, ci, x ci, label) for labelling once every curve is drawn."""
    pts = sorted((where[str(r.get(x))], cell_number(r.get(f"{y}_mean"), f"{y}_mean"),
                  cell_number(r.get(f"{y}_ci95"), f"{y}_ci95"), _x_ci(r, x),
                  _point_text(r, annotate)) for r in rows)
    xs, ys, ci, xci = (np.array([p[i] for p in pts]) for i in range(4))
    if marker_only or len(set(xs.tolist())) == 1 or style.get("categorical"):
        ax.errorbar(xs, ys, yerr=np.nan_to_num(ci), xerr=np.nan_to_num(xci),
                    fmt="*" if marker_only else style["marker"], ms=11 if marker_only else 7,
                    mfc="none", color=style["color"], capsize=3, label=label, linestyle="none")
    else:
        ax.plot(xs, ys, marker=style["marker"], ms=6, mfc="none", color=style["color"], lw=1.6,
                linestyle=style["linestyle"], label=label)
        ax.fill_between(xs, ys - ci, ys + ci, color=style["color"], alpha=0.2, lw=0)
        if np.isfinite(xci).any():
            ax.errorbar(xs, ys, xerr=np.nan_to_num(xci), fmt="none", color=style["color"],
                        alpha=0.5)
    return pts


def _clusters(pts: Sequence[tuple[float, float, float, float, str]], span_x: float,
              span_y: float) -> list[tuple[float, float, str]]:
    """Points that (nearly) coincide merged into one label ``first-last`` at their place:
    within 3% of the axes' span on both axes."""
    good = [(xv, yv, text) for xv, yv, *_, text in pts
            if text and math.isfinite(xv) and math.isfinite(yv)]
    groups: list[list[tuple[float, float, str]]] = []
    for p in good:
        if groups and abs(p[0] - groups[-1][-1][0]) <= 0.03 * span_x \
                and abs(p[1] - groups[-1][-1][1]) <= 0.03 * span_y:
            groups[-1].append(p)
        else:
            groups.append([p])
    return [(g[0][0], g[0][1], g[0][2] if len(g) == 1 else f"{g[0][2]}-{g[-1][2]}")
            for g in groups]


def _annotate(ax: Axes, pts: Sequence[tuple[float, float, float, float, str]],
              color: str) -> None:
    """Label points without overprinting: coinciding points share one label, and labels
    alternate above and below the line."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for i, (xv, yv, text) in enumerate(_clusters(pts, abs(x1 - x0) or 1.0, abs(y1 - y0) or 1.0)):
        ax.annotate(text, (xv, yv), xytext=(4, 4 if i % 2 else -10), textcoords="offset points",
                    fontsize=7, color=color)


def _x_ci(row: Mapping[str, Any], x: str) -> float:
    """The ci95 of x when x is itself a measured metric (``fps_mean``), else NaN."""
    if not x.endswith("_mean"):
        return math.nan
    return cell_number(row.get(x[: -len("_mean")] + "_ci95"), x)


def _groups(rows: Sequence[Mapping[str, Any]], hue: str | None
            ) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    """(scheduler, hue value) -> its rows, in order of first appearance."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in rows:
        key = (str(r["scheduler"]), value_label(r.get(hue)) if hue else "")
        groups.setdefault(key, []).append(r)
    return groups


@styled
def sweep_curve(rows: Sequence[Mapping[str, Any]], x: str, ys: Sequence[str], out: str | Path,
                name: str, xlabel: str, ylabels: Sequence[str], *,
                colors: Mapping[str, str] | None = None, markers_only: Iterable[str] = (),
                annotate: str | Sequence[str] | None = None, title: str | None = None,
                hue: str | None = None,
                fmt: Sequence[str] = FORMATS) -> list[Path]:
    """One panel per metric in ``ys``: per scheduler (and per value of column ``hue``: one
    line per device or condition, never joined across them), ``<metric>_mean`` against
    column ``x`` with a shaded ±``<metric>_ci95`` band. The colour names the scheduler, the
    line style and marker the hue value. A scheduler with a single x value (or named in
    ``markers_only``) is drawn as markers; a categorical x (a trace, a device) as markers
    with error bars at one tick per category. ``annotate`` labels points by a column (or the first non-empty of several)."""
    rows = list(rows)
    ys, ylabels = list(ys), list(ylabels)
    if not ys or len(ys) != len(ylabels):
        raise PlotError(f"sweep: {len(ys)} metrics but {len(ylabels)} axis labels")
    columns = sweep_columns(rows)
    need_columns(columns, ["scheduler", x, *(f"{y}_mean" for y in ys)], "sweep")
    annotate = [annotate] if isinstance(annotate, str) else list(annotate or [])
    for extra in (*annotate[:1], hue):
        if extra is not None:
            need_columns(columns, [extra], "sweep")
    where, ticks = x_positions(rows, x)
    groups = _groups(rows, hue)
    colors = colors or scheduler_colors({s for s, _ in groups})
    hues = list(dict.fromkeys(h for _, h in groups))
    markers = scheduler_markers({s for s, _ in groups})
    only = set(markers_only)
    ncols = min(len(ys), 3)
    nrows = math.ceil(len(ys) / ncols)
    fig, grid = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                             figsize=(4.3 * ncols, 3.2 * nrows + 0.4))
    for ax in grid.flat[len(ys):]:
        ax.set_visible(False)
    axes = grid.reshape(1, -1)
    dodge = 0.3 / max(len(groups), 1) if ticks else 0.0  # categories: side by side, not on top
    for ax, y, ylabel in zip(axes[0], ys, ylabels):
        labelled: list[tuple[list[tuple[float, float, float, float, str]], str]] = []
        for g, ((sched, hv), group) in enumerate(groups.items()):
            k = hues.index(hv)
            shift = dodge * (g - (len(groups) - 1) / 2)
            at = {c: v + shift for c, v in where.items()}
            style = {"color": colors.get(sched, FALLBACK), "categorical": bool(ticks),
                     "linestyle": LINESTYLES[k % len(LINESTYLES)], "marker": markers[sched]}
            label = f"{sched}, {hv}" if hue else sched
            pts = _curve(ax, group, x, y, at, style, label, sched in only, annotate)
            if annotate:
                labelled.append((pts, colors.get(sched, FALLBACK)))
        for pts, color in labelled:
            _annotate(ax, pts, color)
        if ticks:
            ax.set_xticks(range(len(ticks)), ticks, rotation=20 if len(ticks) > 3 else 0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if len(ys) > 1 or not title:
            ax.set_title(f"{ylabel.split(' (')[0]} vs {xlabel.split(' (')[0]}")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=legend_columns(fig, labels))
    if title:
        fig.suptitle(title)
    return save_figure(fig, Path(out), name, fmt)


def _varying(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Parameter columns that take more than one value."""
    return [c for c in _params(rows) if len({str(r.get(c)) for r in rows}) > 1]


def _hue_for(rows: Sequence[Mapping[str, Any]], x: str, hue: str | None) -> str | None:
    """The column that splits the lines besides the scheduler: ``hue`` when given, else the
    one other varying parameter (a device, a trace), else None; several: PlotError."""
    if hue is not None:
        return hue
    others = [c for c in _varying(rows) if c != x]
    if len(others) > 1:
        raise PlotError(f"sweep: {len(others) + 1} parameter columns vary ({[x, *others]}); "
                        "choose the x axis and the lines: --x FIELD --hue FIELD")
    return others[0] if others else None


def _spec_sweep(rows: Sequence[Mapping[str, Any]], x: str | None = None,
                hue: str | None = None, ys: Sequence[str] | None = None) -> dict[str, Any]:
    varying = _varying(rows)
    if x is None:
        numeric = [c for c in varying if _numeric(rows, c)]
        if len(varying) == 1 or (len(varying) == 2 and len(numeric) == 1):
            x = numeric[0] if numeric else varying[0]
        else:
            raise PlotError(f"sweep: {len(varying)} parameter columns vary ({varying}); choose "
                            "the x axis (and the lines): mvsched plot DIR --x FIELD "
                            "[--hue FIELD]")
    columns = sweep_columns(rows)
    if x not in columns:
        raise PlotError(f"sweep: --x {x!r} is no column; parameter columns: {_params(rows)}")
    if ys:
        missing = [y for y in ys if f"{y}_mean" not in columns]
        if missing:
            metrics = [c[: -len("_mean")] for c in columns if c.endswith("_mean")]
            raise PlotError(f"sweep: --y {missing[0]!r} is no metric of sweep.csv; metrics: "
                            f"{metrics}")
        ys = list(ys)
    else:
        ys = [m for m in SWEEP_METRICS if f"{m}_mean" in columns]
        ys = ys or [c[: -len("_mean")] for c in columns if c.endswith("_mean")][:6]
    if not ys:
        raise PlotError("sweep: no column ending in _mean (a metric's mean over seeds)")
    return {"x": x, "ys": ys, "name": "sweep", "xlabel": _param_label(x, rows),
            "ylabels": [metric_label(y) for y in ys], "title": f"sweep of {x}",
            "hue": _hue_for(rows, x, hue)}


def _spec_accuracy_vs_fps(rows: Sequence[Mapping[str, Any]], alpha: str | None = None,
                          baseline: Iterable[str] = ()) -> dict[str, Any]:
    alpha = alpha or _param_column(rows, ("alpha",))
    need_columns(sweep_columns(rows), [alpha, "fps_mean", "accuracy_mean"], "accuracy_vs_fps")
    return {"x": "fps_mean", "ys": ["accuracy"], "name": "accuracy_vs_fps",
            "xlabel": "frame rate (fps)", "ylabels": ["accuracy (fraction correct)"],
            "annotate": [alpha, *(c for c in _params(rows) if c.endswith(".model"))],
            "markers_only": tuple(baseline),
            "title": f"accuracy vs frame rate, one point per {alpha.split('.')[-1]}"}


def _spec_bandwidth(rows: Sequence[Mapping[str, Any]], x: str | None = None) -> dict[str, Any]:
    x = x or _param_column(rows, ("bandwidth",))
    return {"x": x, "ys": ["fps", "latency_ms_mean"], "name": "throughput_latency_vs_bandwidth",
            "xlabel": "bandwidth (Mbit/s)" if _numeric(rows, x) else "bandwidth trace", "ylabels": ["throughput (fps)", "mean latency (ms)"],
            "title": "throughput and latency vs bandwidth", "hue": _hue_for(rows, x, None)}


def _spec_threshold(rows: Sequence[Mapping[str, Any]], x: str | None = None,
                    exit_rate: str = "early_exit_rate") -> dict[str, Any]:
    x = x or _param_column(rows, ("threshold",))
    return {"x": x, "ys": ["accuracy", exit_rate], "name": "accuracy_exit_rate_vs_threshold",
            "xlabel": "exit threshold (confidence, 0-1)",
            "ylabels": ["accuracy (fraction correct)", metric_label(exit_rate)],
            "title": "accuracy and early-exit rate vs exit threshold"}


def _spec_budget(rows: Sequence[Mapping[str, Any]], x: str | None = None) -> dict[str, Any]:
    x = x or _param_column(rows, ("budget", "latency_goal"))
    columns = sweep_columns(rows)
    headline = [y for y in ("accuracy_arrived", "accuracy_in_time") if f"{y}_mean" in columns]
    ys = [*headline[:1], *(["accuracy"] if "accuracy_mean" in columns else [])]
    return {"x": x, "ys": ys, "name": "accuracy_vs_budget",
            "xlabel": "latency budget (ms)", "ylabels": [metric_label(y) for y in ys],
            "title": "accuracy vs latency budget", "hue": _hue_for(rows, x, None)}


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



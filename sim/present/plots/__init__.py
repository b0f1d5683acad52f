"""Paper-style figures of a run, comparison, emulation or sweep folder, as PNG and PDF.

Every figure of a folder gives a scheduler label the same colour (a palette indexed by the
sorted labels), puts units on every axis and is written atomically, so a ``plots/`` folder
never holds a half-written file. Only the Agg backend is used: plotting needs no display.

Print-ready: fonts are embedded as TrueType (``pdf.fonttype`` 42), so ``pdffonts`` shows no
Type 3 font in any PDF written here. The look (:mod:`sim.present.plots.style`) is applied only while
a figure is drawn; the caller's rc settings are left as they were. To fit a paper, give
``width`` (``"single"``: one column, 3.5 in, smaller fonts; ``"double"``: 7.16 in; or inches;
the height is scaled with the width, to no less than 70% of it) and ``style``, a matplotlib
style file, style name or dict of rc settings layered over ours (it wins where both set a
key), to :func:`draw`, or around any single figure function::

    with figure_style("paper.mplstyle", width="single"):
        cdf("runs/default", "figs")
    draw("runs/default", style={"font.family": "serif"}, width="double")
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import functools
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib
import numpy as np
import yaml
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.atomic import remove_leftovers, write_bytes_atomic
from sim.config.inputs import RunInputs, load_inputs
from sim.paths import inside, name_problem
from sim.present.plots.style import BASE, Style, layers, resolve_width
from sim.traces import Trace

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.messages import OneLineError

__all__ = [
    "FORMATS", "KINDS", "PlotError", "accuracy_exit_rate_vs_threshold", "accuracy_vs_budget",
    "accuracy_vs_fps", "applicable", "bars", "cdf", "draw", "fidelity", "figure_style", "read_sweep",
    "scheduler_colors", "sweep_curve", "throughput_latency_vs_bandwidth", "timeline",
]

FORMATS = ("png", "pdf")
KINDS = ("timeline", "cdf", "bars", "fidelity", "sweep", "accuracy_vs_fps",
         "throughput_latency_vs_bandwidth", "accuracy_exit_rate_vs_threshold",
         "accuracy_vs_budget")
SWEEP_KINDS = KINDS[4:]
FIDELITY_GOALS = {"fps": 0.10, "latency_ms_mean": 0.15, "latency_ms_p95": 0.15}
"""the relative errors a faithful simulation stays within (per app)"""
BAR_METRICS = ("accuracy", "worst_app_accuracy", "fps", "latency_ms_mean", "latency_ms_p95",
               "energy_j")
BAR_IF_NONZERO = ("dropped", "deadline_misses", "radio_energy_j", "sent_mb")
SWEEP_METRICS = ("accuracy", "fps", "latency_ms_mean", "latency_ms_p95", "energy_j", "dropped")
METRIC_LABELS = {
    "accuracy": "accuracy (fraction correct)",
    "worst_app_accuracy": "worst app accuracy (fraction)",
    "fps": "frame rate (fps)",
    "latency_ms_mean": "mean latency (ms)",
    "latency_ms_p95": "p95 latency (ms)",
    "energy_j": "energy (J)",
    "radio_energy_j": "radio energy (J)",
    "dropped": "dropped frames (frames)",
    "deadline_misses": "deadline misses (frames)",
    "sent_mb": "data sent (MB)",
    "early_exit_rate": "early-exit rate (fraction of frames)",
    "switches": "model switches (count)",
}
_UNIT_SUFFIXES = (("_ms", "ms"), ("_mbps", "Mbit/s"), ("_mb", "MB"), ("_j", "J"), ("_s", "s"),
                  ("fps", "fps"))
PALETTE = tuple(to_hex(c) for c in matplotlib.colormaps["tab10"](np.arange(10)))
MARKERS = ("v", "o", "s", "D", "^", "P", "X", "<", ">", "*", "h", "p")
STYLE: dict[Any, Any] = BASE
"""our rc settings (:data:`sim.present.plots.style.BASE`)"""
MIN_HEIGHT_SCALE = 0.7
"""a figure narrowed to ``width`` keeps at least this share of its height"""
_LOOK: contextvars.ContextVar[tuple[list[Any], float | None]] = contextvars.ContextVar(
    "mvsched_plot_look", default=([], None))
DPI = 150
_FALLBACK = "#444444"

P = ParamSpec("P")
R = TypeVar("R")


class PlotError(OneLineError):
    """A folder or table lacks what a figure needs; the message names the file or column."""


@contextlib.contextmanager
def figure_style(style: Style | Sequence[Style] | None = None,
                 width: str | float | None = None) -> Iterator[None]:
    """Within it, every figure drawn here has ``width`` (``"single"``, ``"double"`` or
    inches; None: each figure's own) and ``style`` layered over ours; a PlotError names a
    style or width that cannot be used."""
    try:
        inches, _ = resolve_width(width)
        user = layers(style, width)[1:]
    except ValueError as exc:
        raise PlotError(str(exc)) from None
    token = _LOOK.set((user, inches))
    try:
        yield
    finally:
        _LOOK.reset(token)


def _styled(func: Callable[P, R]) -> Callable[P, R]:
    """One look for every figure (ours, then the :func:`figure_style` in force), without
    touching the caller's global rc settings."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        user, _ = _LOOK.get()
        try:
            look = plt.style.context([STYLE, *user])
            look.__enter__()
        except (OSError, ValueError, KeyError) as exc:
            raise PlotError(f"style: cannot use it: {exc}") from None
        try:
            return func(*args, **kwargs)
        finally:
            look.__exit__(None, None, None)

    return wrapper


def _fit_width(fig: Figure) -> None:
    """Narrow or widen the figure to the width in force, its height scaled alike (to no
    less than :data:`MIN_HEIGHT_SCALE` of it)."""
    inches = _LOOK.get()[1]
    if inches is None:
        return
    w, h = fig.get_size_inches()
    fig.set_size_inches(inches, h * max(inches / w, MIN_HEIGHT_SCALE))


def scheduler_colors(labels: Iterable[str]) -> dict[str, str]:
    """A fixed colour per label: the palette indexed by the sorted labels, so the same set
    of schedulers gets the same colours in every figure."""
    return {lab: PALETTE[i % len(PALETTE)] for i, lab in enumerate(sorted(set(labels)))}


def _save(fig: Figure, out: Path, name: str, fmt: Sequence[str]) -> list[Path]:
    """Render into memory, then write atomically; the figure is closed either way. ``name``
    must be one safe file name, so that every file lands in ``out`` itself."""
    try:
        problem = name_problem(name)
        if problem:
            raise PlotError(f"figure name {name!r} {problem}")
        paths = []
        _fit_width(fig)
        for ext in _check_fmt(fmt):
            buf = io.BytesIO()
            meta = {"CreationDate": None} if ext == "pdf" else None  # same input, same bytes
            fig.savefig(buf, format=ext, dpi=DPI, metadata=meta)
            try:
                paths.append(write_bytes_atomic(out / f"{name}.{ext}", buf.getvalue()))
            except OSError as exc:
                raise PlotError(f"{out}: cannot write ({exc.strerror or exc})") from None
        return paths
    finally:
        plt.close(fig)


def _check_fmt(fmt: Sequence[str] | str) -> tuple[str, ...]:
    fmt = (fmt,) if isinstance(fmt, str) else tuple(fmt)
    bad = [f for f in fmt if f not in FORMATS]
    if bad or not fmt:
        raise PlotError(f"format: {bad or 'none given'}; choose from {list(FORMATS)}")
    return tuple(dict.fromkeys(fmt))


# -- reading folders ----------------------------------------------------------------------
def _read_table(path: Path, what: str) -> tuple[list[str], list[dict[str, str]]]:
    if not path.is_file():
        raise PlotError(f"{path.parent}: no {path.name} ({what})")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    return list(reader.fieldnames or []), rows


def _need(columns: Sequence[str], wanted: Iterable[str], where: str) -> None:
    for col in wanted:
        if col not in columns:
            raise PlotError(f"{where}: no column {col!r}; columns present: {list(columns)}")


def _num(value: Any, column: str = "") -> float:
    """A table cell as a float; an empty or null cell is NaN (a metric the run lacked)."""
    if value is None or value in ("", "None", "null"):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PlotError(f"column {column!r}: {value!r} is not a number") from None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PlotError(f"{path}: cannot read: {exc}") from None
    return data if isinstance(data, dict) else {}


def _label(run: Path) -> str:
    return str(_read_json(run / "metrics.json").get("scheduler") or run.name)


def _runs(folder: Path) -> dict[str, Path]:
    """label -> run folder: the folder itself when it is one run, else its run subfolders."""
    if (folder / "metrics.json").is_file():
        return {_label(folder): folder}
    subs = sorted(d for d in folder.iterdir() if d.is_dir() and (d / "metrics.json").is_file())
    return {_label(d): d for d in subs}


def seed_means(folder: Path) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """From a ``compare --seeds`` folder's comparison.csv: (mean, 95% half-width) of every
    metric per scheduler; empty when the folder holds no such table."""
    path = folder / "comparison.csv"
    if not path.is_file():
        return {}, {}
    columns, rows = _read_table(path, "comparison")
    if "seed" not in columns:
        return {}, {}
    means: dict[str, dict[str, float]] = {}
    half: dict[str, dict[str, float]] = {}
    for row in rows:
        if row.get("seed") != "mean":
            continue
        label = row["scheduler"]
        means[label] = {k: _num(v, k) for k, v in row.items()
                        if k not in ("scheduler", "seed", "seeds") and not k.endswith("_ci95")
                        and v not in ("", None)}
        half[label] = {k[:-5]: _num(v, k) for k, v in row.items()
                       if k.endswith("_ci95") and v not in ("", None)}
    return means, half


def _need_runs(folder: Path) -> dict[str, Path]:
    runs = _runs(Path(folder))
    if not runs:
        raise PlotError(f"{folder}: no metrics.json, and no scheduler subfolders holding one")
    return runs


def _seed_folders(folder: Path) -> list[Path]:
    return sorted(d for d in folder.glob("seed-*") if d.is_dir())


def _scenario_labels(run: Path) -> list[str]:
    try:
        sc = yaml.safe_load((run / "scenario.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return []
    return [str(s.get("label") or s.get("name")) for s in sc.get("schedulers") or []
            if isinstance(s, dict)]


def _folder_colors(folder: Path) -> dict[str, str]:
    """Colours from every label the folder's scenario lists, so a run keeps the colour it
    has in its comparison."""
    labels: set[str] = set()
    for label, run in _runs(folder).items():
        labels |= {label, *_scenario_labels(run)}
    if (folder / "sweep.csv").is_file():
        labels |= {r.get("scheduler", "") for r in read_sweep(folder)}
    seeds = _seed_folders(folder)
    if seeds:  # a compare --seeds folder: the colours its seeds' figures use
        for label, run in _runs(seeds[0]).items():
            labels |= {label, *_scenario_labels(run)}
    return scheduler_colors(labels)


_NO_FRAMES = ("{run} has no frames.csv: set `metrics: {{frames_csv: true}}` in the scenario "
              "(metrics.frames_csv: true writes it) and run it again")


def _latencies(run: Path) -> np.ndarray:
    path = run / "frames.csv"
    if not path.is_file():
        raise PlotError(_NO_FRAMES.format(run=run))
    columns, rows = _read_table(path, "one row per frame")
    _need(columns, ["latency_ms"], str(path))
    done = [r for r in rows if r.get("status", "done") == "done"]  # lost frames have none
    return np.array([_num(r["latency_ms"], "latency_ms") for r in done], dtype=np.float64)


def read_sweep(folder: str | Path) -> list[dict[str, str]]:
    """The rows of ``sweep.csv`` (a folder or the file itself), as csv.DictReader gives them."""
    path = Path(folder)
    path = path / "sweep.csv" if path.is_dir() else path
    return _read_table(path, "one row per scheduler and parameter value")[1]


# -- timeline -----------------------------------------------------------------------------
def _short_reason(reason: str) -> str:
    """A decision's cause in a word or two: events by their verb, drift by its quantity."""
    first = re.split(r"\s*[;(]", reason.strip(), maxsplit=1)[0]
    head, colon, rest = first.partition(":")
    words = head.split()
    if not words:
        return "?"
    if words[0] in ("launch", "exit", "priority", "goal"):
        return words[0]
    if colon and rest.split():
        return f"{words[0]} {rest.split()[0]}"[:20]
    return " ".join(words[:2])[:20]


def _run_inputs(run: Path) -> RunInputs:
    path = run / "scenario.yaml"
    if not path.is_file():
        raise PlotError(f"{run}: no scenario.yaml (the resolved scenario a run writes); the "
                        "timeline needs it for the load, bandwidth and server traces")
    try:
        return load_inputs(path)
    except ValueError as exc:
        raise PlotError(f"{path}: cannot rebuild the run's traces: {exc}") from None


PAUSED = "paused"
"""The timeline row of an app the scheduler left out of its plan (no model loaded)."""


def _category(row: Mapping[str, str]) -> str:
    """What an app runs: its variant, and where it splits when it offloads (PAUSED when
    the plan left it out)."""
    variant, split = row["variant"], row.get("split") or ""
    if not variant:  # paused by the plan, or not yet planned (launched, no model loaded)
        return PAUSED if _is_pause(row) else ""
    return f"{variant} @{split}" if split else variant


def _is_pause(row: Mapping[str, str]) -> bool:
    return not row["variant"] and row["reason"].startswith("paused")


def _pause_reason(reason: str, limit: int = 72) -> str:
    """Why an app is paused, from its timeline reason ``paused (cause; note)``: the
    scheduler's note when it gave one, else the decision's cause."""
    inner = reason.removeprefix("paused (").removesuffix(")")
    why = inner.rsplit("; ", 1)[-1]
    return why if len(why) <= limit else why[:limit - 3] + "..."


def _variant_order(app: str, rows: list[dict[str, str]], inputs: RunInputs) -> list[str]:
    """What the app ran, in its profile's variant order (unknown ones after, as they appear)."""
    seen = list(dict.fromkeys(_category(r) for r in rows if r["app"] == app and r["variant"]))
    spec = next((a for a in inputs.scenario.apps if a.name == app), None)
    prof = inputs.profiles.get(spec.family) if spec is not None else None
    rank = {v: i for i, v in enumerate(prof.runnable_ids())} if prof is not None else {}
    order = sorted(seen, key=lambda c: rank.get(c.split(" @")[0], len(rank)))
    paused = any(r["app"] == app and _is_pause(r) for r in rows)
    return [PAUSED, *order] if paused else order


def _app_panel(ax: Axes, app: str, rows: list[dict[str, str]], duration: float,
               order: list[str], color: str) -> None:
    own = [r for r in rows if r["app"] == app]
    ts = [_num(r["t_s"], "t_s") for r in own] + [duration]
    index = {v: i for i, v in enumerate(order)}
    ys = [index.get(_category(r), math.nan) for r in own]
    ax.step(ts, ys + ys[-1:], where="post", color=color, lw=1.8)
    last = ""
    for r in own:
        why = _pause_reason(r["reason"]) if _is_pause(r) else ""
        if why and why != last:
            ax.annotate(why, (_num(r["t_s"], "t_s"), index[PAUSED]), xytext=(3, 3),
                        textcoords="offset points", fontsize=7, color="0.25")
        last = why
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(-0.6, max(len(order), 1) - 0.1)
    split = " @split" if any(" @" in c for c in order) else ""
    ax.set_ylabel(f"{app}\nvariant (model{split})")
    twin = ax.twinx()
    shares = [_num(r["share"], "share") for r in own]
    twin.step(ts, shares + shares[-1:], where="post", color=color, ls="--", lw=1, alpha=0.6)
    thresholds = [_num(r.get("threshold"), "threshold") for r in own]
    has_threshold = any(math.isfinite(t) for t in thresholds)
    if has_threshold:
        twin.step(ts, thresholds + thresholds[-1:], where="post", color="0.35", ls=":", lw=1.2)
    twin.set_ylim(0, 1.1)
    twin.set_ylabel("share, threshold\n(0-1)" if has_threshold else "share (0-1)")
    twin.grid(False)


def _decision_marks(ax: Axes, app: str, rows: list[dict[str, str]],
                    markers: Mapping[str, str]) -> None:
    """Decisions as markers along the panel's top edge, one style per kind of reason."""
    for short, marker in markers.items():
        ts = [_num(r["t_s"], "t_s") for r in rows
              if r["app"] in (app, "*") and _short_reason(r["reason"]) == short]
        if ts:
            ax.plot(ts, [0.96] * len(ts), ls="", marker=marker, ms=5, color="0.2",
                    transform=ax.get_xaxis_transform(), clip_on=False)


def _trace_panels(inputs: RunInputs) -> list[tuple[str, Trace, list[tuple[float, float]], str]]:
    """(axis label, trace, shaded windows, window name) for each trace the scenario has."""
    sc = inputs.scenario
    panels: list[tuple[str, Trace, list[tuple[float, float]], str]] = [
        ("device load\n(fraction)", inputs.load, [], "")]
    if inputs.bandwidth is not None and sc.network is not None:
        panels.append(("bandwidth\n(Mbit/s)", inputs.bandwidth, list(sc.network.outages),
                       "outage"))
    if inputs.server_load is not None and sc.server is not None:
        panels.append(("server load\n(fraction)", inputs.server_load, list(sc.server.down),
                       "server down"))
    return panels


def _trace_panel(ax: Axes, ylabel: str, trace: Trace, windows: list[tuple[float, float]],
                 window_name: str, duration: float) -> None:
    keep = trace.times < duration
    ts = np.append(trace.times[keep], duration)
    vs = np.append(trace.values[keep], trace.value_at(duration))
    ax.step(ts, vs, where="post", color="0.25", lw=1.2)
    for i, (t0, t1) in enumerate(windows):
        ax.axvspan(t0, t1, color="0.6", alpha=0.35, lw=0, label=window_name if i == 0 else None)
    if windows:
        ax.legend(loc="upper right")
    ax.set_ylim(bottom=0)
    ax.set_ylabel(ylabel)


@_styled
def timeline(run_dir: str | Path, out: str | Path, *, colors: Mapping[str, str] | None = None,
             fmt: Sequence[str] = FORMATS, name: str = "timeline") -> list[Path]:
    """Each app's variant and share over time, its decisions marked by reason, above the
    device load (and bandwidth and server load when the scenario offloads).

    Needs ``timeline.csv`` and the resolved ``scenario.yaml`` (the traces are rebuilt from
    it, so the profiles and trace files it names must still exist)."""
    run = Path(run_dir)
    columns, rows = _read_table(run / "timeline.csv", "every decision of the run")
    _need(columns, ["t_s", "app", "variant", "share", "reason"], str(run / "timeline.csv"))
    inputs = _run_inputs(run)
    label = _label(run)
    color = (colors or scheduler_colors([label])).get(label, _FALLBACK)
    duration = float(inputs.scenario.duration_s)
    named = {r["app"] for r in rows}
    apps = [a.name for a in inputs.scenario.apps if a.name in named]
    traces = _trace_panels(inputs)
    markers = {s: MARKERS[i % len(MARKERS)]
               for i, s in enumerate(dict.fromkeys(_short_reason(r["reason"]) for r in rows))}
    ratios = [1.5] * len(apps) + [1.0] * len(traces)
    fig, axes = plt.subplots(len(ratios), 1, sharex=True, squeeze=False, layout="constrained",
                             figsize=(8, 0.9 + sum(ratios) * 1.1),
                             gridspec_kw={"height_ratios": ratios})
    for ax, app in zip(axes[:, 0], apps):
        _app_panel(ax, app, rows, duration, _variant_order(app, rows, inputs), color)
        _decision_marks(ax, app, rows, markers)
    for ax, (ylabel, trace, windows, wname) in zip(axes[len(apps):, 0], traces):
        _trace_panel(ax, ylabel, trace, windows, wname, duration)
    axes[-1, 0].set_xlabel("time (s)")
    axes[-1, 0].set_xlim(0, duration)
    handles = [Line2D([], [], color=color, lw=1.8, label=f"variant ({label})"),
               Line2D([], [], color=color, lw=1, ls="--", label="compute share (right axis)")]
    if any(r.get("threshold") for r in rows):
        handles.append(Line2D([], [], color="0.35", lw=1.2, ls=":",
                              label="exit threshold (right axis, 0-1)"))
    handles += [Line2D([], [], ls="", marker=m, color="0.2", label=f"decision: {s}")
                for s, m in markers.items()]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4))
    fig.suptitle(f"{inputs.scenario.name}: {label}: variants, shares and decisions")
    return _save(fig, Path(out), name, fmt)


# -- comparisons --------------------------------------------------------------------------
def _scenario_name(runs: Mapping[str, Path]) -> str:
    first = next(iter(runs.values()))
    return str(_read_json(first / "metrics.json").get("scenario") or first.parent.name)


@_styled
def cdf(folder: str | Path, out: str | Path, *, colors: Mapping[str, str] | None = None,
        fmt: Sequence[str] = FORMATS, name: str = "cdf") -> list[Path]:
    """Frame latency CDF, one line per scheduler; needs each run's ``frames.csv``."""
    runs = _need_runs(Path(folder))
    lats = {label: _latencies(run) for label, run in runs.items()}
    colors = colors or scheduler_colors(runs)
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for label, lat in lats.items():
        lat = np.sort(lat[np.isfinite(lat)])
        c = colors.get(label, _FALLBACK)
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
    return _save(fig, Path(out), name, fmt)


def _bar_keys(overall: Mapping[str, Mapping[str, Any]]) -> list[str]:
    def values(key: str) -> list[Any]:
        return [o.get(key) for o in overall.values() if o.get(key) is not None]

    keys = [k for k in BAR_METRICS if values(k)]
    return keys + [k for k in BAR_IF_NONZERO if any(v != 0 for v in values(k))]


def _fmt(v: float) -> str:
    """Three significant digits; whole numbers from 1,000 up in full (31607, not 3.16e+04)."""
    if not math.isfinite(v):
        return "n/a"
    return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _bar_panel(ax: Axes, key: str, overall: Mapping[str, Mapping[str, Any]],
               colors: Mapping[str, str],
               half: Mapping[str, Mapping[str, float]] | None = None) -> None:
    labels = list(overall)
    vals = [_num(overall[lab].get(key), key) for lab in labels]
    x = np.arange(len(labels))
    err = None
    if half is not None:
        err = np.nan_to_num([half.get(lab, {}).get(key, 0.0) for lab in labels])
    ax.bar(x, np.nan_to_num(vals), color=[colors.get(lab, _FALLBACK) for lab in labels],
           yerr=err, capsize=3 if err is not None else 0)
    for i, (xi, v) in enumerate(zip(x, vals)):
        top = (0 if not math.isfinite(v) else v) + (float(err[i]) if err is not None else 0.0)
        ax.annotate(_fmt(v), (xi, top), ha="center",
                    va="bottom", fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_ylabel(_metric_label(key))
    title = _metric_label(key).split(" (")[0]
    ax.set_title(title + (" (overall incl. idle power)" if key == "energy_j" else ""))
    ax.margins(y=0.15)


@_styled
def bars(folder: str | Path, out: str | Path, *, colors: Mapping[str, str] | None = None,
         fmt: Sequence[str] = FORMATS, name: str = "bars") -> list[Path]:
    """One panel per overall metric (accuracy, frame rate, latency, energy, ...), one bar
    per scheduler; from each run's ``metrics.json``, or for a ``compare --seeds`` folder the
    mean over the seeds with its 95% interval as an error bar (comparison.csv)."""
    means, half = seed_means(Path(folder))
    if means:
        overall: Mapping[str, Mapping[str, Any]] = means
        title = f"mean of {len(_seed_folders(Path(folder))) or 'several'} seeds, 95% intervals"
        labels: Iterable[str] = list(means)
    else:
        runs = _need_runs(Path(folder))
        overall = {lab: _read_json(run / "metrics.json").get("overall") or {}
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
    fig.legend(handles=[Patch(color=colors.get(lab, _FALLBACK), label=lab) for lab in overall],
               loc="outside lower center", ncol=min(len(overall), 5))
    fig.suptitle(f"{title}: overall metrics per scheduler")
    return _save(fig, Path(out), name, fmt)


# -- emulation fidelity -------------------------------------------------------------------
@_styled
def fidelity(folder: str | Path, out: str | Path, *, colors: Mapping[str, str] | None = None,
             fmt: Sequence[str] = FORMATS, name: str = "fidelity") -> list[Path]:
    """Relative error of the simulation against the emulated run per app, for frame rate,
    mean and p95 latency, with the goals as dashed lines; from ``fidelity.csv``."""
    path = Path(folder) / "fidelity.csv"
    columns, rows = _read_table(path, "written by mvsched emulate")
    _need(columns, ["app", *(f"err_{k}" for k in FIDELITY_GOALS)], str(path))
    if not rows:
        raise PlotError(f"{path}: no rows")
    label = _label(Path(folder)) if (Path(folder) / "metrics.json").is_file() else ""
    color = (colors or {}).get(label, PALETTE[0])
    apps = [r["app"] for r in rows]
    x = np.arange(len(apps))
    fig, axes = plt.subplots(1, len(FIDELITY_GOALS), layout="constrained",
                             figsize=(3.4 * len(FIDELITY_GOALS), 3.4))
    for ax, (key, goal) in zip(axes, FIDELITY_GOALS.items()):
        errs = np.array([_num(r[f"err_{key}"], f"err_{key}") * 100 for r in rows])
        drawn = ax.bar(x, np.nan_to_num(errs), color=color)
        for patch, e in zip(drawn.patches, errs):
            if math.isfinite(e) and abs(e) > goal * 100:
                patch.set_hatch("//")
        for xi, e in zip(x, errs):
            ax.annotate(_fmt(e), (xi, np.nan_to_num(e)), ha="center", fontsize=7,
                        va="bottom" if not e < 0 else "top", xytext=(0, 2 if not e < 0 else -2),
                        textcoords="offset points")
        for sign in (1, -1):
            ax.axhline(sign * goal * 100, ls="--", color="0.3", lw=1)
        ax.axhline(0, color="0.5", lw=0.6)
        top = max(goal * 130, float(np.nanmax(np.abs(errs), initial=0.0)) * 1.25)
        ax.set_ylim(-top, top)
        ax.set_xticks(x, apps, rotation=30, ha="right")
        ax.set_ylabel("relative error (%)")
        ax.set_title(f"{_metric_label(key).split(' (')[0]} (goal ±{goal:.0%}, dashed)")
    fig.suptitle(f"simulation fidelity{': ' + label if label else ''}: (emulated - simulated) "
                 "/ simulated per app; hatched: outside the goal")
    return _save(fig, Path(out), name, fmt)


# -- sweeps -------------------------------------------------------------------------------
def _metric_label(metric: str) -> str:
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
    unit = next((u for suffix, u in _UNIT_SUFFIXES if metric.endswith(suffix)), "value")
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
    return _metric_label(last) if last in METRIC_LABELS else f"{last} (parameter value)"


def _columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if not rows:
        raise PlotError("sweep: no rows to plot")
    return list(dict.fromkeys(k for r in rows for k in r))


def _params(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Columns that are swept parameters: neither the scheduler nor a metric statistic."""
    return [c for c in _columns(rows) if c != "scheduler" and not c.endswith(("_mean", "_ci95"))]


def _param_column(rows: Sequence[Mapping[str, Any]], keywords: Sequence[str]) -> str:
    hits = [c for c in _params(rows) if any(k in c.lower() for k in keywords)]
    varying = [c for c in hits if len({r.get(c) for r in rows}) > 1]
    if len(hits) == 1 or len(varying) == 1:
        return hits[0] if len(hits) == 1 else varying[0]
    what = " or ".join(repr(k) for k in keywords)
    if not hits:
        raise PlotError(f"sweep: no parameter column naming {what}; columns present: "
                        f"{_columns(rows)}")
    raise PlotError(f"sweep: several parameter columns name {what}: {hits}; pass x=")


def _curve(ax: Axes, rows: list[Mapping[str, Any]], x: str, y: str, color: str, label: str,
           marker_only: bool, annotate: str | None) -> None:
    """One scheduler: mean line with a ±ci95 band, or a marker when it has one x value."""
    pts = sorted((_num(r.get(x), x), _num(r.get(f"{y}_mean"), f"{y}_mean"),
                  _num(r.get(f"{y}_ci95"), f"{y}_ci95"), _x_ci(r, x),
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
    return _num(row.get(x[: -len("_mean")] + "_ci95"), x)


@_styled
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
    columns = _columns(rows)
    _need(columns, ["scheduler", x, *(f"{y}_mean" for y in ys)], "sweep")
    if annotate is not None:
        _need(columns, [annotate], "sweep")
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(str(r["scheduler"]), []).append(r)
    colors = colors or scheduler_colors(groups)
    only = set(markers_only)
    fig, axes = plt.subplots(1, len(ys), squeeze=False, layout="constrained",
                             figsize=(4.3 * len(ys), 3.6))
    for ax, y, ylabel in zip(axes[0], ys, ylabels):
        for label, group in groups.items():
            _curve(ax, group, x, y, colors.get(label, _FALLBACK), label, label in only, annotate)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if len(ys) > 1 or not title:
            ax.set_title(f"{ylabel.split(' (')[0]} vs {xlabel.split(' (')[0]}")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 5))
    if title:
        fig.suptitle(title)
    return _save(fig, Path(out), name, fmt)


def _spec_sweep(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    varying = [c for c in _params(rows) if len({r.get(c) for r in rows}) > 1]
    if len(varying) != 1:
        raise PlotError(f"sweep: {len(varying)} parameter columns vary ({varying}); the "
                        "generic curve needs exactly one (call sweep_curve with x=)")
    columns = _columns(rows)
    ys = [m for m in SWEEP_METRICS if f"{m}_mean" in columns]
    ys = ys or [c[: -len("_mean")] for c in columns if c.endswith("_mean")][:6]
    if not ys:
        raise PlotError("sweep: no column ending in _mean (a metric's mean over seeds); "
                        f"columns present: {columns}")
    return {"x": varying[0], "ys": ys, "name": "sweep", "xlabel": _param_label(varying[0]),
            "ylabels": [_metric_label(y) for y in ys], "title": f"sweep of {varying[0]}"}


def _spec_accuracy_vs_fps(rows: Sequence[Mapping[str, Any]], alpha: str | None = None,
                          baseline: Iterable[str] = ()) -> dict[str, Any]:
    alpha = alpha or _param_column(rows, ("alpha",))
    _need(_columns(rows), [alpha, "fps_mean", "accuracy_mean"], "accuracy_vs_fps")
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
            "ylabels": ["accuracy (fraction correct)", _metric_label(exit_rate)],
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


_SWEEP_SPECS: dict[str, Callable[[Sequence[Mapping[str, Any]]], dict[str, Any]]] = {
    "sweep": _spec_sweep, "accuracy_vs_fps": _spec_accuracy_vs_fps,
    "throughput_latency_vs_bandwidth": _spec_bandwidth,
    "accuracy_exit_rate_vs_threshold": _spec_threshold, "accuracy_vs_budget": _spec_budget,
}


# -- a folder -----------------------------------------------------------------------------
FACETS = {
    "run": "a run or comparison folder (metrics.json, or scheduler subfolders holding one, "
           "or a compare --seeds folder's comparison.csv)",
    "emulation": "an emulation folder (fidelity.csv)",
    "sweep": "a sweep folder (sweep.csv)",
}
KIND_FACET = {"timeline": "run", "cdf": "run", "bars": "run", "fidelity": "emulation",
              **{k: "sweep" for k in SWEEP_KINDS}}


def _timeline_name(label: str, run: Path) -> str:
    """``timeline-<label>``: the label, read from a file, must be a safe file name."""
    problem = name_problem(label)
    if problem:
        raise PlotError(f"{run / 'metrics.json'}: scheduler label {label!r} {problem}")
    return f"timeline-{label}"


def _why_not_runs(runs: Mapping[str, Path], kind: str, folder: Path) -> str | None:
    files = {"timeline": ("timeline.csv", "scenario.yaml"), "cdf": ("frames.csv",),
             "bars": ("metrics.json",)}[kind]
    if kind == "timeline" and not (folder / "metrics.json").is_file():
        try:
            for label, run in runs.items():
                _timeline_name(label, run)
        except PlotError as exc:
            return str(exc)
    for run in runs.values():
        for f in files:
            if not (run / f).is_file():
                return _NO_FRAMES.format(run=run) if kind == "cdf" else f"{run} has no {f}"
    return None


def applicable(folder: str | Path) -> dict[str, str | None]:
    """The kinds that fit what the folder is, each mapped to None when it can be drawn or
    to why not; kinds absent do not fit the folder at all."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PlotError(f"{folder}: not a folder")
    found: dict[str, str | None] = {}
    runs = _runs(folder)
    if runs:
        found |= {k: _why_not_runs(runs, k, folder) for k in ("timeline", "cdf", "bars")}
    elif seed_means(folder)[0]:
        found["bars"] = None  # compare --seeds: means and intervals; per-run figures per seed
        why = (f"{folder} holds several seeds: draw it for one of them "
               f"(mvsched plot {folder / 'seed-N'})")
        found |= {"timeline": why, "cdf": why}
    if (folder / "fidelity.csv").is_file():
        found["fidelity"] = None
    if (folder / "sweep.csv").is_file():
        rows = read_sweep(folder)
        for kind, spec in _SWEEP_SPECS.items():
            try:
                got = spec(rows)
                _need(_columns(rows), ["scheduler", got["x"], *(f"{y}_mean" for y in got["ys"])],
                      kind)
                found[kind] = None
            except PlotError as exc:
                found[kind] = str(exc)
    return found


def _draw_kind(kind: str, folder: Path, out: Path, colors: Mapping[str, str],
               fmt: Sequence[str]) -> list[Path]:
    if kind in _SWEEP_SPECS:
        rows = read_sweep(folder)
        return sweep_curve(rows, out=out, colors=colors, fmt=fmt, **_SWEEP_SPECS[kind](rows))
    if kind == "timeline":
        if (folder / "metrics.json").is_file():
            return timeline(folder, out, colors=colors, fmt=fmt)
        return [p for lab, run in _runs(folder).items()
                for p in timeline(run, out, colors=colors, fmt=fmt,
                                  name=_timeline_name(lab, run))]
    drawer = {"cdf": cdf, "bars": bars, "fidelity": fidelity}[kind]
    return drawer(folder, out, colors=colors, fmt=fmt)


def draw(folder: str | Path, kinds: Iterable[str] | None = None,
         fmt: Sequence[str] = FORMATS, *, style: Style | Sequence[Style] | None = None,
         width: str | float | None = None) -> list[Path]:
    """Draw the figures a folder supports (``kinds``, or every one that applies) into
    ``<folder>/plots/``; returns the files written. A requested kind that does not apply
    is a PlotError saying why; so is a ``plots`` that is a link (nothing is written
    outside the folder). ``style`` and ``width``: as :func:`figure_style` takes them."""
    if style is not None or width is not None:
        with figure_style(style, width):
            return draw(folder, kinds, fmt)
    folder = Path(folder)
    fmt = _check_fmt(fmt)
    fits = applicable(folder)
    if not fits:
        raise PlotError(f"{folder}: nothing to plot: expected " + "; or ".join(FACETS.values()))
    wanted = list(dict.fromkeys(kinds)) if kinds else [k for k, why in fits.items() if why is None]
    for kind in wanted:
        if kind not in KINDS:
            raise PlotError(f"unknown plot kind {kind!r}; kinds: {list(KINDS)}")
        if kind not in fits:
            raise PlotError(f"{kind}: {folder} is not {FACETS[KIND_FACET[kind]]}")
        if fits[kind] is not None:
            raise PlotError(f"{kind}: {fits[kind]}")
    colors = _folder_colors(folder)
    out = _plots_folder(folder)
    return [p for kind in wanted for p in _draw_kind(kind, folder, out, colors, fmt)]


def _plots_folder(folder: Path) -> Path:
    """``folder/plots``, made if missing and cleared of temporary files a killed drawing
    left; a link there, or anything leading outside ``folder``, is refused."""
    out = folder / "plots"
    if out.is_symlink() or (out.exists() and not inside(out, folder)):
        raise PlotError(f"{out}: is a symbolic link; plots are written only into a plots "
                        f"folder inside {folder} (remove the link)")
    try:
        out.mkdir(exist_ok=True)
    except OSError as exc:
        raise PlotError(f"{out}: cannot write ({exc.strerror or exc})") from None
    if not out.is_dir() or not inside(out, folder):
        raise PlotError(f"{out}: is not a folder inside {folder}; plots are written only there")
    remove_leftovers(out)
    return out

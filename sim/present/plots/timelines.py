"""The timeline of one run: what each app ran over time, pauses and why, and the traces
(bandwidth, load) beneath."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from sim.config.inputs import RunInputs, load_inputs
from sim.results import layout
from sim.traces import Trace

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.present.plots.figure import (
    FALLBACK,
    FORMATS,
    MARKERS,
    PlotError,
    save_figure,
    scheduler_colors,
    styled,
)
from sim.present.plots.folders import cell_number, need_columns, read_table


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
    path = run / layout.SCENARIO
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


def _pause_note(ax: Axes, own: Sequence[Mapping[str, str]], shown: int = 2) -> None:
    """Why the app was paused, once per distinct reason with how often, in a box inside the
    panel (a label at every pause would overprint the next one and run past the axis)."""
    counts: dict[str, int] = {}
    for r in own:
        if _is_pause(r):
            why = _pause_reason(r["reason"], limit=60)
            counts[why] = counts.get(why, 0) + 1
    if not counts:
        return
    lines = [f"{why} ({n}x)" if n > 1 else why for why, n in
             sorted(counts.items(), key=lambda item: -item[1])[:shown]]
    if len(counts) > shown:
        lines.append(f"and {len(counts) - shown} other reasons (timeline.csv)")
    ax.text(0.01, 0.03, "paused: " + "\n".join(lines), transform=ax.transAxes, fontsize=6.5,
            color="0.2", va="bottom", ha="left", clip_on=True, zorder=5,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.8", "alpha": 0.85})


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
    ts = [cell_number(r["t_s"], "t_s") for r in own] + [duration]
    index = {v: i for i, v in enumerate(order)}
    ys = [index.get(_category(r), math.nan) for r in own]
    ax.step(ts, ys + ys[-1:], where="post", color=color, lw=1.8)
    _pause_note(ax, own)
    ax.set_yticks(range(len(order)), order)
    ax.set_ylim(-0.6, max(len(order), 1) - 0.1)
    split = " @split" if any(" @" in c for c in order) else ""
    ax.set_ylabel(f"{app}\nvariant (model{split})")
    twin = ax.twinx()
    shares = [cell_number(r["share"], "share") for r in own]
    twin.step(ts, shares + shares[-1:], where="post", color=color, ls="--", lw=1, alpha=0.6)
    thresholds = [cell_number(r.get("threshold"), "threshold") for r in own]
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
        ts = [cell_number(r["t_s"], "t_s") for r in rows
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


@styled
def timeline(run_dir: str | Path, out: str | Path, *, colors: Mapping[str, str] | None = None,
             fmt: Sequence[str] = FORMATS, name: str = "timeline") -> list[Path]:
    """Each app's variant and share over time, its decisions marked by reason, above the
    device load (and bandwidth and server load when the scenario offloads).

    Needs ``timeline.csv`` and the resolved ``scenario.yaml`` (the traces are rebuilt from
    it, so the profiles and trace files it names must still exist)."""
    run = Path(run_dir)
    columns, rows = read_table(run / layout.TIMELINE, "every decision of the run")
    need_columns(columns, ["t_s", "app", "variant", "share", "reason"], str(run / layout.TIMELINE))
    inputs = _run_inputs(run)
    label = layout.run_label(run, PlotError)
    color = (colors or scheduler_colors([label])).get(label, FALLBACK)
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
    return save_figure(fig, Path(out), name, fmt)



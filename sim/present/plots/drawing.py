"""Every figure a folder supports (:func:`applicable`), drawn into its ``plots/`` folder
(:func:`draw`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

from sim.common.atomic import remove_leftovers
from sim.common.paths import inside, name_problem
from sim.present.plots.style import Style
from sim.results import layout

matplotlib.use("Agg")

from sim.present.plots.comparison import bars, cdf
from sim.present.plots.fidelity_bars import fidelity
from sim.present.plots.figure import (
    FORMATS,
    KINDS,
    SWEEP_KINDS,
    PlotError,
    check_formats,
    figure_style,
)
from sim.present.plots.folders import NO_FRAMES, folder_colors, need_columns, read_sweep, seed_means
from sim.present.plots.sweep import SWEEP_SPECS, sweep_columns, sweep_curve
from sim.present.plots.timelines import timeline

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
    files = {"timeline": (layout.TIMELINE, layout.SCENARIO), "cdf": (layout.FRAMES,),
             "bars": (layout.METRICS,)}[kind]
    if kind == "timeline" and not (folder / layout.METRICS).is_file():
        try:
            for label, run in runs.items():
                _timeline_name(label, run)
        except PlotError as exc:
            return str(exc)
    for run in runs.values():
        for f in files:
            if not (run / f).is_file():
                return NO_FRAMES.format(run=run) if kind == "cdf" else f"{run} has no {f}"
    return None


def applicable(folder: str | Path) -> dict[str, str | None]:
    """The kinds that fit what the folder is, each mapped to None when it can be drawn or
    to why not; kinds absent do not fit the folder at all."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PlotError(f"{folder}: not a folder")
    found: dict[str, str | None] = {}
    runs = layout.runs(folder, PlotError)
    if runs:
        found |= {k: _why_not_runs(runs, k, folder) for k in ("timeline", "cdf", "bars")}
    elif seed_means(folder)[0]:
        found["bars"] = None  # compare --seeds: means and intervals; per-run figures per seed
        why = (f"{folder} holds several seeds: draw it for one of them "
               f"(mvsched plot {folder / 'seed-N'})")
        found |= {"timeline": why, "cdf": why}
    if (folder / layout.FIDELITY).is_file():
        found["fidelity"] = None
    if (folder / layout.SWEEP_CSV).is_file():
        rows = read_sweep(folder)
        for kind, spec in SWEEP_SPECS.items():
            try:
                got = spec(rows)
                need_columns(sweep_columns(rows), ["scheduler", got["x"], *(f"{y}_mean" for y in got["ys"])],
                      kind)
                found[kind] = None
            except PlotError as exc:
                found[kind] = str(exc)
    return found


def _draw_kind(kind: str, folder: Path, out: Path, colors: Mapping[str, str],
               fmt: Sequence[str], axes: Mapping[str, Any]) -> list[Path]:
    if kind in SWEEP_SPECS:
        rows = read_sweep(folder)
        spec = SWEEP_SPECS[kind](rows, **axes) if kind == "sweep" else SWEEP_SPECS[kind](rows)
        return sweep_curve(rows, out=out, colors=colors, fmt=fmt, **spec)
    if kind == "timeline":
        if (folder / layout.METRICS).is_file():
            return timeline(folder, out, colors=colors, fmt=fmt)
        return [p for lab, run in layout.runs(folder, PlotError).items()
                for p in timeline(run, out, colors=colors, fmt=fmt,
                                  name=_timeline_name(lab, run))]
    drawer = {"cdf": cdf, "bars": bars, "fidelity": fidelity}[kind]
    return drawer(folder, out, colors=colors, fmt=fmt)


def draw(folder: str | Path, kinds: Iterable[str] | None = None,
         fmt: Sequence[str] = FORMATS, *, style: Style | Sequence[Style] | None = None,
         width: str | float | None = None, x: str | None = None, hue: str | None = None,
         ys: Sequence[str] | None = None) -> list[Path]:
    """Draw the figures a folder supports (``kinds``, or every one that applies) into
    ``<folder>/plots/``; returns the files written. A requested kind that does not apply
    is a PlotError saying why; so is a ``plots`` that is a link (nothing is written
    outside the folder). ``style`` and ``width``: as :func:`figure_style` takes them.
    ``x``, ``hue`` and ``ys`` choose the sweep figure's axis, lines and metrics (a sweep
    folder only; with any of them, the sweep figure alone is drawn unless ``kinds`` say
    more)."""
    if style is not None or width is not None:
        with figure_style(style, width):
            return draw(folder, kinds, fmt, x=x, hue=hue, ys=ys)
    folder = Path(folder)
    fmt = check_formats(fmt)
    axes = {k: v for k, v in (("x", x), ("hue", hue), ("ys", list(ys or []) or None))
            if v is not None}
    if axes:
        if not (folder / layout.SWEEP_CSV).is_file():
            raise PlotError(f"--x/--hue/--y: {folder} is not a sweep folder (no sweep.csv)")
        kinds = kinds or ["sweep"]
        SWEEP_SPECS["sweep"](read_sweep(folder), **axes)  # a bad field: its own error
    fits = applicable(folder)
    if not fits:
        raise PlotError(f"{folder}: nothing to plot: expected " + "; or ".join(FACETS.values()))
    wanted = list(dict.fromkeys(kinds)) if kinds else [k for k, why in fits.items() if why is None]
    for kind in wanted:
        if kind not in KINDS:
            raise PlotError(f"unknown plot kind {kind!r}; kinds: {list(KINDS)}")
        if kind not in fits:
            raise PlotError(f"{kind}: {folder} is not {FACETS[KIND_FACET[kind]]}")
        if fits[kind] is not None and not (kind == "sweep" and axes):
            raise PlotError(f"{kind}: {fits[kind]}")
    colors = folder_colors(folder)
    out = _plots_folder(folder)
    return [p for kind in wanted for p in _draw_kind(kind, folder, out, colors, fmt, axes)]


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

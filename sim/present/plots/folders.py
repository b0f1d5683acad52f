"""Reading results folders for figures: seed means, sweep tables, frame latencies, colours
of a folder's labels and the inputs a run was made from."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

from sim.results import layout

matplotlib.use("Agg")

from sim.present.plots.figure import PlotError, scheduler_colors


# -- reading folders ----------------------------------------------------------------------
def read_table(path: Path, what: str) -> tuple[list[str], list[dict[str, str]]]:
    if not path.is_file():
        raise PlotError(f"{path.parent}: no {path.name} ({what})")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    return list(reader.fieldnames or []), rows


def need_columns(columns: Sequence[str], wanted: Iterable[str], where: str) -> None:
    for col in wanted:
        if col not in columns:
            raise PlotError(f"{where}: no column {col!r}; columns present: {list(columns)}")


def cell_number(value: Any, column: str = "") -> float:
    """A table cell as a float; an empty or null cell is NaN (a metric the run lacked)."""
    if value is None or value in ("", "None", "null"):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PlotError(f"column {column!r}: {value!r} is not a number") from None


def seed_means(folder: Path) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """From a ``compare --seeds`` folder's comparison.csv: (mean, 95% half-width) of every
    metric per scheduler; empty when the folder holds no such table."""
    path = folder / layout.COMPARISON
    if not path.is_file():
        return {}, {}
    columns, rows = read_table(path, "comparison")
    if "seed" not in columns:
        return {}, {}
    means: dict[str, dict[str, float]] = {}
    half: dict[str, dict[str, float]] = {}
    for row in rows:
        if row.get("seed") != "mean":
            continue
        label = row["scheduler"]
        means[label] = {k: cell_number(v, k) for k, v in row.items()
                        if k not in ("scheduler", "seed", "seeds") and not k.endswith("_ci95")
                        and v not in ("", None)}
        half[label] = {k[:-5]: cell_number(v, k) for k, v in row.items()
                       if k.endswith("_ci95") and v not in ("", None)}
    return means, half


def need_runs(folder: Path) -> dict[str, Path]:
    runs = layout.runs(Path(folder), PlotError)
    if not runs:
        raise PlotError(f"{folder}: no metrics.json, and no scheduler subfolders holding one")
    return runs


def folder_colors(folder: Path) -> dict[str, str]:
    """Colours from every label the folder's scenario lists, so a run keeps the colour it
    has in its comparison."""
    labels: set[str] = set()
    for label, run in layout.runs(folder, PlotError).items():
        labels |= {label, *layout.scenario_labels(run)}
    if (folder / layout.SWEEP_CSV).is_file():
        labels |= {r.get("scheduler", "") for r in read_sweep(folder)}
    seeds = layout.seed_folders(folder)
    if seeds:  # a compare --seeds folder: the colours its seeds' figures use
        for label, run in layout.runs(seeds[0], PlotError).items():
            labels |= {label, *layout.scenario_labels(run)}
    return scheduler_colors(labels)


NO_FRAMES = ("{run} has no frames.csv: set `metrics: {{frames_csv: true}}` in the scenario "
              "(metrics.frames_csv: true writes it) and run it again")


def frame_latencies(run: Path) -> np.ndarray:
    path = run / layout.FRAMES
    if not path.is_file():
        raise PlotError(NO_FRAMES.format(run=run))
    columns, rows = read_table(path, "one row per frame")
    need_columns(columns, ["latency_ms"], str(path))
    done = [r for r in rows if r.get("status", "done") == "done"]  # lost frames have none
    return np.array([cell_number(r["latency_ms"], "latency_ms") for r in done], dtype=np.float64)


def read_sweep(folder: str | Path) -> list[dict[str, str]]:
    """The rows of ``sweep.csv`` (a folder or the file itself), as csv.DictReader gives them."""
    path = Path(folder)
    path = path / layout.SWEEP_CSV if path.is_dir() else path
    return read_table(path, "one row per scheduler and parameter value")[1]



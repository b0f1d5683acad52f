"""The results folder's layout: every file name the commands write, and how a folder is read
back (its kind, its runs in scenario order, its seed folders).

A run folder holds ``metrics.json`` (+ ``scenario.yaml``, ``timeline.csv``, optional
``frames.csv`` and ``per_app.csv``, ``timing.json``); a comparison holds one run folder per
scheduler and ``comparison.csv``, or with several seeds one ``seed-<s>/`` comparison per
seed; a sweep holds ``sweep.yaml``, ``sweep.csv`` and its points; an emulation holds
``fidelity.csv`` and ``emulation.json`` beside its runs. The writers (:mod:`sim.runner`,
:mod:`sim.results.metrics`, :mod:`sim.results.compare`, the sweep) and the readers
(:mod:`sim.present`) take the names from here, so the two cannot drift apart.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

__all__ = ["COMPARISON", "EMULATION", "FIDELITY", "FRAMES", "KIND_FILES", "METRICS", "PER_APP",
           "SCENARIO", "SWEEP_CSV", "SWEEP_YAML", "TIMELINE", "TIMING", "folder_kind",
           "describe", "read_json", "run_label", "runs", "scenario_labels", "seed_folder",
           "seed_folders"]

METRICS = "metrics.json"
SCENARIO = "scenario.yaml"
TIMELINE = "timeline.csv"
FRAMES = "frames.csv"
PER_APP = "per_app.csv"
TIMING = "timing.json"
COMPARISON = "comparison.csv"
SWEEP_CSV = "sweep.csv"
SWEEP_YAML = "sweep.yaml"
FIDELITY = "fidelity.csv"
EMULATION = "emulation.json"
_SEED = re.compile(r"seed-(\d+)")

KIND_FILES = (("comparison", COMPARISON), ("sweep", SWEEP_CSV), ("emulation", FIDELITY),
              ("run", METRICS))
"""a folder's kind by the file that names it, the widest kind first (a comparison or sweep
holds runs too)"""


def seed_folder(seed: int) -> str:
    """The name of seed ``seed``'s folder in a several-seed comparison."""
    return f"seed-{seed}"


def seed_folders(folder: Path) -> list[Path]:
    """The ``seed-<s>/`` folders of a several-seed comparison, in seed order."""
    found = [d for d in folder.glob("seed-*") if d.is_dir() and _SEED.fullmatch(d.name)]
    return sorted(found, key=lambda d: int(d.name[5:]))


def read_json(path: Path, error: type[Exception] = ValueError) -> dict[str, Any]:
    """A JSON object written by a command; ``error`` with the path when it cannot be read, an
    empty dict when it holds something else than an object."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path}: cannot read: {exc}") from None
    return data if isinstance(data, dict) else {}


def run_label(run: Path, error: type[Exception] = ValueError) -> str:
    """The scheduler label a run folder's metrics.json names (else the folder's name)."""
    return str(read_json(run / METRICS, error).get("scheduler") or run.name)


def scenario_labels(run: Path) -> list[str]:
    """The scheduler labels the run's copy of its scenario lists, in order; empty when the
    copy is missing or unreadable."""
    try:
        data = yaml.safe_load((run / SCENARIO).read_text()) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    listed = data.get("schedulers") if isinstance(data, dict) else None
    return [str(s.get("label") or s.get("name")) for s in listed or [] if isinstance(s, dict)]


def runs(folder: Path, error: type[Exception] = ValueError) -> dict[str, Path]:
    """label -> run folder: the folder itself when it is one run, else its subfolders holding a
    metrics.json, in the order of the scenario's schedulers (others after, by name)."""
    if (folder / METRICS).is_file():
        return {run_label(folder, error): folder}
    found = sorted(d for d in folder.iterdir() if d.is_dir() and (d / METRICS).is_file())
    labelled = [(run_label(d, error), d) for d in found]
    order = {lab: i for i, lab in enumerate(scenario_labels(found[0]))} if found else {}
    labelled.sort(key=lambda item: order.get(item[0], len(order)))
    return dict(labelled)


def folder_kind(folder: Path) -> str | None:
    """``comparison``, ``sweep``, ``emulation`` or ``run``: what the folder holds, or None
    when it is no results folder."""
    for kind, name in KIND_FILES:
        if (folder / name).is_file():
            return kind
    if folder.is_dir() and runs(folder):
        return "comparison"
    return None


def describe(folder: Path) -> str:
    """What a command reads in ``folder``, in words: ``a comparison of 3 schedulers over 5
    seeds (comparison.csv)``, ``a sweep (sweep.csv)``, ... or ``no results folder``."""
    kind = folder_kind(folder)
    if kind is None:
        return "no results folder"
    if kind == "comparison":
        seeds = seed_folders(folder)
        found = runs(seeds[0] if seeds else folder)
        over = f" over {len(seeds)} seeds" if seeds else ""
        source = COMPARISON if (folder / COMPARISON).is_file() else f"{METRICS} per scheduler"
        return f"a comparison of {len(found)} schedulers{over} ({source})"
    if kind == "run":
        return f"a run of {run_label(folder)} ({METRICS})"
    return {"sweep": f"a sweep ({SWEEP_CSV})", "emulation": f"an emulation ({FIDELITY})"}[kind]

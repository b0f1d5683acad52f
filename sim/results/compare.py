"""``mvsched compare``: every scheduler of a scenario on one or more seeds, with the mean and
the 95% confidence interval of each metric, so that a difference between schedulers can be
told from the spread of random launches, samples and traces.

With one seed the runs go to ``OUT/<scheduler>/`` as ``mvsched run`` writes them; with more,
to ``OUT/seed-<seed>/<scheduler>/``. ``comparison.csv`` holds one row per scheduler and seed
and, with more than one seed, one ``seed = mean`` row per scheduler with ``<metric>_ci95``
columns (the half-width of Student's t interval over the seeds; a half-width below
``1e-9`` of the mean, floating-point noise of equal values, is written as 0). Its columns do
not depend on the results: ``scheduler``, ``seed`` (``seeds`` with more than one seed), then
every name of :data:`COLUMNS` (with its ``_ci95`` after it with more than one seed) in that
order, an empty cell where a run has no value. ``OUT`` is written into a
temporary sibling folder and replaces the old ``OUT`` whole once complete, so no run, seed or
file of an earlier comparison stays beside the new one.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sim.common.atomic import write_text_atomic
from sim.results import layout
from sim.results.folder import replacing

__all__ = ["COLUMNS", "Comparison", "ci95", "compare", "metric_columns", "summarize"]

COLUMNS = (
    "accuracy", "accuracy_in_time", "accuracy_arrived", "fps", "latency_ms_mean",
    "latency_ms_p95", "frames", "processed", "dropped", "failed", "deadline_misses", "offloaded", "early_exits",
    "fallbacks", "timeouts", "switches", "sent_mb", "device_s", "radio_s", "server_s",
    "energy_j", "radio_energy_j", "switch_s", "load_s", "active_s", "decision_ms_median",
    "decisions", "refused_plans", "peak_memory_mb", "busy_s", "worst_app_accuracy",
)
"""The metric columns of ``comparison.csv``, in this order whatever the results: the names
of ``metrics.json``'s ``overall`` section (``decision_ms_median`` is wall-clock: the median
decision time on the machine that ran it). A metric a run lacks (no frames, no timing) is an
empty cell; a name ``overall`` gains later is appended after these."""
NOISE = 1e-9
"""a 95% half-width below this fraction of the mean is floating-point noise: reported as 0"""


@dataclass
class Comparison:
    """Per-seed rows, per-scheduler summaries, and the folders holding each seed's runs."""

    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    seeds: list[int]
    run_dirs: list[Path]


def ci95(values: Sequence[float]) -> float | None:
    """Half-width of the 95% Student's t interval of the mean (None below two values)."""
    xs = [float(v) for v in values]
    n = len(xs)
    if n < 2:
        return None
    from scipy.stats import t

    mean = sum(xs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = float(t.ppf(0.975, n - 1) * sd / math.sqrt(n))
    return 0.0 if half <= NOISE * abs(mean) else half


def metric_columns(extra: Sequence[str] = ()) -> list[str]:
    """:data:`COLUMNS`, then the names of ``extra`` it lacks, in their order."""
    return list(dict.fromkeys([*COLUMNS, *extra]))


def summarize(rows: list[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """One row per scheduler: the mean of each numeric key over seeds and its ``_ci95``."""
    out = []
    for label in dict.fromkeys(r["scheduler"] for r in rows):
        mine = [r for r in rows if r["scheduler"] == label]
        row: dict[str, Any] = {"scheduler": label, "seed": "mean", "seeds": len(mine)}
        for k in keys:
            vals = [r.get(k) for r in mine]
            nums = [float(v) for v in vals if isinstance(v, (int, float)) and math.isfinite(v)]
            if len(nums) != len(vals) or not nums:
                row[k], row[f"{k}_ci95"] = None, None
                continue
            row[k] = sum(nums) / len(nums)
            row[f"{k}_ci95"] = ci95(nums)
        out.append(row)
    return out


def _row(result: Any, seed: int) -> dict[str, Any]:
    row = {"scheduler": result.label, "seed": seed, **result.metrics["overall"]}
    walls = result.engine.decision_wall_s
    if walls:
        row["decision_ms_median"] = float(np.median(walls) * 1000.0)
    return row


def compare(source: str | os.PathLike[str] | dict[str, Any], seeds: int = 1,
            seed: int | None = None, out: str | os.PathLike[str] | None = None,
            overrides: Sequence[str] = (), progress: bool = False,
            columns: Callable[[Comparison], Sequence[str]] | None = None) -> Comparison:
    """Run every listed scheduler on ``seeds`` consecutive seeds from ``seed`` (default: the
    scenario's). With ``out``, the runs and ``comparison.csv`` replace ``out`` whole once all
    are written. The file holds every column of :data:`COLUMNS` whatever the results, so
    tables of several comparisons line up; a name ``columns`` gives that is not among them
    is appended."""
    from sim.config.inputs import load_inputs
    from sim.config.limits import MAX_SEEDS

    if not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"--seeds: expected 1 to {MAX_SEEDS} seeds, got {seeds}")
    first = load_inputs(source, seed=seed, overrides=overrides)
    if out is None:
        return _compare(source, first, seeds, None, overrides, progress)
    out = Path(out)
    with replacing(out, legacy=layout.COMPARISON) as folder:
        comp = _compare(source, first, seeds, folder, overrides, progress)
        keys = metric_columns([*_numeric_keys(comp.rows), *(columns(comp) if columns else ())])
        write_comparison(folder / layout.COMPARISON, comp, keys)
    return replace(comp, run_dirs=[out / d.relative_to(folder) for d in comp.run_dirs])


def _compare(source: str | os.PathLike[str] | dict[str, Any], first: Any, seeds: int,
             out: Path | None, overrides: Sequence[str], progress: bool) -> Comparison:
    from sim.config.inputs import load_inputs
    from sim.runner import run_inputs

    base = first.scenario.seed
    rows: list[dict[str, Any]] = []
    dirs: list[Path] = []
    n = len(first.scenario.schedulers)
    for i in range(seeds):
        s = base + i
        inputs = first if i == 0 else load_inputs(source, seed=s, overrides=overrides)
        where = None if out is None else out / (layout.seed_folder(s) if seeds > 1 else "")
        count = (i * n, seeds * n, f" (seed {s})" if seeds > 1 else "")
        results = run_inputs(inputs, None, where, progress, count=count)
        rows += [_row(r, s) for r in results]
        if where is not None:
            dirs.append(where)
    return Comparison(rows, summarize(rows, _numeric_keys(rows)) if seeds > 1 else [],
                      list(range(base, base + seeds)), dirs)


def _numeric_keys(rows: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for r in rows:
        for k, v in r.items():
            if k not in ("scheduler", "seed") and (v is None or isinstance(v, (int, float))):
                keys.setdefault(k)
    return list(keys)


def write_comparison(path: Path, comp: Comparison, keys: Sequence[str]) -> Path:
    """``comparison.csv``: the summary rows (with ``_ci95`` columns) first, then every seed."""
    fields = ["scheduler", "seed", *keys]
    if comp.summary:
        fields = ["scheduler", "seed", "seeds"] + [c for k in keys for c in (k, f"{k}_ci95")]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(comp.summary)
    w.writerows(comp.rows)
    return write_text_atomic(path, buf.getvalue())

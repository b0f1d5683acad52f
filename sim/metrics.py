"""Metrics of a run, and the files a run leaves in its output folder.

``metrics.json`` holds only simulated quantities, so the same scenario and seed give a
byte-identical file. Wall-clock decision times depend on the machine: they always go to
``timing.json``, and into ``metrics.json`` only when the scenario sets ``metrics.timing``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.atomic import write_text_atomic
from sim.engine.world import EngineResult

__all__ = ["APP_KEYS", "compute_metrics", "frame_rows", "write_outputs"]

APP_KEYS = (
    "accuracy", "fps", "latency_ms_mean", "latency_ms_p95", "frames", "processed", "dropped",
    "deadline_misses", "energy_j", "switches", "switch_s", "load_s", "active_s",
    "decision_ms_median",
)


def _r(x: float | None, nd: int = 6) -> float | None:
    if x is None or not np.isfinite(x):
        return None
    return round(float(x), nd)


def _latency_stats(lat_ms: np.ndarray) -> tuple[float | None, float | None]:
    if lat_ms.size == 0:
        return None, None
    return float(lat_ms.mean()), float(np.percentile(lat_ms, 95))


def _median_ms(walls: list[float]) -> float | None:
    return float(np.median(walls) * 1000.0) if walls else None


def compute_metrics(res: EngineResult) -> dict[str, Any]:
    """``{'scenario', 'scheduler', 'seed', 'overall': {...}, 'apps': {name: {...}}}``."""
    sc = res.inputs.scenario
    power = sc.device.power
    timing = sc.metrics.timing
    dyn_w = power.busy_w - power.idle_w
    apps: dict[str, dict[str, Any]] = {}
    all_lat, all_correct, total_active, total_processed = [], [], 0.0, 0
    misses_total = 0
    for name, app in res.apps.items():
        rec = app.record
        if rec.arrived == 0 and rec.active_s == 0.0:
            continue
        lat = (np.asarray(rec.finish) - np.asarray(rec.arrival)) * 1000.0
        correct = np.asarray(rec.correct, dtype=bool)
        mean, p95 = _latency_stats(lat)
        misses = int((lat > app.goal_ms + 1e-9).sum())
        walls = [w for w, names in zip(res.decision_wall_s, res.decision_apps) if name in names]
        apps[name] = {
            "accuracy": _r(correct.mean()) if correct.size else None,
            "fps": _r(len(lat) / rec.active_s) if rec.active_s > 0 else None,
            "latency_ms_mean": _r(mean),
            "latency_ms_p95": _r(p95),
            "frames": rec.arrived,
            "processed": len(lat),
            "dropped": rec.dropped,
            "deadline_misses": misses,
            "energy_j": _r(dyn_w * res.work_done.get(name, 0.0)),
            "switches": rec.switches,
            "switch_s": _r(rec.switch_s),
            "load_s": _r(rec.load_s),
            "active_s": _r(rec.active_s),
            "decision_ms_median": _r(_median_ms(walls)) if timing else None,
        }
        all_lat.append(lat)
        all_correct.append(correct)
        total_active += rec.active_s
        total_processed += len(lat)
        misses_total += misses
    lat = np.concatenate(all_lat) if all_lat else np.empty(0)
    correct = np.concatenate(all_correct) if all_correct else np.empty(0, bool)
    mean, p95 = _latency_stats(lat)
    energy = power.idle_w * res.duration_s + dyn_w * sum(res.work_done.values())
    overall = {
        "accuracy": _r(correct.mean()) if correct.size else None,
        "fps": _r(total_processed / total_active) if total_active > 0 else None,
        "latency_ms_mean": _r(mean),
        "latency_ms_p95": _r(p95),
        "frames": sum(a["frames"] for a in apps.values()),
        "processed": total_processed,
        "dropped": sum(a["dropped"] for a in apps.values()),
        "deadline_misses": misses_total,
        "energy_j": _r(energy),
        "switches": sum(a["switches"] for a in apps.values()),
        "switch_s": _r(sum(a["switch_s"] or 0.0 for a in apps.values())),
        "load_s": _r(sum(a["load_s"] or 0.0 for a in apps.values())),
        "active_s": _r(total_active),
        "decision_ms_median": _r(_median_ms(res.decision_wall_s)) if timing else None,
        "decisions": len(res.decision_wall_s),
        "refused_plans": res.refused,
        "peak_memory_mb": _r(res.peak_memory_bytes / 1e6),
        "busy_s": _r(res.busy_time),
        "worst_app_accuracy": _r(min((a["accuracy"] for a in apps.values()
                                      if a["accuracy"] is not None), default=float("nan"))),
    }
    return {
        "scenario": sc.name,
        "scheduler": res.scheduler,
        "seed": sc.seed,
        "duration_s": sc.duration_s,
        "overall": overall,
        "apps": apps,
    }


def frame_rows(res: EngineResult) -> list[dict[str, Any]]:
    """Every processed frame as a plain row (pandas.DataFrame(rows) reads it directly)."""
    rows = []
    for name, app in res.apps.items():
        rec = app.record
        for a, f, c, v in zip(rec.arrival, rec.finish, rec.correct, rec.variant):
            rows.append({"app": name, "arrival_s": a, "finish_s": f,
                         "latency_ms": (f - a) * 1000.0, "correct": c, "variant": v})
    return rows


def _csv(rows: list[list[Any]], header: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def write_outputs(
    res: EngineResult, metrics: dict[str, Any], out: Path, scenario: dict[str, Any]
) -> list[Path]:
    """Write metrics.json, per_app.csv, timeline.csv, timing.json, scenario.yaml (atomic).

    ``scenario`` is the resolved scenario (paths absolute) so the folder reproduces the run.
    """
    sc = res.inputs.scenario
    written = [
        write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=1, sort_keys=True) + "\n"),
        write_text_atomic(out / "per_app.csv", _csv(
            [[name] + [m[k] for k in APP_KEYS] for name, m in metrics["apps"].items()],
            ["app", *APP_KEYS])),
        write_text_atomic(out / "timeline.csv", _csv(
            [[f"{t:.6f}", app, var, f"{share:.6f}", reason]
             for t, app, var, share, reason in res.timeline],
            ["t_s", "app", "variant", "share", "reason"])),
        write_text_atomic(out / "timing.json", json.dumps({
            "scheduler": res.scheduler,
            "decisions": len(res.decision_wall_s),
            "decision_ms_median": _median_ms(res.decision_wall_s),
            "decision_ms_p95": float(np.percentile(res.decision_wall_s, 95) * 1000.0)
            if res.decision_wall_s else None,
            "note": "wall-clock times of this machine; not part of the reproducible metrics",
        }, indent=1) + "\n"),
        write_text_atomic(out / "scenario.yaml", yaml.safe_dump(scenario, sort_keys=False)),
    ]
    if sc.metrics.frames_csv:
        rows = frame_rows(res)
        keys = ["app", "arrival_s", "finish_s", "latency_ms", "correct", "variant"]
        written.append(write_text_atomic(out / "frames.csv", _csv(
            [[r[k] for k in keys] for r in rows], keys)))
    return written

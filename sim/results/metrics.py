"""Metrics of a run, and the files a run leaves in its output folder.

``metrics.json`` holds only simulated quantities, so the same scenario and seed give a
byte-identical file. Wall-clock decision times depend on the machine: they always go to
``timing.json``, and into ``metrics.json`` only when the scenario sets ``metrics.timing``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.common.atomic import write_text_atomic
from sim.engine.world import EngineResult

__all__ = ["APP_KEYS", "FRAME_KEYS", "compute_metrics", "frame_rows", "run_warnings",
           "write_outputs"]

APP_KEYS = (
    "accuracy", "accuracy_in_time", "accuracy_arrived", "fps", "latency_ms_mean", "latency_ms_p95",
    "frames", "processed", "dropped",
    "failed", "deadline_misses", "offloaded", "early_exits", "fallbacks", "timeouts",
    "sent_mb", "device_s", "radio_s", "server_s", "energy_j", "radio_energy_j", "switches",
    "switch_s", "load_s", "active_s", "decision_ms_median",
)
FRAME_KEYS = ("app", "arrival_s", "status", "finish_s", "latency_ms", "correct", "variant",
              "exit", "offloaded", "fallback", "goal_ms")
"""frames.csv columns; ``status`` is 'done', 'dropped' or 'failed' (the last two have no
finish, latency, correctness, variant or exit: empty cells)"""


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


def _early_exit_names(res: EngineResult, family: str) -> set[str]:
    prog = res.inputs.profiles[family].progressive
    return {e.name for e in prog.exits if e.flops_fraction < 1.0} if prog is not None else set()


def _scheduler_params(res: EngineResult) -> dict[str, Any]:
    """The registered name and every parameter value (defaults included) the run used."""
    from sim.schedulers.params import resolved_params
    from sim.schedulers.registry import get_scheduler, list_schedulers

    spec = next((s for s in res.inputs.scenario.schedulers if s.key == res.scheduler), None)
    name = spec.name if spec is not None else res.scheduler
    if name not in list_schedulers():
        return {}
    return {"scheduler_name": name,
            "params": resolved_params(get_scheduler(name), dict(spec.params) if spec else {})}


_REFUSED = re.compile(r"refused: plan needs ([0-9.]+) MB")


def _refused_need_mb(res: EngineResult) -> float | None:
    """The most memory a refused plan needed (the engine writes it in the timeline)."""
    needs = [float(m.group(1)) for d in res.timeline if d.app == "*"
             for m in [_REFUSED.match(d.reason)] if m]
    return max(needs) if needs else None


def _never_served_why(res: EngineResult, name: str) -> str:
    """Why an app that ran never finished a frame, from its last timeline entry."""
    last = next((d for d in reversed(res.timeline) if d.app == name
                 and d.reason not in ("launch", "exit")), None)
    if last is not None and last.reason.startswith("paused (") and last.reason.endswith(")"):
        return f"paused: {last.reason[len('paused ('):-1]}"
    if last is not None and last.variant:
        return f"it ran {last.variant!r} from t={last.t_s:g} s but no frame finished"
    if res.refused:
        return "no plan giving it a model was accepted; see the refused plans"
    return "the scheduler never gave it a model"


def run_warnings(res: EngineResult, apps: dict[str, dict[str, Any]]) -> list[str]:
    """What went wrong in the run itself, one line each: plans refused for memory (all or
    some of them) and apps that were launched but never served. ``apps`` are the per-app
    metrics of :func:`compute_metrics`."""
    out: list[str] = []
    decisions, refused = len(res.decision_wall_s), res.refused
    budget = res.inputs.scenario.device.memory_mb
    if refused:
        need = _refused_need_mb(res)
        needs = ("more memory than" if need is None
                 else f"up to {need:.1f} MB, more than")
        limit = f"device.memory_mb ({budget:g} MB)"
        if refused >= decisions:
            out.append(f"every plan was refused ({refused} of {decisions}): the plans need "
                       f"{needs} {limit}; no app ran")
        else:
            out.append(f"{refused} of {decisions} plans were refused (memory): they needed "
                       f"{needs} {limit}; each time the previous plan stayed in force")
    for name, m in apps.items():
        if m["processed"] == 0 and (m["active_s"] or 0.0) > 0.0:
            out.append(f"app {name!r} was launched for {m['active_s']:.1f} s and never served "
                       f"({_never_served_why(res, name)})")
    return out


def compute_metrics(res: EngineResult) -> dict[str, Any]:
    """``{'scenario', 'scheduler', 'seed', 'overall': {...}, 'apps': {name: {...}}}``.

    Energy: idle power all the time, ``busy_w - idle_w`` times the device compute the apps
    used, ``radio_j_per_byte`` per byte sent and ``radio_tx_w`` while the radio sends (each
    app is charged its share of the sending time). ``device_s``/``server_s`` are compute in
    full-device/full-server seconds; ``radio_s`` the app's share of the radio's sending time.
    ``warnings``: those of the inputs (:mod:`sim.config.plausibility`), then those of the run
    (:func:`run_warnings`).
    """
    sc = res.inputs.scenario
    power = sc.device.power
    timing = sc.metrics.timing
    dyn_w = power.busy_w - power.idle_w
    apps: dict[str, dict[str, Any]] = {}
    all_lat, all_correct, all_in_time = [], [], []
    total_active, total_processed = 0.0, 0
    for name, app in res.apps.items():
        rec = app.record
        if rec.arrived == 0 and rec.active_s == 0.0:
            continue
        frames = rec.frames
        arrival = frames.column("arrival_s")
        lat = (frames.column("finish_s") - arrival) * 1000.0
        correct = frames.column("correct")
        goals = frames.column("goal_ms")
        early = _early_exit_names(res, app.spec.family)
        mean, p95 = _latency_stats(lat)
        walls = [w for w, names in zip(res.decision_wall_s, res.decision_apps) if name in names]
        device_s = res.work_done.get(name, 0.0)
        radio_j = power.radio_j_per_byte * rec.sent_bytes + power.radio_tx_w * rec.radio_s
        in_time = correct & (lat <= goals + 1e-9)
        apps[name] = {
            "accuracy": _r(correct.mean()) if correct.size else None,
            "accuracy_in_time": _r(in_time.mean()) if correct.size else None,
            "accuracy_arrived": _r(in_time.sum() / rec.arrived) if rec.arrived else None,
            "fps": _r(len(lat) / rec.active_s) if rec.active_s > 0 else None,
            "latency_ms_mean": _r(mean),
            "latency_ms_p95": _r(p95),
            "frames": rec.arrived,
            "processed": len(lat),
            "dropped": rec.dropped,
            "failed": rec.failed,
            "deadline_misses": int((lat > goals + 1e-9).sum()),
            "offloaded": int(frames.column("offloaded").sum()),
            "early_exits": sum(1 for e in frames.column("exit") if e in early),
            "fallbacks": int(frames.column("fallback").sum()),
            "timeouts": rec.timeouts,
            "sent_mb": _r(rec.sent_bytes / 1e6),
            "device_s": _r(device_s),
            "radio_s": _r(rec.radio_s),
            "server_s": _r(res.server_work.get(name, 0.0)),
            "energy_j": _r(dyn_w * device_s + radio_j),
            "radio_energy_j": _r(radio_j),
            "switches": rec.switches,
            "switch_s": _r(rec.switch_s),
            "load_s": _r(rec.load_s),
            "active_s": _r(rec.active_s),
            "decision_ms_median": _r(_median_ms(walls)) if timing else None,
        }
        all_lat.append(lat)
        all_correct.append(correct)
        all_in_time.append(in_time)
        total_active += rec.active_s
        total_processed += len(lat)
    lat = np.concatenate(all_lat) if all_lat else np.empty(0)
    correct = np.concatenate(all_correct) if all_correct else np.empty(0, bool)
    in_time = np.concatenate(all_in_time) if all_in_time else np.empty(0, bool)
    mean, p95 = _latency_stats(lat)
    radio_j = sum(a["radio_energy_j"] or 0.0 for a in apps.values())
    energy = power.idle_w * res.duration_s + dyn_w * sum(res.work_done.values()) + radio_j

    def total(key: str) -> float:
        return sum(a[key] or 0 for a in apps.values())

    overall = {
        "accuracy": _r(correct.mean()) if correct.size else None,
        "accuracy_in_time": _r(in_time.mean()) if correct.size else None,
        "accuracy_arrived": _r(in_time.sum() / total("frames")) if total("frames") else None,
        "fps": _r(total_processed / total_active) if total_active > 0 else None,
        "latency_ms_mean": _r(mean),
        "latency_ms_p95": _r(p95),
        **{k: int(total(k)) for k in ("frames", "processed", "dropped", "failed",
                                      "deadline_misses", "offloaded", "early_exits",
                                      "fallbacks", "timeouts", "switches")},
        "sent_mb": _r(total("sent_mb")),
        "device_s": _r(sum(res.work_done.values())),
        "radio_s": _r(res.link_busy_s),
        "server_s": _r(sum(res.server_work.values())),
        "energy_j": _r(energy),
        "radio_energy_j": _r(radio_j),
        "switch_s": _r(total("switch_s")),
        "load_s": _r(total("load_s")),
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
        **_scheduler_params(res),
        "seed": sc.seed,
        "duration_s": sc.duration_s,
        "warnings": [*res.inputs.warnings, *run_warnings(res, apps)],
        "overall": overall,
        "apps": apps,
    }


def frame_rows(res: EngineResult) -> list[dict[str, Any]]:
    """Every frame as a plain row, per app in arrival order: those with a result (status
    'done') and those lost ('dropped', 'failed'; their result fields are None), so that
    ``pandas.DataFrame(rows)`` reads them directly and nothing lost goes unseen."""
    rows: list[dict[str, Any]] = []
    for name, app in res.apps.items():
        mine: list[dict[str, Any]] = []
        for f in app.record.frames.rows():
            mine.append({"app": name, "arrival_s": f.arrival_s, "status": "done",
                         "finish_s": f.finish_s,
                         "latency_ms": (f.finish_s - f.arrival_s) * 1000.0,
                         "correct": f.correct, "variant": f.variant, "exit": f.exit,
                         "offloaded": f.offloaded, "fallback": f.fallback, "goal_ms": f.goal_ms})
        for lost in app.record.lost_frames():
            mine.append({"app": name, "arrival_s": lost.arrival_s, "status": lost.why,
                         "finish_s": None,
                         "latency_ms": None, "correct": None, "variant": None, "exit": None,
                         "offloaded": None, "fallback": None, "goal_ms": None})
        mine.sort(key=lambda r: float(r["arrival_s"]))
        rows.extend(mine)
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
            [[f"{d.t_s:.6f}", d.app, d.variant, f"{d.share:.6f}",
              "" if d.split is None else d.split,
              "" if d.threshold is None else f"{d.threshold:g}", d.reason]
             for d in res.timeline],
            ["t_s", "app", "variant", "share", "split", "threshold", "reason"])),
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
        written.append(write_text_atomic(out / "frames.csv", _csv(
            [[r[k] for k in FRAME_KEYS] for r in rows], list(FRAME_KEYS))))
    return written

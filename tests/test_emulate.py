"""``mvsched emulate``: a short real emulation writes every file with frame counts that fit
its duration and fps, and leaves no child process behind, finished or interrupted."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from models.emulate import EmulationError, emulate
from models.emulate.schedule import kernel_weight, nice_levels

ROOT = Path(__file__).resolve().parents[1]
FILES = ("metrics.json", "per_app.csv", "timeline.csv", "fidelity.csv", "emulation.json",
         "scenario.yaml", "simulated/metrics.json")


def _scenario(tmp: Path, duration: float = 3.0, **device: object) -> Path:
    sc = {
        "name": "emulate-test", "duration_s": duration, "profiles_dir": str(ROOT / "profiles"),
        "schedulers": [{"name": "agnostic", "params": {"model": "smallest"}}],
        "device": {"name": "cpu-1t", "memory_mb": 100, **device},
        "apps": [{"name": "a", "family": "nestdnn-vgg", "fps": 20},
                 {"name": "b", "family": "nestdnn-resnet", "fps": 10}],
        "events": [{"t": 0, "action": "launch", "app": "a"},
                   {"t": 0, "action": "launch", "app": "b"}],
    }
    path = tmp / "scenario.yaml"
    path.write_text(yaml.safe_dump(sc))
    return path


def _is_resource_tracker(pid: int) -> bool:
    """The standard library's semaphore bookkeeper: one per interpreter, started by the first
    spawn-context primitive and meant to live until the interpreter exits."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"multiprocessing.resource_tracker" in cmd


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        ppid = next(int(line.split()[1]) for line in status.splitlines()
                    if line.startswith("PPid:"))
        if ppid == pid and not _is_resource_tracker(int(entry)):
            out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in state


def test_three_second_emulation_writes_every_file_with_consistent_counts(tmp_path):
    res = emulate(_scenario(tmp_path), out=tmp_path / "out", progress=False)
    out = tmp_path / "out"
    for name in FILES:
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    for app, fps in (("a", 20), ("b", 10)):
        m = metrics["apps"][app]
        assert m["frames"] == int(3 * fps)  # frames arriving in [0, 3 s)
        assert m["processed"] + m["dropped"] == m["frames"]
        assert m["processed"] >= 0.8 * m["frames"]  # the smallest models keep up easily
        assert m["accuracy"] is None  # fresh weights: no accuracy
        assert 0 < m["latency_ms_mean"] < 100
    rows = list(csv.DictReader((out / "fidelity.csv").open()))
    assert [r["app"] for r in rows] == ["a", "b", "(all)"]
    assert float(rows[0]["sim_fps"]) == pytest.approx(20, rel=0.01)
    assert res.trained is False and not res.interrupted
    emulation = json.loads((out / "emulation.json").read_text())
    assert "freshly initialised" in emulation["weights"]
    speed = emulation["machine_speed"]  # every variant the run used, timed alone beforehand
    family = {"a": "nestdnn-vgg", "b": "nestdnn-resnet"}
    used = {f"{family[r['app']]}/{r['variant']}"
            for r in csv.DictReader((out / "timeline.csv").open()) if r["variant"]}
    assert set(speed["variants"]) == used == {"nestdnn-vgg/d1-ind", "nestdnn-resnet/d1-ind"}
    assert all(v["today_ms"] > 0 and v["ratio"] > 0 for v in speed["variants"].values())
    assert _children(os.getpid()) == []


def test_interrupted_emulation_stops_its_children_and_keeps_what_it_measured(tmp_path):
    path = _scenario(tmp_path, duration=30.0)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "emulate", str(path), "--out",
                             str(out), "--quiet"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    started = time.monotonic()
    while not (out / "processes" / "a.csv").exists() and time.monotonic() - started < 120:
        time.sleep(0.2)
    time.sleep(1.5)
    kids = _children(proc.pid)
    assert kids, "the emulation started no child process"
    proc.send_signal(signal.SIGINT)
    text, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, text
    assert "interrupted" in text
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["emulation"]["interrupted"] is True
    a = metrics["apps"]["a"]
    assert a["processed"] > 0
    # frames counted up to the interruption only, and compared with the same simulated stretch
    assert a["frames"] < 30 * 20 and a["frames"] == pytest.approx(a["active_s"] * 20, abs=1)
    rows = {r["app"]: r for r in csv.DictReader((out / "fidelity.csv").open())}
    assert float(rows["a"]["sim_fps"]) == pytest.approx(20, rel=0.05)
    time.sleep(0.5)
    assert [k for k in kids if _alive(k)] == []


def test_run_with_a_server_is_refused(tmp_path):
    path = _scenario(tmp_path)
    sc = yaml.safe_load(path.read_text())
    sc["server"] = {"name": "cpu-2t"}
    sc["network"] = {"bandwidth_mbps": 10}
    path.write_text(yaml.safe_dump(sc))
    with pytest.raises(EmulationError, match="device-side execution only"):
        emulate(path, out=tmp_path / "out", progress=False)


def test_nice_levels_follow_share_ratios():
    nice = nice_levels({"a": 0.6, "b": 0.2, "c": 0.2, "d": 0.0})
    assert nice == {"a": 0, "b": 5, "c": 5}  # 1.25^5 = 3.05, closest to the ratio 3
    assert kernel_weight(0) / kernel_weight(5) == pytest.approx(3.06, rel=0.01)


def test_checkpoints_folder_without_checkpoints_is_refused(tmp_path):
    with pytest.raises(EmulationError, match="--checkpoints: .* holds no trained nestdnn-vgg"):
        emulate(_scenario(tmp_path), out=tmp_path / "out", checkpoints=tmp_path / "none",
                progress=False)

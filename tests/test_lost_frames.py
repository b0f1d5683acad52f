"""Every camera frame appears in frames() and frames.csv: done, dropped or failed, so a
researcher can see what was lost and when, not just how many."""

from __future__ import annotations

import csv
from collections import Counter

from enginekit import write_world
from synthetic import make_profile

from sim.runner import run_scenario

# 50 ms per frame at 40 fps: about half the frames are replaced by newer ones and dropped
PROF = make_profile("n", [("d0", 1_000_000, 50.0, 0.6)])


def test_every_frame_is_listed_once_with_its_status(tmp_path):
    scen = {"duration_s": 3, "apps": [{"name": "a", "family": "n", "fps": 40}],
            "events": [{"t": 0, "action": "launch", "app": "a"},
                       {"t": 2.5, "action": "exit", "app": "a"}],
            "metrics": {"frames_csv": True}}
    path = write_world(tmp_path, scen, {"n": PROF})
    res = run_scenario(path, out=tmp_path / "out")[0]
    rows = res.frames()
    m = res.metrics["apps"]["a"]
    status = Counter(r["status"] for r in rows)
    assert status["done"] == m["processed"] and status["dropped"] == m["dropped"] > 0
    arrivals = [round(r["arrival_s"] * 40) for r in rows]
    assert arrivals == sorted(arrivals) and len(set(arrivals)) == len(arrivals)
    assert all(abs(r["arrival_s"] * 40 - k) < 1e-6 for r, k in zip(rows, arrivals))
    lost = [r for r in rows if r["status"] != "done"]
    assert all(r["latency_ms"] is None and r["variant"] is None for r in lost)
    with open(tmp_path / "out" / "agnostic" / "frames.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert Counter(r["status"] for r in table) == status
    assert {r["latency_ms"] for r in table if r["status"] == "dropped"} == {""}

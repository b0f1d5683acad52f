"""The headline that cannot flatter: accuracy over every frame that arrived, where a dropped,
failed, late or unfinished frame counts as wrong, so dropping frames never raises it."""

from __future__ import annotations

import csv
import json

from enginekit import write_world
from synthetic import make_profile

from sim.runner import run_scenario


def test_dropped_and_late_frames_count_as_wrong(tmp_path) -> None:
    prof = make_profile("p", [("fast", 1000, 5.0, 0.6), ("slow", 2000, 80.0, 0.9)])
    scen = write_world(tmp_path, {
        "duration_s": 3, "seed": 1, "metrics": {"frames_csv": True},
        "schedulers": [{"name": "agnostic", "label": "slow", "params": {"model": "largest"}},
                       {"name": "agnostic", "label": "fast", "params": {"model": "smallest"}}],
        "apps": [{"name": "a", "family": "p", "fps": 30, "latency_goal_ms": 100}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}, {"p": prof})
    run_scenario(scen, out=tmp_path / "out")
    got = {}
    for label in ("slow", "fast"):
        run = tmp_path / "out" / label
        overall = json.loads((run / "metrics.json").read_text())["overall"]
        with (run / "frames.csv").open() as fh:
            rows = list(csv.DictReader(fh))
        right_in_time = sum(1 for r in rows if r["status"] == "done" and r["correct"] == "True"
                            and float(r["latency_ms"]) <= float(r["goal_ms"]) + 1e-9)
        assert overall["frames"] == 90 and len(rows) == 90
        assert overall["accuracy_arrived"] == round(right_in_time / 90, 6)
        assert overall["accuracy_arrived"] <= overall["accuracy_in_time"]
        got[label] = overall
    # the slow model answers few of the 90 frames: right on most of those it answers, but
    # most arrived frames are dropped, so over the arrived frames it falls below the fast one
    assert got["slow"]["dropped"] > 45 and got["slow"]["accuracy"] > got["fast"]["accuracy"]
    assert got["slow"]["accuracy_arrived"] < got["fast"]["accuracy_arrived"]

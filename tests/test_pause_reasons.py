"""An app the scheduler leaves out of its plan is paused with a reason: the plan's note
says why (memory, the share grid), timeline.csv carries it, the timeline plot shows a
'paused' row with the reason written beside it."""

from __future__ import annotations

import csv

import pytest
from enginekit import write_world
from synthetic import make_profile

from sim.present.plots import timeline
from sim.present.plots.timelines import PAUSED, _pause_reason
from sim.runner import run_scenario

PROF = make_profile("n", [("d0", 1_000_000, 5.0, 0.6), ("d1", 2_000_000, 9.0, 0.7)])
MEMORY = ("paused (launch a; launch b; memory: the smallest models of higher-priority apps fill "
          "the 1.5 MB budget)")
GRID = "paused (launch a; launch b; the share grid has room for 1 apps (lowest priority paused first))"


def _paused(tmp_path, scheduler: dict, memory_mb: float) -> dict[str, str]:
    scen = {"duration_s": 2, "schedulers": [scheduler],
            "device": {"name": "dev", "memory_mb": memory_mb, "storage_read_mbps": 1e9},
            "apps": [{"name": "a", "family": "n", "fps": 10, "priority": 2},
                     {"name": "b", "family": "n", "fps": 10}],
            "events": [{"t": 0, "action": "launch", "app": n} for n in "ab"]}
    path = write_world(tmp_path, scen, {"n": PROF})
    run_scenario(path, out=tmp_path / "out")
    with open(tmp_path / "out" / scheduler["name"] / "timeline.csv", newline="") as fh:
        return {r["app"]: r["reason"] for r in csv.DictReader(fh) if r["reason"].startswith("paused")}


@pytest.mark.parametrize("scheduler", ["agnostic", "nestdnn-mintotal"])
def test_an_app_paused_for_memory_says_so(tmp_path, scheduler):
    assert _paused(tmp_path, {"name": scheduler, "params": {"model": "smallest"}}
                   if scheduler == "agnostic" else {"name": scheduler}, 1.5) == {"b": MEMORY}


def test_an_app_paused_by_the_share_grid_says_so_and_the_plot_shows_it(tmp_path):
    paused = _paused(tmp_path, {"name": "nestdnn-mintotal", "params": {"share_step": 1.0}}, 100)
    assert paused == {"b": GRID}
    assert _pause_reason(GRID) == "the share grid has room for 1 apps (lowest priority paused first)"
    assert _pause_reason("paused (exit x; " + "m" * 100 + ")") == "m" * 69 + "..."
    drawn = timeline(tmp_path / "out" / "nestdnn-mintotal", tmp_path / "plots", fmt=("png",))
    assert drawn and drawn[0].stat().st_size > 0 and PAUSED == "paused"

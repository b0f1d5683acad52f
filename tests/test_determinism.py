"""Same scenario + seed -> byte-identical metrics.json; another seed -> different results."""

from __future__ import annotations

from enginekit import write_world
from synthetic import make_profile

from sim.runner import run_scenario

PROF = make_profile("n", [("d0", 2_000_000, 6.0, 0.55), ("d1", 6_000_000, 14.0, 0.7),
                          ("d2", 12_000_000, 30.0, 0.8)],
                    independents=[("i2", 12_000_000, 30.0, 0.8)])
SCENARIO = {
    "duration_s": 120,
    "apps": [{"name": f"a{i}", "family": "n", "fps": f} for i, f in enumerate([30, 15, 10, 30])],
    "random_workload": {"pool": ["a0", "a1", "a2", "a3"], "min_concurrent": 1,
                        "max_concurrent": 3, "mean_on_s": 30, "mean_off_s": 15},
    "device": {"name": "dev", "memory_mb": 30, "storage_read_mbps": 100,
               "background_load": {"kind": "markov", "states": [0.0, 0.3, 0.6],
                                   "mean_dwell_s": 20}},
    "schedulers": [{"name": "nestdnn-mintotal"}, {"name": "agnostic"}],
}


def _metrics_bytes(tmp, sub, seed=None):
    path = write_world(tmp / sub, SCENARIO, {"n": PROF})
    run_scenario(path, seed=seed, out=tmp / sub / "out")
    return {k: (tmp / sub / "out" / k / "metrics.json").read_bytes()
            for k in ("nestdnn-mintotal", "agnostic")}


def test_same_seed_byte_identical_metrics(tmp_path):
    first = _metrics_bytes(tmp_path, "x")
    second = _metrics_bytes(tmp_path, "y")
    assert first == second


def test_other_seed_differs(tmp_path):
    a = _metrics_bytes(tmp_path, "x", seed=1)
    b = _metrics_bytes(tmp_path, "y", seed=2)
    assert a["nestdnn-mintotal"] != b["nestdnn-mintotal"]


def test_the_progress_bar_changes_nothing(tmp_path, capsys):
    # progress cuts the run into 100 stretches of simulated time; events keep their order
    path = write_world(tmp_path / "p", SCENARIO, {"n": PROF})
    quiet = run_scenario(path, out=tmp_path / "p" / "quiet")
    shown = run_scenario(path, out=tmp_path / "p" / "shown", progress=True)
    for q, s in zip(quiet, shown, strict=True):
        assert q.metrics == s.metrics and q.frames() == s.frames()
        assert q.timeline() == s.timeline()
    assert "simulated s" in capsys.readouterr().err

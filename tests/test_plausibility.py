"""Legal values that are probably unit slips are warned about in one line (CLI), raised as
PlausibilityWarning (API) and kept in metrics.json; the run still goes ahead."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from enginekit import write_world
from offloadkit import write_offload_world
from synthetic import make_profile

from sim.cli import main
from sim.config.inputs import load_inputs
from sim.config.plausibility import PlausibilityWarning

GOOD = {"duration_s": 1, "apps": [{"name": "a", "family": "n", "fps": 10}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}


def test_a_sub_microsecond_latency_is_warned_and_recorded(tmp_path, capsys):
    prof = make_profile("n", [("d0", 1_000_000, 0.0004, 0.6)])
    path = write_world(tmp_path, GOOD, {"n": prof})
    line = (f"{tmp_path / 'profiles' / 'dev' / 'n.json'}: variants[0] (d0).latency_ms.median: "
            "0.0004 ms is under 1 microsecond per inference; is it in seconds where ms are "
            "expected, or scaled twice?")
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err == f"warning: {line}\n"
    assert main(["run", str(path), "--quiet", "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().err.count(f"warning: {line}\n") == 1
    metrics = json.loads((tmp_path / "out" / "agnostic" / "metrics.json").read_text())
    assert metrics["warnings"] == [line]
    with pytest.warns(PlausibilityWarning, match="under 1 microsecond"):
        load_inputs(path)


def test_a_minute_per_inference_is_warned(tmp_path):
    prof = make_profile("n", [("d0", 1_000_000, 90_000.0, 0.6)])
    path = write_world(tmp_path, GOOD, {"n": prof})
    with pytest.warns(PlausibilityWarning, match=r"90000 ms is over a minute per inference"):
        load_inputs(path)


def test_a_link_over_10_gbits_and_a_minute_rtt_are_warned(tmp_path):
    path = write_offload_world(tmp_path, {"network": {"bandwidth_mbps": 40_000.0,
                                                      "rtt_ms": 120_000.0}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = load_inputs(path)
    assert inputs.warnings == (
        f"{path}: network.bandwidth_mbps: peaks at 40000 Mbit/s, over 10 Gbit/s; is the "
        "trace in kbit/s (scale: 0.001) or bit/s?",
        f"{path}: network.rtt_ms: 120000 ms is over a minute; is it in microseconds?")
    assert [str(w.message) for w in caught] == list(inputs.warnings)


def test_the_shipped_scenarios_raise_no_warning():
    root = Path(__file__).resolve().parents[1] / "scenarios"
    for path in sorted(p for p in root.rglob("*.yaml") if not p.name.endswith(".sweep.yaml")):
        with warnings.catch_warnings():
            warnings.simplefilter("error", PlausibilityWarning)
            assert load_inputs(path).warnings == (), path

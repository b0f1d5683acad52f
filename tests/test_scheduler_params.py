"""Scheduler parameters are discoverable: each is documented, the README table is the
generated one, a typo names the valid parameters, and metrics.json records what was used."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from enginekit import write_world
from synthetic import make_profile

from sim.cli import main
from sim.schedulers.param_table import markdown_table
from sim.schedulers.params import describe, resolved_params
from sim.schedulers.registry import SchedulerError, create_scheduler, get_scheduler, list_schedulers

README = Path(__file__).resolve().parents[1] / "scenarios" / "README.md"


@pytest.mark.parametrize("name", list_schedulers())
def test_every_parameter_has_a_doc(name):
    for p in describe(get_scheduler(name)):
        assert p.doc, f"{name}: parameter {p.name!r} has no entry in param_docs"
    assert set(get_scheduler(name).param_docs) <= {p.name for p in describe(get_scheduler(name))}


def test_readme_table_is_the_generated_one():
    text = README.read_text()
    found = re.search(r"<!-- scheduler-params:start -->\n(.*?)<!-- scheduler-params:end -->",
                      text, flags=re.S)
    assert found and found.group(1) == markdown_table(), (
        "scenarios/README.md is stale: paste python -m sim.schedulers.param_table")


def test_typo_names_the_close_match_and_the_valid_parameters():
    with pytest.raises(SchedulerError) as e:
        create_scheduler("nestdnn-mintotal", alhpa=2)
    assert str(e.value) == (
        "scheduler 'nestdnn-mintotal': unknown parameter 'alhpa' (did you mean 'alpha'?); its "
        "parameters: alpha, solver, share_step, beta, horizon_s, observed_latency "
        "(mvsched schedulers -v)")


def test_resolved_params_overlay_defaults():
    got = resolved_params(get_scheduler("spinn"), {"tolerance": 0.1})
    assert got["tolerance"] == 0.1 and got["offload"] is True
    assert isinstance(got["thresholds"], list)


def test_metrics_record_the_parameters_used(tmp_path):
    prof = make_profile("n", [("d0", 1000, 5.0, 0.6), ("d1", 2000, 9.0, 0.7)])
    path = write_world(tmp_path, {
        "duration_s": 1, "schedulers": [{"name": "nestdnn-mintotal", "params": {"alpha": 0.5}}],
        "apps": [{"name": "a", "family": "n", "fps": 10}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}, {"n": prof})
    assert main(["run", str(path), "--quiet", "--out", str(tmp_path / "o")]) == 0
    m = json.loads((tmp_path / "o" / "nestdnn-mintotal" / "metrics.json").read_text())
    assert m["scheduler_name"] == "nestdnn-mintotal"
    assert m["params"] == {"alpha": 0.5, "solver": "exact", "share_step": 0.05, "beta": 0.0,
                           "horizon_s": 10.0, "observed_latency": False}


def test_schedulers_verbose_lists_parameters(capsys):
    assert main(["schedulers", "-v"]) == 0
    out = capsys.readouterr().out
    assert "    alpha (float, default 1.0): > 0: weight of a latency violation" in out

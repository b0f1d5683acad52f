"""``compare --seeds N`` and ``--set PATH=VALUE``: per-seed rows and their mean and 95%
interval, overrides validated like the file and saved with the results, and the Python API
taking a mapping or a Scenario as well as a path."""

from __future__ import annotations

import csv
import math

import pytest
import yaml
from enginekit import write_world
from synthetic import make_profile

from sim.cli import main
from sim.config.overrides import OverrideError, apply_overrides, split_path
from sim.config.scenario import ScenarioError, load_scenario
from sim.results.compare import ci95, compare
from sim.runner import run_scenario


@pytest.fixture
def world(tmp_path):
    """Two variants whose frames are right with probability 0.6 and 0.8: the seed draws."""
    prof = make_profile("p", [("small", 1000, 5.0, 0.6), ("big", 2000, 20.0, 0.8)])
    return write_world(tmp_path, {
        "duration_s": 3, "seed": 5,
        "schedulers": [{"name": "agnostic", "label": "small", "params": {"model": "smallest"}},
                       {"name": "agnostic", "label": "big", "params": {"model": "largest"}}],
        "apps": [{"name": "a", "family": "p", "fps": 20}],
        "events": [{"t": 0, "action": "launch", "app": "a"}],
    }, {"p": prof})


def test_ci95_is_students_t_half_width():
    # mean 2, sd 1, n 3: t(0.975, 2) = 4.302653 -> 4.302653 / sqrt(3)
    assert ci95([1.0, 2.0, 3.0]) == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert ci95([1.0]) is None


def test_three_seeds_give_per_seed_rows_and_their_mean(world, tmp_path):
    comp = compare(world, seeds=3, out=tmp_path / "out")
    assert comp.seeds == [5, 6, 7]
    for s in comp.seeds:
        assert (tmp_path / "out" / f"seed-{s}" / "small" / "metrics.json").is_file()
    rows = {(r["scheduler"], r["seed"]): r for r in comp.rows}
    assert len(rows) == 6
    for summ in comp.summary:
        accs = [rows[(summ["scheduler"], s)]["accuracy"] for s in comp.seeds]
        assert summ["accuracy"] == pytest.approx(sum(accs) / 3)
        assert summ["accuracy_ci95"] == pytest.approx(ci95(accs))
    # the seed draws other evaluation samples: the accuracies are not all equal
    assert len({rows[("small", s)]["accuracy"] for s in comp.seeds}) > 1


def test_compare_cli_writes_summary_and_seed_rows(world, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["compare", str(world), "--seeds", "2", "--out", str(out), "--quiet",
                 "--no-plots"]) == 0
    got = list(csv.DictReader((out / "comparison.csv").open()))
    assert [(r["scheduler"], r["seed"]) for r in got] == [
        ("small", "mean"), ("big", "mean"), ("small", "5"),
        ("big", "5"), ("small", "6"), ("big", "6")]
    assert "accuracy_ci95" in got[0]
    assert "95% confidence interval" in capsys.readouterr().out


def test_set_overrides_are_validated_applied_and_saved(world, tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(world), "--scheduler", "small", "--out", str(out), "--quiet",
                 "--set", "device.memory_mb=500", "--set", "apps[0].fps=10"]) == 0
    saved = yaml.safe_load((out / "small" / "scenario.yaml").read_text())
    assert saved["device"]["memory_mb"] == 500 and saved["apps"][0]["fps"] == 10
    metrics = yaml.safe_load((out / "small" / "metrics.json").read_text())
    assert metrics["apps"]["a"]["frames"] == 30  # 3 s at 10 fps


@pytest.mark.parametrize(("override", "message"), [
    ("apps.3.fps=1", "--set 'apps.3.fps=1': apps[3]: apps has 1 entries"),
    ("apps.x.fps=1", "apps is a list; expected an index such as apps[0]"),
    ("device.memroy_mb=3", "device.memroy_mb: Extra inputs are not permitted"),
    ("device.memory_mb=-1", "device.memory_mb: "),
    ("device.memory_mb", "expected PATH=VALUE"),
    ("device.memory_mb=", "no value after '='"),
    ("seed.x=1", "seed is a value (int), not a mapping or a list"),
    ("apps..fps=1", "expected a dotted path"),
])
def test_bad_set_is_one_line_naming_it(world, override, message, capsys):
    assert main(["run", str(world), "--quiet", "--set", override]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith(f"error: {world}")


def test_paths_in_both_notations():
    assert split_path("apps[0].fps") == split_path("apps.0.fps") == ["apps", 0, "fps"]
    assert split_path("schedulers[1].params.alpha") == ["schedulers", 1, "params", "alpha"]
    with pytest.raises(OverrideError, match="cannot read"):
        split_path("apps[x].fps")
    raw = {"engine": {}, "apps": [{"fps": 1}]}
    assert apply_overrides(raw, ["engine.queue_length=2", "monitor.ewma=0.5"]) == {
        "engine": {"queue_length": 2}, "apps": [{"fps": 1}], "monitor": {"ewma": 0.5}}
    assert raw == {"engine": {}, "apps": [{"fps": 1}]}  # the input is not changed


def test_api_takes_a_mapping_or_a_scenario(world, monkeypatch):
    monkeypatch.chdir(world.parent)  # a mapping's relative paths start at the working folder
    raw = yaml.safe_load(world.read_text())
    from_path = run_scenario(world, ["small"])[0].metrics
    assert run_scenario(raw, ["small"])[0].metrics == from_path
    sc = load_scenario(raw)
    assert run_scenario(sc, ["small"])[0].metrics == from_path
    with pytest.raises(ScenarioError, match="<scenario>: apps"):
        run_scenario({**raw, "apps": "x"}, ["small"])

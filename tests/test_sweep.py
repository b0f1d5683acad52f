"""``mvsched sweep``: the same sweep.csv from any executor, resume after a kill without
recomputing or losing a run, means and intervals equal to the run files', one-line errors
for a malformed sweep, and scheduler parameters that vary only their scheduler."""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
from pathlib import Path

import pytest
import yaml
from enginekit import write_world
from inline_executor import Inline
from scipy.stats import t as student_t
from synthetic import make_profile

import sim.results.sweep.execute
from sim.cli.sweep import add_subcommand
from sim.results.sweep import SweepError, load_sweep, run_key, run_sweep
from sim.runner import run_scenario


@pytest.fixture
def world(tmp_path):
    """One app at 20 fps for 2 s; "small" and "big" are the agnostic baseline on each model,
    whose frames are right with probability 0.6 and 0.8, so the seed draws the accuracy."""
    prof = make_profile("p", [("small", 1000, 5.0, 0.6), ("big", 2000, 20.0, 0.8)])
    write_world(tmp_path, {
        "duration_s": 2, "seed": 5,
        "schedulers": [{"name": "agnostic", "label": "small", "params": {"model": "smallest"}},
                       {"name": "agnostic", "label": "big", "params": {"model": "largest"}}],
        "apps": [{"name": "a", "family": "p", "fps": 20}],
        "events": [{"t": 0, "action": "launch", "app": "a"}],
    }, {"p": prof})
    return tmp_path


def sweep_file(folder: Path, text: str | dict, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(text if isinstance(text, str) else yaml.safe_dump(text, sort_keys=False))
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="mvsched")
    add_subcommand(ap.add_subparsers(dest="command", required=True))
    args = ap.parse_args(argv)
    return args.func(args)


GRID = {"scenario": "scenario.yaml", "seeds": 2, "grid": {"apps[0].fps": [10, 20]}}


# -- executors ----------------------------------------------------------------------------
def test_dask_cluster_and_local_processes_give_the_same_bytes(world, capsys):
    path = sweep_file(world, GRID)
    assert cli(["sweep", str(path), "--out", str(world / "local"), "--workers", "2",
                "--quiet"]) == 0
    assert capsys.readouterr().out == f"8 runs (0 already done), sweep.csv: " \
                                      f"{world / 'local' / 'sweep.csv'}\n"
    res = run_sweep(path, world / "dask", executor="dask", workers=2)
    assert (res.runs, res.skipped) == (8, 0)
    assert (world / "dask/sweep.csv").read_bytes() == (world / "local/sweep.csv").read_bytes()
    for f in (world / "local/runs").iterdir():
        assert (world / "dask/runs" / f.name).read_bytes() == f.read_bytes()
    inline = run_sweep(path, world / "inline", executor=Inline())
    assert (world / "inline/sweep.csv").read_bytes() == res.csv.read_bytes()
    assert inline.rows == res.rows


def test_missing_dask_is_one_line_naming_the_extra(world, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(SweepError, match=r"pip install 'mvsched\[dist\]'"):
        run_sweep(sweep_file(world, GRID), world / "out", executor="dask")


@pytest.mark.parametrize("kw, fragment", [
    ({"address": "tcp://x:1"}, "--address: names a dask scheduler; add --executor dask"),
    ({"workers": 0}, "--workers: must be >= 1, got 0"),
    ({"executor": "ray"}, "--executor: expected local or dask, got 'ray'"),
])
def test_bad_executor_options_run_nothing(world, kw, fragment):
    with pytest.raises(SweepError, match=fragment):
        run_sweep(sweep_file(world, GRID), world / "out", **kw)
    assert not (world / "out").exists()


# -- resume -------------------------------------------------------------------------------
def counting(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = sim.results.sweep.execute.run_one

    def run_one(task):
        calls.append(task.key)
        return real(task)

    monkeypatch.setattr(sim.results.sweep.execute, "run_one", run_one)
    return calls


def test_a_killed_sweep_resumes_without_recomputing_or_losing_runs(world, monkeypatch):
    path = sweep_file(world, GRID)
    out = world / "out"
    calls = counting(monkeypatch)
    written: list[str] = []

    def kill_after_three(record):
        written.append(record["key"])
        if len(written) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(path, out, executor=Inline(), on_result=kill_after_three)
    files = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (out / "runs").iterdir()}
    assert sorted(files) == sorted(f"{k}.json" for k in written)
    assert not (out / "sweep.csv").exists()

    calls.clear()
    res = run_sweep(path, out, executor=Inline())
    everything = {t.key for t in load_sweep(path).tasks()}
    assert sorted(calls) == sorted(everything - set(written))
    assert (res.runs, res.skipped, res.computed) == (8, 3, 5)
    for name, (mtime, data) in files.items():
        assert ((out / "runs" / name).stat().st_mtime_ns, (out / "runs" / name).read_bytes()) \
            == (mtime, data)
    fresh = run_sweep(path, world / "fresh", executor=Inline())
    assert res.csv.read_bytes() == fresh.csv.read_bytes()

    calls.clear()
    again = run_sweep(path, out, executor=Inline())
    assert calls == [] and (again.runs, again.skipped) == (8, 8)


def test_resuming_after_the_scenario_changed_is_refused(world):
    path = sweep_file(world, GRID)
    run_sweep(path, world / "out", executor=Inline())
    sc = yaml.safe_load((world / "scenario.yaml").read_text())
    (world / "scenario.yaml").write_text(yaml.safe_dump({**sc, "duration_s": 3}))
    with pytest.raises(SweepError, match="computed from another version of"):
        run_sweep(path, world / "out", executor=Inline())


# -- aggregation --------------------------------------------------------------------------
def test_csv_holds_the_mean_and_t_interval_of_the_run_files(world):
    res = run_sweep(sweep_file(world, {**GRID, "seeds": [7, 3, 4]}), world / "out",
                    executor=Inline())
    runs = [json.loads(p.read_text()) for p in (world / "out/runs").iterdir()]
    assert len(runs) == 12 and {r["seed"] for r in runs} == {3, 4, 7}
    rows = read_csv(res.csv)
    assert [(r["scheduler"], r["apps[0].fps"], r["seeds"]) for r in rows] == [
        ("small", "10", "3"), ("big", "10", "3"), ("small", "20", "3"), ("big", "20", "3")]
    for row in rows:
        mine = [r["overall"] for r in runs if r["scheduler"] == row["scheduler"]
                and r["grid"] == {"apps[0].fps": int(row["apps[0].fps"])}]
        for metric in ("accuracy", "latency_ms_mean", "processed", "energy_j"):
            xs = [m[metric] for m in mine]
            half = student_t.ppf(0.975, 2) * statistics.stdev(xs) / math.sqrt(3)
            assert float(row[f"{metric}_mean"]) == pytest.approx(statistics.mean(xs), abs=1e-12)
            assert float(row[f"{metric}_ci95"]) == pytest.approx(half, abs=1e-12)
    assert "decision_ms_median_mean" not in rows[0]  # None in every run: not a number
    assert rows[1]["processed_mean"] == "20.0"  # 10 fps for 2 s, each frame done in 20 ms


def test_one_seed_leaves_the_interval_empty_and_keys_follow_the_identity(world):
    res = run_sweep(sweep_file(world, {**GRID, "seeds": 1}), world / "out", executor=Inline())
    rows = read_csv(res.csv)
    assert {r["accuracy_ci95"] for r in rows} == {""} and {r["seeds"] for r in rows} == {"1"}
    key = run_key({"apps[0].fps": 20}, "big", {}, 5)
    rec = json.loads((world / "out/runs" / f"{key}.json").read_text())
    assert (rec["scheduler"], rec["grid"], rec["params"], rec["seed"]) == \
        ("big", {"apps[0].fps": 20}, {}, 5)
    assert set(rec) >= {"key", "overall", "scenario_sha256"}
    resolved = yaml.safe_load((world / "out/sweep.yaml").read_text())
    assert resolved["scenario"] == str((world / "scenario.yaml").resolve())
    assert resolved["seeds"] == [5] and resolved["schedulers"] == ["small", "big"]
    assert load_sweep(world / "out/sweep.yaml").tasks() == load_sweep(world / "sweep.yaml").tasks()


def test_rows_follow_grid_then_sweep_scheduler_then_params_order(world):
    res = run_sweep(sweep_file(world, {
        "scenario": "scenario.yaml", "seeds": 1, "schedulers": ["big", "small"],
        "grid": {"device.background_load": [0.5, {"kind": "constant", "value": 0.0}]},
        "params": {"small": {"model": ["big", "smallest"]}}}), world / "out", executor=Inline())
    got = [(r["device.background_load"], r["scheduler"], r["params.model"])
           for r in read_csv(res.csv)]
    trace = '{"kind":"constant","value":0.0}'
    assert got == [("0.5", "big", ""), ("0.5", "small", "big"), ("0.5", "small", "smallest"),
                   (trace, "big", ""), (trace, "small", "big"), (trace, "small", "smallest")]


# -- scheduler parameters -----------------------------------------------------------------
def test_a_param_sweep_varies_only_its_scheduler(world):
    res = run_sweep(sweep_file(world, {"scenario": "scenario.yaml", "seeds": 2,
                                       "params": {"small": {"model": ["smallest", "big"]}}}),
                    world / "out", executor=Inline())
    runs = [json.loads(p.read_text()) for p in (world / "out/runs").iterdir()]
    assert sorted((r["scheduler"], json.dumps(r["params"])) for r in runs) == sorted(
        [("big", "{}")] * 2 + [("small", '{"model": "smallest"}')] * 2
        + [("small", '{"model": "big"}')] * 2)
    by = {(r["scheduler"], r["params.model"]): r for r in read_csv(res.csv)}
    assert sorted(by) == [("big", ""), ("small", "big"), ("small", "smallest")]
    # the overridden small runs the big model: the same frames as big itself
    assert by["small", "big"]["accuracy_mean"] == by["big", ""]["accuracy_mean"]
    assert by["small", "big"]["latency_ms_mean_mean"] == by["big", ""]["latency_ms_mean_mean"]
    assert by["small", "smallest"]["latency_ms_mean_mean"] == "5.0"
    plain = run_scenario(world / "scenario.yaml", ["big"])[0].metrics["overall"]
    big_seed5 = json.loads((world / "out/runs" / f"{run_key({}, 'big', {}, 5)}.json").read_text())
    assert big_seed5["overall"] == plain


# -- malformed sweep files ----------------------------------------------------------------
BAD = [
    ("scenario: [unclosed\n", "line 2: not valid YAML"),
    ("- just\n- a list\n", "expected a mapping with keys ['scenario', 'seeds'"),
    ({"scenario": "nope.yaml"}, "scenario: {dir}/nope.yaml: file not found"),
    ({**GRID, "gird": {}}, "gird: unknown key; a sweep has scenario, seeds, schedulers"),
    ({**GRID, "seeds": 0}, "seeds: expected 1 to 1000 seeds, got 0"),
    ({**GRID, "seeds": 2**63}, "seeds: expected 1 to 1000 seeds, got 9223372036854775808"),
    ({**GRID, "grid": {"apps[0].fps": list(range(1, 2001))}, "params": {
        "small": {"model": ["small", "big"]}}, "seeds": 30},
     "grid: 180,000 runs (2,000 grid points x 3 scheduler settings x 30 seeds); at most "
     "100,000 per sweep"),
    ({**GRID, "scenario": "scen\x00ario.yaml"}, "scenario: a file path cannot hold a NUL byte"),
    ({**GRID, "seeds": [1, "two"]}, "seeds: item [1] 'two' is not an integer seed"),
    ({**GRID, "seeds": [-1]}, "seeds: seed -1: "),
    ({**GRID, "grid": {"apps[0].fps": []}}, "grid.apps[0].fps: an empty list gives no runs"),
    ({**GRID, "grid": {"apps[0].fps": 10}}, "grid.apps[0].fps: Input should be a valid list"),
    ({**GRID, "grid": {"apps[0].fps": [10, 10]}}, "grid.apps[0].fps[1]: 10 is listed twice"),
    ({**GRID, "grid": {"apps[9].fps": [10]}},
     "grid.apps[9].fps: value 10: {dir}/scenario.yaml: apps[9]: apps has 1 entries"),
    ({**GRID, "grid": {"apps[0].fps": [10, -5]}}, "grid.apps[0].fps: value -5: {dir}/scenario"),
    ({**GRID, "grid": {"device.colour": ["red"]}},
     "grid.device.colour: value red: {dir}/scenario.yaml: device.colour: Extra inputs"),
    ({**GRID, "grid": {"seed": [1, 2]}}, "grid.seed: the seed is varied by 'seeds'"),
    ({**GRID, "grid": {"apps..fps": [1]}}, "grid.apps..fps: expected a dotted path"),
    ({**GRID, "grid": {"apps[0].fps": [10], "apps.0.fps": [20]}},
     "grid.apps.0.fps: names the same field as grid.apps[0].fps"),
    ({**GRID, "schedulers": ["small", "huge"]},
     "schedulers[1]: unknown scheduler label 'huge'; the scenario lists ['small', 'big']"),
    ({**GRID, "schedulers": []}, "schedulers: an empty list runs nothing"),
    ({**GRID, "params": {"small": {"alpha": [0.1]}}},
     "params.small.alpha: value 0.1: {dir}/scenario.yaml: schedulers[0]: scheduler 'agnostic'"),
    ({**GRID, "params": {"huge": {"model": ["big"]}}},
     "params.huge: unknown scheduler label 'huge'"),
    ({**GRID, "schedulers": ["big"], "params": {"small": {"model": ["big"]}}},
     "params.small: 'small' is not among the sweep's schedulers ['big']"),
    ({**GRID, "params": {"small": {"model": []}}}, "params.small.model: an empty list"),
]


@pytest.mark.parametrize("text, fragment", BAD, ids=[f[1].split(":")[0] for f in BAD])
def test_a_malformed_sweep_is_one_line_naming_the_file_and_field(world, text, fragment):
    path = sweep_file(world, text)
    with pytest.raises(SweepError) as exc:
        cli(["sweep", str(path), "--out", str(world / "out"), "--quiet"])
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(f"{path}: ")
    assert fragment.format(dir=world.resolve()) in msg
    assert not (world / "out").exists()


def test_a_missing_sweep_file_is_one_line(tmp_path):
    with pytest.raises(SweepError, match=r"nope\.yaml: file not found$"):
        load_sweep(tmp_path / "nope.yaml")


def test_a_parameter_naming_a_missing_variant_is_refused_before_any_run(world):
    path = sweep_file(world, {"scenario": "scenario.yaml", "seeds": 1,
                              "params": {"small": {"model": ["smallest", "huge"]}}})
    with pytest.raises(SweepError) as exc:
        run_sweep(path, world / "out", executor=Inline())
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(f"{path}: params.small.model: value huge: ")
    assert "has no variant 'huge'" in msg
    assert not list((world / "out").glob("runs/*.json"))


def test_a_run_that_fails_is_one_line_naming_the_run(world, monkeypatch):
    import sim.results.sweep.execute

    real = sim.results.sweep.execute.run_one

    def failing(task):
        if task.params.get("model") == "largest":
            raise ValueError("the engine gave up\nat t=1")
        return real(task)

    monkeypatch.setattr(sim.results.sweep.execute, "run_one", failing)
    path = sweep_file(world, {"scenario": "scenario.yaml", "seeds": 1,
                              "params": {"small": {"model": ["smallest", "largest"]}}})
    with pytest.raises(SweepError) as exc:
        run_sweep(path, world / "out", executor=Inline())
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(f"{path}: run ")
    assert msg.endswith("(small, seed 5, model=largest): the engine gave up\\nat t=1")
    good = {f"{run_key({}, label, p, 5)}.json" for label, p in
            [("small", {"model": "smallest"}), ("big", {})]}
    assert {f.name for f in (world / "out").glob("runs/*.json")} <= good

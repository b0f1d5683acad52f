"""Inputs that once escaped the output folder, hung, or raised a traceback: each is now one
line naming the field and the bound (exact messages), found by fuzzing the shipped files."""

from __future__ import annotations

import pytest
import yaml
from enginekit import write_world
from synthetic import make_profile

from sim.cli import main
from sim.config.scenario import load_scenario

PROF = make_profile("n", [("d0", 1_000_000, 5.0, 0.6)])
GOOD = {"duration_s": 2, "apps": [{"name": "a", "family": "n", "fps": 10}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}
DEV = {"name": "dev", "memory_mb": 100}
NAME_RULE = ("becomes a file or folder name: use 1-100 letters, digits and '._+-', starting "
             "with a letter or digit")

CASES = [
    ("label-escapes-out", {"schedulers": [{"name": "agnostic", "label": "../x"}]},
     f"schedulers[0]: label '../x' {NAME_RULE}"),
    ("label-too-long", {"schedulers": [{"name": "agnostic", "label": "a" * 300}]},
     f"schedulers[0]: label '{'a' * 40}'... (300 characters) {NAME_RULE}"),
    ("family-escapes-profiles", {"apps": [{"name": "a", "family": "../n", "fps": 10}]},
     f"apps[0].family: '../n' {NAME_RULE}"),
    ("duration-inf", {"duration_s": float("inf")},
     "duration_s: Input should be a finite number (got inf)"),
    ("duration-1e300", {"duration_s": 1e300},
     "duration_s: Input should be less than or equal to 2592000 (got 1e+300)"),
    ("duration-2^31", {"duration_s": 2**31},
     "duration_s: Input should be less than or equal to 2592000 (got 2147483648)"),
    ("memory-inf", {"device": {**DEV, "memory_mb": float("inf")}},
     "device.memory_mb: Input should be a finite number (got inf)"),
    ("memory-1e300", {"device": {**DEV, "memory_mb": 1e300}},
     "device.memory_mb: Input should be less than or equal to 1000000000 (got 1e+300)"),
    ("nul-in-trace-path",
     {"device": {**DEV, "background_load": {"kind": "csv", "path": "tr\x00ace.csv"}}},
     "device.background_load.csv.path: a file path cannot hold a NUL byte"),
    ("trace-name-too-long",
     {"device": {**DEV, "background_load": {"kind": "csv", "path": "x" * 300 + ".csv"}}},
     "device.background_load.csv.path: each file or folder name in a path is at most 255 bytes"),
    ("nul-in-profiles-dir", {"profiles_dir": "pro\x00files"},
     "profiles_dir: a file path cannot hold a NUL byte"),
    ("markov-too-fine",
     {"duration_s": 2_000_000, "device": {**DEV, "background_load": {
         "kind": "markov", "states": [0.1, 0.5], "mean_dwell_s": 0.001}}},
     "device.background_load: markov: 2e+06 s / mean_dwell_s 0.001 gives ~2e+09 changes, "
     "over 2,000,000 points"),
    ("workload-tiny-on-times",
     {"duration_s": 100_000, "random_workload": {
         "pool": ["a"], "min_concurrent": 1, "max_concurrent": 1, "mean_on_s": 0.001,
         "mean_off_s": 0.001}},
     "random_workload: ~1e+08 launch/exit draws (1 apps x duration_s / the shorter of "
     "mean_on_s and mean_off_s), over 100,000; are mean_on_s/mean_off_s in seconds?"),
    ("too-many-apps", {"apps": [{"name": f"a{i}", "family": "n", "fps": 1} for i in range(5000)]},
     "apps: List should have at most 1000 items after validation, not 5000"),
    ("scheduler-parameter-type",
     {"schedulers": [{"name": "nestdnn-mintotal", "params": {"alpha": "high"}}]},
     "schedulers[0]: scheduler 'nestdnn-mintotal': parameter alpha: input should be a valid "
     "number (got 'high')"),
    ("scheduler-parameter-inf",  # crashed the exact NestDNN solver (IndexError)
     {"schedulers": [{"name": "nestdnn-minmax", "params": {"alpha": float("inf")}}]},
     "schedulers[0]: scheduler 'nestdnn-minmax': parameter alpha: input should be a finite "
     "number (got inf)"),
]


@pytest.mark.parametrize("edit, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_exact_line(tmp_path, capsys, edit, message):
    path = write_world(tmp_path, {**GOOD, **edit}, {"n": PROF})
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err == f"error: {path}: {message}\n"
    out = tmp_path / "out"
    assert main(["run", str(path), "--quiet", "--out", str(out)]) == 2
    assert not out.exists() and not (tmp_path / "x").exists()


def test_a_long_trace_loop_is_bounded(tmp_path, capsys):
    trace = tmp_path / "load.txt"
    trace.write_text("0 0.1\n0.001 0.2\n")
    edit = {"duration_s": 2_000_000, "device": {**DEV, "background_load": {
        "kind": "csv", "path": "load.txt", "loop": True}}}
    path = write_world(tmp_path, {**GOOD, **edit}, {"n": PROF})
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}: device.background_load: loop: 2 points repeated 1,000,000,000 times "
        "to cover 2e+06 s is over 2,000,000 points\n")


def test_a_thousand_apps_validate():
    # the cross-reference checks are linear: a quadratic one hung on 20,000 apps
    apps = [{"name": "a" if i == 0 else f"a{i}", "family": "n", "fps": 1} for i in range(1000)]
    raw = {**GOOD, "apps": apps, "name": "many", "device": DEV,
           "schedulers": [{"name": "agnostic"}]}
    assert len(load_scenario(yaml.safe_load(yaml.safe_dump(raw))).apps) == 1000


def test_a_parameter_naming_a_missing_variant_is_refused_before_running(tmp_path, capsys):
    edit = {"schedulers": [{"name": "agnostic", "params": {"model": "ghost"}}]}
    path = write_world(tmp_path, {**GOOD, **edit}, {"n": PROF})
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {path}: schedulers[0]: scheduler 'agnostic': parameter model: app 'a' "
        "(profile n) has no variant 'ghost'; its variants: ['d0']\n")


def test_a_newline_echoed_from_any_field_stays_on_one_line(tmp_path, capsys):
    path = write_world(tmp_path, {**GOOD, "profiles_dir": "a\nb"}, {"n": PROF})
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a\\nb" in err and "apps[0].family: no profile file" in err


def test_a_variant_that_takes_no_time_is_refused(tmp_path, capsys):
    # a zero latency sent the engine down the offload path of a device-only app
    import json

    write_world(tmp_path, GOOD, {"n": PROF})
    prof = tmp_path / "profiles" / "dev" / "n.json"
    raw = json.loads(prof.read_text())
    raw["variants"][0]["latency_ms"]["median"] = 0
    prof.write_text(json.dumps(raw))
    assert main(["validate", str(prof)]) == 2
    assert capsys.readouterr().err == (f"error: {prof}: variants[0].latency_ms: median must be "
                                       "> 0 ms: every inference takes some time\n")

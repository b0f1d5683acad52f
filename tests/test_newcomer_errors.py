"""Mistakes a newcomer makes, each answered by one line that names the cause (exit 2): an
exit before the launch, validate on a folder, a profile given as a scenario, a non-UTF-8 or
absurdly nested file, a profile path that is a folder; and ``--version``."""

from __future__ import annotations

import pytest
import yaml
from enginekit import write_world
from synthetic import make_profile

from sim.cli import main
from sim.profile import ProfileError, load_profile

PROF = make_profile("n", [("d0", 1_000_000, 5.0, 0.6)])
GOOD = {"duration_s": 2, "apps": [{"name": "a", "family": "n", "fps": 10}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}


def _one_line_error(capsys, argv: list[str], needle: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err, err


def test_exit_before_launch_is_refused(tmp_path, capsys):
    path = write_world(tmp_path, {**GOOD, "events": [
        {"t": 1, "action": "launch", "app": "a"}, {"t": 0.5, "action": "exit", "app": "a"}]},
        {"n": PROF})
    _one_line_error(capsys, ["validate", str(path)],
                    "events[1]: exit of 'a' at t=0.5 s, when it is not running")


def test_exit_then_launch_again_is_fine(tmp_path, capsys):
    path = write_world(tmp_path, {**GOOD, "events": [
        {"t": 0, "action": "launch", "app": "a"}, {"t": 1, "action": "exit", "app": "a"},
        {"t": 1.5, "action": "launch", "app": "a"}]}, {"n": PROF})
    assert main(["validate", str(path)]) == 0


def test_validate_on_a_folder(tmp_path, capsys):
    _one_line_error(capsys, ["validate", str(tmp_path)], f"{tmp_path}: is a folder; give scenario")


def test_run_on_a_profile_says_it_is_a_profile(tmp_path, capsys):
    write_world(tmp_path, GOOD, {"n": PROF})
    prof = tmp_path / "profiles" / "dev" / "n.json"
    _one_line_error(capsys, ["run", str(prof), "--quiet"],
                    "this is a profile (it has 'family' and 'variants'), not a scenario")


def test_non_utf8_and_deeply_nested_files(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: x\n\xff\n")
    _one_line_error(capsys, ["validate", str(bad)], "not UTF-8 text (byte 8)")
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    _one_line_error(capsys, ["validate", str(deep)], "nested too deeply to be a scenario")
    deep_json = tmp_path / "deep.json"
    deep_json.write_text("[" * 100000 + "]" * 100000)
    _one_line_error(capsys, ["validate", str(deep_json)], "nested too deeply to be a profile")


def test_profile_path_that_is_a_folder(tmp_path):
    with pytest.raises(ProfileError, match="is a folder, expected a profile JSON file"):
        load_profile(tmp_path)


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("mvsched ")


def test_typo_in_a_required_key_names_the_typo(tmp_path, capsys):
    path = write_world(tmp_path, GOOD, {"n": PROF})
    raw = yaml.safe_load(path.read_text())
    raw["durration_s"] = raw.pop("duration_s")
    path.write_text(yaml.safe_dump(raw))
    _one_line_error(capsys, ["validate", str(path)],
                    "durration_s: unknown key; did you mean 'duration_s'? (duration_s is "
                    "required)")


def test_keys_with_newlines_are_escaped(tmp_path, capsys):
    path = write_world(tmp_path, GOOD, {"n": PROF})
    raw = yaml.safe_load(path.read_text())
    raw["device"]["bad\nkey"] = 1
    path.write_text(yaml.safe_dump(raw))
    _one_line_error(capsys, ["validate", str(path)], "device.bad\\nkey: Extra inputs")


def test_memory_budget_below_every_model_of_an_app(tmp_path, capsys):
    path = write_world(tmp_path, {**GOOD, "device": {"name": "dev", "memory_mb": 0.5}},
                       {"n": PROF})  # the only model has 1 MB of weights
    _one_line_error(capsys, ["validate", str(path)],
                    "device.memory_mb: 0.5 MB holds no model of apps[0] ('a', n): the smallest "
                    "needs 1 MB (weights and peak activations)")


def test_deeply_nested_sweep_and_override_values(tmp_path, capsys):
    deep = tmp_path / "deep.sweep.yaml"
    deep.write_text("scenario: " + "[" * 5000 + "]" * 5000 + "\n")
    _one_line_error(capsys, ["sweep", str(deep), "--out", str(tmp_path / "o")],
                    "nested too deeply to be a sweep")
    path = write_world(tmp_path, GOOD, {"n": PROF})
    _one_line_error(capsys, ["run", str(path), "--quiet", "--set", "seed=" + "[" * 5000],
                    "--set seed=...: the value is nested too deeply")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"family": "x", \xff}')
    _one_line_error(capsys, ["validate", str(bad)], "not UTF-8 text (byte 16)")


def test_compare_seeds_are_bounded(tmp_path, capsys):
    path = write_world(tmp_path, GOOD, {"n": PROF})
    for n in ("0", "100000"):
        _one_line_error(capsys, ["compare", str(path), "--seeds", n, "--quiet", "--out",
                                 str(tmp_path / "o")], f"--seeds: expected 1 to 1000 seeds, got {n}")

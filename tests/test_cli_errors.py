"""Broken scenario and profile files: exit code 2 and one line naming file and field."""

from __future__ import annotations

import pytest
import yaml
from enginekit import write_world
from synthetic import make_profile

from sim.cli import main

PROF = make_profile("n", [("d0", 1_000_000, 5.0, 0.6), ("d1", 2_000_000, 9.0, 0.7)])
GOOD = {"duration_s": 2, "apps": [{"name": "a", "family": "n", "fps": 10}],
        "events": [{"t": 0, "action": "launch", "app": "a"}],
        "schedulers": [{"name": "nestdnn-mintotal"}]}


def _edit(d: dict, path: str, value) -> dict:
    d = yaml.safe_load(yaml.safe_dump(d))
    keys = path.split(".")
    node = d
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    last = keys[-1]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return d


_DELETE = object()

# (case id, edit applied to a good scenario: (key path, new value), text the error must hold)
CASES = [
    ("missing-duration", ("duration_s", _DELETE), "duration_s"),
    ("typo-key", ("durration_s", 3), "durration_s"),
    ("negative-fps", ("apps.0.fps", -1), "apps[0].fps"),
    ("floor-above-one", ("apps.0.accuracy_floor", 1.5), "apps[0].accuracy_floor"),
    ("unknown-event-app", ("events.0.app", "ghost"), "unknown app 'ghost'"),
    ("bad-action", ("events.0.action", "explode"), "events[0].action"),
    ("no-profile", ("apps.0.family", "resnet-nope"), "apps[0].family"),
    ("load-too-high", ("device.background_load", 1.2), "background_load"),
    ("bad-trace-kind", ("device.background_load", {"kind": "sine"}), "background_load"),
    ("missing-csv", ("device.background_load", {"kind": "csv", "path": "nope.csv"}), "nope.csv"),
    ("unknown-scheduler", ("schedulers.0.name", "magic"), "unknown scheduler 'magic'"),
    ("bad-scheduler-param", ("schedulers.0.params", {"alhpa": 2}), "nestdnn-mintotal"),
    ("memory-negative", ("device.memory_mb", -5), "device.memory_mb"),
    ("priority-zero-value", ("events.0", {"t": 0, "action": "priority", "app": "a"}), "value"),
]


@pytest.mark.parametrize("case,edit,needle", CASES, ids=[c[0] for c in CASES])
def test_broken_scenario_exit_2_one_line(tmp_path, capsys, case, edit, needle):
    path = write_world(tmp_path, GOOD, {"n": PROF})
    raw = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump(_edit(raw, *edit)))
    for cmd in (["validate", str(path)], ["run", str(path), "--quiet", "--out", str(tmp_path / "o")]):
        code = main(cmd)
        err = capsys.readouterr().err.strip()
        assert code == 2, (cmd, err)
        assert len(err.splitlines()) == 1, err
        assert "scenario.yaml" in err and needle in err, err
        assert "Traceback" not in err


def test_yaml_syntax_and_shape_errors(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    assert main(["validate", str(bad)]) == 2
    assert "bad.yaml" in capsys.readouterr().err
    bad.write_text("- a\n- b\n")
    assert main(["run", str(bad)]) == 2
    assert "expected a mapping" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "missing.yaml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_broken_profile_named_by_scenario(tmp_path, capsys):
    path = write_world(tmp_path, GOOD, {"n": PROF})
    prof = tmp_path / "profiles" / "dev" / "n.json"
    prof.write_text(prof.read_text().replace('"top1": 0.6', '"top1": 6'))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "n.json" in err and "top1" in err and len(err.strip().splitlines()) == 1


def test_good_scenario_validates_and_runs(tmp_path, capsys):
    path = write_world(tmp_path, GOOD, {"n": PROF})
    assert main(["validate", str(path)]) == 0
    assert main(["run", str(path), "--quiet", "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "nestdnn-mintotal" / "metrics.json").exists()

"""Every command that writes, fed hostile names in every file it reads, writes nothing
outside its output folder: each command runs in a sandbox whose files are listed before and
after, and every new file must lie under the output folder (or nothing is written at all).

Names that become paths: scheduler labels (scenario, a run's metrics.json), device, server
and family names (scenario, profile), sweep grid values, source device keys of an import,
and the --family/--device of profile."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from enginekit import write_world
from figurekit import quick_and_closed  # noqa: F401 (autouse fixture)
from synthetic import make_profile

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ("../../escape", "../../../../../tmp/escape", "/tmp/escape", "a/../../b", "..")
PROF = make_profile("p", [("small", 1000, 5.0, 0.6), ("big", 2000, 20.0, 0.8)])


def _tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def _only_under(box: Path, out: Path, before: set[Path]) -> None:
    new = _tree(box) - before
    stray = sorted(str(p) for p in new if out not in p.parents and p != out)
    assert stray == [], stray
    assert not Path("/tmp/escape").exists() and not Path("/tmp/escape.png").exists()


def _world(box: Path, **changes: object) -> Path:
    scenario = {
        "name": "walk", "duration_s": 1,
        "schedulers": [{"name": "agnostic", "label": "small", "params": {"model": "smallest"}}],
        "apps": [{"name": "a", "family": "p", "fps": 10}],
        "events": [{"t": 0, "action": "launch", "app": "a"}]}
    scenario.update(changes)
    return write_world(box, scenario, {"p": PROF})


def _run(box: Path, out: Path, *argv: str) -> int:
    before = _tree(box)
    code = main(list(argv))
    _only_under(box, out, before)
    return code


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("field", ["label", "device", "family", "server"])
def test_run_and_compare_refuse_a_hostile_name(tmp_path: Path, name: str, field: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    changes: dict[str, object] = {
        "label": {"schedulers": [{"name": "agnostic", "label": name}]},
        "device": {"device": {"name": name, "memory_mb": 1000}},
        "family": {"apps": [{"name": "a", "family": name, "fps": 10}]},
        "server": {"server": {"name": name}, "network": {"bandwidth_mbps": 1.0}},
    }[field]
    path = _world(tmp_path, **changes)
    out = tmp_path / "out"
    for cmd in ("run", "compare"):
        extra = ["--no-plots"] if cmd == "compare" else []
        assert _run(tmp_path, out, cmd, str(path), "--out", str(out), "--quiet", *extra) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err


@pytest.mark.parametrize("name", HOSTILE)
def test_sweep_over_hostile_grid_values(tmp_path: Path, name: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    scen = _world(tmp_path)
    sweep = tmp_path / "walk.sweep.yaml"
    sweep.write_text(yaml.safe_dump({"scenario": scen.name, "seeds": 1,
                                     "grid": {"schedulers[0].label": ["small", name],
                                              "device.name": [name]}}))
    out = tmp_path / "sw"
    _run(tmp_path, out, "sweep", str(sweep), "--out", str(out), "--workers", "1")
    capsys.readouterr()


@pytest.mark.parametrize("name", HOSTILE)
def test_plot_report_and_emulate_on_a_run_with_a_hostile_label(
        tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    box = tmp_path / "box"
    box.mkdir()
    out = box / "a" / "b" / "c" / "out"
    assert main(["run", str(_world(box)), "--out", str(out), "--quiet"]) == 0
    metrics = out / "small" / "metrics.json"
    metrics.write_text(json.dumps({**json.loads(metrics.read_text()), "scheduler": name}))
    _run(box, out, "plot", str(out), "--format", "png")
    _run(box, out, "report", str(out))
    assert _run(box, out / "small", "emulate", str(out / "small"), "--quiet") == 2
    capsys.readouterr()


@pytest.mark.parametrize("name", HOSTILE)
def test_import_with_hostile_source_device_keys(tmp_path: Path, name: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "tests/data/published/ofa", src)
    doc = json.loads((src / "specialized_subnets.json").read_text())
    for entry in doc["subnets"]:
        entry["device"] = name
    (src / "specialized_subnets.json").write_text(json.dumps(doc))
    out = tmp_path / "profiles"
    _run(tmp_path, out, "import", "ofa", "--src", str(src), "--out", str(out))
    capsys.readouterr()


@pytest.mark.parametrize("name", HOSTILE)
def test_profile_with_a_hostile_family_or_device(tmp_path: Path, name: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "profiles"
    for args in (["--family", name, "--device", "dev"], ["--family", "nestdnn-vgg", "--device",
                                                         name, "--checkpoints",
                                                         str(tmp_path / "none")]):
        with pytest.raises(SystemExit) as exc:  # argparse refuses it, with its usage line
            _run(tmp_path, out, "profile", *args, "--out", str(out / "x.json"), "--quiet")
        assert exc.value.code == 2
        assert "becomes a file or folder name" in capsys.readouterr().err
        assert _tree(tmp_path) == set()

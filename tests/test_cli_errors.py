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


# -- command plug-ins (mvsched.commands entry points) ------------------------------------------
class _FakeEntryPoint:
    """Duck-typed entry point: what sim.cli.plugin_commands reads (name, value, group, dist, load)."""

    group = "mvsched.commands"

    def __init__(self, name, value, obj=None, exc=None, requires=None):
        self.name, self.value, self._obj, self._exc = name, value, obj, exc
        self.dist = None if requires is None else type("Dist", (), {"requires": requires})()

    def load(self):
        if self._exc is not None:
            raise self._exc
        return self._obj


def _install(monkeypatch, *eps):
    import sim.cli.plugin_commands

    monkeypatch.setattr(sim.cli.plugin_commands, "entry_points",
                        lambda group: list(eps) if group == "mvsched.commands" else [])


def _add_hello(sub):
    p = sub.add_parser("hello", help="say hello")
    p.set_defaults(func=lambda args: print("hello") or 0)


def test_a_command_plugin_adds_its_commands(monkeypatch, capsys):
    _install(monkeypatch, _FakeEntryPoint("greet", "greet:add", obj=_add_hello))
    assert main(["hello"]) == 0
    assert capsys.readouterr().out == "hello\n"


def _add_broken(sub):
    raise KeyError("help")


BROKEN_COMMANDS = [
    (_FakeEntryPoint("greet", "greet:add", exc=ModuleNotFoundError("No module named 'greetlib'",
                                                                  name="greetlib")),
     "mvsched.commands: 'greet = greet:add': cannot be imported: ModuleNotFoundError: "
     "No module named 'greetlib'"),
    (_FakeEntryPoint("greet", "greet:ADD", obj=3),
     "mvsched.commands: 'greet = greet:ADD': not callable (got int)"),
    (_FakeEntryPoint("greet", "greet:add", obj=_add_broken),
     "mvsched.commands: 'greet = greet:add': failed adding its commands: KeyError: 'help'"),
]


@pytest.mark.parametrize(("ep", "line"), BROKEN_COMMANDS, ids=["import", "not-callable", "raises"])
def test_a_broken_command_plugin_warns_or_refuses_in_one_line(monkeypatch, capsys, tmp_path,
                                                              ep, line):
    _install(monkeypatch, ep)
    assert main(["schedulers"]) == 0  # another command still runs, with a warning
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {line}") and len(err.strip().splitlines()) == 1, err
    assert main(["hello", "--x"]) == 2  # the command asked for may be the plug-in's
    err = capsys.readouterr().err
    assert err.startswith("error: unknown command 'hello'; a command plug-in failed to load: "
                          f"{line}") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_a_missing_optional_extra_is_quiet_until_asked_for(monkeypatch, capsys):
    ep = _FakeEntryPoint("models", "models.cli:add_subcommands",
                         exc=ModuleNotFoundError("No module named 'torch'", name="torch"),
                         requires=["numpy>=1.24", "torch>=2.2; extra == \"models\""])
    _install(monkeypatch, ep)
    assert main(["schedulers"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["train", "--family", "nestdnn-vgg"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("No module named 'torch' (pip install 'mvsched[models]')"), err
    assert len(err.splitlines()) == 1


def test_models_commands_come_from_the_entry_point():
    from importlib.metadata import entry_points

    pytest.importorskip("torch")
    [ep] = [e for e in entry_points(group="mvsched.commands") if e.name == "models"]
    assert ep.value == "models.cli:add_subcommands"
    from sim.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {"train", "profile", "emulate", "import", "run"} <= set(sub.choices)

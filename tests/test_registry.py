"""Scheduler and model family registries: names, errors that list the known ones, and
third-party entry points checked as they load (one line naming the entry point, no traceback).

Entry points are real ``importlib.metadata.EntryPoint`` objects pointing at a module written
into a temporary folder; only the listing of the group is faked.
"""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint

import pytest

import sim.common.plugins
from sim.cli import main
from sim.common.plugins import Registry
from sim.schedulers import (
    Plan,
    Scheduler,
    SchedulerError,
    create_scheduler,
    get_scheduler,
    list_scheduler_problems,
    list_schedulers,
    register_scheduler,
)
from sim.schedulers.registry import SCHEDULERS

PLUGINS = '''
from sim.schedulers import Plan, Scheduler


class Good(Scheduler):
    """A third-party scheduler."""

    def __init__(self, knob: int = 1):
        self.knob = knob

    def decide(self, view):
        return Plan({})


class NotAScheduler:
    pass


class Abstract(Scheduler):
    """Forgot decide."""


class Named(Good):
    name = "something-else"
'''


@pytest.fixture
def entry_points(monkeypatch, tmp_path):
    """``install(registry, [(name, "module:attr"), ...])``: those become the registry's entry
    point group, its state is restored afterwards."""
    (tmp_path / "fake_plugins.py").write_text(PLUGINS)
    (tmp_path / "broken_plugin.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    saved: list[tuple[Registry, dict]] = []

    def install(registry: Registry, eps: list[tuple[str, str]]) -> None:
        saved.append((registry, dict(registry.classes)))
        monkeypatch.setattr(registry, "_loaded", False)
        monkeypatch.setattr(registry, "problems", {})
        monkeypatch.setattr(sim.common.plugins, "entry_points", lambda group: [
            EntryPoint(n, v, group) for n, v in eps] if group == registry.group else [])

    yield install
    for registry, classes in saved:
        registry.classes.clear()
        registry.classes.update(classes)
    for mod in ("fake_plugins", "broken_plugin", "fake_families"):
        sys.modules.pop(mod, None)


def test_builtins_registered():
    assert {"agnostic", "nestdnn-mintotal", "nestdnn-minmax"} <= set(list_schedulers())
    assert get_scheduler("agnostic").name == "agnostic"


def test_unknown_name_lists_known():
    with pytest.raises(SchedulerError, match="known: .*agnostic"):
        create_scheduler("nope")


def test_entry_point_plugin_registers(entry_points):
    entry_points(SCHEDULERS, [("third-party", "fake_plugins:Good")])
    assert "third-party" in list_schedulers()
    s = create_scheduler("third-party", knob=3)
    assert s.knob == 3 and s.params() == {"knob": 3} and type(s).name == "third-party"
    assert list_scheduler_problems() == []


def test_a_plugin_imported_before_the_first_lookup_is_no_builtin(entry_points):
    """A notebook imports the plug-in (its decorator registers it), then its installed
    entry point is loaded: the same class under the same name, not a clash."""
    entry_points(SCHEDULERS, [("third-party", "fake_plugins:Good")])
    import fake_plugins
    register_scheduler("third-party")(fake_plugins.Good)
    assert "third-party" in list_schedulers()
    assert list_scheduler_problems() == []


BROKEN = [
    ("nope", "fake_plugins:NotAScheduler", "not a Scheduler subclass"),
    ("abstract", "fake_plugins:Abstract", "does not implement decide"),
    ("renamed", "fake_plugins:Named", "declares name 'something-else', registered as 'renamed'"),
    ("gone", "broken_plugin:Cls",
     "cannot be imported: ModuleNotFoundError: No module named 'no_such_dependency_xyz'"),
    ("typo", "fake_plugins:NoSuchClass", "cannot be imported: AttributeError"),
    ("agnostic", "fake_plugins:Good", "clashes with the built-in scheduler 'agnostic'"),
]


@pytest.mark.parametrize(("name", "value", "why"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_plugin_is_one_line_naming_its_entry_point(entry_points, name, value, why):
    entry_points(SCHEDULERS, [(name, value), ("fine", "fake_plugins:Good")])
    assert "fine" in list_schedulers()
    [problem] = list_scheduler_problems()
    assert problem.startswith(f"mvsched.schedulers: '{name} = {value}': {why}"), problem
    assert "\n" not in problem
    if name == "agnostic":  # the built-in stays
        assert get_scheduler("agnostic").__module__ == "sim.schedulers.builtin.agnostic"
        return
    assert name not in list_schedulers()
    with pytest.raises(SchedulerError) as info:
        create_scheduler(name)
    assert str(info.value) == problem


def test_the_schedulers_command_warns_and_still_lists(entry_points, capsys):
    entry_points(SCHEDULERS, [("nope", "fake_plugins:NotAScheduler"),
                              ("third-party", "fake_plugins:Good")])
    assert main(["schedulers"]) == 0
    out, err = capsys.readouterr()
    assert "third-party" in out and "agnostic" in out and "Traceback" not in err
    assert err.strip() == ("warning: mvsched.schedulers: 'nope = fake_plugins:NotAScheduler': "
                           "not a Scheduler subclass")


def test_decorator_bare_or_named_and_twice_refused(entry_points):
    entry_points(SCHEDULERS, [])

    class Mine(Scheduler):
        """Mine."""

        name = "mine-bare"

        def decide(self, view):
            return Plan({})

    assert register_scheduler(Mine) is Mine and get_scheduler("mine-bare") is Mine

    class Other(Mine):
        """Other."""

        def decide(self, view):
            return Plan({})

    with pytest.raises(SchedulerError, match="'agnostic' registered twice"):
        register_scheduler("agnostic")(Other)
    with pytest.raises(SchedulerError, match="not a Scheduler subclass"):
        register_scheduler("plain")(int)


FAMILIES = '''
from models.registry import Family


class NoKind(Family):
    def train(self, data, ckpt_dir, *, progress=True):
        pass

    def build_profile(self, data, ckpt_dir, settings):
        raise NotImplementedError


class Fine(NoKind):
    kind = "fixed"
'''


def test_families_load_the_same_way(entry_points, tmp_path):
    pytest.importorskip("torch")
    from models.registry import (
        FAMILIES as REGISTRY,
    )
    from models.registry import (
        ModelsUserError,
        create_family,
        family_class,
        get_family,
        list_families,
        list_family_problems,
    )

    (tmp_path / "fake_families.py").write_text(FAMILIES)
    entry_points(REGISTRY, [("my-fam", "fake_families:Fine"), ("kindless", "fake_families:NoKind"),
                            ("nestdnn-vgg", "fake_families:Fine")])
    assert "my-fam" in list_families() and get_family("my-fam") is family_class("my-fam")
    assert create_family("my-fam", scale="tiny").name == "my-fam"
    assert list_family_problems() == [
        "mvsched.families: 'kindless = fake_families:NoKind': lacks required attribute 'kind'",
        "mvsched.families: 'nestdnn-vgg = fake_families:Fine': clashes with the built-in "
        "model family 'nestdnn-vgg'",
    ]
    with pytest.raises(ModelsUserError, match="^mvsched.families: 'kindless = "):
        create_family("kindless")
    with pytest.raises(ModelsUserError, match="unknown model family 'x'; known: .*nestdnn-vgg"):
        get_family("x")

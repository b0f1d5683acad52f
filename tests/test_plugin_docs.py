"""The README's "Your own scheduler" holds: its plug-in file passes the contract checks and
runs through the Python API, its field table is the one the code generates, its import paths
are the public ones, and what it says about the command line is what happens: a
decorator-only scheduler is unknown to ``mvsched``, the entry point it shows makes it known.

The entry point is installed as pip would record it (a ``dist-info`` folder on the path of a
child ``mvsched`` process), from the README's own ``pyproject.toml`` block.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_docs import _blocks, doc_files, doc_packages  # noqa: F401 (a fixture)

import sim
import sim.schedulers
from sim.runner import run_scenario
from sim.schedulers import AppPlan, Plan
from sim.schedulers.checks import check_scheduler, contract_views
from sim.schedulers.view_table import CLASSES, field_docs, markdown_table

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("### Your own scheduler\n")[1].split("\n### ")[0]
PLUGIN = "mypkg/equal_fit.py"
NAME = "equal-fit"
PUBLIC = ("AppPlan", "AppView", "Plan", "Scheduler", "SystemView", "register_scheduler")


def test_the_field_table_in_the_readme_is_the_generated_one():
    found = re.search(r"<!-- view-fields:start -->\n(.*?)<!-- view-fields:end -->", README,
                      re.S)
    assert found and found.group(1) == markdown_table(), (
        "README.md's view field table is stale: regenerate it with "
        "`python -m sim.schedulers.view_table`")


def test_the_table_lists_every_field_of_the_views_and_plans():
    table = markdown_table()
    for cls in CLASSES:
        for f in dataclasses.fields(cls):
            assert f"| `{cls.__name__}` | `{f.name}` |" in table


def test_a_field_without_a_docstring_is_refused():
    @dataclasses.dataclass
    class Half:
        documented: int
        """has one"""
        bare: str

    with pytest.raises(ValueError, match="Half: field.* bare lack"):
        field_docs(Half)
    assert field_docs(CLASSES[0])["time_s"] == "simulated time of the decision, in s"


def test_the_plugin_interface_imports_from_sim_and_sim_schedulers():
    for name in PUBLIC:
        assert name in sim.schedulers.__all__ and name in sim.__all__
        assert getattr(sim, name) is getattr(sim.schedulers, name)
    with pytest.raises(AttributeError):
        sim.no_such_name  # noqa: B018


def test_the_plugin_file_imports_with_full_paths_only_public_names():
    tree = ast.parse(doc_files()[PLUGIN])
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert imports and all(isinstance(n, ast.ImportFrom) and n.level == 0 for n in imports)
    for node in imports:
        module = importlib.import_module(node.module or "")
        for alias in node.names:
            assert alias.name in getattr(module, "__all__", ()), (node.module, alias.name)
    assert "from sim.schedulers import" in SECTION and "from sim.schedulers.checks import" in SECTION


@pytest.mark.usefixtures("doc_packages")
def test_the_plugin_passes_the_contract_and_runs(monkeypatch):
    from mypkg.equal_fit import EqualFit

    assert EqualFit.name == NAME and EqualFit.kinds == frozenset({"multi_capacity"})
    assert check_scheduler(NAME) == check_scheduler(EqualFit)
    view = contract_views(EqualFit.kinds)["six-apps"]
    plan = EqualFit().decide(view)
    assert isinstance(plan, Plan) and len(plan.apps) == 6
    assert all(isinstance(p, AppPlan) and p.share == pytest.approx(1 / 6)
               for p in plan.apps.values())
    monkeypatch.chdir(ROOT)  # the mapping's profiles_dir is relative to the working folder
    results = run_scenario({
        "name": "plugin-doc", "duration_s": 20, "profiles_dir": "profiles",
        "schedulers": [{"name": NAME}],
        "device": {"name": "cpu-1t", "memory_mb": 30},
        "apps": [{"name": "a", "family": "nestdnn-vgg", "fps": 10},
                 {"name": "b", "family": "nestdnn-resnet", "fps": 10, "priority": 2}],
        "events": [{"t": 0, "action": "launch", "app": "a"},
                   {"t": 5, "action": "launch", "app": "b"}],
    })
    (res,) = results
    overall = res.metrics["overall"]
    assert res.label == NAME and overall["processed"] > 0 and overall["refused_plans"] == 0


TINY = """name: tiny
duration_s: 20
profiles_dir: {profiles}
schedulers: [{{name: agnostic}}]
device: {{name: cpu-1t, memory_mb: 30}}
apps: [{{name: a, family: nestdnn-vgg, fps: 10}}]
events: [{{t: 0, action: launch, app: a}}]
"""


def _readme_toml() -> dict:
    (body,) = [b for lang, b in _blocks(SECTION) if lang == "toml"]
    return tomllib.loads(body)


def _mvsched(site: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-m", "sim.cli", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_decorator_only_plugin_is_unknown_to_the_cli_until_its_entry_point_is_installed(
        tmp_path):
    site = tmp_path / "site"
    (site / "mypkg").mkdir(parents=True)
    (site / "mypkg" / "__init__.py").touch()
    (site / PLUGIN).write_text(doc_files()[PLUGIN], encoding="utf-8")
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY.format(profiles=ROOT / "profiles"), encoding="utf-8")
    run = ("run", str(scenario), "--scheduler", NAME, "--quiet", "--out", str(tmp_path / "runs"))

    listed = _mvsched(site, "schedulers")
    assert listed.returncode == 0 and NAME not in listed.stdout + listed.stderr
    unknown = _mvsched(site, *run)
    assert unknown.returncode == 2 and f"unknown scheduler '{NAME}'" in unknown.stderr

    project = _readme_toml()["project"]
    eps = project["entry-points"]["mvsched.schedulers"]
    assert eps == {NAME: "mypkg.equal_fit:EqualFit"}
    info = site / f"{project['name']}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\n"
                                   f"Version: {project['version']}\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[mvsched.schedulers]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()),
        encoding="utf-8")

    listed = _mvsched(site, "schedulers")
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    assert re.search(rf"^{NAME}\s+Equal shares", listed.stdout, re.M), listed.stdout
    ran = _mvsched(site, *run)
    assert ran.returncode == 0, ran.stderr
    checked = subprocess.run([sys.executable, "-m", "sim.schedulers.checks", NAME], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True,
                             text=True, timeout=300)
    assert checked.returncode == 0 and checked.stdout.startswith(f"ok   {NAME} "), checked
    assert (tmp_path / "runs" / NAME / "metrics.json").is_file()

"""Architecture kept visible: no import cycles in sim/ and models/, sim/ never reaches models/ or
torch, the layers import only downwards (schedulers never reach the engine, results,
benchmarks, presentation or command line; presentation never reaches the engine; only the
command lines import presentation), and every declared dependency is imported somewhere.

Imports are read from the source with ``ast`` (module level, function level and
``TYPE_CHECKING`` blocks alike), so a cycle hidden inside a function still counts.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sim", "models")
IMPORT_NAMES = {"pyyaml": ("yaml",), "scikit-learn": ("sklearn",), "scikit-image": ("skimage",),
                "dask": ("dask", "distributed"), "pytest": ("pytest", "_pytest")}
"""distribution name -> the top-level names it is imported by (default: the name itself)"""
COMMAND_LINE_TOOLS = {"ruff", "mypy"}
"""test extras run as commands (``ruff check .``, ``mypy``), never imported"""


def _modules() -> dict[str, Path]:
    found = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imported(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """(absolute dotted name, line) of everything ``module`` imports, anywhere in its source;
    ``from pkg import name`` gives ``pkg.name`` when that is a module of ours, else ``pkg``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield (sub if sub in MODULES else target), node.lineno


def _ours(name: str) -> str | None:
    """The most specific module of ours that importing ``name`` runs."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of ours it imports."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        graph[module] = {m for name, _ in _imported(module, path)
                         if (m := _ours(name)) is not None and m != module}
    return graph


def test_the_graph_sees_relative_function_level_and_submodule_imports():
    graph = import_graph()
    assert "sim.schedulers.base" in graph["sim.schedulers"]  # from sim.schedulers.base import
    assert "sim.runner" in graph["sim.cli.main"]  # inside a function
    assert "models.registry" in graph["models.nestdnn.family"]
    assert len(graph) == len(MODULES) > 50


def test_no_import_cycles():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as exc:
        # graphlib lists the cycle from importee to importer
        pytest.fail(f"import cycle (each imports the next): {' -> '.join(exc.args[1][::-1])}")


def test_a_cycle_is_named():
    with pytest.raises(CycleError) as info:
        TopologicalSorter({"a": {"b"}, "b": {"c"}, "c": {"a"}}).prepare()
    assert set(info.value.args[1]) == {"a", "b", "c"}


def test_sim_never_imports_models_or_torch():
    bad = [f"{path.relative_to(ROOT)}:{line}: imports {name}"
           for module, path in MODULES.items() if module.split(".")[0] == "sim"
           for name, line in _imported(module, path)
           if name.split(".")[0] in ("models", "torch", "torchvision")]
    assert not bad, "; ".join(bad)


def _reached(graph: dict[str, set[str]], module: str) -> dict[str, list[str]]:
    """Every module ``module`` imports, directly or through others: name -> the import chain
    that gets there (``module`` first)."""
    chains = {module: [module]}
    todo = [module]
    while todo:
        here = todo.pop()
        for nxt in sorted(graph.get(here, ())):
            if nxt not in chains:
                chains[nxt] = [*chains[here], nxt]
                todo.append(nxt)
    del chains[module]
    return chains


def _inside(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _reaching(sources: tuple[str, ...], targets: tuple[str, ...]) -> list[str]:
    """One line per module of ``sources`` that reaches a module of ``targets``, with the
    chain of imports."""
    graph = import_graph()
    bad = []
    for module in sorted(graph):
        if not _inside(module, sources):
            continue
        for name, chain in sorted(_reached(graph, module).items()):
            if _inside(name, targets):
                bad.append(" -> ".join(chain))
                break
    return bad


SCHEDULERS_NEVER_REACH = ("sim.engine", "sim.results", "sim.bench", "sim.present", "sim.cli",
                          "sim.runner")
"""What a scheduler must not import, directly or through another module: it sees a
SystemView and returns a Plan, whatever runs it, keeps its results or shows them."""
COMMAND_LINES = ("sim.cli", "models.cli")
"""The command lines, the only importers of sim.present outside it: ``mvsched`` (sim.cli) and
the model commands it loads as plug-ins (``mvsched train/profile/emulate``, models.cli)."""


def test_the_layer_rules_see_an_import_through_another_module():
    graph = {"a": {"b"}, "b": {"c"}, "c": set()}
    assert _reached(graph, "a") == {"b": ["a", "b"], "c": ["a", "b", "c"]}
    assert _inside("sim.cli.main", ("sim.cli",)) and not _inside("sim.client", ("sim.cli",))
    assert _reaching(("sim.schedulers",), ("sim.schedulers.base",))  # contract imports base


def test_schedulers_never_reach_the_engine_results_bench_present_or_cli():
    bad = _reaching(("sim.schedulers",), SCHEDULERS_NEVER_REACH)
    assert not bad, "; ".join(bad)


def test_presentation_never_reaches_the_engine():
    bad = _reaching(("sim.present",), ("sim.engine",))
    assert not bad, "; ".join(bad)


def test_only_the_command_lines_import_presentation():
    bad = [f"{MODULES[module].relative_to(ROOT)}:{line}: imports {name}"
           for module in sorted(MODULES)
           if not _inside(module, ("sim.present", *COMMAND_LINES))
           for name, line in _imported(module, MODULES[module])
           if _inside(name, ("sim.present",))]
    assert not bad, "; ".join(bad)


def test_the_engine_and_the_checks_share_one_plan_contract():
    graph = import_graph()
    for user in ("sim.engine.world", "sim.schedulers.checks", "sim.runner"):
        assert "sim.schedulers.contract" in graph[user], user


def _requirement_name(req: str) -> str:
    return re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0].lower()


def _top_level_imports() -> set[str]:
    names = set()
    for folder in ("sim", "models", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names


def test_every_declared_dependency_is_imported():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *(r for reqs in project["optional-dependencies"].values()
                                            for r in reqs)]
    imported = _top_level_imports()
    unused = [req for req in declared if _requirement_name(req) not in COMMAND_LINE_TOOLS
              and not set(IMPORT_NAMES.get(_requirement_name(req), (_requirement_name(req),)))
              & imported]
    assert not unused, f"declared in pyproject.toml but imported nowhere: {unused}"


def test_the_cli_starts_without_torch() -> None:
    """Building the whole parser (plug-in commands included) and validating a scenario
    import no torch: only train, profile and emulate need it, when they run."""
    import subprocess
    import sys
    code = ("import sys\nfrom sim.cli.main import build_parser, main\nbuild_parser()\n"
            "rc = main(['validate', 'scenarios/default.yaml'])\n"
            "assert rc == 0, rc\nassert 'torch' not in sys.modules, 'torch imported'\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

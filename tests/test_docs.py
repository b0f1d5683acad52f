"""What users read is checked: the docs' ``mvsched`` command lines parse with the real parser
(an option that no longer exists fails here), their Python blocks run, every option has help
without raw markup, and printed results fit in 100 columns with wall-clock figures apart.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

import pytest
from enginekit import write_world
from test_cli_errors import GOOD, PROF

from sim.cli.main import build_parser, main
from sim.present.table import ABBREVIATIONS, WIDTH, format_results

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", "scenarios/README.md", "profiles/README.md")
SHELL_LANGS = ("", "sh", "bash", "console", "shell")


def _blocks(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced block, and of indented blocks (language "")."""
    fenced = [(m[1].strip(), m[2]) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.M | re.S)]
    outside = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    indented = [("", m[0]) for m in re.finditer(r"(?:^\n)((?: {4}\S.*\n)+)", outside, re.M)]
    return fenced + indented


def _command_lines() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for lang, body in _blocks((ROOT / doc).read_text(encoding="utf-8")):
            if lang not in SHELL_LANGS or "▶" in body:  # a diagram, not commands
                continue
            for line in body.splitlines():
                for part in line.split("#")[0].split("&&"):
                    if part.strip().startswith("mvsched "):
                        found.append((doc, part.strip()))
    return found


COMMANDS = _command_lines()


def _concrete(line: str) -> list[str]:
    """Usage notation made concrete: ``[opt]`` kept, ``a|b`` the first, ``...`` dropped."""
    words = []
    for w in shlex.split(line.replace("[", " ").replace("]", " "))[1:]:
        if w != "...":
            words.append(w.split("|")[0] if "|" in w and not w.startswith("-") else w)
    return words


def test_the_docs_hold_commands():
    assert len(COMMANDS) >= 15 and {d for d, _ in COMMANDS} >= {"README.md"}


@pytest.mark.parametrize(("doc", "line"), COMMANDS, ids=[f"{d}:{c}" for d, c in COMMANDS])
def test_a_documented_command_parses(doc, line, monkeypatch):
    argv = _concrete(line)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{doc}: {line!r} does not parse (exit {exc.code})")
    assert callable(args.func)
    monkeypatch.chdir(ROOT)
    for before, w in zip(["", *argv], argv):  # shipped inputs the command names exist
        if before not in ("--out", "--json") and re.fullmatch(r"(scenarios|profiles)/[\w./-]+\.(yaml|json)", w):
            assert Path(w).exists(), f"{doc}: {line!r} names {w}, which is missing"


def test_a_removed_option_would_fail():
    with pytest.raises(SystemExit):
        build_parser().parse_args(_concrete("mvsched run scenarios/default.yaml --no-such"))


def _python_blocks() -> list[tuple[str, str]]:
    return [(doc, body) for doc in DOCS
            for lang, body in _blocks((ROOT / doc).read_text(encoding="utf-8"))
            if lang == "python"]


FILE_LINE = re.compile(r"# ((?:\w+/)+\w+\.py)\n")
"""a Python block whose first line is ``# pkg/module.py`` is that file of a package"""


def doc_files() -> dict[str, str]:
    """Package path -> source of every Python block the docs present as a file."""
    return {m[1]: code for _, code in _python_blocks() if (m := FILE_LINE.match(code))}


@pytest.fixture
def doc_packages(tmp_path, monkeypatch):
    """The docs' files as importable packages (the other blocks import them); the schedulers
    they register and their modules are forgotten afterwards."""
    from sim.schedulers.registry import SCHEDULERS

    for rel, code in doc_files().items():
        path = tmp_path / rel
        for folder in path.relative_to(tmp_path).parents:
            (tmp_path / folder).mkdir(parents=True, exist_ok=True)
            if folder != Path("."):
                (tmp_path / folder / "__init__.py").touch()
        path.write_text(code, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    SCHEDULERS.load()
    saved = dict(SCHEDULERS.classes)
    yield
    SCHEDULERS.classes.clear()
    SCHEDULERS.classes.update(saved)
    tops = {rel.split("/")[0] for rel in doc_files()}
    for mod in [m for m in sys.modules if m.split(".")[0] in tops]:
        del sys.modules[mod]


@pytest.mark.parametrize(("doc", "code"), _python_blocks())
def test_a_documented_python_block_runs(doc, code, monkeypatch, doc_packages):
    monkeypatch.chdir(ROOT)
    exec(compile(code, f"{doc} python block", "exec"), {"__name__": "doc_example"})


def test_the_readme_shows_a_plugin_file_the_other_blocks_import():
    files = doc_files()
    assert "mypkg/equal_fit.py" in files
    assert any("from mypkg.equal_fit import" in code for _, code in _python_blocks())


def _actions(parser: argparse.ArgumentParser, path: str = "mvsched"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, f"{path} {name}")
        elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield path, action


ACTIONS = list(_actions(build_parser()))


@pytest.mark.parametrize(("path", "action"), ACTIONS,
                         ids=[f"{p} {a.option_strings or a.dest}" for p, a in ACTIONS])
def test_every_option_has_plain_help(path, action):
    name = "/".join(action.option_strings) or action.dest
    assert action.help and action.help != argparse.SUPPRESS, f"{path} {name}: no help"
    assert not re.search(r"`|\*\*|:mod:|:func:", action.help), f"{path} {name}: {action.help!r}"


def test_the_walk_sees_plugin_and_nested_options():
    names = {(p, o) for p, a in ACTIONS for o in a.option_strings}
    assert ("mvsched run", "--set") in names and ("mvsched sweep", "--executor") in names
    assert "`" not in (build_parser().description or "")


def test_results_fit_the_width_and_wall_clock_stands_apart():
    keys = ("scheduler", *ABBREVIATIONS)
    rows = [{"scheduler": f"scheduler-with-a-long-label-{i}",
             **{k: 123456.789 + i for k in keys[1:]}} for i in range(3)]
    text = format_results(rows, keys)
    assert max(len(line) for line in text.splitlines()) <= WIDTH, text
    metrics, wall = text.split("wall-clock (varies run to run):")
    assert "decision_ms_median" in wall and "dec_ms_med" not in metrics
    assert text.count("scheduler-with-a-long-label-0") >= 3  # split, label repeated
    assert "late = deadline_misses" in metrics


def _width(out: str) -> int:
    """The widest line, apart from the lines naming output paths (as long as the user's)."""
    return max(len(line) for line in out.splitlines()
               if not line.startswith(("results: ", "comparison: ", "plots: ")))


def _check_printed(out: str) -> None:
    assert _width(out) <= WIDTH, out
    assert not re.search(r"<\w+>|\{\w+\}", out), out
    metrics, wall = out.split("wall-clock (varies run to run):")
    assert "decision_ms_median" in wall and "decision_ms_median" not in metrics
    assert "key: acc = accuracy" in metrics


def test_run_and_compare_print_within_100_columns(tmp_path, capsys):
    path = write_world(tmp_path, GOOD, {"n": PROF})
    assert main(["run", str(path), "--quiet", "--out", str(tmp_path / "r")]) == 0
    _check_printed(capsys.readouterr().out)
    assert main(["compare", str(path), "--quiet", "--no-plots", "--seeds", "2",
                 "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    _check_printed(out.split("95% confidence")[0])
    assert _width(out) <= WIDTH, out

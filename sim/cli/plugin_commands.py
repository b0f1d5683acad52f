"""Subcommands from other packages: each entry point of the ``mvsched.commands`` group is a
callable ``add(subparsers)`` (``models = "models.cli:add_subcommands"`` adds train, profile
and emulate), so the simulator never imports them by name.

A plug-in that cannot be imported, is not callable or fails while adding its commands becomes
one line naming the entry point; :func:`sim.cli.main.main` prints it as a warning, or as the error
when the command asked for is missing. A plug-in whose import fails only because an optional
extra of its distribution is not installed (``mvsched[models]`` without torch) is quiet until
a missing command is asked for.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from sim.common.plugins import describe_entry_point, exception_line

__all__ = ["ENTRY_POINT_GROUP", "CommandProblem", "add_plugin_commands"]

ENTRY_POINT_GROUP = "mvsched.commands"


@dataclass(frozen=True)
class CommandProblem:
    """A command plug-in that added nothing: the one-line reason, and the extra to install
    when the reason is a missing optional dependency (None otherwise)."""

    line: str
    extra: str | None = None


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _missing_extra(ep: EntryPoint, exc: BaseException) -> str | None:
    """The extra of the entry point's distribution that declares the module that is missing."""
    missing = getattr(exc, "name", None) if isinstance(exc, ImportError) else None
    dist = getattr(ep, "dist", None)
    if not missing or dist is None:
        return None
    for req in dist.requires or ():
        m = re.match(r"\s*([A-Za-z0-9_.-]+).*;.*extra\s*==\s*['\"]([^'\"]+)['\"]", req)
        if m and _norm(m[1]) == _norm(missing.split(".")[0]):
            return m[2]
    return None


def add_plugin_commands(subparsers: argparse._SubParsersAction) -> list[CommandProblem]:  # type: ignore[type-arg]
    """Let every ``mvsched.commands`` entry point add its subcommands; the ones that could
    not, one problem each."""
    problems = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        where = describe_entry_point(ep)
        try:
            add = ep.load()
        except Exception as exc:  # plug-in code may raise anything while importing
            problems.append(CommandProblem(f"{where}: cannot be imported: {exception_line(exc)}",
                                           _missing_extra(ep, exc)))
            continue
        if not callable(add):
            problems.append(CommandProblem(f"{where}: not callable (got {type(add).__name__})"))
            continue
        try:
            add(subparsers)
        except Exception as exc:  # a clash with an existing command, a bug in the plug-in
            problems.append(CommandProblem(f"{where}: failed adding its commands: "
                                           f"{exception_line(exc)}"))
    return problems

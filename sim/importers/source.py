"""Strict readers for third-party source files.

Published data arrives in other people's formats. Every reader here fails with
:class:`ImportDataError` whose one-line message names the file, the key path and what was
expected, so a user who points ``mvsched import`` at the wrong folder sees what is wrong
without a traceback.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

__all__ = [
    "ImportDataError",
    "SourceFile",
    "load_json",
    "load_python_literal",
    "load_yaml",
    "slug",
]


class ImportDataError(ValueError):
    """A source file that is missing or not in the expected shape (message: file + field)."""


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise ImportDataError(f"{path}: file not found (expected a published source file here)")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ImportDataError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ImportDataError(f"{path}: cannot read ({exc.strerror})") from None


def load_json(path: Path) -> SourceFile:
    """Parse a JSON source file into a :class:`SourceFile` view."""
    text = _read_text(path)
    try:
        return SourceFile(path, json.loads(text))
    except json.JSONDecodeError as exc:
        raise ImportDataError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None


_SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TupleSafeLoader(_SAFE):  # type: ignore[misc,valid-type]
    """The safe loader plus ``!!python/tuple`` read as a plain list: files written by
    ``yaml.dump`` of Python tuples load without constructing arbitrary Python objects."""


_TupleSafeLoader.add_constructor(
    "tag:yaml.org,2002:python/tuple", lambda loader, node: loader.construct_sequence(node))


def load_yaml(path: Path, *, tuples: bool = False) -> SourceFile:
    """Parse a YAML source file into a :class:`SourceFile` view (``tuples``: accept the
    ``!!python/tuple`` tag, as a list; every other Python tag stays an error)."""
    text = _read_text(path)
    loader = _TupleSafeLoader if tuples else _SAFE
    try:
        return SourceFile(path, yaml.load(text, Loader=loader))  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        raise ImportDataError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None


def load_python_literal(path: Path, name: str) -> SourceFile:
    """The literal assigned to ``name`` at the top level of a Python source file, read with
    :mod:`ast` (never executed: the file is someone else's code)."""
    text = _read_text(path)
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise ImportDataError(f"{path}: not valid Python (line {exc.lineno}: {exc.msg})") from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                for t in node.targets):
            try:
                return SourceFile(path, ast.literal_eval(node.value))
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                raise ImportDataError(f"{path}: {name} (line {node.lineno}): expected a plain "
                                      "literal (numbers, strings, lists, dicts)") from None
    raise ImportDataError(f"{path}: expected a top-level assignment {name} = {{...}}")


def slug(key: str) -> str:
    """A safe folder/file name for a source's key: lower case, runs of anything but letters
    and digits become one ``-`` (``"LG G8/v2"`` -> ``"lg-g8-v2"``); empty -> ValueError."""
    out = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
    if not out:
        raise ValueError(f"{key!r} has no letters or digits to name a folder by")
    return out


class SourceFile:
    """A parsed file plus typed accessors that report ``file: key.path`` on bad data."""

    def __init__(self, path: Path, data: Any) -> None:
        self.path = path
        self.data = data

    def fail(self, where: str, expected: str) -> ImportDataError:
        """The error to raise for a bad value at ``where``."""
        return ImportDataError(f"{self.path}: {where or '(top level)'}: expected {expected}")

    def get(self, node: Any, key: str | int, where: str) -> Any:
        """``node[key]``; an error naming ``where.key`` when it is absent."""
        path = f"{where}.{key}" if where else str(key)
        if isinstance(node, Mapping) and isinstance(key, str):
            if key not in node:
                raise self.fail(path, "this key to be present")
            return node[key]
        if isinstance(node, Sequence) and isinstance(key, int) and not isinstance(node, str):
            if not -len(node) <= key < len(node):
                raise self.fail(path, f"an index below {len(node)}")
            return node[key]
        raise self.fail(where, "a mapping" if isinstance(key, str) else "a list")

    def mapping(self, node: Any, where: str) -> Mapping[str, Any]:
        """``node`` checked to be a non-empty mapping."""
        if not isinstance(node, Mapping) or not node:
            raise self.fail(where, "a non-empty mapping")
        return node

    def seq(self, node: Any, where: str) -> Sequence[Any]:
        """``node`` checked to be a non-empty list."""
        if not isinstance(node, list) or not node:
            raise self.fail(where, "a non-empty list")
        return node

    def number(self, node: Any, where: str, *, positive: bool = False) -> float:
        """``node`` checked to be a (positive) finite number."""
        ok = isinstance(node, (int, float)) and not isinstance(node, bool) and node == node
        if not ok or node in (float("inf"), float("-inf")) or (positive and node <= 0):
            raise self.fail(where, "a positive number" if positive else "a number")
        return float(node)

    def integer(self, node: Any, where: str) -> int:
        """``node`` checked to be an int."""
        if not isinstance(node, int) or isinstance(node, bool):
            raise self.fail(where, "an integer")
        return node

    def text(self, node: Any, where: str) -> str:
        """``node`` checked to be a non-empty string."""
        if not isinstance(node, str) or not node:
            raise self.fail(where, "a non-empty string")
        return node

"""Strict readers for third-party source files.

Published data arrives in other people's formats. Every reader here fails with
:class:`ImportDataError` whose one-line message names the file, the key path and what was
expected, so a user who points ``mvsched import`` at the wrong folder sees what is wrong
without a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

__all__ = [
    "ImportDataError",
    "SourceFile",
    "load_json",
    "load_yaml",
]


class ImportDataError(ValueError):
    """A source file that is missing or not in the expected shape (message: file + field)."""


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise ImportDataError(f"{path}: file not found (expected a published source file here)")
    return path.read_text(encoding="utf-8")


def load_json(path: Path) -> SourceFile:
    """Parse a JSON source file into a :class:`SourceFile` view."""
    text = _read_text(path)
    try:
        return SourceFile(path, json.loads(text))
    except json.JSONDecodeError as exc:
        raise ImportDataError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None


def load_yaml(path: Path) -> SourceFile:
    """Parse a YAML source file into a :class:`SourceFile` view."""
    text = _read_text(path)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return SourceFile(path, yaml.load(text, Loader=loader))  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        raise ImportDataError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None


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

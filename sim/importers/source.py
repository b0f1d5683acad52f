"""Strict readers for third-party source files.

Published data arrives in other people's formats. Every reader here fails with
:class:`ImportDataError` whose one-line message names the file, the key path and what was
expected, so a user who points ``mvsched import`` at the wrong folder sees what is wrong
without a traceback.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from sim.common.input_files import (
    SOURCE_MAX_BYTES,
    InputFileError,
    long_number_problem,
    read_input_text,
)
from sim.common.messages import clip
from sim.config.yaml_input import yaml_problem

__all__ = [
    "ImportDataError",
    "SourceFile",
    "load_json",
    "load_python_literal",
    "load_yaml",
    "slug",
]


MAX_INTEGER = 1_000_000_000
"""Largest magnitude of an integer a source gives (arch codes, batch sizes, resolutions)."""


class ImportDataError(ValueError):
    """A source file that is missing or not in the expected shape (message: file + field)."""


def _read_text(path: Path) -> str:
    """The text of a source file: a regular file of at most
    :data:`sim.common.input_files.SOURCE_MAX_BYTES` (a device or FIFO is refused unopened)."""
    try:
        return read_input_text(path, "published source", SOURCE_MAX_BYTES)
    except InputFileError as exc:
        if exc.reason == "file not found":
            raise ImportDataError(f"{path}: file not found (expected a published source file "
                                  "here)") from None
        raise ImportDataError(str(exc)) from None


def load_json(path: Path) -> SourceFile:
    """Parse a JSON source file into a :class:`SourceFile` view."""
    text = _read_text(path)
    try:
        return SourceFile(path, json.loads(text))
    except json.JSONDecodeError as exc:
        raise ImportDataError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except ValueError as exc:  # a number over the digit limit of int()
        raise ImportDataError(f"{path}: {long_number_problem(text, exc)}") from None
    except RecursionError:
        raise ImportDataError(f"{path}: nested too deeply to be a published source") from None


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
        line, problem = yaml_problem(exc)
        at = f"line {line}: " if line is not None else ""
        raise ImportDataError(f"{path}: not valid YAML ({at}{problem})") from None
    except ValueError as exc:  # a number over the digit limit of int(), raised by the loader
        raise ImportDataError(f"{path}: {long_number_problem(text, exc)}") from None
    except RecursionError:
        raise ImportDataError(f"{path}: nested too deeply to be a published source") from None


def load_python_literal(path: Path, name: str) -> SourceFile:
    """The literal assigned to ``name`` at the top level of a Python source file, read with
    :mod:`ast` (never executed: the file is someone else's code)."""
    text = _read_text(path)
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        if "integer string conversion" in str(exc.msg):
            raise ImportDataError(f"{path}: {long_number_problem(text, ValueError(exc.msg))}"
                                  ) from None
        raise ImportDataError(f"{path}: not valid Python (line {exc.lineno}: "
                              f"{clip(str(exc.msg), 80)})") from None
    except (ValueError, MemoryError, RecursionError):  # NUL bytes; absurd nesting
        raise ImportDataError(f"{path}: not a Python file the importer can parse") from None
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

    def number(self, node: Any, where: str, *, positive: bool = False,
               nonneg: bool = False) -> float:
        """``node`` checked to be a finite number (``positive``: > 0; ``nonneg``: >= 0); an
        integer too large for a float is refused like any other bad value."""
        ok = isinstance(node, (int, float)) and not isinstance(node, bool) and node == node
        expected = ("a positive number" if positive else "a number >= 0" if nonneg
                    else "a number")
        if not ok:
            raise self.fail(where, expected)
        try:
            value = float(node)
        except OverflowError:  # an int of over 308 digits
            raise self.fail(where, f"{expected} of at most 1.8e308 (got an integer of "
                                   f"{len(str(abs(node))):,} digits)") from None
        if not math.isfinite(value) or (positive and value <= 0) or (nonneg and value < 0):
            raise self.fail(where, expected)
        return value

    def integer(self, node: Any, where: str, *, minimum: int | None = None) -> int:
        """``node`` checked to be an int within +-:data:`MAX_INTEGER` (and >= ``minimum``)."""
        if not isinstance(node, int) or isinstance(node, bool):
            raise self.fail(where, "an integer")
        low = -MAX_INTEGER if minimum is None else minimum
        if not low <= node <= MAX_INTEGER:
            raise self.fail(where, f"an integer from {low:,} to {MAX_INTEGER:,}")
        return node

    def text(self, node: Any, where: str) -> str:
        """``node`` checked to be a non-empty string."""
        if not isinstance(node, str) or not node:
            raise self.fail(where, "a non-empty string")
        return node

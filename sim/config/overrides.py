"""``--set PATH=VALUE``: change any scenario field by its dotted path before validation, so a
parameter study needs no hand-edited copies of a YAML file and the result is checked exactly
like the file itself.

Paths name mapping keys and list indices: ``device.memory_mb``, ``apps.0.fps`` or
``apps[0].fps``, ``schedulers.1.params.alpha``. Values are read as YAML (``15``, ``true``,
``[1, 2]``, ``{kind: constant, value: 0.5}``). A missing mapping key is created (validation
then refuses it if the scenario has no such field); a list index must exist.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

import yaml

from sim.common.messages import OneLineError

__all__ = ["OverrideError", "apply_overrides", "parse_override", "split_path"]

_TOKEN = re.compile(r"[^.\[\]]+|\[\d+\]")


class OverrideError(OneLineError):
    """A ``--set`` that names no field or carries no readable value (one line)."""


def split_path(path: str) -> list[str | int]:
    """``apps[0].fps`` or ``apps.0.fps`` -> ``["apps", 0, "fps"]``."""
    if not path or path.startswith(".") or path.endswith(".") or ".." in path:
        raise OverrideError(f"--set {path!r}: expected a dotted path such as apps[0].fps")
    parts: list[str | int] = []
    pos = 0
    for m in _TOKEN.finditer(path):
        between = path[pos:m.start()]
        if between not in ("", "."):
            raise OverrideError(f"--set {path!r}: cannot read the path at {between!r}")
        tok = m.group()
        parts.append(int(tok[1:-1]) if tok.startswith("[") else
                     int(tok) if tok.isdigit() else tok)
        pos = m.end()
    if pos != len(path) or not parts:
        raise OverrideError(f"--set {path!r}: cannot read the path at {path[pos:]!r}")
    return parts


def parse_override(text: str) -> tuple[list[str | int], Any]:
    """``"device.memory_mb=20"`` -> ``(["device", "memory_mb"], 20)``."""
    path, sep, value = text.partition("=")
    if not sep:
        raise OverrideError(f"--set {text!r}: expected PATH=VALUE, e.g. device.memory_mb=20")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError:
        raise OverrideError(f"--set {text!r}: the value is not valid YAML") from None
    except RecursionError:
        raise OverrideError(f"--set {path.strip()}=...: the value is nested too deeply") from None
    if value.strip() == "":
        raise OverrideError(f"--set {text!r}: no value after '='")
    return split_path(path.strip()), parsed


def _show(parts: Sequence[str | int]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """A copy of the raw scenario mapping with every ``PATH=VALUE`` applied in order."""
    out = copy.deepcopy(raw)
    for text in overrides:
        parts, value = parse_override(text)
        node: Any = out
        for i, key in enumerate(parts):
            last = i == len(parts) - 1
            here = _show(parts[:i + 1])
            if isinstance(node, list):
                if not isinstance(key, int):
                    raise OverrideError(f"--set {text!r}: {_show(parts[:i])} is a list; "
                                        f"expected an index such as {_show(parts[:i])}[0]")
                if not 0 <= key < len(node):
                    raise OverrideError(f"--set {text!r}: {here}: {_show(parts[:i])} has "
                                        f"{len(node)} entries")
            elif isinstance(node, dict):
                key = str(key)
                if not last and key not in node:
                    node[key] = {}
            else:
                raise OverrideError(f"--set {text!r}: {_show(parts[:i])} is a value "
                                    f"({type(node).__name__}), not a mapping or a list")
            if last:
                node[key] = value
            else:
                node = node[key]
    return out

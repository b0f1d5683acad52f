"""How every error message names a field and stays on one line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["OneLineError", "field_path", "one_line"]


def field_path(loc: Sequence[Any]) -> str:
    """``("apps", 0, "fps")`` -> ``apps[0].fps``: the one notation of every message."""
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        elif not str(p).startswith("function-after"):
            out += f".{p}" if out else str(p)
    return out


def one_line(text: str) -> str:
    """Keys and values echoed in a message may hold newlines: escape them."""
    return text.replace("\n", "\\n").replace("\r", "\\r")


class OneLineError(ValueError):
    """Base of the user-input errors: whatever a message echoes, it prints as one line."""

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(one_line(str(message)), *args)

"""How every error message names a field, stays on one line and quotes input briefly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["EXCERPT_CHARS", "OneLineError", "clip", "excerpt", "field_path", "one_line"]

EXCERPT_CHARS = 40
"""Most characters of an input file's content a message quotes: enough to recognise a line,
too few to disclose a file that was named by mistake (a key, a password file)."""


def _escaped(ch: str) -> str:
    """``ch`` as it prints in a quoted excerpt: backslash, quote and every non-printable
    character (controls, bidirectional overrides, ...) escaped as Python writes them."""
    if ch in "\\'":
        return "\\" + ch
    return ch if ch.isprintable() else repr(ch)[1:-1]


def clip(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` with non-printable characters escaped, cut to ``limit`` characters (an escape
    is never split) and marked ``...`` when cut."""
    out: list[str] = []
    used = 0
    for ch in text:
        piece = _escaped(ch) if ch not in "\\'" else ch
        if used + len(piece) > limit:
            return "".join(out) + "..."
        out.append(piece)
        used += len(piece)
    return "".join(out)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A quoted excerpt of input-file content for a message: ``'first 40 characters'...``;
    non-printable characters, backslashes and quotes escaped, the quoted part at most
    ``limit`` characters, ``...`` after the quote when the text is longer."""
    out: list[str] = []
    used = 0
    for ch in text:
        piece = _escaped(ch)
        if used + len(piece) > limit:
            return "'" + "".join(out) + "'..."
        out.append(piece)
        used += len(piece)
    return "'" + "".join(out) + "'"


def field_path(loc: Sequence[Any]) -> str:
    """``("apps", 0, "fps")`` -> ``apps[0].fps``: the one notation of every message. A key
    read from an input file is clipped (:func:`clip`), so a path never quotes a long one."""
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        elif not str(p).startswith("function-after"):
            key = clip(str(p))
            out += f".{key}" if out else key
    return out


def one_line(text: str) -> str:
    """Keys and values echoed in a message may hold newlines: escape them."""
    return text.replace("\n", "\\n").replace("\r", "\\r")


class OneLineError(ValueError):
    """Base of the user-input errors: whatever a message echoes, it prints as one line."""

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(one_line(str(message)), *args)

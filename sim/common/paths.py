"""Checks for file paths and names written in input files, before the OS sees them.

A NUL byte, an over-long name or an empty path makes the operating system raise errors
that name neither the input file nor the field; these checks say what is wrong instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["MAX_NAME", "MAX_PATH", "inside", "name_problem", "path_problem"]

MAX_NAME = 255
"""Longest file or folder name most file systems accept (bytes)."""
MAX_PATH = 4096
"""Longest path Linux accepts (bytes)."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,99}")


def path_problem(text: str) -> str | None:
    """Why ``text`` cannot be a file path (None if it can)."""
    if not text.strip():
        return "expected a file path, got an empty one"
    if "\x00" in text:
        return "a file path cannot hold a NUL byte"
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PATH:
        return f"a file path of at most {MAX_PATH} bytes"
    for part in text.replace("\\", "/").split("/"):
        if len(part.encode("utf-8", "surrogatepass")) > MAX_NAME:
            return f"each file or folder name in a path is at most {MAX_NAME} bytes"
    return None


def name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a single file or folder name we create or look up (None if it
    can): 1-100 letters, digits and '._+-', starting with a letter or digit (so no '..')."""
    if _NAME.fullmatch(text):
        return None
    return ("becomes a file or folder name: use 1-100 letters, digits and '._+-', starting "
            "with a letter or digit")


def inside(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether ``path``, every link on the way followed, is ``folder`` or lies in it."""
    p, f = Path(path).resolve(), Path(folder).resolve()
    return p == f or f in p.parents

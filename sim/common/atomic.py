"""Atomic file writes: results already written are never lost to an interrupted run."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

__all__ = ["remove_leftovers", "stage_bytes", "write_text_atomic", "write_bytes_atomic"]

_LEFTOVER = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
"""``.<name>.<random>.tmp``: the temporary file name :func:`write_bytes_atomic` uses"""


def stage_bytes(path: str | os.PathLike[str], data: bytes) -> str:
    """Write ``data`` to a temporary file beside ``path`` (its folder must exist), with the
    permissions of an ordinary file; return its name. Nothing is left on an error."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results read like any file
            fh.write(data)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write to a temp file in the same folder, then rename over ``path``."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = stage_bytes(p, data)
    try:
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Text version of :func:`write_bytes_atomic` (UTF-8)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def remove_leftovers(folder: str | os.PathLike[str], name: str | None = None) -> None:
    """Delete the temporary files a killed :func:`write_bytes_atomic` left in ``folder``
    (only those of file ``name`` when given); links and folders are left alone."""
    folder = Path(folder)
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for p in entries:
        ours = _LEFTOVER.fullmatch(p.name) and (name is None or p.name.startswith(f".{name}."))
        if ours and not p.is_symlink() and p.is_file():
            p.unlink(missing_ok=True)

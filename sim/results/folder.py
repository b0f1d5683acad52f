"""Results folders replaced whole: a run or a comparison is written into a temporary sibling
folder and swapped in only once complete, so the final name never holds a half-written
result nor any file an earlier run left there.

A folder is replaced only when it is absent, empty, or carries our marker file (or, for one
written before markers, the file its command always writes); a symbolic link is never
followed nor replaced. Leftovers of a killed earlier write into the same place (the
``.<name>.*.tmp`` siblings) are removed first.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim.common.messages import OneLineError

__all__ = ["MARKER", "ResultsFolderError", "cannot_write", "check_replaceable", "mark",
           "replacing"]

MARKER = ".mvsched"
"""File in every results folder mvsched creates: the folder may be replaced whole."""
_MARKER_TEXT = ("written by mvsched; a later run into this folder replaces it whole, "
                "with everything in it\n")


class ResultsFolderError(OneLineError):
    """A results folder that cannot be written or must not be replaced; names the folder."""


def cannot_write(folder: str | os.PathLike[str], exc: OSError) -> ResultsFolderError:
    """``FOLDER: cannot write (cause)`` for an OSError met while writing into ``folder``."""
    return ResultsFolderError(f"{folder}: cannot write ({exc.strerror or exc})")


def mark(folder: Path) -> None:
    """Write the marker file into ``folder``."""
    (folder / MARKER).write_text(_MARKER_TEXT)


def _leftovers(final: Path) -> list[Path]:
    """Temporary folders of ours beside ``final`` (random part as mkdtemp makes it)."""
    pattern = re.compile(re.escape(f".{final.name}.") + r"(old-)?[a-z0-9_]{8}\.tmp")
    try:
        return [p for p in final.parent.iterdir() if pattern.fullmatch(p.name)]
    except OSError:
        return []


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path)


def check_replaceable(final: str | os.PathLike[str], legacy: str | None = None) -> None:
    """Refuse (:class:`ResultsFolderError`) a ``final`` that :func:`replacing` must not
    replace: a link, a file, or a folder holding files without our marker."""
    final = Path(final)
    try:
        _check_replaceable(final, legacy)
    except OSError as exc:
        raise cannot_write(final, exc) from None


def _refuse_link(final: Path) -> None:
    if final.is_symlink():
        raise ResultsFolderError(
            f"{final}: is a symbolic link; results are not written through links (give the "
            f"folder it points to, or remove the link)")


def _check_replaceable(final: Path, legacy: str | None) -> None:
    _refuse_link(final)
    if not final.exists():
        return
    if not final.is_dir():
        raise ResultsFolderError(f"{final}: is a file, not a results folder; choose another "
                                 f"output folder")
    if (final / MARKER).is_file() or (legacy and (final / legacy).is_file()):
        return
    if next(final.iterdir(), None) is not None:
        raise ResultsFolderError(
            f"{final}: holds files mvsched did not write (no {MARKER} file); it would be "
            f"replaced whole: choose another output folder, or empty it")


@contextlib.contextmanager
def replacing(final: str | os.PathLike[str], legacy: str | None = None) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``final``; when the block ends without an
    error, it replaces ``final`` whole (the old folder is deleted), else it is deleted.

    ``legacy``: a file whose presence marks a folder written before markers existed as ours.
    Problems raise :class:`ResultsFolderError` naming the folder, OSErrors included.
    """
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        _check_replaceable(final, legacy)
        for old in _leftovers(final):
            _remove(old)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    except OSError as exc:
        raise cannot_write(final, exc) from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; results read like any folder
        mark(tmp)
        yield tmp
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if exc.filename is not None and not str(exc.filename).startswith(str(tmp)):
            raise  # not a write of ours (reading an input, say): its own file and cause
        raise cannot_write(final, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        _swap(tmp, final)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise cannot_write(final, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(tmp: Path, final: Path) -> None:
    """Rename the old folder away, the new one in, then delete the old one."""
    if not final.exists():
        os.rename(tmp, final)
        return
    _refuse_link(final)  # checked before, but a link may have appeared since
    old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.old-", suffix=".tmp"))
    os.rename(final, old / "x")
    try:
        os.rename(tmp, final)
    except OSError:
        os.rename(old / "x", final)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)

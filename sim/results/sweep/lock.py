"""One sweep at a time in a results folder, and no debris from a killed one.

``OUT/.sweep.lock`` holds the pid and host of the sweep writing to ``OUT``; it is created with
``O_CREAT | O_EXCL``, so two sweeps started together cannot both get it. A lock whose process
is gone (a sweep killed with ``kill -9``) is taken over; a live one refuses the second sweep
in one line naming the folder and the pid. While the lock is held, the temp files that
:mod:`sim.common.atomic` leaves behind when a sweep is killed mid-write are removed.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sim.results.sweep.errors import SweepError

__all__ = ["LOCK_NAME", "SweepLocked", "remove_temp_files", "sweep_lock"]

LOCK_NAME = ".sweep.lock"
_TEMP = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
"""``.NAME.XXXXXXXX.tmp``: the temp file of :func:`sim.common.atomic.write_bytes_atomic` (mkstemp)"""
_YOUNG_S = 10.0
"""An unreadable lock younger than this may be one whose writer has not written its pid."""


class SweepLocked(SweepError):
    """Another sweep is writing to the folder."""


def _holder(lock: Path) -> tuple[int, str] | None:
    """(pid, host) written in the lock (a pid alone is this host's), or None if it holds no
    pid (yet)."""
    try:
        words = lock.read_text(encoding="utf-8").split()
        return int(words[0]), words[1] if len(words) > 1 else socket.gethostname()
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    if os.path.exists(f"/proc/{pid}/stat"):  # a zombie has exited; it only awaits its parent
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return True
    return True


def _stale(lock: Path, holder: tuple[int, str] | None) -> bool:
    """Whether the lock's sweep is gone: a dead pid on this host, or a lock left unwritten."""
    if holder is None:
        try:
            return time.time() - lock.stat().st_mtime > _YOUNG_S
        except FileNotFoundError:
            return True
    pid, host = holder
    return host == socket.gethostname() and not _alive(pid)


def _take_over(lock: Path, holder: tuple[int, str] | None) -> None:
    """Remove a stale lock, unless another sweep replaced it since it was read."""
    aside = lock.with_name(f"{LOCK_NAME}.{os.getpid()}.stale")
    try:
        os.replace(lock, aside)
    except FileNotFoundError:
        return  # another sweep took it over first: try again
    if _holder(aside) == holder:
        aside.unlink(missing_ok=True)
        return
    try:  # it was a fresh lock: put it back, unless yet another one is there now
        os.link(aside, lock)
    except OSError:
        pass
    aside.unlink(missing_ok=True)


def _refusal(folder: Path, holder: tuple[int, str] | None) -> SweepLocked:
    if holder is None:
        who = "another sweep"
    else:
        pid, host = holder
        who = f"another sweep (pid {pid}{'' if host == socket.gethostname() else ' on ' + host})"
    return SweepLocked(f"{folder}: {who} is writing to this folder; wait for it to finish or "
                       f"use another --out (its lock: {folder / LOCK_NAME})")


@contextmanager
def sweep_lock(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold ``folder``'s sweep lock for the ``with`` block; :class:`SweepLocked` if a live
    sweep holds it."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    lock = out / LOCK_NAME
    mine = f"{os.getpid()} {socket.gethostname()}\n"
    for _ in range(20):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(lock)
            if not _stale(lock, holder):
                raise _refusal(out, holder) from None
            _take_over(lock, holder)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(mine)
        break
    else:
        raise _refusal(out, _holder(lock))
    try:
        yield lock
    finally:
        try:
            if lock.read_text(encoding="utf-8") == mine:
                lock.unlink()
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise


def remove_temp_files(folder: str | os.PathLike[str]) -> int:
    """Delete the ``.NAME.XXXXXXXX.tmp`` files of interrupted atomic writes in ``folder`` and
    its ``runs/``; how many. Call it only while holding the folder's lock."""
    out = Path(folder)
    found = [p for d in (out, out / "runs") if d.is_dir() for p in d.glob(".*.tmp")
             if _TEMP.fullmatch(p.name) and not p.is_symlink() and p.is_file()]
    for p in found:
        p.unlink(missing_ok=True)
    return len(found)

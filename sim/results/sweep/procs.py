"""The local process pool of a sweep, whose workers die with the sweep.

A ``ProcessPoolExecutor`` worker does not notice its parent's death: it holds both ends of the
task queue's pipe, so a sweep killed with ``kill -9`` left its workers (and, through them,
multiprocessing's resource tracker) running. Each worker here asks the kernel to kill it when
its parent dies (``prctl(PR_SET_PDEATHSIG)`` on Linux), or else watches its parent pid from a
thread; once the workers are gone the resource tracker sees its pipe close and exits too.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

__all__ = ["die_with_parent", "local_pool"]

_PR_SET_PDEATHSIG = 1
_WATCH_S = 0.5


def _kernel_kills_orphan() -> bool:
    """Have Linux send SIGKILL to this process when its parent dies; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_WATCH_S)
    os._exit(1)


def die_with_parent(parent: int) -> None:
    """Worker initializer: end this process when ``parent`` (the sweep) ends."""
    if not _kernel_kills_orphan():
        threading.Thread(target=_watch, args=(parent,), name="sweep-parent-watch",
                         daemon=True).start()
    if os.getppid() != parent:  # the parent died before the request above took effect
        os._exit(1)


def local_pool(workers: int) -> ProcessPoolExecutor:
    """A spawn process pool of ``workers`` that leaves no process behind when this process is
    killed. Create it and submit to it from a thread that lives as long as the pool (the
    kernel ties the death signal to the thread that started each worker)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=die_with_parent, initargs=(os.getpid(),))

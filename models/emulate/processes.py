"""The child processes of an emulation: one per app, and a duty-cycled background load.

An app process runs its model on camera frames in wall-clock time with the simulator's
latest-frame rule: frames arrive at ``launch + k / fps``; when the model is free it takes the
oldest of the newest ``queue_length`` frames not yet taken and every older one is dropped.
Plan changes take effect between frames (a frame running when the plan changes finishes
with the old variant, as in the engine). A variant change really loads its weights from a
file. Every event is one line of the app's CSV, flushed at once, so an interrupted run keeps
what it measured.

Rows: ``F,arrival,start,finish,variant,correct,cpu_s`` (a processed frame; ``correct`` is -1
with untrained weights; ``cpu_s`` the process's CPU time so far), ``S,t,seconds,from,to`` (a
model load or switch), ``E,launch,exit,arrived,processed`` (a session ended).
"""

from __future__ import annotations

import ctypes
import math
import os
import signal
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from typing import Any

from models.emulate.log import EndLine, FrameLine, SwitchLine, format_line
from models.emulate.schedule import AppSession

__all__ = ["AppWorker", "BackgroundWorker", "run_app", "run_background"]

_ARRIVAL_EPS = 1e-9
_PR_SET_PDEATHSIG, _PR_SET_TIMERSLACK = 1, 29


def _child_setup(cpus: list[int]) -> None:
    """Die with the parent, leave Ctrl-C to it, sleep precisely, run on the device's cores."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        libc.prctl(_PR_SET_TIMERSLACK, 1000)  # ns: sleeps wake within ~1 us, not 50 us
    except OSError:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.sched_setaffinity(0, cpus)


def _wait_start(start_at: Synchronized) -> float:  # type: ignore[type-arg]
    while start_at.value == 0.0:
        time.sleep(0.001)
    t0 = float(start_at.value)
    _sleep_until(t0)
    return t0


def _sleep_until(t: float) -> None:
    left = t - time.monotonic()
    if left > 0:
        time.sleep(left)


@dataclass
class AppWorker:
    """Everything one app process needs (picklable: it crosses a spawn)."""

    app: str
    family: str
    family_kwargs: dict[str, Any]
    profile_path: str
    variants: list[str]
    sessions: list[AppSession]
    fps: float
    queue_length: int
    threads: int
    cpus: list[int]
    ckpt_dir: str | None
    samples_path: str | None
    """torch file of test ``(x, y)`` (trained weights only: then accuracy is measured)"""
    seed: int
    out_csv: str
    warmup: int = 10


def run_app(w: AppWorker, ready: Event, start_at: Synchronized) -> None:  # type: ignore[type-arg]
    _child_setup(w.cpus)
    import numpy as np
    import torch

    from models.registry import create_family
    from sim.profile import load_profile

    torch.set_num_threads(w.threads)
    profile = load_profile(w.profile_path)
    fam = create_family(w.family, **w.family_kwargs)
    modules = {vid: fam.emulation_module(profile, vid, w.ckpt_dir) for vid in w.variants}
    tmp = tempfile.mkdtemp(prefix="mvsched-emulate-")
    files = {}
    for vid, m in modules.items():
        files[vid] = os.path.join(tmp, f"{vid}.pt")
        torch.save(m.state_dict(), files[vid])
    shape = tuple(profile.task.input_shape)
    if w.samples_path is not None:
        xs, ys = torch.load(w.samples_path, weights_only=True)
    else:
        xs, ys = torch.randn((1, *shape), generator=torch.Generator().manual_seed(w.seed)), None
    rng = np.random.default_rng(w.seed)
    with torch.inference_mode():
        for m in modules.values():
            for _ in range(w.warmup):
                m(xs[:1])
    ready.set()
    t0 = _wait_start(start_at)
    c0 = time.process_time()
    with open(w.out_csv, "w", buffering=1) as out, torch.inference_mode():
        for sess in w.sessions:
            _session(w, sess, t0, c0, modules, files, xs, ys, rng, out, torch)
    for f in files.values():
        os.unlink(f)
    os.rmdir(tmp)


def _session(w: AppWorker, sess: AppSession, t0: float, c0: float, modules: dict[str, Any],
             files: dict[str, str], xs: Any, ys: Any, rng: Any, out: Any, torch: Any) -> None:
    clock = time.monotonic
    launch, end, period = sess.launch_s, sess.exit_s, 1.0 / w.fps
    _sleep_until(t0 + launch)
    changes = sess.changes
    nxt, processed, loaded = 0, 0, None
    while True:
        now = clock() - t0
        if now >= end:
            break
        k = max(i for i, c in enumerate(changes) if c[0] <= now + 1e-9) if changes else -1
        variant = changes[k][1] if k >= 0 else None
        change_at = changes[k + 1][0] if k + 1 < len(changes) else math.inf
        if variant is None:
            _sleep_until(t0 + min(change_at, end))
            continue
        if variant != loaded:
            s = clock()
            modules[variant].load_state_dict(torch.load(files[variant], weights_only=True))
            out.write(format_line(SwitchLine(s - t0, clock() - s, loaded or "", variant)))
            loaded = variant
            continue
        n = int((now - launch) / period + _ARRIVAL_EPS) + 1
        pending = n - nxt
        if pending <= 0:
            arrival = launch + nxt * period
            wake = min(arrival, change_at, end)
            _sleep_until(t0 + wake)
            if wake < arrival:
                continue  # the plan changes (or the app exits) before the frame arrives
            idx = nxt
        else:
            idx = n - min(pending, w.queue_length)
        nxt = idx + 1
        arrival = launch + idx * period
        i = int(rng.integers(len(xs)))
        start = clock() - t0
        pred = modules[variant](xs[i:i + 1])
        finish = clock() - t0
        if finish > end:
            break  # still running when the app exits: dropped, as in the engine
        correct = -1 if ys is None else int(int(pred.argmax(1)[0]) == int(ys[i]))
        out.write(format_line(FrameLine(arrival, start, finish, variant, correct,
                                        time.process_time() - c0)))
        processed += 1
    arrived = max(0, int(math.ceil((end - launch) / period - _ARRIVAL_EPS)))
    out.write(format_line(EndLine(launch, end, arrived, processed)))


@dataclass
class BackgroundWorker:
    """A busy process on one core taking ``load(t)`` of it, in periods of ``period_s``."""

    cpu: int
    steps: list[tuple[float, float]]
    duration_s: float
    period_s: float


def run_background(w: BackgroundWorker, ready: Event, start_at: Synchronized,  # type: ignore[type-arg]
                   policy: Any) -> None:
    """Real-time priority when allowed (it takes its share first, as the simulator's
    capacity ``1 - load`` assumes), else the highest nice level allowed."""
    _child_setup([w.cpu])
    name = "nice 0"
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        name = "SCHED_FIFO"
    except (PermissionError, OSError):
        for nice in (-20, -10, 0):
            try:
                os.setpriority(os.PRIO_PROCESS, 0, nice)
                name = f"nice {nice}"
                break
            except (PermissionError, OSError):
                continue
    policy.value = name.encode()[:31]
    ready.set()
    t0 = _wait_start(start_at)
    times = [t for t, _ in w.steps]
    period = w.period_s
    while True:
        now = time.monotonic() - t0
        if now >= w.duration_s:
            return
        j = max(0, sum(1 for t in times if t <= now) - 1)
        load = w.steps[j][1]
        slot = math.floor(now / period) * period
        if load > 0.0:
            c_end = time.thread_time() + load * period
            stop = t0 + slot + period
            while time.thread_time() < c_end and time.monotonic() < stop:
                pass
        _sleep_until(t0 + slot + period)

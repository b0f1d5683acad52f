"""Figure basics shared by every plot: kinds and formats, colours, markers, labels, the
print-ready look applied while a figure is drawn, and atomic saving."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import matplotlib
import numpy as np
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from sim.common.atomic import write_bytes_atomic
from sim.common.paths import name_problem
from sim.present.plots.style import BASE, Style, layers, resolve_width

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.common.messages import OneLineError

FORMATS = ("png", "pdf")
KINDS = ("timeline", "cdf", "bars", "fidelity", "sweep", "accuracy_vs_fps",
         "throughput_latency_vs_bandwidth", "accuracy_exit_rate_vs_threshold",
         "accuracy_vs_budget")
SWEEP_KINDS = KINDS[4:]
FIDELITY_GOALS = {"fps": 0.10, "latency_ms_mean": 0.15, "latency_ms_p95": 0.15}
"""the relative errors a faithful simulation stays within (per app)"""
BAR_METRICS = ("accuracy", "accuracy_in_time", "accuracy_arrived", "worst_app_accuracy", "fps",
               "latency_ms_mean", "latency_ms_p95", "energy_j")
BAR_IF_NONZERO = ("dropped", "deadline_misses", "refused_plans", "early_exits", "offloaded",
                  "server_s", "radio_energy_j", "sent_mb")
SWEEP_METRICS = ("accuracy", "accuracy_in_time", "accuracy_arrived", "fps", "latency_ms_mean",
                 "latency_ms_p95", "energy_j", "dropped")
METRIC_LABELS = {
    "accuracy": "accuracy (fraction correct)",
    "accuracy_in_time": "accuracy in time (fraction)",
    "accuracy_arrived": "accuracy of arrived (fraction)",
    "worst_app_accuracy": "worst app accuracy (fraction)",
    "fps": "frame rate (fps)",
    "latency_ms_mean": "mean latency (ms)",
    "latency_ms_p95": "p95 latency (ms)",
    "energy_j": "energy (J)",
    "radio_energy_j": "radio energy (J)",
    "dropped": "dropped frames (frames)",
    "deadline_misses": "deadline misses (frames)",
    "sent_mb": "data sent (MB)",
    "early_exit_rate": "early-exit rate (fraction of frames)",
    "switches": "model switches (count)",
    "early_exits": "early exits (frames)",
    "offloaded": "offloaded frames (frames)",
    "server_s": "server time (s)",
    "refused_plans": "refused plans (count)",
}
UNIT_SUFFIXES = (("_ms", "ms"), ("_mbps", "Mbit/s"), ("_mb", "MB"), ("_j", "J"), ("_s", "s"),
                  ("fps", "fps"))
PALETTE = tuple(to_hex(c) for c in matplotlib.colormaps["tab10"](np.arange(10)))
MARKERS = ("v", "o", "s", "D", "^", "P", "X", "<", ">", "*", "h", "p")
STYLE: dict[Any, Any] = BASE
"""our rc settings (:data:`sim.present.plots.style.BASE`)"""
MIN_HEIGHT_SCALE = 0.7
"""a figure narrowed to ``width`` keeps at least this share of its height"""
_LOOK: contextvars.ContextVar[tuple[list[Any], float | None]] = contextvars.ContextVar(
    "mvsched_plot_look", default=([], None))
DPI = 150
FALLBACK = "#444444"

P = ParamSpec("P")
R = TypeVar("R")


class PlotError(OneLineError):
    """A folder or table lacks what a figure needs; the message names the file or column."""


@contextlib.contextmanager
def figure_style(style: Style | Sequence[Style] | None = None,
                 width: str | float | None = None) -> Iterator[None]:
    """Within it, every figure drawn here has ``width`` (``"single"``, ``"double"`` or
    inches; None: each figure's own) and ``style`` layered over ours; a PlotError names a
    style or width that cannot be used."""
    try:
        inches, _ = resolve_width(width)
        user = layers(style, width)[1:]
    except ValueError as exc:
        raise PlotError(str(exc)) from None
    token = _LOOK.set((user, inches))
    try:
        yield
    finally:
        _LOOK.reset(token)


def styled(func: Callable[P, R]) -> Callable[P, R]:
    """One look for every figure (ours, then the :func:`figure_style` in force), without
    touching the caller's global rc settings."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        user, _ = _LOOK.get()
        try:
            look = plt.style.context([STYLE, *user])
            look.__enter__()
        except (OSError, ValueError, KeyError) as exc:
            raise PlotError(f"style: cannot use it: {exc}") from None
        try:
            return func(*args, **kwargs)
        finally:
            look.__exit__(None, None, None)

    return wrapper


def _fit_width(fig: Figure) -> None:
    """Narrow or widen the figure to the width in force, its height scaled alike (to no
    less than :data:`MIN_HEIGHT_SCALE` of it)."""
    inches = _LOOK.get()[1]
    if inches is None:
        return
    w, h = fig.get_size_inches()
    fig.set_size_inches(inches, h * max(inches / w, MIN_HEIGHT_SCALE))


def scheduler_colors(labels: Iterable[str]) -> dict[str, str]:
    """A fixed colour per label: the palette indexed by the sorted labels, so the same set
    of schedulers gets the same colours in every figure."""
    return {lab: PALETTE[i % len(PALETTE)] for i, lab in enumerate(sorted(set(labels)))}


SCHEDULER_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
"""markers of schedulers in curves, as the palette for colours (timelines mark decisions
with :data:`MARKERS` instead, in black)"""


def scheduler_markers(labels: Iterable[str]) -> dict[str, str]:
    """A fixed marker per label, indexed like :func:`scheduler_colors`, so a scheduler keeps
    its colour and its marker in every curve."""
    return {lab: SCHEDULER_MARKERS[i % len(SCHEDULER_MARKERS)]
            for i, lab in enumerate(sorted(set(labels)))}


def save_figure(fig: Figure, out: Path, name: str, fmt: Sequence[str]) -> list[Path]:
    """Render into memory, then write atomically; the figure is closed either way. ``name``
    must be one safe file name, so that every file lands in ``out`` itself."""
    try:
        problem = name_problem(name)
        if problem:
            raise PlotError(f"figure name {name!r} {problem}")
        paths = []
        _fit_width(fig)
        for ext in check_formats(fmt):
            buf = io.BytesIO()
            meta = {"CreationDate": None} if ext == "pdf" else None  # same input, same bytes
            fig.savefig(buf, format=ext, dpi=DPI, metadata=meta)
            try:
                paths.append(write_bytes_atomic(out / f"{name}.{ext}", buf.getvalue()))
            except OSError as exc:
                raise PlotError(f"{out}: cannot write ({exc.strerror or exc})") from None
        return paths
    finally:
        plt.close(fig)


def check_formats(fmt: Sequence[str] | str) -> tuple[str, ...]:
    fmt = (fmt,) if isinstance(fmt, str) else tuple(fmt)
    bad = [f for f in fmt if f not in FORMATS]
    if bad or not fmt:
        raise PlotError(f"format: {bad or 'none given'}; choose from {list(FORMATS)}")
    return tuple(dict.fromkeys(fmt))



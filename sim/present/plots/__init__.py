"""Paper-style figures of a run, comparison, emulation or sweep folder, as PNG and PDF.

Every figure of a folder gives a scheduler label the same colour (a palette indexed by the
sorted labels), puts units on every axis and is written atomically, so a ``plots/`` folder
never holds a half-written file. Only the Agg backend is used: plotting needs no display.

Print-ready: fonts are embedded as TrueType (``pdf.fonttype`` 42), so ``pdffonts`` shows no
Type 3 font in any PDF written here. The look (:mod:`sim.present.plots.style`) is applied only while
a figure is drawn; the caller's rc settings are left as they were. To fit a paper, give
``width`` (``"single"``: one column, 3.5 in, smaller fonts; ``"double"``: 7.16 in; or inches;
the height is scaled with the width, to no less than 70% of it) and ``style``, a matplotlib
style file, style name or dict of rc settings layered over ours (it wins where both set a
key), to :func:`draw`, or around any single figure function::

    with figure_style("paper.mplstyle", width="single"):
        cdf("runs/default", "figs")
    draw("runs/default", style={"font.family": "serif"}, width="double")
"""

from sim.present.plots.comparison import bars, cdf
from sim.present.plots.drawing import applicable, draw
from sim.present.plots.fidelity_bars import fidelity
from sim.present.plots.figure import FORMATS, KINDS, PlotError, figure_style, scheduler_colors
from sim.present.plots.folders import read_sweep, seed_means
from sim.present.plots.sweep import (
    accuracy_exit_rate_vs_threshold,
    accuracy_vs_budget,
    accuracy_vs_fps,
    sweep_curve,
    throughput_latency_vs_bandwidth,
)
from sim.present.plots.timelines import timeline

__all__ = [
    "FORMATS", "KINDS", "PlotError", "accuracy_exit_rate_vs_threshold", "accuracy_vs_budget",
    "accuracy_vs_fps", "applicable", "bars", "cdf", "draw", "fidelity", "figure_style", "read_sweep",
    "scheduler_colors", "seed_means", "sweep_curve", "throughput_latency_vs_bandwidth", "timeline",
]

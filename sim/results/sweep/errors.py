"""The error of :mod:`sim.results.sweep` (re-exported there), in a module of its own so that the sweep's
helper modules raise it too."""

from __future__ import annotations

from sim.common.messages import OneLineError

__all__ = ["SweepError"]


class SweepError(OneLineError):
    """A sweep that cannot run; one line naming the sweep file and the field path."""

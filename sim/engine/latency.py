"""Per-inference work drawn from a variant's measured latency spread (``engine.latency:
measured``), so a subnet a little under its budget at the median misses it on its slow
frames, as on a real device.

Each frame's device work is the route's (the median's) times ``Q(u) / median``, ``u`` uniform
from the app's own stream (:func:`sim.config.inputs.latency_rng`, apart from the sample
draws, so ``median`` runs stay byte-identical). ``Q`` is the quantile function through the
profile's p10, median and p90, linear between them and continued with the same slopes below
p10 and above p90 (a frame is never faster than 5% of the median). A variant without p10 and
p90 runs at its median.
"""

from __future__ import annotations

import numpy as np

from sim.profile import Profile

__all__ = ["MIN_FACTOR", "WorkDraw", "quantile_factor"]

MIN_FACTOR = 0.05
"""the fastest a frame may run, as a fraction of the median's work"""


def quantile_factor(u: float, lo: float, hi: float) -> float:
    """``Q(u) / median`` for ``p10 / median = lo`` and ``p90 / median = hi``."""
    if u < 0.5:
        q = 1.0 - (0.5 - u) * (1.0 - lo) / 0.4
    else:
        q = 1.0 + (u - 0.5) * (hi - 1.0) / 0.4
    return max(q, MIN_FACTOR)


class WorkDraw:
    """One app's per-frame work factors, per variant of its profile."""

    __slots__ = ("_rng", "_spread")

    def __init__(self, profile: Profile, rng: np.random.Generator) -> None:
        self._rng = rng
        self._spread: dict[str, tuple[float, float]] = {}
        for v in profile.variants:
            lat = v.latency_ms
            if lat.p10 is not None and lat.p90 is not None and lat.median > 0:
                self._spread[v.id] = (lat.p10 / lat.median, lat.p90 / lat.median)

    def factor(self, variant: str) -> float:
        """The next frame's work relative to the median's (1.0 without a measured spread)."""
        spread = self._spread.get(variant)
        if spread is None:
            return 1.0
        return quantile_factor(float(self._rng.random()), *spread)

"""When two instants are the same: times closer than :func:`tie_s` of their magnitude.

Times are floats, and a completion computed by adding up service times lands a few ulps
from the instant it should share with an arrival or a scenario event (3.0000000000000004
for an exit at 3.0; some 1e-11 s at 20,000 s). Comparing them exactly would let the rounding
decide which frame runs and whether a frame finishing as its app exits counts. The rule,
at any time scale: instants within ``TIE_REL`` of the larger magnitude (at least 1 s) are
the same instant; at 30 days that is 26 us, far below any frame period the scenarios accept.
"""

from __future__ import annotations

__all__ = ["TIE_REL", "tie_s"]

TIE_REL = 1e-11


def tie_s(t: float) -> float:
    """Seconds within which an instant near ``t`` counts as ``t``."""
    return TIE_REL * t if t > 1.0 else TIE_REL

"""Honest error of a latency lookup table: prediction vs end-to-end latency.

The figures stored in ``LookupTable.error`` (see profiles/README.md):
``n`` samples, ``mape`` (mean absolute percentage error, in percent), ``bias_pct`` (mean
signed error in percent; negative = the table under-predicts), ``max_abs_pct`` (percent) and
``within_5pct`` / ``within_10pct`` (fraction of samples whose absolute error is at most
5 % / 10 %).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["prediction_error"]


def prediction_error(measured_ms: Sequence[float], predicted_ms: Sequence[float]) -> dict[str, float]:
    """Error summary of ``predicted`` against ``measured``; empty dict for no samples.

    Contract: both sequences have the same length and every measured value is positive.
    """
    if len(measured_ms) != len(predicted_ms):
        raise ValueError("measured and predicted latencies must have the same length")
    if not measured_ms:
        return {}
    if any(m <= 0 for m in measured_ms):
        raise ValueError("measured latencies must be positive")
    signed = [100.0 * (p - m) / m for m, p in zip(measured_ms, predicted_ms)]
    absolute = [abs(e) for e in signed]
    n = len(signed)
    figures = {
        "n": n,
        "mape": sum(absolute) / n,
        "bias_pct": sum(signed) / n,
        "max_abs_pct": max(absolute),
        "within_5pct": sum(e <= 5.0 for e in absolute) / n,
        "within_10pct": sum(e <= 10.0 for e in absolute) / n,
    }
    # round for stable files; "+ 0.0" turns a rounded -0.0 into 0.0
    return {k: round(float(v), 6) + 0.0 for k, v in figures.items()}

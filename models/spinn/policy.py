"""SPINN's exit policy: leave at the first exit whose top-1 probability reaches the threshold.

Confidences are laid out ``(exits, samples)`` with the final classifier as the last row; the
final classifier always answers, whatever the threshold. Because the set of exits that pass
``conf >= threshold`` only shrinks as the threshold grows, the chosen exit never moves earlier
when the threshold rises (tested as a property).
"""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy_at", "exit_index", "exit_rates"]


def _check(conf: np.ndarray) -> np.ndarray:
    c = np.asarray(conf, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] < 1:
        raise ValueError(f"confidences must be (exits, samples) with >= 1 exit, got {c.shape}")
    return c


def exit_index(conf: np.ndarray, threshold: float) -> np.ndarray:
    """Per sample, the index of the exit it leaves at (``exits - 1`` = the final classifier)."""
    c = _check(conf)
    passes = c[:-1] >= threshold
    passes = np.vstack([passes, np.ones((1, c.shape[1]), dtype=bool)])
    return np.argmax(passes, axis=0)


def exit_rates(conf: np.ndarray, threshold: float) -> np.ndarray:
    """Fraction of samples leaving at each exit (sums to 1)."""
    c = _check(conf)
    idx = exit_index(c, threshold)
    return np.bincount(idx, minlength=c.shape[0]) / max(1, c.shape[1])


def accuracy_at(correct: np.ndarray, conf: np.ndarray, threshold: float) -> float:
    """Accuracy when every sample leaves where the policy sends it.

    ``correct`` is ``(exits, samples)`` booleans aligned with ``conf``.
    """
    c = _check(conf)
    ok = np.asarray(correct, dtype=bool)
    if ok.shape != c.shape:
        raise ValueError(f"correct has shape {ok.shape}, confidences {c.shape}")
    if c.shape[1] == 0:
        return 0.0
    idx = exit_index(c, threshold)
    return float(ok[idx, np.arange(c.shape[1])].mean())

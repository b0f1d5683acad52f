"""Per-sample outcomes: what a profile stores so the simulator samples real joint behaviour.

Correctness is stored as a string of '0'/'1' per variant (or exit) and confidences as
max-softmax permille ints, aligned sample by sample with the eval split's order.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from sim.profile import Outcomes

__all__ = ["bits", "build_outcomes", "evaluate", "permille"]


def bits(correct: np.ndarray) -> str:
    """A boolean vector as a string of '0'/'1'."""
    arr = np.asarray(correct, dtype=bool).ravel()
    return "".join("1" if c else "0" for c in arr)


def permille(confidence: np.ndarray) -> list[int]:
    """Confidences in [0, 1] as ints in 0..1000 (rounded, clipped)."""
    arr = np.clip(np.rint(np.asarray(confidence, dtype=np.float64).ravel() * 1000.0), 0, 1000)
    return [int(c) for c in arr]


def build_outcomes(
    correct: Mapping[str, np.ndarray], confidence: Mapping[str, np.ndarray] | None = None
) -> Outcomes:
    """An Outcomes record; every vector must have the same length (ValueError otherwise)."""
    if not correct:
        raise ValueError("outcomes: need at least one correctness vector")
    lengths = {k: len(np.asarray(v).ravel()) for k, v in correct.items()}
    lengths |= {f"confidence[{k}]": len(np.asarray(v).ravel()) for k, v in (confidence or {}).items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"outcomes: vectors have different lengths: {lengths}")
    n = next(iter(lengths.values()))
    return Outcomes(
        samples=n,
        correct={k: bits(v) for k, v in correct.items()},
        confidence={k: permille(v) for k, v in (confidence or {}).items()},
    )


def evaluate(
    module: nn.Module, dataset: Dataset, batch: int = 256, device: str | torch.device = "cpu"
) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-sample correctness (bool), max-softmax confidence (float) and top-1 of ``module``
    on ``dataset`` (in dataset order, eval mode, no gradients)."""
    was_training = module.training
    module.eval()
    correct: list[np.ndarray] = []
    conf: list[np.ndarray] = []
    try:
        with torch.inference_mode():
            for x, y in DataLoader(dataset, batch_size=batch, shuffle=False):
                probs = torch.softmax(module(x.to(device)).float(), dim=1).cpu()
                p, pred = probs.max(dim=1)
                correct.append((pred == y).numpy())
                conf.append(p.numpy())
    finally:
        module.train(was_training)
    c = np.concatenate(correct).astype(bool)
    return c, np.concatenate(conf).astype(np.float64), float(c.mean()) if len(c) else 0.0

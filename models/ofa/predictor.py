"""Accuracy predictor of OFA subnets (ALGORITHMS 4.5).

Input: a one-hot encoding with one slot per resolution, and per block slot a one-hot kernel
and a one-hot expand ratio (slots beyond the stage's active depth all zero). Model: 3 x
[Linear(hidden) + ReLU] then Linear(1, no bias), plus a stored ``base_acc`` offset (the mean
training accuracy), trained with MSE on measured subnet accuracies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.stats
import torch
from torch import nn

from models.ofa.blocks import OFAConfig
from models.ofa.network import OFAArch

__all__ = ["AccuracyPredictor", "ArchEncoder", "fit_predictor"]


class ArchEncoder:
    """One-hot encoding of :class:`OFAConfig` for one :class:`OFAArch`."""

    def __init__(self, arch: OFAArch) -> None:
        self.arch = arch
        self.slots = arch.stages * arch.max_depth
        self.width = len(arch.resolutions) + self.slots * (len(arch.kernels) + len(arch.expands))

    def encode(self, cfg: OFAConfig) -> np.ndarray:
        a = self.arch
        v = np.zeros(self.width, dtype=np.float32)
        v[a.resolutions.index(cfg.resolution)] = 1.0
        per = len(a.kernels) + len(a.expands)
        base = len(a.resolutions)
        for s in range(a.stages):
            for b in range(cfg.depths[s]):
                i = s * a.max_depth + b
                off = base + i * per
                v[off + a.kernels.index(cfg.kernels[i])] = 1.0
                v[off + len(a.kernels) + a.expands.index(cfg.expands[i])] = 1.0
        return v

    def encode_many(self, cfgs: Sequence[OFAConfig]) -> np.ndarray:
        if not cfgs:
            return np.zeros((0, self.width), dtype=np.float32)
        return np.stack([self.encode(c) for c in cfgs])


class AccuracyPredictor(nn.Module):
    """MLP on the arch encoding; outputs predicted top-1 (a fraction)."""

    def __init__(self, in_features: int, hidden: int = 400, layers: int = 3,
                 base_acc: float = 0.0) -> None:
        super().__init__()
        dims = [in_features] + [hidden] * layers
        body: list[nn.Module] = []
        for i, o in zip(dims, dims[1:], strict=False):
            body += [nn.Linear(i, o), nn.ReLU()]
        self.body = nn.Sequential(*body, nn.Linear(dims[-1], 1, bias=False))
        self.register_buffer("base_acc", torch.tensor(float(base_acc)))
        self.in_features, self.hidden, self.layers = in_features, hidden, layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).squeeze(-1) + self.base_acc

    def predict(self, encodings: np.ndarray) -> np.ndarray:
        """Predicted accuracies of a batch of encodings (no gradients)."""
        with torch.no_grad():
            return self(torch.as_tensor(encodings, dtype=torch.float32)).numpy().astype(np.float64)


def fit_predictor(
    x: np.ndarray, y: np.ndarray, generator: torch.Generator, *, hidden: int = 400,
    epochs: int = 300, lr: float = 1e-3, batch_size: int = 64, holdout: float = 0.2,
) -> tuple[AccuracyPredictor, dict[str, Any]]:
    """Train a predictor on a random ``1 - holdout`` share of (encoding, accuracy) pairs and
    report its RMSE on the held-out rest (``rmse_heldout``, in accuracy fractions), next to
    the RMSE of always predicting the training mean (``rmse_mean_baseline``), and the Kendall
    rank correlation of its predictions with the held-out accuracies."""
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    if len(x) != len(y) or len(x) < 4:
        raise ValueError(f"fit_predictor: need >= 4 aligned samples, got {len(x)} and {len(y)}")
    perm = torch.randperm(len(x), generator=generator).numpy()
    n_hold = max(1, int(round(holdout * len(x)))) if holdout > 0 else 0
    hold, train = perm[:n_hold], perm[n_hold:]
    xt, yt = torch.as_tensor(x[train]), torch.as_tensor(y[train])
    model = AccuracyPredictor(x.shape[1], hidden=hidden, base_acc=float(yt.mean()))
    with torch.no_grad():  # start near the offset: a small last layer
        model.body[-1].weight.mul_(0.1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, epochs))
    for _ in range(epochs):
        order = torch.randperm(len(xt), generator=generator)
        for start in range(0, len(xt), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            loss = torch.mean((model(xt[idx]) - yt[idx]) ** 2)
            loss.backward()
            opt.step()
        sched.step()
    model.eval()

    def rmse(idx: np.ndarray) -> float:
        if len(idx) == 0:
            return float("nan")
        return float(np.sqrt(np.mean((model.predict(x[idx]) - y[idx]) ** 2)))

    def kendall(idx: np.ndarray) -> float:
        """Rank agreement on ``idx``: what a search that compares subnets needs."""
        if len(idx) < 2 or np.ptp(y[idx]) == 0:
            return float("nan")
        return float(scipy.stats.kendalltau(model.predict(x[idx]), y[idx]).statistic)

    metrics = {
        "rmse_heldout": rmse(hold),
        "kendall_tau_heldout": kendall(hold),
        "rmse_train": rmse(train),
        "rmse_mean_baseline": float(np.sqrt(np.mean((y[hold] - float(yt.mean())) ** 2)))
        if n_hold else float("nan"),
        "n_train": int(len(train)),
        "n_heldout": int(n_hold),
    }
    return model, metrics

"""Joint training of all exits with SDN's warming-up loss weights (ALGORITHMS 2.1).

``L = sum_i tau_i(e) * CE(exit_i) + CE(final)`` with ``tau_i(e) = min(tau_max_i,
0.01 + e * tau_max_i / E)`` for epochs ``e = 1..E`` (as in SDN's ``sdn_train``), where
``tau_max_i`` is the FLOP fraction the exit was placed for (0.15 .. 0.90).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from models.spinn.exits import SpinnNet
from models.train import TrainConfig, fit

__all__ = ["SdnLoss", "joint_loss", "sdn_weights", "train_joint"]


def sdn_weights(epoch: int, epochs: int, tau_max: Sequence[float]) -> list[float]:
    """Loss weight of each early exit in ``epoch`` (1-based) of ``epochs``."""
    if epochs < 1 or not 1 <= epoch <= epochs:
        raise ValueError(f"epoch must be in 1..{epochs}, got {epoch}")
    return [min(t, 0.01 + epoch * t / epochs) for t in tau_max]


def joint_loss(
    logits: Sequence[torch.Tensor], target: torch.Tensor, weights: Sequence[float]
) -> torch.Tensor:
    """Weighted cross-entropy of the early exits plus the final exit's with weight 1.

    ``logits`` holds every exit, final last; ``weights`` one per early exit.
    """
    if len(logits) != len(weights) + 1:
        raise ValueError(f"{len(logits)} exits need {len(logits) - 1} weights, got {len(weights)}")
    loss = F.cross_entropy(logits[-1], target)
    for w, out in zip(weights, logits[:-1], strict=True):
        loss = loss + w * F.cross_entropy(out, target)
    return loss


class SdnLoss:
    """``loss_fn`` for :func:`models.train.fit`: applies the weights of the current epoch.

    ``fit`` calls the loss once per optimiser step, in order, so the epoch is the number of
    calls so far divided by the steps per epoch.
    """

    def __init__(self, tau_max: Sequence[float], epochs: int, steps_per_epoch: int) -> None:
        self.tau_max = tuple(tau_max)
        self.epochs = epochs
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.calls = 0

    @property
    def epoch(self) -> int:
        """1-based epoch of the next call."""
        return min(self.epochs, self.calls // self.steps_per_epoch + 1)

    def weights(self) -> list[float]:
        return sdn_weights(self.epoch, self.epochs, self.tau_max)

    def __call__(self, logits: Sequence[torch.Tensor], target: torch.Tensor) -> torch.Tensor:
        loss = joint_loss(logits, target, self.weights())
        self.calls += 1
        return loss


def train_joint(
    net: SpinnNet, train: Dataset, cfg: TrainConfig, generator: torch.Generator,
    *, progress: bool = True,
) -> list[float]:
    """Train backbone and exits together in place; returns the mean loss per epoch."""
    steps = math.ceil(len(train) / cfg.batch_size)  # type: ignore[arg-type]
    loss = SdnLoss(net.exit_targets, cfg.epochs, steps)
    return fit(
        net, train, cfg, generator, loss_fn=loss,  # type: ignore[arg-type]
        progress=progress, desc="spinn joint",
    )

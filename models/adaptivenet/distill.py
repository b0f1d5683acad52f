"""Training the elastified supernet (ALGORITHMS 3.2): branch distillation, then fine-tuning.

Both stages freeze the pretrained parts (:meth:`ElasticResNet.freeze_original`) and, at every
step, run one random subnet drawn uniformly per position, re-drawing the all-original subnet
(it has nothing to train). Stage 0 matches every block output of the subnet to the teacher's
(the frozen original path) output at the original block it stands for (MSE, averaged over the
subnet's blocks); stage 1 trains the same random paths on the task loss.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from models.adaptivenet.supernet import ElasticResNet
from models.train import TrainConfig, fit, stage_generator, stage_seed

__all__ = ["distill", "distill_loss", "finetune", "teacher_features"]


def teacher_features(net: ElasticResNet, x: torch.Tensor) -> list[torch.Tensor]:
    """Outputs of every original block on the frozen original path (no gradients)."""
    with torch.no_grad():
        h, out = net.stem(x), []
        for i in range(net.space.positions):
            h = net.block(i, 0)(h)
            out.append(h)
    return out


def distill_loss(net: ElasticResNet, x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Feature-MSE of one random non-original subnet against the teacher's block outputs."""
    sub = net.space.sample(rng, exclude_original=True)
    teacher = teacher_features(net, x)
    terms = [F.mse_loss(f, teacher[j]) for j, f in net.block_features(x, sub)]
    return torch.stack(terms).mean()


def _ready(net: ElasticResNet) -> None:
    if not net.frozen:
        net.freeze_original()
    if net.space.count() < 2:
        raise ValueError("supernet has no branch besides the original path; nothing to train")


def distill(
    net: ElasticResNet, dataset: Dataset, cfg: TrainConfig, seed: int, *, progress: bool = True
) -> list[float]:
    """Stage 0, in place; returns the mean loss of each epoch."""
    _ready(net)
    rng = np.random.default_rng(stage_seed(seed, "adaptivenet", "distill", "paths"))
    return fit(
        net, dataset, cfg, stage_generator(seed, "adaptivenet", "distill"),
        forward=lambda x: distill_loss(net, x, rng), loss_fn=lambda loss, _y: loss,
        progress=progress, desc="adaptivenet distill",
    )


def finetune(
    net: ElasticResNet, dataset: Dataset, cfg: TrainConfig, seed: int, *, progress: bool = True
) -> list[float]:
    """Stage 1, in place: random paths on cross-entropy; returns the mean loss per epoch."""
    _ready(net)
    rng = np.random.default_rng(stage_seed(seed, "adaptivenet", "finetune", "paths"))

    def forward(x: torch.Tensor) -> torch.Tensor:
        sub = net.space.sample(rng, exclude_original=True)
        return net.head(net.run_blocks(net.stem(x), sub.tokens()))

    return fit(
        net, dataset, cfg, stage_generator(seed, "adaptivenet", "finetune"), forward=forward,
        progress=progress, desc="adaptivenet finetune",
    )

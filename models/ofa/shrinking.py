"""Progressive shrinking (ALGORITHMS 4.2): full network, then kernel, depth, expand.

The full network (largest kernel, depth and expand ratio) is trained first and then serves
as the knowledge-distillation teacher. Each later phase widens the set of sampled subnets;
every optimiser step sums the gradients of ``subnets_per_step`` random subnets, each with
hard cross-entropy (label smoothing) plus ``kd_ratio`` x soft-target cross-entropy against
the teacher at the same resolution. Middle channels are re-sorted by importance before each
expand phase. Epoch counts are scaled far below the paper's (see :func:`progressive_phases`).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from models.ofa.blocks import OFAConfig
from models.ofa.network import OFAArch, OFAMobileNetV3

__all__ = ["Phase", "ShrinkSettings", "kd_loss", "make_teacher", "progressive_phases",
           "train_phase"]


@dataclass(frozen=True)
class Phase:
    """One training phase; ``None`` for a dimension means all of the architecture's choices.

    ``sort_stage`` (expand phases) re-sorts middle channels before training, keeping the
    first ``sort_stage`` narrower widths' channel sets nested. ``full`` trains only the
    largest subnet (at random resolutions) without a teacher.
    """

    name: str
    epochs: int
    lr: float
    subnets_per_step: int = 1
    kernels: tuple[int, ...] | None = None
    depths: tuple[int, ...] | None = None
    expands: tuple[int, ...] | None = None
    sort_stage: int | None = None
    full: bool = False


@dataclass(frozen=True)
class ShrinkSettings:
    """Optimiser settings shared by all phases (OFA: SGD-Nesterov, cosine, wd 3e-5 without
    BN/bias, label smoothing 0.1, KD ratio 1.0)."""

    batch_size: int = 64
    momentum: float = 0.9
    weight_decay: float = 3e-5
    label_smoothing: float = 0.1
    kd_ratio: float = 1.0


def progressive_phases(arch: OFAArch, epochs: Mapping[str, int],
                       lr_scale: float = 1.0) -> list[Phase]:
    """The OFA schedule for ``arch``: full, kernel, depth x2, expand x2.

    ``epochs`` gives each phase's epochs by name (full, kernel, depth1, depth2, expand1,
    expand2). Paper epochs are 120/25/120/25/120 after the teacher; we keep their ratios of
    short warm phases to long phases but scale everything down. The learning rates keep the
    paper's ratios (3e-2 kernel, 2.5e-3 short phases, 7.5e-3 long phases) times ``lr_scale``.
    """
    k, d, e = arch.kernels, arch.depths, arch.expands
    top = d[-1]
    e_sorted = tuple(sorted(e, reverse=True))
    s = lr_scale
    return [
        Phase("full", epochs["full"], 0.1 * s, 1, (k[-1],), (top,), (e[-1],), full=True),
        Phase("kernel", epochs["kernel"], 3e-2 * s, 1, k, (top,), (e[-1],)),
        Phase("depth1", epochs["depth1"], 2.5e-3 * s, 2, k, d[-2:], (e[-1],)),
        Phase("depth2", epochs["depth2"], 7.5e-3 * s, 2, k, d, (e[-1],)),
        Phase("expand1", epochs["expand1"], 2.5e-3 * s, 4, k, d, tuple(sorted(e_sorted[:2])),
              sort_stage=0),
        Phase("expand2", epochs["expand2"], 7.5e-3 * s, 4, k, d, e, sort_stage=1),
    ]


def kd_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Soft-target cross-entropy: mean over the batch of -sum softmax(t) * log_softmax(s)."""
    return torch.mean(torch.sum(-F.softmax(teacher, dim=1) * F.log_softmax(student, dim=1), 1))


def make_teacher(net: OFAMobileNetV3) -> OFAMobileNetV3:
    """A frozen eval-mode copy of the supernet running its largest subnet."""
    teacher = copy.deepcopy(net).eval()
    teacher.set_active_subnet(teacher.largest_subnet())
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def _sample(net: OFAMobileNetV3, phase: Phase, rng: np.random.Generator) -> OFAConfig:
    if phase.full:
        big = net.largest_subnet()
        res = int(rng.choice(net.arch.resolutions))
        return dataclasses.replace(big, resolution=res)
    return net.sample_subnet(rng, kernels=phase.kernels, depths=phase.depths,
                             expands=phase.expands)


def train_phase(
    net: OFAMobileNetV3, teacher: OFAMobileNetV3 | None, data: TensorDataset, phase: Phase,
    settings: ShrinkSettings, generator: torch.Generator, rng: np.random.Generator, *,
    device: str | torch.device = "cpu", progress: bool = True,
) -> list[float]:
    """Run one phase in place; returns the mean loss per epoch (per sampled subnet).

    Randomness: batches from ``generator``, subnets from ``rng``. The teacher must be on
    ``device`` already.
    """
    if phase.sort_stage is not None:
        net.sort_channels(phase.sort_stage)
    net.to(device).train()
    decay = [p for p in net.parameters() if p.ndim > 1]
    no_decay = [p for p in net.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD(
        [{"params": decay, "weight_decay": settings.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=phase.lr, momentum=settings.momentum, nesterov=True,
    )
    loader = DataLoader(data, batch_size=settings.batch_size, shuffle=True, generator=generator,
                        drop_last=len(data) > settings.batch_size)
    steps = max(1, phase.epochs * len(loader))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: 0.5 * (1.0 + math.cos(math.pi * min(i, steps) / steps)))
    losses: list[float] = []
    bar = tqdm(total=steps, desc=f"ofa {phase.name}", leave=False, disable=not progress)
    try:
        for _ in range(phase.epochs):
            total, count = 0.0, 0
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                opt.zero_grad(set_to_none=True)
                cached: dict[int, torch.Tensor] = {}
                for _ in range(phase.subnets_per_step):
                    cfg = _sample(net, phase, rng)
                    net.set_active_subnet(cfg)
                    out = net(x)
                    loss = F.cross_entropy(out, y, label_smoothing=settings.label_smoothing)
                    if teacher is not None and settings.kd_ratio > 0:
                        if cfg.resolution not in cached:
                            teacher.set_active_subnet(dataclasses.replace(
                                teacher.largest_subnet(), resolution=cfg.resolution))
                            with torch.no_grad():
                                cached[cfg.resolution] = teacher(x)
                        loss = loss + settings.kd_ratio * kd_loss(out, cached[cfg.resolution])
                    loss.backward()
                    total += float(loss.detach())
                    count += 1
                opt.step()
                sched.step()
                bar.update(1)
            losses.append(total / max(count, 1))
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    finally:
        bar.close()
        net.set_active_subnet(net.largest_subnet())
    return losses

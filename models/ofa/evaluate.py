"""Exported, BN-recalibrated OFA subnets and their measured accuracies (ALGORITHMS 4.3).

A subnet is never evaluated with the supernet's shared running statistics: it is exported
to a static network and its BatchNorm statistics are re-estimated on training images first.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset, TensorDataset
from tqdm.auto import tqdm

from models.data import subset
from models.ofa.blocks import OFAConfig, OFASubnet
from models.ofa.network import OFAMobileNetV3
from models.outcomes import evaluate
from models.supernet import recalibrate_bn

__all__ = ["calibration_images", "export_calibrated", "subnet_accuracies"]


def calibration_images(train: TensorDataset, n: int, seed: int) -> torch.Tensor:
    """``n`` training images (seeded subset) used for every BN re-calibration."""
    return subset(train, n, seed).tensors[0]


def export_calibrated(
    net: OFAMobileNetV3, cfg: OFAConfig, images: torch.Tensor, batch_size: int = 200,
    device: str | torch.device = "cpu",
) -> OFASubnet:
    """Static subnet ``cfg`` with BN statistics re-estimated on ``images`` (eval mode)."""
    sub = net.export_subnet(cfg).to(device)
    recalibrate_bn(sub, images.to(device), batch_size)
    return sub


def subnet_accuracies(
    net: OFAMobileNetV3, cfgs: Sequence[OFAConfig], images: torch.Tensor, dataset: Dataset,
    *, device: str | torch.device = "cpu", progress: bool = False,
) -> list[float]:
    """Top-1 of each subnet (exported, re-calibrated) on ``dataset``."""
    accs: list[float] = []
    for cfg in tqdm(cfgs, desc="subnet accuracy", leave=False, disable=not progress):
        sub = export_calibrated(net, cfg, images, device=device)
        accs.append(evaluate(sub, dataset, device=device)[2])
    return accs

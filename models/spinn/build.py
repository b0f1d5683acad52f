"""Build a SPINN network: backbone, per-unit FLOPs, exits at their FLOP targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import torch

from models.measure import count_flops
from models.spinn.exits import EXIT_TARGETS, Backbone, SpinnNet, place_exits
from models.spinn.network import SCALES, ResNetBackbone, ResNetConfig
from models.spinn.vgg import VGG_SCALES, VGGBackbone, VGGConfig

__all__ = ["ARCHS", "BackboneConfig", "backbone_config", "build_net", "make_backbone", "unit_flops"]

BackboneConfig = ResNetConfig | VGGConfig
ARCHS: dict[str, dict[str, ResNetConfig] | dict[str, VGGConfig]] = {
    "resnet": SCALES,
    "vgg": VGG_SCALES,
}
"""Backbone architectures and their configuration per scale."""


def backbone_config(
    arch: str, scale: str, classes: int, input_shape: Sequence[int]
) -> BackboneConfig:
    """The ``arch`` backbone configuration of ``scale`` for this task."""
    if arch not in ARCHS:
        raise ValueError(f"unknown backbone {arch!r}; expected one of {sorted(ARCHS)}")
    if scale not in ARCHS[arch]:
        raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(ARCHS[arch])}")
    c, h, w = (int(v) for v in input_shape)
    if h != w:
        raise ValueError(f"input must be square, got {h}x{w}")
    return replace(ARCHS[arch][scale], in_channels=c, classes=classes, input_size=h)


def make_backbone(cfg: BackboneConfig) -> Backbone:
    """A freshly initialised backbone for ``cfg`` (uses the global torch RNG)."""
    return VGGBackbone(cfg) if isinstance(cfg, VGGConfig) else ResNetBackbone(cfg)


def unit_flops(backbone: Backbone) -> list[float]:
    """FLOPs of each unit for one input, counted with :func:`models.measure.count_flops`."""
    cfg = backbone.cfg
    x = torch.zeros(1, cfg.in_channels, cfg.input_size, cfg.input_size)
    out: list[float] = []
    was_training = backbone.training
    backbone.eval()
    try:
        for unit in backbone.units:
            out.append(count_flops(unit, x))
            with torch.inference_mode():
                x = unit(x)
    finally:
        backbone.train(was_training)
    return out


def build_net(
    cfg: BackboneConfig, generator: torch.Generator | None = None,
    targets: Sequence[float] = EXIT_TARGETS,
) -> SpinnNet:
    """A fresh network with exits placed by measured per-unit FLOPs.

    Initial weights come from ``generator`` (global torch RNG state is left untouched).
    """
    with torch.random.fork_rng(devices=[]):
        if generator is not None:
            torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
        backbone = make_backbone(cfg)
        placement = place_exits(unit_flops(backbone), targets)
        return SpinnNet(backbone, placement, cfg.classes)

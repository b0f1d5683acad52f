"""Parameter and weight-byte counts derived from an architecture description, without torch.

Published profiles rarely state model sizes, but the simulator needs ``weight_bytes`` for its
memory budget. The sizes here are *derived from the architecture* (standard layer shapes), not
measured; the importers say so in each profile's provenance note.

Convention (same as the measuring profiler): ``weight_bytes`` = 4 bytes x (parameters + the
float buffers a deployed model keeps, i.e. BatchNorm running mean and variance).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.common.messages import clip, excerpt

__all__ = [
    "ABSORBED",
    "Counts",
    "MBV2_POSITIONS",
    "RESNET_DEPTHS",
    "make_divisible",
    "mobilenetv2_counts",
    "ofa_net_counts",
    "resnet_blocks",
    "resnet_subnet_counts",
]

ABSORBED = 99
"""Arch-vector code of a position absorbed by an earlier merged block (AdaptiveNet)."""

RESNET_DEPTHS: dict[str, tuple[int, int, int, int]] = {
    "resnet50": (3, 4, 6, 3),
    "resnet101": (3, 4, 23, 3),
}
MBV2_POSITIONS = 17
"""Blocks of timm's mobilenetv2_100: one depthwise-separable block + 16 inverted residuals."""


@dataclass(frozen=True)
class Counts:
    """Parameter count and float-buffer elements (BN running statistics)."""

    params: int = 0
    buffers: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.params + other.params, self.buffers + other.buffers)

    @property
    def weight_bytes(self) -> int:
        """fp32 bytes held in memory: parameters plus BN running statistics."""
        return 4 * (self.params + self.buffers)


def _conv(cin: int, cout: int, k: int, groups: int = 1, bias: bool = False) -> Counts:
    return Counts(cout * (cin // groups) * k * k + (cout if bias else 0))


def _bn(c: int) -> Counts:
    return Counts(2 * c, 2 * c)


def _linear(cin: int, cout: int, bias: bool = True) -> Counts:
    return Counts(cin * cout + (cout if bias else 0))


def make_divisible(v: float, divisor: int = 8, min_val: int | None = None) -> int:
    """Round a channel count to a multiple of ``divisor`` (MobileNet/OFA convention)."""
    floor = divisor if min_val is None else min_val
    new_v = max(floor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


# ---------------------------------------------------------------- ResNet (AdaptiveNet)
def resnet_blocks(model: str) -> list[tuple[int, int, int]]:
    """``(in_channels, width, out_channels)`` of each bottleneck of a torchvision/timm ResNet."""
    if model not in RESNET_DEPTHS:
        raise ValueError(f"unknown ResNet {model!r}; known: {sorted(RESNET_DEPTHS)}")
    blocks, cin = [], 64
    for depth, width in zip(RESNET_DEPTHS[model], (64, 128, 256, 512)):
        for _ in range(depth):
            blocks.append((cin, width, 4 * width))
            cin = 4 * width
    return blocks


def _bottleneck(cin: int, width: int, cout: int) -> Counts:
    body = _conv(cin, width, 1) + _bn(width) + _conv(width, width, 3) + _bn(width)
    body = body + _conv(width, cout, 1) + _bn(cout)
    # A 1x1 projection shortcut whenever the widths differ (every stride-2 block does too).
    return body + (_conv(cin, cout, 1) + _bn(cout) if cin != cout else Counts())


def _check_merges(arch: Sequence[int], n: int, max_code: int, allowed: set[int]) -> None:
    if len(arch) != n:
        raise ValueError(f"arch has {len(arch)} positions, expected {n}")
    i = 0
    while i < n:
        code = arch[i]
        if code == ABSORBED or code not in allowed:
            raise ValueError(f"arch[{i}] = {code}: expected one of {sorted(allowed)} here")
        span = code if 0 < code <= max_code else 0
        if i + span >= n or any(arch[j] != ABSORBED for j in range(i + 1, i + span + 1)):
            raise ValueError(f"arch[{i}] = {code} must be followed by {span} x {ABSORBED}")
        i += span + 1


def resnet_subnet_counts(model: str, arch: Sequence[int]) -> Counts:
    """Counts of an AdaptiveNet ResNet subnet (ALGORITHMS 3.1).

    Code 0 keeps bottleneck i; code c in {1, 2} is one merged block replacing i..i+c: a copy of
    block i (its width) whose output width becomes block i+c's, with a 1x1 projection
    shortcut when its input and new output widths differ; absorbed positions carry 99.
    """
    blocks = resnet_blocks(model)
    _check_merges(arch, len(blocks), 2, {0, 1, 2})
    total = _conv(3, 64, 7) + _bn(64) + _linear(2048, 1000)
    for i, code in enumerate(arch):
        if code != ABSORBED:
            cin, width, _ = blocks[i]
            total = total + _bottleneck(cin, width, blocks[i + code][2])
    return total


# ---------------------------------------------------------------- MobileNetV2 (original only)
def mobilenetv2_counts() -> Counts:
    """Counts of timm's ``mobilenetv2_100`` (the unmodified model, 1000 classes)."""
    total = _conv(3, 32, 3) + _bn(32)
    total = total + _conv(32, 32, 3, groups=32) + _bn(32) + _conv(32, 16, 1) + _bn(16)
    cin = 16
    for cout, n in ((24, 2), (32, 3), (64, 4), (96, 3), (160, 3), (320, 1)):
        for _ in range(n):
            mid = 6 * cin
            total = total + _conv(cin, mid, 1) + _bn(mid) + _conv(mid, mid, 3, groups=mid)
            total = total + _bn(mid) + _conv(mid, cout, 1) + _bn(cout)
            cin = cout
    return total + _conv(320, 1280, 1) + _bn(1280) + _linear(1280, 1000)


# ---------------------------------------------------------------- once-for-all net_config
MAX_DIM = 1_000_000
"""Largest channel count, kernel size or group count a published layer may give."""


def _dim(cfg: Mapping[str, Any], key: str, default: int | None = None) -> int:
    """``cfg[key]`` (or ``default`` when absent or null) as a positive integer of at most
    :data:`MAX_DIM`; ValueError naming the key otherwise."""
    raw = cfg.get(key) if default is not None else cfg[key]
    value = default if raw is None else raw
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValueError(f"{key}: expected a whole number")
    if not 1 <= value <= MAX_DIM:
        raise ValueError(f"{key}: expected 1 to {MAX_DIM:,}")
    return int(value)


def _ofa_conv_layer(cfg: Mapping[str, Any]) -> Counts:
    out = _dim(cfg, "out_channels")
    conv = _conv(_dim(cfg, "in_channels"), out, _dim(cfg, "kernel_size"),
                 _dim(cfg, "groups", 1), bool(cfg.get("bias", False)))
    return conv + (_bn(out) if cfg.get("use_bn", True) else Counts())


def _ofa_linear_layer(cfg: Mapping[str, Any]) -> Counts:
    cin = _dim(cfg, "in_features")
    bn = _bn(cin) if cfg.get("use_bn", False) else Counts()
    return bn + _linear(cin, _dim(cfg, "out_features"), bool(cfg.get("bias", True)))


def _ofa_mbconv(cfg: Mapping[str, Any]) -> Counts:
    cin, cout, k = _dim(cfg, "in_channels"), _dim(cfg, "out_channels"), _dim(cfg, "kernel_size")
    ratio = float(cfg["expand_ratio"])
    if not 0 < ratio <= 1000:  # also NaN
        raise ValueError("expand_ratio: expected a number in (0, 1000]")
    mid = _dim(cfg, "mid_channels", make_divisible(round(cin * ratio), 8))
    total = Counts() if ratio == 1 else _conv(cin, mid, 1) + _bn(mid)
    total = total + _conv(mid, mid, k, groups=mid) + _bn(mid)
    if cfg.get("use_se"):
        squeeze = make_divisible(mid // 4, 8)
        total = total + _conv(mid, squeeze, 1, bias=True) + _conv(squeeze, mid, 1, bias=True)
    return total + _conv(mid, cout, 1) + _bn(cout)


_OFA_LAYERS = {
    "ConvLayer": _ofa_conv_layer,
    "LinearLayer": _ofa_linear_layer,
    "MBInvertedConvLayer": _ofa_mbconv,
    "IdentityLayer": lambda cfg: Counts(),
    "ZeroLayer": lambda cfg: Counts(),
}


def _ofa_layer(cfg: Mapping[str, Any] | None, where: str) -> Counts:
    if cfg is None:
        return Counts()
    name = cfg.get("name") if isinstance(cfg, Mapping) else None
    if not isinstance(name, str) or name not in _OFA_LAYERS:
        shown = excerpt(name) if isinstance(name, str) else type(name).__name__
        raise ValueError(f"{where}: unknown layer {shown}; known: {sorted(_OFA_LAYERS)}")
    try:
        return _OFA_LAYERS[name](cfg)
    except KeyError as exc:
        raise ValueError(f"{where}: malformed {name} (no {clip(str(exc.args[0]))})") from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{where}: malformed {name} ({clip(str(exc), 80)})") from None


def ofa_net_counts(net_config: Mapping[str, Any]) -> Counts:
    """Counts of a once-for-all subnet from its published ``net_config`` (MobileNetV3 or
    ProxylessNAS layout: first conv, MBConv blocks, optional final expand, feature mix,
    classifier)."""
    total = Counts()
    for key in ("first_conv", "final_expand_layer", "feature_mix_layer", "classifier"):
        total = total + _ofa_layer(net_config.get(key), key)
    for i, block in enumerate(net_config.get("blocks") or []):
        total = total + _ofa_layer(block.get("mobile_inverted_conv"), f"blocks.{i}")
        total = total + _ofa_layer(block.get("shortcut"), f"blocks.{i}.shortcut")
    return total

"""Per-block latency lookup table of the OFA supernet (ALGORITHMS 4.4).

Every key names one block choice *and* the shape it runs at (input size and width, output
width, middle width, kernel, stride, SE, h-swish, residual), so equal keys time equal work.
A subnet's predicted latency is the sum over its stem (at its resolution), its active
blocks (feature size tracked as ``(size - 1) // stride + 1``) and its head. Entries are timed on the exported static modules
the deployed subnet runs, inside whole covering subnets (:func:`covering_subnets`), since
blocks timed alone in a tight loop under-predict end-to-end latency; the subnets that check
the table are timed in passes alternating with it, so machine drift hits both alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from models.measure import MeasureSettings
from models.ofa.blocks import OFAConfig
from models.ofa.network import DynamicMBConv, OFAMobileNetV3
from models.supernet import measure_alternating, predict_latency
from sim.profile import LatencyStats

__all__ = [
    "block_key",
    "covering_subnets",
    "head_key",
    "measure_table",
    "predict_ms",
    "stem_key",
    "subnet_keys",
    "table_chains",
]


def _out(size: int, stride: int) -> int:
    return (size - 1) // stride + 1


def stem_key(net: OFAMobileNetV3, resolution: int) -> str:
    a = net.arch
    return f"stem:{resolution}x{resolution}x{a.in_channels}>{a.first_width}"


def block_key(block: DynamicMBConv, size: int, kernel: int, expand: int) -> str:
    """Key of one MBConv choice at input feature size ``size``."""
    o = _out(size, block.stride)
    return (
        f"mb:{size}x{size}x{block.cin}>{o}x{o}x{block.cout}:mid{block.mid(expand)}:k{kernel}"
        f":s{block.stride}:se{int(block.use_se)}:hs{int(block.hswish)}:id{int(block.residual)}"
    )


def head_key(net: OFAMobileNetV3, size: int) -> str:
    a = net.arch
    return f"head:{size}x{size}x{a.widths[-1]}>{a.final_expand}>{a.feature_mix}>{a.classes}"


def _final_size(net: OFAMobileNetV3, resolution: int) -> int:
    size = resolution
    for s in net.arch.strides:
        size = _out(size, s)
    return size


def subnet_keys(net: OFAMobileNetV3, cfg: OFAConfig) -> list[str]:
    """Table keys a subnet's latency is the sum of: stem, active blocks in order, head."""
    net.check_subnet(cfg)
    keys = [stem_key(net, cfg.resolution)]
    size = cfg.resolution
    sizes = []
    for stride in net.arch.strides:
        sizes.append(size)
        size = _out(size, stride)
    for s, b, k, e in net.active_blocks(cfg):
        block = net.stages[s].blocks[b]
        in_size = sizes[s] if b == 0 else _out(sizes[s], net.arch.strides[s])
        keys.append(block_key(block, in_size, k, e))
    keys.append(head_key(net, _final_size(net, cfg.resolution)))
    return keys


def covering_subnets(net: OFAMobileNetV3, seed: int = 0) -> list[OFAConfig]:
    """Full-depth subnets that together run every block choice at every position shape.

    Per resolution, one subnet per (kernel, expand) combination, where block slot ``i`` of
    subnet ``j`` takes combination ``perm_i[j]`` of a random permutation per slot: every slot
    sees every combination once, and neighbouring blocks differ as in sampled subnets
    (uniform subnets, whose neighbours repeat one shape, run measurably faster).
    """
    a = net.arch
    n = a.stages * a.max_depth
    combos = [(k, e) for k in a.kernels for e in a.expands]
    rng = np.random.default_rng(seed)
    out = []
    for r in a.resolutions:
        perms = [rng.permutation(len(combos)) for _ in range(n)]
        for j in range(len(combos)):
            picks = [combos[perms[i][j]] for i in range(n)]
            out.append(OFAConfig(resolution=r, depths=(a.max_depth,) * a.stages,
                                 kernels=tuple(k for k, _ in picks),
                                 expands=tuple(e for _, e in picks)))
    return out


def table_chains(
    net: OFAMobileNetV3, batch_size: int = 1
) -> list[tuple[nn.Module, list[tuple[str, nn.Module]], torch.Tensor]]:
    """The covering subnets as ``(exported subnet, [(key, module)...], input)`` chains for
    :func:`models.supernet.measure_in_context`."""
    g = torch.Generator().manual_seed(0)
    chains = []
    for cfg in covering_subnets(net):
        sub = net.export_subnet(cfg).eval()
        keys = subnet_keys(net, cfg)
        mods = [sub.stem, *(blk for stage in sub.stages for blk in stage), sub.head]
        r = cfg.resolution
        x = torch.randn(batch_size, net.arch.in_channels, r, r, generator=g)
        chains.append((sub, list(zip(keys, mods, strict=True)), x))
    return chains


def measure_table(
    net: OFAMobileNetV3, cfgs: Sequence[OFAConfig], settings: MeasureSettings, passes: int = 3,
    *, progress: bool = False,
) -> tuple[dict[str, LatencyStats], float, list[LatencyStats]]:
    """Time every table entry on this machine with ``settings``, in context (blocks inside
    the covering subnets, sharing out each subnet's end-to-end time), and the exported
    subnets ``cfgs`` end to end, in ``passes`` alternating passes
    (:func:`models.supernet.measure_alternating`). Returns the entries, the median ratio of
    end-to-end time to the sum of separately timed blocks, and one statistic per config."""
    g = torch.Generator().manual_seed(1)
    nets = [(net.export_subnet(c).eval(),
             torch.randn(settings.batch_size, net.arch.in_channels, c.resolution, c.resolution,
                         generator=g)) for c in cfgs]
    return measure_alternating(table_chains(net, settings.batch_size), nets, settings, passes,
                               progress=progress)


def predict_ms(table: Mapping[str, float], net: OFAMobileNetV3, cfg: OFAConfig) -> float:
    """Table-predicted latency (ms) of subnet ``cfg``."""
    return predict_latency(table, subnet_keys(net, cfg))

"""What each block of an elastified supernet weighs, so switching loads only missing blocks.

AdaptiveNet stores every block choice as its own file (ALGORITHMS 3.5) and a switch reads only
the blocks the new subnet has and the old one lacks. The profile therefore records the weight
bytes of the stem, the head and every block choice (keyed like the latency table), and for
each subnet the keys of the blocks it holds. Sizes depend only on the architecture.
"""

from __future__ import annotations

import torch

from models.adaptivenet.latency import table_key
from models.adaptivenet.space import SubnetConfig
from models.adaptivenet.supernet import ElasticResNet
from models.measure import peak_activation_bytes, weight_bytes
from sim.profile import SearchCandidate

__all__ = ["STEM", "HEAD", "block_bytes", "candidate_record", "subnet_blocks"]

STEM, HEAD = "stem", "head"


def block_bytes(net: ElasticResNet) -> dict[str, int]:
    """Weight bytes of the stem, the head and every (position, choice) block."""
    sizes = {STEM: weight_bytes(net.stem), HEAD: weight_bytes(net.head)}
    for i, c in net.space.block_keys():
        sizes[table_key(net.space, i, c)] = weight_bytes(net.block(i, c))
    return sizes


def subnet_blocks(net: ElasticResNet, cfg: SubnetConfig) -> tuple[str, ...]:
    """Keys of the blocks a subnet holds in memory, stem first and head last."""
    return (STEM, *(table_key(net.space, i, c) for i, c in cfg.tokens()), HEAD)


def candidate_record(
    net: ElasticResNet, cfg: SubnetConfig, cid: str, table_ms: float, val_top1: float,
    one: torch.Tensor,
) -> SearchCandidate:
    """A searched subnet as the profile keeps it (sizes from the exported subnet)."""
    model = net.export_subnet(cfg).eval()
    return SearchCandidate(
        id=cid, arch={"choices": list(cfg.choices), "key": cfg.key}, table_ms=table_ms,
        val_top1=val_top1, weight_bytes=weight_bytes(model),
        peak_activation_bytes=peak_activation_bytes(model, one), blocks=subnet_blocks(net, cfg),
    )

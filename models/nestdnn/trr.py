"""Triplet Response Residual (TRR) filter importance (ALGORITHMS 1.2).

For a filter j with post-ReLU response map F_j and triplets (anchor a, positive p of a's
class, negative n of another class):

    TRR(j) = sum_(a,p,n) ||F_j(a) - F_j(n)||^2 - ||F_j(a) - F_j(p)||^2

divided here by the map size H*W (a per-layer constant, so rankings are unchanged). Filters
whose responses separate classes score high; ranking is per channel group (layer).
"""

from __future__ import annotations

import torch
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from models.nestdnn.network import NestedNet

__all__ = ["rank_filters", "sample_triplets", "trr_from_maps", "trr_scores"]


def sample_triplets(
    labels: torch.Tensor, n: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` (anchor, positive, negative) index triplets drawn uniformly with ``generator``.

    The positive shares the anchor's label and differs from it; the negative has another
    label. ValueError when some class has fewer than 2 samples or there is only one class.
    """
    labels = labels.long()
    order = torch.argsort(labels, stable=True)
    classes, counts = torch.unique(labels, return_counts=True)
    if len(classes) < 2 or int(counts.min()) < 2:
        raise ValueError("TRR triplets need >= 2 classes with >= 2 samples each")
    pos_of = torch.full((int(classes.max()) + 1,), -1, dtype=torch.long)
    pos_of[classes] = torch.arange(len(classes))
    offsets = torch.cumsum(counts, 0) - counts
    anchor = torch.randint(len(labels), (n,), generator=generator)
    c = pos_of[labels[anchor]]
    cnt, off = counts[c], offsets[c]
    rank_a = (torch.argsort(order)[anchor]) - off  # anchor's rank within its class
    r = (torch.rand(n, generator=generator) * (cnt - 1)).long().clamp_max(cnt - 2)
    r = r + (r >= rank_a).long()  # skip the anchor itself
    positive = order[off + r]
    r = (torch.rand(n, generator=generator) * (len(labels) - cnt)).long()
    r = torch.minimum(r, len(labels) - cnt - 1)
    r = r + (r >= off).long() * cnt  # skip the anchor's class block
    negative = order[r]
    return anchor, positive, negative


def trr_from_maps(fa: torch.Tensor, fp: torch.Tensor, fn: torch.Tensor) -> torch.Tensor:
    """Per-channel TRR summed over a batch of triplets of response maps (N, C, H, W)."""
    hw = fa.shape[2] * fa.shape[3]
    neg = (fa - fn).pow(2).sum(dim=(2, 3))
    pos = (fa - fp).pow(2).sum(dim=(2, 3))
    return (neg - pos).sum(dim=0) / hw


def trr_scores(
    net: NestedNet, data: TensorDataset, n_triplets: int, generator: torch.Generator,
    *, batch: int = 128, progress: bool = False,
) -> dict[str, torch.Tensor]:
    """TRR of every active filter of every group of ``net`` on ``data`` (eval mode)."""
    x, y = data.tensors[0], data.tensors[1]
    a, p, n = sample_triplets(y, n_triplets, generator)
    totals: dict[str, torch.Tensor] = {}
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            for i in tqdm(range(0, n_triplets, batch), desc="TRR", leave=False,
                          disable=not progress):
                sl = slice(i, i + batch)
                ta: dict[str, torch.Tensor] = {}
                tp: dict[str, torch.Tensor] = {}
                tn: dict[str, torch.Tensor] = {}
                net.forward_features(x[a[sl]], ta)
                net.forward_features(x[p[sl]], tp)
                net.forward_features(x[n[sl]], tn)
                for g in ta:
                    s = trr_from_maps(ta[g], tp[g], tn[g])
                    totals[g] = totals[g] + s if g in totals else s
    finally:
        net.train(was_training)
    return totals


def rank_filters(scores: torch.Tensor) -> torch.Tensor:
    """Filter indices from most to least important (ties keep the lower index first)."""
    return torch.argsort(-scores, stable=True)

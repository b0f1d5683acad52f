"""Reuse-based evaluation (ALGORITHMS 3.4): subnets that share a prefix share its computation.

The candidates' block sequences form a prefix tree (trie) whose edges are (position, choice)
blocks. A depth-first walk runs each edge once per validation batch: the feature map at the
end of a shared prefix (a node with several children) stays cached while its subtree is
walked and is dropped when the subtree is done; along an unshared chain only the newest map is
kept. The stem output of the validation set is computed once and reused by every call.

Both this evaluator and :func:`naive_evaluate` run the same modules on the same batches, so the
accuracies are identical, not merely close.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from models.adaptivenet.space import SubnetConfig
from models.adaptivenet.supernet import ElasticResNet

__all__ = ["PrefixNode", "ReuseEvaluator", "build_tree", "naive_evaluate", "reuse_speedup"]


@dataclass
class PrefixNode:
    """A prefix of block tokens; ``ends`` are indices of the candidates that end here."""

    children: dict[tuple[int, int], PrefixNode] = field(default_factory=dict)
    ends: list[int] = field(default_factory=list)

    def edges(self) -> int:
        """Blocks run per batch to evaluate the whole subtree."""
        return sum(1 + c.edges() for c in self.children.values())


def build_tree(configs: Sequence[SubnetConfig]) -> PrefixNode:
    """The trie of the candidates' token sequences (duplicates end at the same node)."""
    root = PrefixNode()
    for k, cfg in enumerate(configs):
        node = root
        for tok in cfg.tokens():
            node = node.children.setdefault(tok, PrefixNode())
        node.ends.append(k)
    return root


def _batches(net: ElasticResNet, images: torch.Tensor, labels: torch.Tensor,
             batch_size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Fixed batches on the supernet's device: both evaluators see exactly the same ones."""
    dev = next(net.parameters()).device
    if len(images) != len(labels) or len(images) == 0 or batch_size < 1:
        raise ValueError(f"evaluation: need equally many images and labels (got {len(images)}, "
                         f"{len(labels)}) and batch_size >= 1")
    return [(images[s:s + batch_size].to(dev), labels[s:s + batch_size].to(dev))
            for s in range(0, len(images), batch_size)]


class ReuseEvaluator:
    """Top-1 of many subnets of ``net`` on fixed validation data, sharing prefixes.

    The stem outputs are cached on first use: the supernet's weights must not change during
    the evaluator's life.
    """

    def __init__(
        self, net: ElasticResNet, images: torch.Tensor, labels: torch.Tensor,
        batch_size: int = 250,
    ) -> None:
        self.net = net
        self.batches = _batches(net, images, labels, batch_size)
        self.samples = len(images)
        self._stem: list[torch.Tensor] | None = None
        self.blocks_run = 0  # blocks run over all calls and batches
        self.blocks_naive = 0  # what naive evaluation of the same calls would have run

    def _stem_outputs(self) -> list[torch.Tensor]:
        if self._stem is None:
            self._stem = [self.net.stem(x) for x, _ in self.batches]
        return self._stem

    def _walk(self, node: PrefixNode, h: torch.Tensor, y: torch.Tensor, hits: list[int]) -> None:
        for tok, child in node.children.items():
            cur, out = child, self.net.block(*tok)(h)
            self.blocks_run += 1
            # an unshared chain: keep only the newest feature map
            while not cur.ends and len(cur.children) == 1:
                (nxt_tok, nxt), = cur.children.items()
                out = self.net.block(*nxt_tok)(out)
                self.blocks_run += 1
                cur = nxt
            if cur.ends:
                correct = int((self.net.head(out).argmax(dim=1) == y).sum())
                for k in cur.ends:
                    hits[k] += correct
            self._walk(cur, out, y, hits)
            del out  # the subtree is done: free its cached map

    def evaluate(self, configs: Sequence[SubnetConfig]) -> list[float]:
        """Top-1 accuracy (fraction) of every config, in order."""
        for cfg in configs:
            self.net.check_subnet(cfg)
        root = build_tree(configs)
        self.blocks_naive += sum(len(c.tokens()) for c in configs) * len(self.batches)
        hits = [0] * len(configs)
        was_training = self.net.training
        self.net.eval()
        try:
            with torch.inference_mode():
                for h, (_, y) in zip(self._stem_outputs(), self.batches, strict=True):
                    self._walk(root, h, y, hits)
        finally:
            self.net.train(was_training)
        return [k / self.samples for k in hits]


def naive_evaluate(
    net: ElasticResNet, images: torch.Tensor, labels: torch.Tensor,
    configs: Sequence[SubnetConfig], batch_size: int = 250,
) -> list[float]:
    """Top-1 of every config evaluated from scratch (stem included), batch by batch."""
    batches = _batches(net, images, labels, batch_size)
    out = []
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            for cfg in configs:
                net.check_subnet(cfg)
                hits = 0
                for x, y in batches:
                    logits = net.head(net.run_blocks(net.stem(x), cfg.tokens()))
                    hits += int((logits.argmax(dim=1) == y).sum())
                out.append(hits / len(images))
    finally:
        net.train(was_training)
    return out


def reuse_speedup(
    net: ElasticResNet, images: torch.Tensor, labels: torch.Tensor,
    configs: Sequence[SubnetConfig], batch_size: int = 250,
) -> dict[str, float]:
    """Wall time of reuse-based vs naive evaluation of the same candidates (a fresh evaluator,
    so the stem is paid once); RuntimeError if their accuracies differ at all."""
    t0 = time.perf_counter()
    ev = ReuseEvaluator(net, images, labels, batch_size)
    reuse = ev.evaluate(configs)
    t1 = time.perf_counter()
    naive = naive_evaluate(net, images, labels, configs, batch_size)
    t2 = time.perf_counter()
    if reuse != naive:
        raise RuntimeError("reuse-based evaluation disagrees with naive evaluation")
    blocks_naive = sum(len(c.tokens()) for c in configs)
    return {
        "candidates": len(configs), "reuse_s": t1 - t0, "naive_s": t2 - t1,
        "speedup": (t2 - t1) / max(t1 - t0, 1e-9),
        "blocks_reuse": ev.blocks_run / max(len(ev.batches), 1), "blocks_naive": blocks_naive,
    }

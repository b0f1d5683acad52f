"""Shared training helpers: a seeded loop, atomic checkpoints and resumable stages.

Every family trains through :func:`fit` and stores results through :func:`run_stage`, so a run
interrupted at any point resumes from the last finished stage and gives the same result as an
uninterrupted run (each stage draws its randomness from ``stage_generator(seed, name)``).
"""

from __future__ import annotations

import io
import math
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from sim.common.atomic import write_bytes_atomic

__all__ = [
    "TrainConfig",
    "fit",
    "load_checkpoint",
    "run_stage",
    "save_checkpoint",
    "stage_generator",
    "stage_seed",
]


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and schedule of one training stage (cosine learning-rate decay)."""

    epochs: int = 5
    lr: float = 0.05
    batch_size: int = 64
    optimizer: Literal["sgd", "adam"] = "sgd"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0


def stage_seed(seed: int, *names: object) -> int:
    """A stable 63-bit seed for one named stage of a seeded run."""
    key = "/".join(str(n) for n in (seed, *names)).encode()
    return (zlib.crc32(key) << 31 | zlib.crc32(key[::-1])) & ((1 << 63) - 1)


def stage_generator(seed: int, *names: object) -> torch.Generator:
    """A ``torch.Generator`` seeded with :func:`stage_seed`."""
    return torch.Generator().manual_seed(stage_seed(seed, *names))


def save_checkpoint(path: str | os.PathLike[str], obj: Any) -> Path:
    """``torch.save`` atomically: the file is either complete or absent."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return write_bytes_atomic(path, buf.getvalue())


def load_checkpoint(path: str | os.PathLike[str]) -> Any:
    """Load a checkpoint written by :func:`save_checkpoint` (tensors and plain Python only)."""
    return torch.load(Path(path), map_location="cpu", weights_only=True)


def run_stage(
    ckpt_dir: str | os.PathLike[str], name: str, fn: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Return the stored result of stage ``name`` or compute it with ``fn`` and store it.

    ``fn`` returns a dict of tensors / plain values; the wall time it took is added under
    ``"seconds"`` (the stored value is kept when the stage is skipped).
    """
    path = Path(ckpt_dir) / f"{name}.pt"
    if path.exists():
        return load_checkpoint(path)
    t0 = time.perf_counter()
    result = dict(fn())
    result.setdefault("seconds", time.perf_counter() - t0)
    save_checkpoint(path, result)
    return result


def _optimizer(params: list[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.momentum > 0)


def fit(
    model: nn.Module,
    dataset: Dataset,
    cfg: TrainConfig,
    generator: torch.Generator,
    *,
    forward: Callable[[torch.Tensor], torch.Tensor] | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    before_step: Callable[[], None] | None = None,
    progress: bool = True,
    desc: str = "train",
) -> list[float]:
    """Train ``model`` in place; returns the mean loss of each epoch.

    ``forward`` replaces ``model(x)`` (e.g. an active subnet or exits); ``loss_fn`` replaces
    cross-entropy on its output. Weight decay is added to the gradients by hand *before*
    ``before_step`` runs, so a hook that zeroes the gradients of frozen weights freezes them
    exactly (the optimiser then never moves them: zero gradient, zero momentum).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    opt = _optimizer(params, cfg)
    loader = DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True, generator=generator)
    steps = max(1, cfg.epochs * len(loader))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: 0.5 * (1.0 + math.cos(math.pi * min(i, steps) / steps))
    )
    fwd = forward or model
    crit = loss_fn or (lambda out, y: F.cross_entropy(out, y, label_smoothing=cfg.label_smoothing))
    model.train()
    losses: list[float] = []
    bar = tqdm(total=steps, desc=desc, leave=False, disable=not progress)
    try:
        for _ in range(cfg.epochs):
            total, count = 0.0, 0
            for x, y in loader:
                opt.zero_grad(set_to_none=False)
                loss = crit(fwd(x), y)
                loss.backward()
                if cfg.weight_decay:
                    with torch.no_grad():
                        for p in params:
                            if p.grad is not None:
                                p.grad.add_(p, alpha=cfg.weight_decay)
                if before_step is not None:
                    before_step()
                opt.step()
                sched.step()
                total += float(loss.detach()) * len(y)
                count += len(y)
                bar.update(1)
            losses.append(total / max(count, 1))
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    finally:
        bar.close()
    return losses

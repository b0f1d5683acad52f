"""What each AdaptiveNet scale fixes (backbone, the three training stages, the search), apart
from the family so that the profiler reads it without importing the family."""

from __future__ import annotations

from dataclasses import dataclass

from models.adaptivenet.backbone import SCALES, BackboneConfig
from models.train import TrainConfig

__all__ = ["SCALE_SPECS", "ScaleSpec"]


@dataclass(frozen=True)
class ScaleSpec:
    """Everything a scale fixes: the backbone, the three training stages and the search."""

    backbone: BackboneConfig
    pretrain: TrainConfig
    distill: TrainConfig
    finetune: TrainConfig
    shrink_rates: tuple[float, ...] = (0.25, 0.5)
    max_merge: int = 2
    population: int = 32
    generations: int = 4
    budgets: tuple[float, ...] = (0.85, 0.7, 0.55)  # x the original path's table latency
    table_samples: int = 60
    table_passes: int = 3  # table and samples timed in alternating passes, runs pooled
    eval_batch: int = 8  # small batches keep a 1-thread CPU's caches effective


SCALE_SPECS: dict[str, ScaleSpec] = {
    "tiny": ScaleSpec(
        backbone=SCALES["tiny"],
        pretrain=TrainConfig(epochs=3, lr=0.1, batch_size=32),
        distill=TrainConfig(epochs=1, lr=2e-3, batch_size=64, optimizer="adam", weight_decay=0),
        finetune=TrainConfig(epochs=1, lr=1e-3, batch_size=64, optimizer="adam",
                             weight_decay=0),
        population=8, generations=2, budgets=(0.9, 0.7), table_samples=50, table_passes=2,
    ),
    "standard": ScaleSpec(
        backbone=SCALES["standard"],
        pretrain=TrainConfig(epochs=8, lr=0.02, batch_size=64, label_smoothing=0.1),
        distill=TrainConfig(epochs=4, lr=2e-3, batch_size=64, optimizer="adam", weight_decay=0),
        finetune=TrainConfig(epochs=5, lr=1e-3, batch_size=64, optimizer="adam",
                             weight_decay=0, label_smoothing=0.1),
        population=24, generations=3, budgets=(0.85, 0.7, 0.55),
    ),
}

"""The ``ofa-mbv3`` family (kind ``supernet``): train once, specialise per device.

``train`` runs the device-independent pipeline (:mod:`models.ofa.training`). ``build_profile``
does the device-specific part on the machine it runs on: it times the per-block lookup table
and, in alternating passes, >= 50 sampled subnets end to end to report the table's error
honestly, searches the
best subnet for several latency budgets, and exports, re-calibrates and measures each of them
(top-1 and per-sample outcomes on the test split, latency, size, FLOPs) as the variants.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.data import DataSplits
from models.measure import (
    MeasureSettings,
    count_flops,
    count_params,
    device_info,
    measure_latencies,
    measured_provenance,
    peak_activation_bytes,
    weight_bytes,
)
from models.ofa.evaluate import calibration_images, export_calibrated
from models.ofa.latency_table import measure_table, predict_ms, subnet_keys
from models.ofa.network import SCALES, OFAArch
from models.ofa.predictor import ArchEncoder
from models.ofa.specialise import budgets_from_quantiles, specialise
from models.ofa.training import TrainPlan, distinct_subnets, load_trained, train_pipeline
from models.outcomes import build_outcomes, evaluate
from models.registry import Family, ModelsUserError, register_family
from models.search import EvolutionSettings
from models.supernet import lookup_error
from models.train import stage_seed
from sim.profile import LookupTable, Profile, Task, Variant

__all__ = ["OFAFamily", "PLANS", "ProfilePlan"]


@dataclass(frozen=True)
class ProfilePlan:
    """How much measuring and searching one scale does at profiling time."""

    latency_samples: int = 60
    table_passes: int = 3  # table and samples timed in alternating passes, runs pooled
    search: EvolutionSettings = dataclasses.field(default_factory=EvolutionSettings)
    budget_quantiles: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75)


PLANS: dict[str, tuple[TrainPlan, ProfilePlan]] = {
    "tiny": (
        TrainPlan(epochs={"full": 1, "kernel": 1, "depth1": 1, "depth2": 1, "expand1": 1,
                          "expand2": 1}, batch_size=64, predictor_subnets=16,
                  predictor_hidden=64, predictor_epochs=60, calib_images=128),
        ProfilePlan(latency_samples=50, table_passes=2,
                    search=EvolutionSettings(population=20, generations=3, max_tries=200),
                    budget_quantiles=(0.1, 0.5)),
    ),
    # paper epochs 120/25/120/25/120 after the teacher, here 2/1/2/1/2 after a 6-epoch
    # teacher on digits-wild (3,231 training images)
    "standard": (
        TrainPlan(epochs={"full": 6, "kernel": 2, "depth1": 1, "depth2": 2, "expand1": 1,
                          "expand2": 2}, batch_size=64, predictor_subnets=200,
                  predictor_hidden=400, predictor_epochs=300, calib_images=300),
        ProfilePlan(latency_samples=60, search=EvolutionSettings(generations=100)),
    ),
}


@register_family
class OFAFamily(Family):
    """Once-for-all MobileNetV3 supernet; ``device`` is where training runs (cpu/cuda)."""

    name = "ofa-mbv3"
    kind = "supernet"

    def __init__(
        self, scale: str = "tiny", seed: int = 0, classes: int = 10,
        input_shape: tuple[int, int, int] = (1, 32, 32), device: str = "cpu",
    ) -> None:
        super().__init__(scale=scale, seed=seed, classes=classes, input_shape=input_shape)
        self.device = device

    def arch(self, data: DataSplits) -> OFAArch:
        """The scale's architecture for this data set's channels and classes."""
        self.check_scale()
        return dataclasses.replace(SCALES[self.scale], in_channels=data.input_shape[0],
                                   classes=data.classes)

    def train(self, data: DataSplits, ckpt_dir: Path, *, progress: bool = True) -> None:
        train_pipeline(self.arch(data), PLANS[self.scale][0], data, Path(ckpt_dir), self.seed,
                       device=self.device, progress=progress)

    def build_profile(
        self, data: DataSplits, ckpt_dir: Path, settings: MeasureSettings
    ) -> Profile:
        arch = self.arch(data)
        train_plan, plan = PLANS[self.scale]
        try:
            net, predictor, records = load_trained(arch, Path(ckpt_dir))
        except FileNotFoundError as exc:
            raise ModelsUserError(f"family {self.name!r}: {exc}") from None
        progress = settings.progress

        rng = np.random.default_rng(stage_seed(self.seed, "latency-samples"))
        cfgs = distinct_subnets(net, plan.latency_samples, rng)
        t0 = time.perf_counter()
        stats, context_ratio, measured = measure_table(net, cfgs, settings, plan.table_passes,
                                                       progress=progress)
        table = {k: s.median for k, s in stats.items()}
        table_s = time.perf_counter() - t0
        samples = [{"arch": cfg.key, "measured_ms": m.median,
                    "predicted_ms": predict_ms(table, net, cfg)}
                   for cfg, m in zip(cfgs, measured, strict=True)]
        error = lookup_error([s["measured_ms"] for s in samples],
                             [s["predicted_ms"] for s in samples])

        budgets = budgets_from_quantiles(
            net, table, np.random.default_rng(stage_seed(self.seed, "budgets")),
            plan.budget_quantiles)
        images = calibration_images(data.train, train_plan.calib_images,
                                    stage_seed(self.seed, "calib"))
        enc = ArchEncoder(arch)
        correct, searches = {}, []
        rows: list[dict[str, Any]] = []
        jobs: dict[str, tuple[torch.nn.Module, torch.Tensor]] = {}
        for i, budget in enumerate(budgets):
            res = specialise(net, predictor, table, budget,
                             np.random.default_rng(stage_seed(self.seed, "search", i)),
                             plan.search, progress=progress)
            cfg = res.best
            sub = export_calibrated(net, cfg, images)
            ok, _, top1 = evaluate(sub, data.test)
            x = torch.randn(settings.batch_size, arch.in_channels, cfg.resolution, cfg.resolution)
            vid = f"ofa-{budget:.3f}ms"
            correct[vid] = ok
            jobs[vid] = (sub, x)
            rows.append(dict(
                id=vid,
                arch={"subnet": cfg.to_dict(), "key": cfg.key, "budget_ms": budget,
                      "predicted_ms": predict_ms(table, net, cfg),
                      "predicted_top1": float(predictor.predict(enc.encode_many([cfg]))[0]),
                      "table_keys": subnet_keys(net, cfg)},
                params=count_params(sub), weight_bytes=weight_bytes(sub),
                peak_activation_bytes=peak_activation_bytes(sub, x[:1]),
                flops=count_flops(sub, x[:1]), top1=top1,
            ))
            searches.append({"budget_ms": budget, "seconds": res.seconds,
                             "evaluated": res.evaluated, "best_predicted_top1": res.best_fitness,
                             "history": res.history})
        latency = measure_latencies(jobs, settings)  # all subnets in alternating passes
        variants = [Variant(latency_ms=latency[r["id"]], **r) for r in rows]

        train_seconds = {k: float(v.get("seconds", 0.0)) for k, v in records.items()}
        return Profile(
            family=self.name, kind="supernet",
            task=Task(dataset=data.name, classes=data.classes, input_shape=data.input_shape,
                      eval_samples=len(data.test)),
            provenance=measured_provenance(),
            device=device_info(settings),
            variants=variants,
            lookup_table=LookupTable(blocks=table, samples=samples, error=error),
            outcomes=build_outcomes(correct),
            extra={
                "scale": self.scale,
                "supernet": net.to_config(),
                "lookup_table_note": "stem and head entries are per resolution in 'blocks'; a "
                                     "subnet's prediction is the sum over its arch.table_keys; "
                                     "entries are timed inside whole subnets, in passes "
                                     "alternating with the sampled subnets' timing",
                "lookup_table_seconds": table_s,
                "lookup_table_passes": plan.table_passes,
                "lookup_table_context_ratio": context_ratio,
                "search": searches,
                "search_seconds": float(sum(s["seconds"] for s in searches)),
                "predictor": records["predictor"]["metrics"],
                "predictor_subnets": len(records["predictor-data"]["val_top1"]),
                "training_seconds": train_seconds,
                "training_seconds_total": float(sum(train_seconds.values())),
                "training_device": str(records["full"].get("device", "unrecorded")),
                "training_epochs": train_plan.epochs,
            },
        )

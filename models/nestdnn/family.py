"""The NestDNN families: vanilla -> TRR pruning -> freeze-&-grow -> profile (ALGORITHMS 1).

Stages (each a checkpoint file in ``ckpt_dir``, skipped when present): ``vanilla``,
``prune1..K``, ``grow1..K`` (``growK`` holds the multi-capacity model), ``independent1..K``
(models of the pruned sizes trained from scratch: the resource-agnostic baseline; the vanilla
model is the full-size one). Descendant ``d1`` is the seed, ``dK+1`` the full model.

The independent model of pruning level ``k`` (profile id ``d{K-k+1}-ind``) is trained with the
same schedule as the descendant of its size, stage for stage (:func:`independent_schedule`),
so the comparison isolates nesting (pruning a trained model, then freezing and growing):

1. the vanilla model's training (``vanilla``: same epochs, learning rate and data order),
   from a fresh initialisation at the level's widths;
2. one fine-tuning per pruning iteration, ``prune1..K`` (the seed's weights go through all K);
3. one stage per growth up to its size, ``grow1..K-k`` (``grow`` / ``grow_last``), each with
   distillation from the vanilla model at weight ``grow_kd``, as the grown filters get.

At the standard scale: the seed-size model (``d1-ind``, 25% of the filters) 5 + 4 x 1 = 9 epochs, no
distillation; ``d2-ind`` 9 + 3 = 12 epochs, the last 3 distilled; ``d3-ind`` 15 (6 distilled);
``d4-ind`` 18 (9 distilled). The full-size baseline ``d5-ind`` is the vanilla model itself
(5 epochs), the teacher of all the others.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from models.data import DataSplits
from models.measure import (
    MeasureSettings,
    count_flops,
    count_params,
    device_info,
    measure_latencies,
    measure_load_ms,
    measured_provenance,
    peak_activation_bytes,
    weight_bytes,
)
from models.nestdnn.grow import grow_step
from models.nestdnn.network import NestedNet, NetSpec, Widths, init_weights
from models.nestdnn.prune import RoadmapStep, level_widths, prune_step
from models.nestdnn.trr import trr_scores
from models.outcomes import build_outcomes, evaluate
from models.registry import Family, ModelsUserError, register_family
from models.train import TrainConfig, fit, load_checkpoint, run_stage, stage_generator
from sim.common.atomic import write_text_atomic
from sim.profile import LoadTimes, Profile, Task, Variant

__all__ = ["NestDNNResNet", "NestDNNVGG", "NestScale", "SCALES", "independent_schedule"]


def _distilling(teacher: torch.nn.Module, student: torch.nn.Module, weight: float,
                smoothing: float) -> dict[str, Any]:
    """``fit`` arguments adding ``weight`` x soft cross-entropy to the teacher's outputs
    (OFA's knowledge distillation, here from the vanilla model while growing)."""
    if weight <= 0:
        return {}
    soft: list[torch.Tensor] = []

    def forward(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            soft[:] = [torch.softmax(teacher(x), dim=1)]
        return student(x)

    def loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        hard = F.cross_entropy(out, y, label_smoothing=smoothing)
        return hard - weight * (soft[0] * F.log_softmax(out, dim=1)).sum(dim=1).mean()

    return {"forward": forward, "loss_fn": loss}


@dataclass(frozen=True)
class NestScale:
    """Sizes and training budget of one scale."""

    vgg: tuple[int | str, ...]
    resnet: tuple[tuple[int, int], ...]
    fractions: tuple[float, ...]
    vanilla: TrainConfig
    prune: TrainConfig
    grow: TrainConfig
    triplets: int
    grow_init: str = "fresh"
    """how freeze-&-grow starts the filters it adds back (models.nestdnn.grow)"""
    grow_kd: float = 0.0
    """weight of distillation from the vanilla model while growing (0: task loss only)"""
    grow_last: TrainConfig | None = None
    """training of the last growth, to the largest descendant (default: ``grow``); it adds
    most of the weights, so it gets the longest schedule"""
    seed_floor: float = 0.0
    """share of the vanilla model's validation top-1 that every pruned level, the seed
    included, must keep: NestDNN prunes only while the model stays accurate enough to be a
    seed. A level below it stops training with an error (choose larger ``fractions``)."""


SCALES: dict[str, NestScale] = {
    "tiny": NestScale(
        vgg=(8, "M", 12, "M", 16, "M"), resnet=((8, 1), (12, 1)),
        fractions=(1.0, 0.8, 0.6, 0.42, 0.25),
        vanilla=TrainConfig(epochs=4, lr=0.2, batch_size=16),
        prune=TrainConfig(epochs=1, lr=0.05, batch_size=16),
        grow=TrainConfig(epochs=1, lr=0.05, batch_size=16), triplets=64,
    ),
    # largest descendants ~300 MFLOPs (VGG) / ~210 MFLOPs (ResNet): several ms per 32x32
    # image on one CPU thread; the seed (25% of the filters) about a fifteenth of that. A
    # 6% seed (the earlier roadmap 1, 0.5, 0.25, 0.12, 0.06) kept 0.22-0.58 top-1 and held
    # every descendant back; the floor now refuses such a seed.
    "standard": NestScale(
        vgg=(64, 64, "M", 128, 128, "M", 256, 256, "M"), resnet=((32, 2), (64, 2), (128, 2)),
        fractions=(1.0, 0.7, 0.5, 0.35, 0.25),
        vanilla=TrainConfig(epochs=5, lr=0.02, batch_size=32),
        prune=TrainConfig(epochs=1, lr=0.02, batch_size=32),
        grow=TrainConfig(epochs=3, lr=0.05, batch_size=32), triplets=1000, grow_init="pruned",
        grow_kd=1.0, grow_last=TrainConfig(epochs=8, lr=0.05, batch_size=32), seed_floor=0.85,
    ),
}


def independent_schedule(sc: NestScale, level: int, k_max: int) -> list[tuple[str, TrainConfig, bool]]:
    """The stages an independent model of pruning ``level`` (1..k_max) trains through, as
    ``(mirrored stage, its config, distilled)``: the stages whose epochs the descendant of
    the same size went through (see the module docstring)."""
    if not 1 <= level <= k_max:
        raise ValueError(f"independent models exist for levels 1..{k_max}, not {level}")
    stages = [("vanilla", sc.vanilla, False)]
    stages += [(f"prune{i}", sc.prune, False) for i in range(1, k_max + 1)]
    for j in range(1, k_max - level + 1):
        cfg = sc.grow_last if j == k_max and sc.grow_last is not None else sc.grow
        stages.append((f"grow{j}", cfg, True))
    return stages


class _NestDNN(Family):
    """Shared pipeline of the VGG and ResNet NestDNN families."""

    kind: ClassVar[str] = "multi_capacity"
    backbone: ClassVar[str]

    # --- configuration -----------------------------------------------------------------
    def _scale(self) -> NestScale:
        self.check_scale()
        return SCALES[self.scale]

    def spec(self) -> NetSpec:
        sc = self._scale()
        if self.backbone == "vgg":
            return NetSpec("vgg", self.input_shape[0], self.classes, vgg=sc.vgg)
        return NetSpec("resnet", self.input_shape[0], self.classes, resnet=sc.resnet)

    def levels(self) -> list[Widths]:
        """Widths of each pruning level, full first (descendants are these, reversed)."""
        return level_widths(self.spec().full_widths(), self._scale().fractions)

    def _meta(self, data: DataSplits) -> dict[str, Any]:
        """What the checkpoints depend on; a folder made for anything else is refused."""
        sc = self._scale()
        return {"family": self.name, "scale": self.scale, "seed": self.seed,
                "classes": self.classes, "input_shape": list(self.input_shape),
                "data": data.name, "spec": self.spec().to_dict(),
                "fractions": list(sc.fractions)}

    def _check_meta(self, ckpt_dir: Path, data: DataSplits, create: bool) -> None:
        path = ckpt_dir / "family.json"
        meta = self._meta(data)
        if path.exists():
            old = json.loads(path.read_text())
            if old != meta:
                raise ModelsUserError(f"{path}: checkpoints were made for {old}, not {meta}")
        elif create:
            ckpt_dir.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, json.dumps(meta) + "\n")

    # --- training ----------------------------------------------------------------------
    def train(self, data: DataSplits, ckpt_dir: Path, *, progress: bool = True) -> None:
        ckpt_dir = Path(ckpt_dir)
        sc, spec, levels = self._scale(), self.spec(), self.levels()
        self._check_meta(ckpt_dir, data, create=True)
        k_max = len(levels) - 1
        bar = tqdm(total=3 * k_max + 1, desc=f"{self.name} stages", disable=not progress)

        def fit_net(net: NestedNet, cfg: TrainConfig, stage: str, order: str | None = None,
                    **kw: Any) -> list[float]:
            """Train on ``data.train`` in the data order of stage ``order`` (default: own)."""
            return fit(net, data.train, cfg, stage_generator(self.seed, order or stage, "data"),
                       progress=progress, desc=stage, **kw)

        def vanilla() -> dict[str, Any]:
            net = NestedNet(spec)
            init_weights(net, stage_generator(self.seed, "vanilla", "init"))
            losses = fit_net(net, sc.vanilla, "vanilla")
            return {"state": net.state_dict(), "losses": losses,
                    "val_top1": evaluate(net, data.val)[2]}

        net = NestedNet(spec)
        first = run_stage(ckpt_dir, "vanilla", vanilla)
        net.load_state_dict(first["state"])
        vanilla_val = first["val_top1"]
        vanilla_net = NestedNet(spec)
        vanilla_net.load_state_dict(net.state_dict())
        vanilla_net.eval()
        bar.update(1)
        perm = {g: torch.arange(w) for g, w in net.widths.items()}
        for i in range(1, k_max + 1):
            def prune(i: int = i, perm: dict[str, torch.Tensor] = perm) -> dict[str, Any]:
                scores = trr_scores(net, data.train, sc.triplets,
                                    stage_generator(self.seed, "trr", i), progress=progress)
                step = prune_step(net, scores, levels[i], perm)
                losses = fit_net(net, sc.prune, f"prune{i}")
                return {"state": net.state_dict(), "perm": dict(perm), "step": step.to_dict(),
                        "losses": losses, "val_top1": evaluate(net, data.val)[2]}

            st = run_stage(ckpt_dir, f"prune{i}", prune)
            self._check_floor(i, float(st["val_top1"]), float(vanilla_val))
            net.load_state_dict(st["state"])
            perm = dict(st["perm"])
            net.set_active(levels[i])
            bar.update(1)
        for j in range(1, k_max + 1):
            parent, child = levels[k_max - j + 1], levels[k_max - j]

            def grow(j: int = j, parent: Widths = parent, child: Widths = child) -> dict[str, Any]:
                losses: list[float] = []
                cfg = sc.grow_last if j == k_max and sc.grow_last is not None else sc.grow
                kw = _distilling(vanilla_net, net, sc.grow_kd, cfg.label_smoothing)
                grow_step(net, parent, child, stage_generator(self.seed, "grow", j, "init"),
                          lambda hook: losses.extend(
                              fit_net(net, cfg, f"grow{j}", before_step=hook, **kw)),
                          init=sc.grow_init)
                return {"state": net.state_dict(), "losses": losses,
                        "val_top1": evaluate(net, data.val)[2]}

            net.load_state_dict(run_stage(ckpt_dir, f"grow{j}", grow)["state"])
            net.set_active(child)
            bar.update(1)
        for k in range(1, k_max + 1):
            def independent(k: int = k) -> dict[str, Any]:
                ind = NestedNet(spec, levels[k])
                init_weights(ind, stage_generator(self.seed, "independent", k, "init"))
                losses: list[float] = []
                for stage, cfg, distil in independent_schedule(sc, k, k_max):
                    kw = (_distilling(vanilla_net, ind, sc.grow_kd, cfg.label_smoothing)
                          if distil else {})
                    losses += fit_net(ind, cfg, f"independent{k}/{stage}", order=stage, **kw)
                return {"state": ind.state_dict(), "losses": losses,
                        "val_top1": evaluate(ind, data.val)[2]}

            run_stage(ckpt_dir, f"independent{k}", independent)
            bar.update(1)
        bar.close()

    def _check_floor(self, level: int, val: float, vanilla_val: float) -> None:
        """ModelsUserError when pruning ``level`` fell below the seed floor."""
        sc = self._scale()
        floor = sc.seed_floor * vanilla_val
        if val < floor:
            raise ModelsUserError(
                f"{self.name} ({self.scale}): pruning to {sc.fractions[level]:g} of the "
                f"filters keeps validation top-1 {val:.3f}, below the seed floor {floor:.3f} "
                f"({sc.seed_floor:g} x the vanilla model's {vanilla_val:.3f}); prune less "
                "(larger fractions) or fine-tune longer")

    # --- loading trained networks -------------------------------------------------------
    def _stage(self, ckpt_dir: Path, name: str) -> dict[str, Any]:
        path = Path(ckpt_dir) / f"{name}.pt"
        if not path.exists():
            raise ModelsUserError(
                f"{path} is missing: train first (mvsched train --family {self.name} "
                f"--scale {self.scale} --out {ckpt_dir})"
            )
        return load_checkpoint(path)

    def multi_capacity(self, ckpt_dir: Path) -> NestedNet:
        """The trained multi-capacity network (all descendants in one weight set)."""
        net = NestedNet(self.spec())
        net.load_state_dict(self._stage(ckpt_dir, f"grow{len(self.levels()) - 1}")["state"])
        return net.eval()

    def independent(self, ckpt_dir: Path, k: int) -> NestedNet:
        """The independently trained model of pruning level ``k`` (0 = vanilla)."""
        levels = self.levels()
        st = self._stage(ckpt_dir, "vanilla" if k == 0 else f"independent{k}")
        net = NestedNet(self.spec(), levels[k])
        net.load_state_dict(st["state"])
        return net.eval()

    def roadmap(self, ckpt_dir: Path) -> list[RoadmapStep]:
        return [RoadmapStep.from_dict(self._stage(ckpt_dir, f"prune{i}")["step"])
                for i in range(1, len(self.levels()))]

    # --- profiling ----------------------------------------------------------------------
    def _measure(self, model: NestedNet, data: DataSplits,
                 x: torch.Tensor) -> tuple[dict[str, Any], Any]:
        """Everything but latency (timed for all models together, in alternating passes)."""
        correct, _, top1 = evaluate(model, data.test)
        rec = {"params": count_params(model), "weight_bytes": weight_bytes(model),
               "peak_activation_bytes": peak_activation_bytes(model, x),
               "flops": count_flops(model, x), "top1": top1}
        return rec, correct

    def build_profile(self, data: DataSplits, ckpt_dir: Path, settings: MeasureSettings) -> Profile:
        ckpt_dir = Path(ckpt_dir)
        self._check_meta(ckpt_dir, data, create=False)
        levels = self.levels()
        full = levels[0]
        net = self.multi_capacity(ckpt_dir)
        x = torch.randn((settings.batch_size, *self.input_shape),
                        generator=torch.Generator().manual_seed(self.seed))
        records: list[dict[str, Any]] = []
        models: dict[str, NestedNet] = {}
        correct: dict[str, Any] = {}
        descendants = list(reversed(range(len(levels))))  # level index, seed first
        with tempfile.TemporaryDirectory() as tmp:
            for pos, k in enumerate(tqdm(descendants, desc=f"{self.name} nested",
                                         disable=not settings.progress)):
                vid, widths = f"d{pos + 1}", levels[k]
                models[vid] = net.export(widths)
                rec, correct[vid] = self._measure(models[vid], data, x)
                load = LoadTimes(full=measure_load_ms(net.sliced_state(widths), tmp, settings))
                parent, shared = None, 0
                if pos > 0:
                    pw = levels[k + 1]
                    parent, shared = f"d{pos}", weight_bytes(net.export(pw))
                    load = LoadTimes(full=load.full, incremental=measure_load_ms(
                        net.delta_state(pw, widths), tmp, settings))
                records.append(dict(id=vid, arch=self._arch(widths, full, k), parent=parent,
                                    shared_bytes=shared, load_ms=load, **rec))
            for pos, k in enumerate(descendants):
                vid = f"d{pos + 1}-ind"
                models[vid] = model = self.independent(ckpt_dir, k)
                rec, correct[vid] = self._measure(model, data, x)
                load = LoadTimes(full=measure_load_ms(model.sliced_state(levels[k]), tmp,
                                                      settings))
                records.append(dict(id=vid, arch=self._arch(levels[k], full, k),
                                    independent=True, load_ms=load, **rec))
        latency = measure_latencies({vid: (m, x) for vid, m in models.items()}, settings)
        variants = [Variant(latency_ms=latency[r["id"]], **r) for r in records]
        return Profile(
            family=self.name, kind="multi_capacity",
            task=Task(dataset=data.name, classes=self.classes,
                      input_shape=self.input_shape, eval_samples=len(data.test)),
            provenance=measured_provenance(), device=device_info(settings),
            variants=variants, outcomes=build_outcomes(correct), extra=self._extra(ckpt_dir),
        )

    def emulation_module(self, profile: Profile, variant_id: str,
                         ckpt_dir: Path | None) -> torch.nn.Module:
        v = profile.variant(variant_id)
        widths = {str(k): int(w) for k, w in v.arch["widths"].items()}
        if ckpt_dir is not None:
            if v.independent:
                return self.independent(Path(ckpt_dir), int(v.arch["pruning_level"]))
            return self.multi_capacity(Path(ckpt_dir)).export(widths)
        net = NestedNet(self.spec(), widths)
        init_weights(net, stage_generator(self.seed, "emulate", variant_id))
        if weight_bytes(net) != v.weight_bytes:
            raise ModelsUserError(
                f"{self.name} variant {variant_id!r}: rebuilt from its arch it has "
                f"{weight_bytes(net)} weight bytes, the profile says {v.weight_bytes} "
                f"(the profile is not of scale {self.scale!r})")
        return net.eval()

    def _arch(self, widths: Widths, full: Widths, level: int) -> dict[str, Any]:
        return {"backbone": self.backbone, "widths": dict(widths), "pruning_level": level,
                "filter_fraction": round(sum(widths.values()) / sum(full.values()), 4)}

    def _extra(self, ckpt_dir: Path) -> dict[str, Any]:
        levels = self.levels()
        k_max = len(levels) - 1
        names = (["vanilla"] + [f"prune{i}" for i in range(1, k_max + 1)]
                 + [f"grow{j}" for j in range(1, k_max + 1)]
                 + [f"independent{k}" for k in range(1, k_max + 1)])
        stages = {n: self._stage(ckpt_dir, n) for n in names}
        return {
            "scale": self.scale, "seed": self.seed, "seed_floor": self._scale().seed_floor,
            "pruning_roadmap": [{"iteration": i + 1, "widths": s.widths,
                                 "removed_filters": {g: len(v) for g, v in s.removed.items()}}
                                for i, s in enumerate(self.roadmap(ckpt_dir))],
            "training_seconds": {n: round(float(s.get("seconds", 0.0)), 2)
                                 for n, s in stages.items()},
            "val_top1": {n: round(float(s["val_top1"]), 4) for n, s in stages.items()},
        }


@register_family
class NestDNNVGG(_NestDNN):
    """NestDNN multi-capacity model on a VGG-style backbone."""

    name: ClassVar[str] = "nestdnn-vgg"
    backbone: ClassVar[str] = "vgg"


@register_family
class NestDNNResNet(_NestDNN):
    """NestDNN multi-capacity model on a ResNet-style backbone."""

    name: ClassVar[str] = "nestdnn-resnet"
    backbone: ClassVar[str] = "resnet"

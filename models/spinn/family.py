"""The ``spinn-resnet`` and ``spinn-vgg`` families: SDN-style early exits, device/server splits.

Both share everything but the backbone: one resumable joint-training stage, and a profile
with one variant ``full`` (backbone + final classifier), the exits, the splits and per-sample
outcomes of every exit.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from models.data import DataSplits
from models.measure import (
    MeasureSettings,
    count_flops,
    count_params,
    device_info,
    measure_latency,
    measured_provenance,
    peak_activation_bytes,
    weight_bytes,
)
from models.outcomes import build_outcomes
from models.registry import Family, ModelsUserError, register_family
from models.spinn.build import (
    BackboneConfig,
    backbone_config,
    build_net,
    make_backbone,
    unit_flops,
)
from models.spinn.exits import SpinnNet, cumulative_fractions
from models.spinn.profiling import evaluate_exits, measure_progressive
from models.spinn.training import train_joint
from models.train import TrainConfig, load_checkpoint, run_stage, stage_generator
from sim.profile import LatencyStats, Profile, Task, Variant

__all__ = ["TRAIN_CONFIGS", "SpinnFamily", "SpinnResNet", "SpinnVGG"]

TRAIN_CONFIGS: dict[str, TrainConfig] = {
    "tiny": TrainConfig(epochs=3, lr=0.05, batch_size=64),
    "standard": TrainConfig(epochs=10, lr=0.05, batch_size=64),
}


class SpinnFamily(Family):
    """Progressive inference (SPINN): exits at 15..90 % of the FLOPs, splits after each unit.

    Subclasses set ``name`` and ``arch`` (a key of :data:`models.spinn.build.ARCHS`).
    """

    kind: ClassVar[str] = "progressive"
    arch: ClassVar[str]

    def _cfg(self) -> BackboneConfig:
        return backbone_config(self.arch, self.scale, self.classes, self.input_shape)

    def _stage(self) -> str:
        """Checkpoint name; it carries a digest of the architecture and training settings, so
        a changed configuration trains afresh instead of loading weights that do not fit."""
        key = repr((self._cfg().to_dict(), TRAIN_CONFIGS[self.scale]))
        return f"{self.name}-{self.scale}-seed{self.seed}-{zlib.crc32(key.encode()):08x}"

    def train(self, data: DataSplits, ckpt_dir: Path, *, progress: bool = True) -> None:
        """Joint SDN training of backbone and exits (one resumable stage)."""
        self.check_scale()
        self._check_data(data)
        cfg = self._cfg()
        tcfg = TRAIN_CONFIGS[self.scale]

        def stage() -> dict[str, Any]:
            net = build_net(cfg, stage_generator(self.seed, self.name, self.scale, "init"))
            gen = stage_generator(self.seed, self.name, self.scale, "train")
            losses = train_joint(net, data.train, tcfg, gen, progress=progress)
            return {
                "state_dict": net.state_dict(),
                "placement": [[u, t] for u, t in zip(net.exit_units, net.exit_targets,
                                                     strict=True)],
                "losses": losses,
            }

        run_stage(ckpt_dir, self._stage(), stage)

    def load(self, ckpt_dir: Path) -> tuple[SpinnNet, dict[str, Any]]:
        """The trained network and its stage record; ModelsUserError when not trained."""
        self.check_scale()
        path = Path(ckpt_dir) / f"{self._stage()}.pt"
        if not path.exists():
            raise ModelsUserError(
                f"{path}: no trained {self.name!r} ({self.scale}) checkpoint; train it first"
            )
        rec = load_checkpoint(path)
        cfg = self._cfg()
        placement = [(int(u), float(t)) for u, t in rec["placement"]]
        try:
            net = SpinnNet(make_backbone(cfg), placement, cfg.classes)
            net.load_state_dict(rec["state_dict"])
        except (RuntimeError, ValueError) as exc:
            first = str(exc).splitlines()[0]
            raise ModelsUserError(f"{path}: checkpoint does not fit the network: {first}") from None
        return net.eval(), rec

    def build_profile(
        self, data: DataSplits, ckpt_dir: Path, settings: MeasureSettings
    ) -> Profile:
        """Measure the trained network (variant ``full``, exits, splits, outcomes)."""
        self._check_data(data)
        net, rec = self.load(ckpt_dir)
        bb = net.backbone
        test = data.test
        xs = test.tensors[0]
        example = xs[: settings.batch_size]
        if len(example) < settings.batch_size:
            raise ModelsUserError(
                f"test split has {len(xs)} samples, fewer than batch size {settings.batch_size}"
            )
        # size, FLOPs and accuracy on the CPU first; latencies last (they may move the net)
        flops = unit_flops(bb)
        fractions = cumulative_fractions(flops)
        eva = evaluate_exits(net, test)
        one = xs[:1]
        arch = {
            "backbone": self.arch, **bb.cfg.to_dict(),
            "exits": {n: bb.unit_names[u] for n, u in zip(net.exit_names, net.exit_units,
                                                          strict=True)},
        }
        sizes = dict(
            params=count_params(bb), weight_bytes=weight_bytes(bb),
            peak_activation_bytes=peak_activation_bytes(bb, one), flops=count_flops(bb, one),
        )
        raw_input = float(np.prod(self.input_shape))
        progressive, extra = measure_progressive(
            net, fractions, test, example, settings, eva, input_bytes=raw_input
        )
        lat: LatencyStats = measure_latency(bb, example, settings)
        full = Variant(id="full", arch=arch, latency_ms=lat, top1=float(eva.correct[-1].mean()),
                       **sizes)
        correct = {n: eva.correct[i] for i, n in enumerate(net.names)}
        correct["full"] = eva.correct[-1]
        confidence = {n: eva.confidence[i] for i, n in enumerate(net.names)}
        extra |= {
            "unit_flops": {n: float(f) for n, f in zip(bb.unit_names, flops, strict=True)},
            "exit_heads": {
                n: {"unit": bb.unit_names[u], "target": t, "params": count_params(h),
                    "weight_bytes": weight_bytes(h)}
                for n, u, t, h in zip(net.exit_names, net.exit_units, net.exit_targets,
                                      net.exits, strict=True)
            },
            "input_fp32_bytes": 4.0 * raw_input,
            "train": {"seconds": float(rec.get("seconds", 0.0)),
                      "losses": [float(v) for v in rec.get("losses", [])],
                      "epochs": TRAIN_CONFIGS[self.scale].epochs},
        }
        return Profile(
            family=self.name, kind="progressive",
            task=Task(dataset=data.name, classes=data.classes,
                      input_shape=tuple(data.input_shape), eval_samples=len(xs)),
            provenance=measured_provenance(), device=device_info(settings),
            variants=[full], progressive=progressive,
            outcomes=build_outcomes(correct, confidence), extra=extra,
        )


@register_family
class SpinnResNet(SpinnFamily):
    """SPINN on a CIFAR-style ResNet (ResNet-20 layout, 1.5x wide, at the standard scale)."""

    name: ClassVar[str] = "spinn-resnet"
    arch: ClassVar[str] = "resnet"


@register_family
class SpinnVGG(SpinnFamily):
    """SPINN on a VGG-style plain CNN (8 conv layers at the standard scale)."""

    name: ClassVar[str] = "spinn-vgg"
    arch: ClassVar[str] = "vgg"

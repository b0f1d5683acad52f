"""The ``adaptivenet-resnet`` family: train the backbone, elastify it, distil, fine-tune.

Training epochs are scaled far down from the artifact (60 distillation and 600 fine-tuning
epochs on ImageNet) so the standard scale trains in minutes on a 2-core CPU; the optimiser is
Adam with cosine decay instead of AdamP with step decay, without mixup/cutmix. Each of the
three stages is resumable (``models.train.run_stage``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import torch

from models.adaptivenet.backbone import BackboneConfig, ResNetBackbone
from models.adaptivenet.distill import distill, finetune
from models.adaptivenet.scales import SCALE_SPECS, ScaleSpec
from models.adaptivenet.supernet import ElasticResNet
from models.data import DataSplits
from models.measure import MeasureSettings
from models.outcomes import evaluate
from models.registry import Family, ModelsUserError, register_family
from models.train import fit, load_checkpoint, run_stage, stage_generator
from sim.profile import Profile

__all__ = ["SCALE_SPECS", "AdaptiveNetResNet", "ScaleSpec"]


@contextmanager
def _seeded(gen: torch.Generator) -> Iterator[None]:
    """Fresh layers draw their initial weights from ``gen`` (global RNG state restored)."""
    seed = int(torch.randint(0, 2**62, (1,), generator=gen))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@register_family
class AdaptiveNetResNet(Family):
    """AdaptiveNet (MobiCom'23) elastified supernet grown from a bottleneck ResNet."""

    name: ClassVar[str] = "adaptivenet-resnet"
    kind: ClassVar[str] = "elastified"

    @property
    def spec(self) -> ScaleSpec:
        self.check_scale()
        return SCALE_SPECS[self.scale]

    def backbone_config(self) -> BackboneConfig:
        c, h, w = (int(v) for v in self.input_shape)
        if h != w:
            raise ModelsUserError(f"family {self.name!r}: input must be square, got {h}x{w}")
        return replace(self.spec.backbone, in_channels=c, classes=self.classes, input_size=h)

    def _path(self, ckpt_dir: Path, stage: str) -> Path:
        return Path(ckpt_dir) / f"{self._stage(stage)}.pt"

    def _stage(self, stage: str) -> str:
        return f"{self.name}-{self.scale}-seed{self.seed}-{stage}"

    def _supernet(self, backbone: ResNetBackbone | None, stage: str) -> ElasticResNet:
        with _seeded(stage_generator(self.seed, self.name, self.scale, stage, "init")):
            return ElasticResNet(self.backbone_config(), self.spec.shrink_rates,
                                 self.spec.max_merge, backbone=backbone)

    def _load(self, ckpt_dir: Path, stage: str) -> dict[str, Any]:
        path = self._path(ckpt_dir, stage)
        if not path.exists():
            raise ModelsUserError(
                f"{path}: no trained {self.name!r} ({self.scale}) {stage} checkpoint; train first"
            )
        return load_checkpoint(path)

    def load_backbone(self, ckpt_dir: Path) -> ResNetBackbone:
        """The pretrained backbone (stage ``backbone``), in eval mode."""
        rec = self._load(ckpt_dir, "backbone")
        net = ResNetBackbone(self.backbone_config())
        self._restore(net, rec, self._path(ckpt_dir, "backbone"))
        return net.eval()

    def load_supernet(self, ckpt_dir: Path, stage: str = "finetune") -> ElasticResNet:
        """The supernet after ``stage`` (``distill`` or ``finetune``), frozen, in eval mode."""
        rec = self._load(ckpt_dir, stage)
        net = self._supernet(None, stage)
        self._restore(net, rec, self._path(ckpt_dir, stage))
        net.freeze_original()
        return net.eval()

    @staticmethod
    def _restore(net: torch.nn.Module, rec: dict[str, Any], path: Path) -> None:
        try:
            net.load_state_dict(rec["state_dict"])
        except (RuntimeError, KeyError) as exc:
            first = str(exc).splitlines()[0]
            raise ModelsUserError(f"{path}: checkpoint does not fit the network: {first}") from None

    def train(self, data: DataSplits, ckpt_dir: Path, *, progress: bool = True) -> None:
        """Backbone, then branch distillation, then fine-tuning on random paths."""
        self._check_data(data)
        spec = self.spec

        def pretrain() -> dict[str, Any]:
            with _seeded(stage_generator(self.seed, self.name, self.scale, "backbone", "init")):
                net = ResNetBackbone(self.backbone_config())
            gen = stage_generator(self.seed, self.name, self.scale, "backbone")
            losses = fit(net, data.train, spec.pretrain, gen, progress=progress,
                         desc="adaptivenet backbone")
            _, _, val = evaluate(net, data.val)
            return {"state_dict": net.state_dict(), "losses": losses, "val_top1": val}

        def elastify(stage: str, prev: str) -> dict[str, Any]:
            if prev == "backbone":
                net = self._supernet(self.load_backbone(ckpt_dir), stage)
            else:
                net = self.load_supernet(ckpt_dir, prev)
            step = distill if stage == "distill" else finetune
            tcfg = spec.distill if stage == "distill" else spec.finetune
            losses = step(net, data.train, tcfg, self.seed, progress=progress)
            return {"state_dict": net.state_dict(), "losses": losses}

        run_stage(ckpt_dir, self._stage("backbone"), pretrain)
        run_stage(ckpt_dir, self._stage("distill"), lambda: elastify("distill", "backbone"))
        run_stage(ckpt_dir, self._stage("finetune"), lambda: elastify("finetune", "distill"))

    def train_records(self, ckpt_dir: Path) -> dict[str, dict[str, Any]]:
        """Seconds and per-epoch losses of the three stages."""
        out = {}
        for stage in ("backbone", "distill", "finetune"):
            rec = self._load(ckpt_dir, stage)
            out[stage] = {"seconds": float(rec.get("seconds", 0.0)),
                          "losses": [float(v) for v in rec.get("losses", [])]}
        return out

    def build_profile(
        self, data: DataSplits, ckpt_dir: Path, settings: MeasureSettings
    ) -> Profile:
        """Block table, search with reuse-based evaluation, pool, measured variants."""
        from models.adaptivenet.profiling import profile_supernet

        self._check_data(data)
        return profile_supernet(self, data, ckpt_dir, settings)

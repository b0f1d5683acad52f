"""The device-independent OFA pipeline: progressive shrinking, then the accuracy predictor.

Stages (each a resumable checkpoint ``ofa-<stage>.pt`` in the checkpoint folder, seeded by
:func:`models.train.stage_seed`): the six training phases of :func:`progressive_phases`,
``predictor-data`` (accuracies of sampled subnets, exported and BN-recalibrated, on the
validation split) and ``predictor`` (the MLP and its held-out RMSE). Latency work is
device-specific and happens at profiling time (:mod:`models.ofa.family`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.data import DataSplits
from models.ofa.blocks import OFAConfig
from models.ofa.evaluate import calibration_images, subnet_accuracies
from models.ofa.network import OFAArch, OFAMobileNetV3
from models.ofa.predictor import AccuracyPredictor, ArchEncoder, fit_predictor
from models.ofa.shrinking import ShrinkSettings, make_teacher, progressive_phases, train_phase
from models.train import load_checkpoint, run_stage, stage_generator, stage_seed

__all__ = ["TrainPlan", "distinct_subnets", "load_trained", "train_pipeline"]


@dataclass(frozen=True)
class TrainPlan:
    """How much of everything one scale does."""

    epochs: dict[str, int]
    batch_size: int = 64
    lr_scale: float = 1.0
    predictor_subnets: int = 300
    predictor_hidden: int = 400
    predictor_epochs: int = 300
    calib_images: int = 1000
    shrink: ShrinkSettings = field(default_factory=ShrinkSettings)


def _cpu_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def _load_state(module: torch.nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    """``load_state_dict`` with a one-line ValueError when the checkpoint does not fit."""
    try:
        module.load_state_dict(state)
    except RuntimeError:
        raise ValueError(
            f"{path}: checkpoint does not match this architecture (other scale, channels or "
            "classes?); use another checkpoint folder"
        ) from None


def distinct_subnets(net: OFAMobileNetV3, n: int, rng: np.random.Generator) -> list[OFAConfig]:
    """The largest and smallest subnets plus random ones with distinct keys (``n`` total)."""
    cfgs = [net.largest_subnet(), net.smallest_subnet()]
    seen = {c.key for c in cfgs}
    tries = 0
    while len(cfgs) < n and tries < 100 * n:
        cfg = net.sample_subnet(rng)
        tries += 1
        if cfg.key not in seen:
            seen.add(cfg.key)
            cfgs.append(cfg)
    return cfgs[:n]


def train_pipeline(
    arch: OFAArch, plan: TrainPlan, data: DataSplits, ckpt_dir: Path, seed: int, *,
    device: str = "cpu", progress: bool = True,
) -> dict[str, Any]:
    """Run (or resume) every stage; returns ``{stage: stored result}``."""
    ckpt_dir = Path(ckpt_dir)
    with torch.random.fork_rng(devices=[]):  # seeded init without touching global state
        torch.manual_seed(stage_seed(seed, "init"))
        net = OFAMobileNetV3(arch)
    teacher: OFAMobileNetV3 | None = None
    results: dict[str, Any] = {}
    shrink = ShrinkSettings(
        batch_size=plan.batch_size, momentum=plan.shrink.momentum,
        weight_decay=plan.shrink.weight_decay, label_smoothing=plan.shrink.label_smoothing,
        kd_ratio=plan.shrink.kd_ratio,
    )
    for phase in progressive_phases(arch, plan.epochs, plan.lr_scale):
        def run(phase=phase, teacher=teacher) -> dict[str, Any]:
            net.to(device)
            losses = train_phase(
                net, teacher, data.train, phase, shrink, stage_generator(seed, phase.name),
                np.random.default_rng(stage_seed(seed, phase.name, "subnets")),
                device=device, progress=progress,
            )
            return {"state": _cpu_state(net), "losses": losses, "device": str(device)}

        res = run_stage(ckpt_dir, f"ofa-{phase.name}", run)
        _load_state(net, res["state"], ckpt_dir / f"ofa-{phase.name}.pt")
        net.to(device)
        results[phase.name] = res
        if phase.full:
            teacher = make_teacher(net)

    images = calibration_images(data.train, plan.calib_images, stage_seed(seed, "calib"))

    def measure() -> dict[str, Any]:
        rng = np.random.default_rng(stage_seed(seed, "predictor-data"))
        cfgs = distinct_subnets(net, plan.predictor_subnets, rng)
        accs = subnet_accuracies(net, cfgs, images, data.val, device=device, progress=progress)
        return {"configs": [c.to_dict() for c in cfgs], "val_top1": accs}

    pdata = run_stage(ckpt_dir, "ofa-predictor-data", measure)
    results["predictor-data"] = pdata

    def fit() -> dict[str, Any]:
        enc = ArchEncoder(arch)
        x = enc.encode_many([OFAConfig.from_dict(c) for c in pdata["configs"]])
        model, metrics = fit_predictor(
            x, np.asarray(pdata["val_top1"]), stage_generator(seed, "predictor"),
            hidden=plan.predictor_hidden, epochs=plan.predictor_epochs,
        )
        return {"state": _cpu_state(model), "hidden": plan.predictor_hidden, "metrics": metrics}

    results["predictor"] = run_stage(ckpt_dir, "ofa-predictor", fit)
    return results


def load_trained(
    arch: OFAArch, ckpt_dir: Path
) -> tuple[OFAMobileNetV3, AccuracyPredictor, dict[str, Any]]:
    """The trained supernet, its predictor and every stage's stored record (states removed).

    FileNotFoundError naming the missing checkpoint when training has not finished;
    ValueError when a checkpoint belongs to another architecture.
    """
    ckpt_dir = Path(ckpt_dir)
    records: dict[str, Any] = {}
    names = [p.name for p in progressive_phases(arch, {k: 0 for k in (
        "full", "kernel", "depth1", "depth2", "expand1", "expand2")})]
    for name in [*names, "predictor-data", "predictor"]:
        path = ckpt_dir / f"ofa-{name}.pt"
        if not path.exists():
            raise FileNotFoundError(f"{path}: missing; train the family first")
        records[name] = load_checkpoint(path)
    net = OFAMobileNetV3(arch)
    _load_state(net, records[names[-1]]["state"], ckpt_dir / f"ofa-{names[-1]}.pt")
    enc = ArchEncoder(arch)
    pred = AccuracyPredictor(enc.width, hidden=int(records["predictor"]["hidden"]))
    _load_state(pred, records["predictor"]["state"], ckpt_dir / "ofa-predictor.pt")
    pred.eval()
    light = {k: {kk: vv for kk, vv in v.items() if kk != "state"} for k, v in records.items()}
    return net.eval(), pred, light

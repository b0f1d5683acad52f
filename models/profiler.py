"""Train (if needed) and measure a family into a profile file: ``mvsched profile``."""

from __future__ import annotations

import shlex
from pathlib import Path

import torch

from models.data import load_data
from models.measure import MeasureSettings, measured_provenance
from models.registry import create_family
from sim.profile import save_profile

__all__ = ["default_checkpoint_dir", "profile_command", "profile_family", "train_family"]


def default_checkpoint_dir(family: str, scale: str, seed: int, data: str = "digits") -> Path:
    """Where ``mvsched train`` puts checkpoints unless told otherwise (one folder per data
    set kind; a folder made for other data is refused by the family)."""
    kind = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in data.partition(":")[0])
    return Path("checkpoints") / f"{family}-{scale}-s{seed}-{kind}"


def profile_command(
    family: str, device: str, threads: int, scale: str, data: str, out: Path,
    ckpt_dir: Path | None, seed: int, warmup: int, repeats: int, accelerator: str = "cpu",
) -> str:
    """The ``mvsched profile`` command line that regenerates a profile."""
    args = ["mvsched", "profile", "--family", family, "--device", device,
            "--threads", str(threads), "--scale", scale, "--data", data,
            "--seed", str(seed), "--warmup", str(warmup), "--repeats", str(repeats)]
    if ckpt_dir is not None:
        args += ["--checkpoints", str(ckpt_dir)]
    if accelerator != "cpu":
        args += ["--accelerator", accelerator]
    return shlex.join([*args, "--out", str(out)])


def train_family(
    family: str, scale: str = "tiny", data: str = "digits", out: Path | None = None,
    seed: int = 0, threads: int | None = None, progress: bool = True,
) -> Path:
    """Train every network of ``family`` into ``out`` (resumable); returns the folder."""
    splits = load_data(data, seed)
    fam = create_family(family, scale=scale, seed=seed, classes=splits.classes,
                        input_shape=splits.input_shape)
    ckpt = Path(out) if out is not None else default_checkpoint_dir(family, scale, seed, data)
    if threads is not None:
        torch.set_num_threads(threads)
    fam.train(splits, ckpt, progress=progress)
    return ckpt


def profile_family(
    family: str, device: str, threads: int, scale: str, data: str, out: Path,
    ckpt_dir: Path | None, seed: int, warmup: int, repeats: int, *, progress: bool = True,
    accelerator: str = "cpu",
) -> Path:
    """Train first when checkpoints are missing (finished stages are skipped), measure, and
    save the profile atomically at ``out``. Training also runs on ``threads`` threads."""
    settings = MeasureSettings(device=device, threads=threads, warmup=warmup, repeats=repeats,
                               progress=progress, accelerator=accelerator)
    splits = load_data(data, seed)
    fam = create_family(family, scale=scale, seed=seed, classes=splits.classes,
                        input_shape=splits.input_shape)
    ckpt = Path(ckpt_dir) if ckpt_dir is not None else default_checkpoint_dir(family, scale, seed, data)
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        fam.train(splits, ckpt, progress=progress)
        profile = fam.build_profile(splits, ckpt, settings)
    finally:
        torch.set_num_threads(old)
    cmd = profile_command(family, device, threads, scale, data, Path(out), ckpt_dir, seed,
                          warmup, repeats, accelerator)
    profile = profile.model_copy(update={"provenance": measured_provenance(cmd)})
    return save_profile(profile, out)

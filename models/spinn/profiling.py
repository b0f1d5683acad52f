"""Measure a trained SPINN network into the ``progressive`` part of a profile.

Every latency is measured on a real sub-module (a prefix with its exits, a suffix, a head) fed
real test images or their activations; all of them are timed together in alternating passes
(:func:`models.measure.measure_latencies`), so cumulative prefix times are not bent by a drift
in the machine's speed. Transfer sizes come
from running every test image through the backbone and the CNN-CO codec at every split.

Conventions (documented in the profile's ``extra``):
- an exit located at the split unit runs on the device (it sees the same activation that is
  sent), so a split's ``device_ms`` includes the heads at or before it;
- an exit's ``device_ms`` is the progressive device run up to its output: the backbone prefix
  plus every head up to and including its own;
- the split after the last unit is not listed (the server would only run the classifier);
  device-only and cloud-only are the simulator's business.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from models.codec import decode, encode, fp32_bytes, int8_bytes
from models.measure import MeasureSettings, measure_latencies
from models.spinn.exits import SpinnNet
from models.spinn.split import Prefix, Suffix
from sim.profile import ExitPoint, Progressive, SplitPoint, TransferBytes

__all__ = ["ExitEval", "SplitBytes", "codec_ms", "evaluate_exits", "measure_progressive",
           "split_bytes"]


@dataclass(frozen=True)
class ExitEval:
    """``(exits, samples)`` correctness and max-softmax confidence, final exit last."""

    correct: np.ndarray
    confidence: np.ndarray


@dataclass(frozen=True)
class SplitBytes:
    """Per split unit: fp32 and int8 bytes of one sample and CNN-CO bytes per sample."""

    fp32: dict[int, int]
    int8: dict[int, int]
    lz4: dict[int, list[int]]
    plain_lz4: dict[int, list[int]]
    """the same without the bit-shuffle (for comparison only)"""
    samples: dict[int, list[np.ndarray]]
    """a few activations per split (float32, one sample each) for codec timing"""


def _device(net: SpinnNet) -> torch.device:
    return next(net.parameters()).device


def evaluate_exits(net: SpinnNet, dataset: Dataset, batch: int = 256) -> ExitEval:
    """Correctness and confidence of every exit on every sample, in dataset order."""
    dev = _device(net)
    was_training = net.training
    net.eval()
    correct: list[np.ndarray] = []
    conf: list[np.ndarray] = []
    try:
        with torch.inference_mode():
            for x, y in DataLoader(dataset, batch_size=batch, shuffle=False):
                probs = torch.stack([torch.softmax(o.float(), dim=1) for o in net(x.to(dev))])
                p, pred = probs.cpu().max(dim=2)
                correct.append((pred == y).numpy())
                conf.append(p.numpy())
    finally:
        net.train(was_training)
    return ExitEval(np.concatenate(correct, axis=1), np.concatenate(conf, axis=1).astype(float))


def split_bytes(
    net: SpinnNet, units: list[int], dataset: Dataset, keep: int = 50, batch: int = 128,
    progress: bool = False,
) -> SplitBytes:
    """Run every sample through the backbone once, encoding its activation at each split."""
    fp32: dict[int, int] = {}
    int8: dict[int, int] = {}
    lz4: dict[int, list[int]] = {u: [] for u in units}
    plain: dict[int, list[int]] = {u: [] for u in units}
    kept: dict[int, list[np.ndarray]] = {u: [] for u in units}
    wanted = set(units)
    dev = _device(net)
    was_training = net.training
    net.eval()
    bar = tqdm(total=len(dataset), desc="split bytes", leave=False, disable=not progress)  # type: ignore[arg-type]
    try:
        with torch.inference_mode():
            for x, _ in DataLoader(dataset, batch_size=batch, shuffle=False):
                x = x.to(dev)
                for i, unit in enumerate(net.backbone.units):
                    x = unit(x)
                    if i not in wanted:
                        continue
                    acts = x.cpu().numpy()
                    fp32[i], int8[i] = fp32_bytes(acts[0]), int8_bytes(acts[0])
                    lz4[i].extend(len(encode(a)) for a in acts)
                    plain[i].extend(len(encode(a, shuffle=False)) for a in acts)
                    room = keep - len(kept[i])
                    kept[i].extend(a.copy() for a in acts[: max(0, room)])
                bar.update(len(acts))
    finally:
        bar.close()
        net.train(was_training)
    return SplitBytes(fp32, int8, lz4, plain, kept)


def codec_ms(samples: list[np.ndarray], warmup: int = 3) -> tuple[float, float]:
    """Median encode and decode time in ms, one run per sample after ``warmup`` runs."""
    if not samples:
        raise ValueError("codec timing needs at least one activation")
    for a in samples[:warmup]:
        decode(encode(a))
    enc: list[int] = []
    dec: list[int] = []
    for a in samples:
        t0 = time.perf_counter_ns()
        blob = encode(a)
        t1 = time.perf_counter_ns()
        decode(blob)
        t2 = time.perf_counter_ns()
        enc.append(t1 - t0)
        dec.append(t2 - t1)
    return float(np.median(enc)) / 1e6, float(np.median(dec)) / 1e6


def _activation(net: SpinnNet, unit: int, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return Prefix(net, unit, with_exits=False).eval()(x.to(_device(net)))[0].clone()


def measure_progressive(
    net: SpinnNet, fractions: list[float], test: Dataset, example: torch.Tensor,
    settings: MeasureSettings, eva: ExitEval, input_bytes: float,
) -> tuple[Progressive, dict[str, object]]:
    """The ``progressive`` section and the records for ``extra``.

    ``fractions[i]`` is the cumulative backbone FLOP fraction after unit ``i``; ``example`` is
    one batch of real inputs used for every latency. The network is moved to the settings'
    device (so every sub-module shares it).
    """
    bb = net.backbone
    last = len(bb.units) - 1
    if last < 1:
        raise ValueError("a backbone with a single unit has no split points")
    net.eval().to(settings.torch_device)
    example = example.to(settings.torch_device)
    units = list(range(last))
    # every sub-module to time, with its real input; timed together in alternating passes
    jobs: dict[str, tuple[torch.nn.Module, torch.Tensor]] = {}
    for unit in sorted(set(net.exit_units) | set(units)):
        jobs[f"prefix{unit}"] = (Prefix(net, unit), example)
    for name, unit, head in zip(net.exit_names, net.exit_units, net.exits, strict=True):
        jobs[f"head:{name}"] = (head, _activation(net, unit, example))
    jobs["full"] = (net, example)
    jobs["head:final"] = (bb.head, _activation(net, last, example))
    for unit in units:
        jobs[f"suffix{unit}"] = (Suffix(net, unit), _activation(net, unit, example))
    ms = {k: v.median for k, v in measure_latencies(jobs, settings).items()}

    exits: list[ExitPoint] = []
    for i, (name, unit) in enumerate(zip(net.exit_names, net.exit_units, strict=True)):
        exits.append(ExitPoint(
            name=name, flops_fraction=fractions[unit], device_ms=ms[f"prefix{unit}"],
            head_ms=ms[f"head:{name}"], top1=float(eva.correct[i].mean()),
        ))
    exits.append(ExitPoint(
        name=net.names[-1], flops_fraction=1.0, device_ms=ms["full"],
        head_ms=ms["head:final"], top1=float(eva.correct[-1].mean()),
    ))

    sb = split_bytes(net, units, test, keep=settings.repeats, progress=settings.progress)
    splits: list[SplitPoint] = []
    codec: dict[str, dict[str, float]] = {}
    for unit in tqdm(units, desc="splits", leave=False, disable=not settings.progress):
        per = sb.lz4[unit]
        enc, dec = codec_ms(sb.samples[unit])
        codec[bb.unit_names[unit]] = {"encode_ms": enc, "decode_ms": dec}
        splits.append(SplitPoint(
            name=bb.unit_names[unit], flops_fraction=fractions[unit],
            device_ms=ms[f"prefix{unit}"], server_ms=ms[f"suffix{unit}"],
            bytes=TransferBytes(
                fp32=sb.fp32[unit], int8=sb.int8[unit], int8_lz4_mean=float(np.mean(per)),
                int8_lz4_per_sample=per,
            ),
            encode_ms=enc, decode_ms=dec,
        ))
    rep = min(splits, key=lambda s: abs(s.flops_fraction - 0.5)).name
    progressive = Progressive(
        splits=splits, exits=exits, codec_encode_ms=codec[rep]["encode_ms"],
        codec_decode_ms=codec[rep]["decode_ms"], input_bytes=input_bytes,
    )
    extra: dict[str, object] = {
        "codec_split": rep,
        "int8_lz4_noshuffle_mean": {
            bb.unit_names[u]: float(np.mean(sb.plain_lz4[u])) for u in units
        },
        "conventions": {
            "split_device_ms": "backbone prefix plus the exit heads at or before the split",
            "exit_device_ms": "backbone prefix plus every exit head up to and including it",
            "server_ms": "suffix after the split straight to the final exit, no early exits",
            "input_bytes": "one raw 8-bit image (1 byte per pixel and channel)",
            "codec_ms": "median over test activations at the split, one run each; "
                        "codec_*_ms of the progressive section are those of codec_split",
            "int8_lz4_noshuffle_mean": "int8 + LZ4 without the bit-shuffle, for comparison",
        },
    }
    return progressive, extra

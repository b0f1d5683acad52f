"""Data sets for training and profiling: a spec string in, fixed train/val/test tensors out.

Specs:
- ``digits`` (default): scikit-learn's bundled 8x8 hand-written digits, bilinearly resized to
  1x32x32, standardised with the training split's mean/std; stratified 60/15/25 split fixed by
  ``seed``. Needs no download, so every test and tiny run can use it.
- ``cifar10:PATH``: torchvision's CIFAR-10 reader (no download); 5,000 stratified training
  images are held out as validation; the official test set is the test split.
- ``imagefolder:PATH``: torchvision ``ImageFolder`` resized to 3x32x32; uses ``PATH/train``,
  ``PATH/val`` and ``PATH/test`` when they exist, otherwise a stratified 60/15/25 split.

All splits are float32 NCHW tensors with int64 labels held in memory (``TensorDataset``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

__all__ = ["DataError", "DataSplits", "load_data", "subset", "shrink"]


class DataError(ValueError):
    """A data spec or data path that cannot be used; the message is one line."""


@dataclass(frozen=True)
class DataSplits:
    """Train/val/test splits of one data set, plus what a network needs to know about it."""

    train: TensorDataset
    val: TensorDataset
    test: TensorDataset
    classes: int
    input_shape: tuple[int, int, int]
    name: str


def _stratified_split(
    labels: np.ndarray, fractions: tuple[float, float, float], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of a stratified split; every class is divided by the same fractions."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    test_frac = fractions[2]
    rest, test = train_test_split(idx, test_size=test_frac, stratify=labels, random_state=seed)
    val_frac = fractions[1] / (fractions[0] + fractions[1])
    train, val = train_test_split(
        rest, test_size=val_frac, stratify=labels[rest], random_state=seed + 1
    )
    return np.sort(train), np.sort(val), np.sort(test)


def _tensors(x: torch.Tensor, y: np.ndarray | torch.Tensor, idx: np.ndarray) -> TensorDataset:
    it = torch.as_tensor(idx, dtype=torch.long)
    return TensorDataset(x[it].contiguous(), torch.as_tensor(y, dtype=torch.long)[it])


def _standardise(x: torch.Tensor, train_idx: np.ndarray) -> torch.Tensor:
    """Per-channel standardisation with statistics of the training split only."""
    ref = x[torch.as_tensor(train_idx, dtype=torch.long)]
    mean = ref.mean(dim=(0, 2, 3), keepdim=True)
    std = ref.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return (x - mean) / std


def _digits(seed: int) -> DataSplits:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    images = F.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
    labels = np.asarray(bunch.target, dtype=np.int64)
    tr, va, te = _stratified_split(labels, (0.60, 0.15, 0.25), seed)
    x = _standardise(images, tr)
    return DataSplits(
        _tensors(x, labels, tr), _tensors(x, labels, va), _tensors(x, labels, te),
        classes=10, input_shape=(1, 32, 32), name="digits",
    )


def _torchvision(spec: str) -> Any:
    try:
        return importlib.import_module("torchvision")
    except ImportError:
        raise DataError(
            f"data spec {spec!r} needs torchvision; install it with 'pip install torchvision'"
        ) from None


def _uint8_images(data: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(data)).permute(0, 3, 1, 2).float() / 255.0


def _cifar10(spec: str, path: Path, seed: int) -> DataSplits:
    tv = _torchvision(spec)
    if not path.is_dir():
        raise DataError(f"data spec {spec!r}: {path} is not a directory")
    try:
        train = tv.datasets.CIFAR10(str(path), train=True, download=False)
        test = tv.datasets.CIFAR10(str(path), train=False, download=False)
    except (RuntimeError, OSError, ValueError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"data spec {spec!r}: cannot read CIFAR-10 under {path}: {msg}") from None
    x_all = _uint8_images(train.data)
    y_all = np.asarray(train.targets, dtype=np.int64)
    from sklearn.model_selection import train_test_split

    tr, va = train_test_split(
        np.arange(len(y_all)), test_size=5000, stratify=y_all, random_state=seed
    )
    tr, va = np.sort(tr), np.sort(va)
    x_test = _uint8_images(test.data)
    ref = x_all[torch.as_tensor(tr)]
    mean = ref.mean(dim=(0, 2, 3), keepdim=True)
    std = ref.std(dim=(0, 2, 3), keepdim=True)
    x_all, x_test = (x_all - mean) / std, (x_test - mean) / std
    y_test = np.asarray(test.targets, dtype=np.int64)
    return DataSplits(
        _tensors(x_all, y_all, tr), _tensors(x_all, y_all, va),
        _tensors(x_test, y_test, np.arange(len(y_test))),
        classes=10, input_shape=(3, 32, 32), name="cifar10",
    )


def _read_folder(tv: Any, spec: str, path: Path) -> tuple[torch.Tensor, np.ndarray, list[str]]:
    tf = tv.transforms.Compose(
        [tv.transforms.Resize(32), tv.transforms.CenterCrop(32), tv.transforms.ToTensor()]
    )
    try:
        ds = tv.datasets.ImageFolder(str(path), transform=tf)
    except (FileNotFoundError, OSError, RuntimeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"data spec {spec!r}: cannot read image folder {path}: {msg}") from None
    xs = [ds[i][0].expand(3, -1, -1) for i in range(len(ds))]
    return torch.stack(xs), np.asarray(ds.targets, dtype=np.int64), list(ds.classes)


def _imagefolder(spec: str, path: Path, seed: int) -> DataSplits:
    tv = _torchvision(spec)
    if not path.is_dir():
        raise DataError(f"data spec {spec!r}: {path} is not a directory")
    parts = {p: path / p for p in ("train", "val", "test")}
    if all(d.is_dir() for d in parts.values()):
        read = {k: _read_folder(tv, spec, d) for k, d in parts.items()}
        if len({tuple(r[2]) for r in read.values()}) != 1:
            raise DataError(f"data spec {spec!r}: train/val/test folders have different classes")
        mean = read["train"][0].mean(dim=(0, 2, 3), keepdim=True)
        std = read["train"][0].std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
        sets = {
            k: _tensors((x - mean) / std, y, np.arange(len(y))) for k, (x, y, _) in read.items()
        }
        classes = len(read["train"][2])
    else:
        x, y, names = _read_folder(tv, spec, path)
        if len(names) < 2 or np.bincount(y).min() < 4:
            raise DataError(f"data spec {spec!r}: need >= 2 classes with >= 4 images each")
        tr, va, te = _stratified_split(y, (0.60, 0.15, 0.25), seed)
        x = _standardise(x, tr)
        sets = {"train": _tensors(x, y, tr), "val": _tensors(x, y, va), "test": _tensors(x, y, te)}
        classes = len(names)
    return DataSplits(
        sets["train"], sets["val"], sets["test"], classes=classes,
        input_shape=(3, 32, 32), name=f"imagefolder:{path.name}",
    )


def load_data(spec: str = "digits", seed: int = 0) -> DataSplits:
    """Load the data set named by ``spec``; DataError (one line) for a bad spec or path.

    The split is a pure function of ``(spec, seed)``: the same call gives identical tensors.
    """
    if not isinstance(spec, str) or not spec:
        raise DataError("data spec must be a non-empty string such as 'digits' or 'cifar10:PATH'")
    kind, _, arg = spec.partition(":")
    if kind == "digits" and not arg:
        return _digits(seed)
    if kind in ("cifar10", "imagefolder"):
        if not arg:
            raise DataError(f"data spec {spec!r}: expected '{kind}:PATH'")
        path = Path(arg).expanduser()
        if not path.exists():
            raise DataError(f"data spec {spec!r}: path {path} does not exist")
        return _cifar10(spec, path, seed) if kind == "cifar10" else _imagefolder(spec, path, seed)
    raise DataError(
        f"unknown data spec {spec!r}; expected 'digits', 'cifar10:PATH' or 'imagefolder:PATH'"
    )


def subset(ds: TensorDataset, n: int, seed: int = 0) -> TensorDataset:
    """A random ``n``-sample subset (all of ``ds`` when ``n >= len(ds)``), drawn with a seeded
    ``torch.Generator``; sample order follows the original order."""
    if n < 1:
        raise DataError(f"subset size must be >= 1, got {n}")
    total = len(ds)
    if n >= total:
        return ds
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(total, generator=g)[:n].sort().values
    return TensorDataset(*(t[idx] for t in ds.tensors))


def shrink(data: DataSplits, train: int, val: int, test: int, seed: int = 0) -> DataSplits:
    """The same data set with each split cut to a random subset (tiny-scale runs and tests)."""
    return DataSplits(
        subset(data.train, train, seed), subset(data.val, val, seed + 1),
        subset(data.test, test, seed + 2), data.classes, data.input_shape, data.name,
    )

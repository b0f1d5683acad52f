"""Data sets for training and profiling: a spec string in, fixed train/val/test tensors out.

Specs:

- ``digits`` (the default of :func:`load_data`, for tests and tiny runs): scikit-learn's
  bundled 8x8 hand-written digits (``load_digits``: 1,797 images, a copy of the test set of
  the UCI "Optical Recognition of Handwritten Digits" data, Alpaydin & Kaynak 1998),
  bilinearly resized to 1x32x32, standardised with the training split's mean/std;
  stratified 60/15/25 split (1,077 / 270 / 450) fixed by ``seed``. Needs no download.
- ``digits-wild`` (the default of ``mvsched train/profile``, and the shipped profiles'): a
  harder 3x32x32 task built from the same digits the way published benchmarks are built,
  with no download:

  1. *Split by source digit*: the ``digits`` split of the same ``seed``, so no source digit is
     in two splits. Each train digit is rendered 3 times, each val digit 2 times and each test
     digit 5 times (3,231 / 540 / 2,250 images); ``DataSplits.sources`` holds the
     ``load_digits`` index behind every image.
  2. *MNIST-M blend* (Ganin & Lempitsky, "Unsupervised Domain Adaptation by
     Backpropagation", ICML 2015): the digit, upsampled as for ``digits`` and taken as a
     white-on-black 0..255 image, is blended onto a random 32x32 crop (native resolution) of a
     uniformly chosen colour photograph as ``|digit - patch|`` per channel. MNIST-M crops
     BSDS500; here the photographs are those bundled with scikit-learn
     (``load_sample_images``: ``china.jpg``, CC BY 2.0 by Flickr user danielbuechele;
     ``flower.jpg``, CC BY 2.0 by Flickr user vultilion; as stated in scikit-learn's
     ``datasets/images/README.txt``) and with scikit-image (``skimage.data``, files shipped in
     the wheel: ``astronaut``, NASA, public domain; ``chelsea``, CC0, Stefan van der Walt;
     ``coffee``, CC0, Rachel Michetti; ``rocket``, SpaceX, public domain; as stated in their
     docstrings).
  3. *Camera corruptions* (MNIST-C, Mu & Gilmer, "MNIST-C: A Robustness Benchmark for Computer
     Vision", arXiv:1906.02337, 2019, code github.com/google-research/mnist-c; ImageNet-C,
     Hendrycks & Dietterich, "Benchmarking Neural Network Robustness to Common Corruptions and
     Perturbations", ICLR 2019, code github.com/hendrycks/robustness): every image gets one or
     two distinct corruptions (count uniform, choice uniform), each at a severity uniform in
     1..5, applied in camera order as listed. Severity tables (1 to 5) are CIFAR-10-C's, the
     32x32 scaling of ImageNet-C (``make_cifar_c.py``), and MNIST-C's for the affine:

     - affine, on the digit before the blend: one of MNIST-C's rotate (0.2, 0.4, 0.6, 0.8,
       1.0 rad), shear (the same angles), scale (zoom-out 0.9, 0.8, 0.7, 0.6, 0.5) and
       translate (1..5 pixels at 28x28, here x32/28 on each axis), chosen uniformly, random
       signs;
     - defocus blur: disk radius and anti-alias sigma (0.3, 0.4), (0.4, 0.5), (0.5, 0.6),
       (1, 0.2), (1.5, 0.1);
     - motion blur: ImageMagick radius and sigma (6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5),
       angle uniform in +-45 degrees (severities 3 and 4 differ only by taps of weight < 1e-9);
     - contrast: deviation from the image mean times 0.75, 0.5, 0.4, 0.3, 0.15;
     - brightness: HSV value + 0.05, 0.1, 0.15, 0.2, 0.3;
     - Gaussian noise: sigma 0.04, 0.06, 0.08, 0.09, 0.10;
     - shot noise: Poisson with 500, 250, 100, 75, 50 photons per unit intensity;
     - JPEG (Pillow): quality 80, 65, 58, 50, 40.

     Images are stored as uint8, then standardised per channel with the training split's
     statistics. Tables and functions are in :mod:`models.data_wild`.

  Every draw comes from ``numpy.random.Generator`` streams spawned from ``seed``.
- ``cifar10:PATH``: the official CIFAR-10 "python version" (``data_batch_1..5``,
  ``test_batch``) in ``PATH`` or ``PATH/cifar-10-batches-py``; 10% of the training images
  (5,000), stratified, are held out as validation; the official test set is the test split.
- ``cifar100:PATH``: the same for CIFAR-100 (``train``, ``test``; ``PATH`` or
  ``PATH/cifar-100-python``), 100 fine labels.
- ``imagefolder:PATH``: one sub-folder of images per class (torchvision ``ImageFolder``
  layout), read with Pillow as RGB, shorter side resized to 32 and centre-cropped to 3x32x32;
  uses ``PATH/train``, ``PATH/val`` and ``PATH/test`` when they exist, otherwise a stratified
  60/15/25 split.

Any spec may end in ``@SIZE`` (16 to 256), e.g. ``digits-wild@64``: the same images,
bilinearly resized from 32x32 to SIZExSIZE after standardisation (standardising is a per-channel
affine map and bilinear weights sum to 1, so the order does not matter). The network then
sees SIZE pixels and costs what a SIZE-pixel input costs; the detail is still that of 32
pixels. The name of the data set carries the suffix.

CIFAR batches are unpickled with a loader that only rebuilds numpy arrays and plain
containers, so a file cannot run code. All splits are float32 NCHW tensors with int64 labels
held in memory (``TensorDataset``); a bad spec, path or file is a one-line :class:`DataError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from models.data_errors import DataError

__all__ = ["DataError", "DataSplits", "SPECS", "load_data", "subset", "shrink"]

SPECS = ("digits", "digits-wild", "cifar10:PATH", "cifar100:PATH", "imagefolder:PATH",
         "SPEC@SIZE")
SIZES = (16, 256)
"""smallest and largest SIZE of a ``SPEC@SIZE`` spec"""
SPLIT = (0.60, 0.15, 0.25)


Sources = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class DataSplits:
    """Train/val/test splits of one data set, plus what a network needs to know about it.

    ``sources`` (digit specs only) gives, per split, the ``load_digits`` index each image was
    made from, so split disjointness can be checked; it takes no part in equality."""

    train: TensorDataset
    val: TensorDataset
    test: TensorDataset
    classes: int
    input_shape: tuple[int, int, int]
    name: str
    sources: Sources | None = field(default=None, compare=False, repr=False)


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


def _uint8_stats(x: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and (unbiased) std of uint8 NCHW images read as [0, 1], from a
    histogram per channel, so a 50,000-image training set needs no float copy."""
    levels = np.arange(256, dtype=np.float64) / 255.0
    mean, std = [], []
    for c in range(x.shape[1]):
        counts = np.bincount(x[:, c].ravel(), minlength=256).astype(np.float64)
        n = counts.sum()
        m = float(counts @ levels) / n
        var = float(counts @ (levels - m) ** 2) / max(n - 1.0, 1.0)
        mean.append(m)
        std.append(max(var**0.5, 1e-6))
    shape = (1, len(mean), 1, 1)
    return (torch.tensor(mean, dtype=torch.float32).view(shape),
            torch.tensor(std, dtype=torch.float32).view(shape))


def _standard(x: np.ndarray, y: np.ndarray, stats: tuple[torch.Tensor, torch.Tensor]
              ) -> TensorDataset:
    """uint8 NCHW images as standardised float32, with int64 labels."""
    mean, std = stats
    t = torch.from_numpy(np.ascontiguousarray(x)).float().div_(255.0).sub_(mean).div_(std)
    return TensorDataset(t, torch.as_tensor(y, dtype=torch.long))


def _uint8_splits(x: np.ndarray, y: np.ndarray, parts: tuple[np.ndarray, ...]
                  ) -> tuple[TensorDataset, ...]:
    """Train/val/test datasets of index arrays ``parts``, standardised by the first."""
    stats = _uint8_stats(x[parts[0]])
    return tuple(_standard(x[p], y[p], stats) for p in parts)


def _digit_images() -> tuple[torch.Tensor, np.ndarray]:
    """scikit-learn's digits as N x 1 x 32 x 32 in [0, 1] (bilinear) and their labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    images = F.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
    return images, np.asarray(bunch.target, dtype=np.int64)


def _digits(seed: int) -> DataSplits:
    images, labels = _digit_images()
    tr, va, te = _stratified_split(labels, SPLIT, seed)
    x = _standardise(images, tr)
    return DataSplits(
        _tensors(x, labels, tr), _tensors(x, labels, va), _tensors(x, labels, te),
        classes=10, input_shape=(1, 32, 32), name="digits", sources=(tr, va, te),
    )


def _digits_wild(seed: int) -> DataSplits:
    """Each digit of each ``digits`` split rendered several times (see the module docstring)."""
    from models import data_wild

    images, labels = _digit_images()
    parts = _stratified_split(labels, SPLIT, seed)
    s_tr, s_va, s_te = (np.repeat(p, k) for p, k in zip(parts, data_wild.COPIES))
    sources = (s_tr, s_va, s_te)
    order = np.concatenate(sources)
    rendered, _ = data_wild.render(images[order, 0].numpy(), seed)
    bounds = np.cumsum([0] + [len(s) for s in sources])
    rows = tuple(np.arange(a, b) for a, b in zip(bounds[:-1], bounds[1:]))
    train, val, test = _uint8_splits(rendered, labels[order], rows)
    return DataSplits(
        train, val, test, classes=10, input_shape=(3, 32, 32), name="digits-wild",
        sources=sources,
    )


def _cifar(path: Path, seed: int, variant: str) -> DataSplits:
    """Official CIFAR python batches; 10% of training images (stratified) become validation."""
    from sklearn.model_selection import train_test_split

    from models.data_readers import CIFAR10, CIFAR100, read_cifar

    fmt = CIFAR10 if variant == "cifar10" else CIFAR100
    x_train, y_train, x_test, y_test = read_cifar(path, fmt)
    try:
        tr, va = train_test_split(
            np.arange(len(y_train)), test_size=0.1, stratify=y_train, random_state=seed
        )
    except ValueError:
        raise DataError(
            f"{path}: {len(y_train)} training images are too few for a stratified 10% "
            "validation split (need >= 2 per class)"
        ) from None
    tr, va = np.sort(tr), np.sort(va)
    stats = _uint8_stats(x_train[tr])
    return DataSplits(
        _standard(x_train[tr], y_train[tr], stats), _standard(x_train[va], y_train[va], stats),
        _standard(x_test, y_test, stats),
        classes=fmt.classes, input_shape=(3, 32, 32), name=variant,
    )


def _imagefolder(path: Path, seed: int) -> DataSplits:
    from models.data_readers import read_image_folder

    if not path.is_dir():
        raise DataError(f"{path} is not a directory")
    parts = {p: path / p for p in ("train", "val", "test")}
    if all(d.is_dir() for d in parts.values()):
        read = {k: read_image_folder(d) for k, d in parts.items()}
        if len({tuple(r[2]) for r in read.values()}) != 1:
            raise DataError(f"{path}: train/val/test folders have different classes")
        stats = _uint8_stats(read["train"][0])
        train, val, test = (_standard(x, y, stats) for x, y, _ in read.values())
        classes = len(read["train"][2])
    else:
        x, y, names = read_image_folder(path)
        if len(names) < 2 or np.bincount(y).min() < 4:
            raise DataError(f"{path}: need >= 2 classes with >= 4 images each")
        train, val, test = _uint8_splits(x, y, _stratified_split(y, SPLIT, seed))
        classes = len(names)
    return DataSplits(
        train, val, test, classes=classes, input_shape=(3, 32, 32),
        name=f"imagefolder:{path.name}",
    )


_BUILT_IN: dict[str, Callable[[int], DataSplits]] = {
    "digits": _digits, "digits-wild": _digits_wild,
}
_PATH_SPECS: dict[str, Callable[[Path, int], DataSplits]] = {
    "cifar10": partial(_cifar, variant="cifar10"),
    "cifar100": partial(_cifar, variant="cifar100"),
    "imagefolder": _imagefolder,
}


def load_data(spec: str = "digits", seed: int = 0) -> DataSplits:
    """Load the data set named by ``spec``; DataError (one line) for a bad spec or path.

    The split is a pure function of ``(spec, seed)``: the same call gives identical tensors.
    """
    if not isinstance(spec, str) or not spec:
        raise DataError("data spec must be a non-empty string such as 'digits' or 'cifar10:PATH'")
    base, at, size = spec.rpartition("@")
    if at and base:
        return _resized(load_data(base, seed), _size(spec, size))
    kind, colon, arg = spec.partition(":")
    if kind in _BUILT_IN and not colon:
        return _BUILT_IN[kind](seed)
    if kind in _PATH_SPECS:
        if not arg:
            raise DataError(f"data spec {spec!r}: expected '{kind}:PATH'")
        path = Path(arg).expanduser()
        if not path.exists():
            raise DataError(f"data spec {spec!r}: path {path} does not exist")
        try:
            return _PATH_SPECS[kind](path, seed)
        except DataError as exc:
            raise DataError(f"data spec {spec!r}: {exc}") from None
    raise DataError(
        f"unknown data spec {spec!r}; expected one of "
        + ", ".join(f"'{s}'" for s in SPECS)
    )


def _size(spec: str, text: str) -> int:
    """The SIZE of ``SPEC@SIZE``; DataError unless it is a whole number in :data:`SIZES`."""
    lo, hi = SIZES
    if not text.isdigit() or not lo <= int(text) <= hi:
        raise DataError(f"data spec {spec!r}: expected SPEC@SIZE with SIZE a whole number of "
                        f"pixels in {lo}..{hi}, got {text!r}")
    return int(text)


def _resized(data: DataSplits, size: int) -> DataSplits:
    """Every split bilinearly resized to ``size`` x ``size`` (see the module docstring)."""
    def one(ds: TensorDataset) -> TensorDataset:
        x, y = ds.tensors
        with torch.no_grad():
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        return TensorDataset(x.contiguous(), y)

    c = data.input_shape[0]
    return DataSplits(one(data.train), one(data.val), one(data.test), data.classes,
                      (c, size, size), f"{data.name}@{size}", sources=data.sources)


def _subset_index(total: int, n: int, seed: int) -> torch.Tensor | None:
    """Sorted indices of a seeded random ``n``-subset, or None when ``n`` covers everything."""
    if n < 1:
        raise DataError(f"subset size must be >= 1, got {n}")
    if n >= total:
        return None
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(total, generator=g)[:n].sort().values


def _take(ds: TensorDataset, idx: torch.Tensor | None) -> TensorDataset:
    return ds if idx is None else TensorDataset(*(t[idx] for t in ds.tensors))


def subset(ds: TensorDataset, n: int, seed: int = 0) -> TensorDataset:
    """A random ``n``-sample subset (all of ``ds`` when ``n >= len(ds)``), drawn with a seeded
    ``torch.Generator``; sample order follows the original order."""
    return _take(ds, _subset_index(len(ds), n, seed))


def shrink(data: DataSplits, train: int, val: int, test: int, seed: int = 0) -> DataSplits:
    """The same data set with each split cut to a random subset (tiny-scale runs and tests);
    ``sources`` are cut with the same indices."""
    splits = (data.train, data.val, data.test)
    idx = [_subset_index(len(ds), n, seed + k)
           for k, (ds, n) in enumerate(zip(splits, (train, val, test)))]
    tr, va, te = (_take(ds, i) for ds, i in zip(splits, idx))
    sources: Sources | None = None
    if data.sources is not None:
        s_tr, s_va, s_te = (s if i is None else s[i.numpy()] for s, i in zip(data.sources, idx))
        sources = (s_tr, s_va, s_te)
    return DataSplits(tr, va, te, data.classes, data.input_shape, data.name, sources=sources)

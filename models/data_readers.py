"""Readers for users' own data: CIFAR python batches and class-per-folder images.

Both return uint8 NCHW images (3x32x32) and int64 labels and raise :class:`DataError` with one
line naming the file or folder and what was expected. Neither needs torchvision.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.data_errors import DataError

__all__ = [
    "CIFAR10", "CIFAR100", "IMAGE_EXTENSIONS", "CifarFormat", "read_cifar", "read_image",
    "read_image_folder",
]

SIZE = 32


@dataclass(frozen=True)
class CifarFormat:
    """Where one CIFAR variant keeps its python batches and which key holds the labels."""

    name: str
    folder: str
    train: tuple[str, ...]
    test: str
    label_key: str
    classes: int
    expected: str

    @property
    def files(self) -> tuple[str, ...]:
        return (*self.train, self.test)


CIFAR10 = CifarFormat(
    "CIFAR-10", "cifar-10-batches-py", tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test_batch", "labels", 10, "CIFAR-10 python batches data_batch_1..5 and test_batch",
)
CIFAR100 = CifarFormat(
    "CIFAR-100", "cifar-100-python", ("train",), "test", "fine_labels", 100,
    "CIFAR-100 python files train and test",
)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
"""The extensions torchvision's ``ImageFolder`` accepts (case-insensitive)."""


class _ArrayUnpickler(pickle.Unpickler):
    """Rebuilds plain containers and numpy arrays only, so a batch file cannot run code."""

    _ALLOWED = {
        "_reconstruct": np.ndarray(0).__reduce__()[0],
        "scalar": np.float64(0).__reduce__()[0],
        "_frombuffer": np.zeros(1).__reduce_ex__(5)[0],
    }

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith(("numpy.core", "numpy._core")) and name in self._ALLOWED:
            return self._ALLOWED[name]
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        if (module, name) == ("_codecs", "encode"):  # bytes in protocol-2 pickles
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refers to {module}.{name}")


def _cifar_dir(path: Path, fmt: CifarFormat) -> Path:
    """``path`` itself or ``path/<official folder>``, whichever holds every batch file."""
    if not path.is_dir():
        raise DataError(f"{path} is not a directory; expected {fmt.expected} under it")
    for folder in (path, path / fmt.folder):
        missing = [f for f in fmt.files if not (folder / f).is_file()]
        if not missing:
            return folder
        if len(missing) < len(fmt.files):
            raise DataError(f"{folder}: missing {', '.join(missing)}; expected {fmt.expected}")
    raise DataError(f"{path}: expected {fmt.expected} under {path} or {path / fmt.folder}")


def _field(batch: dict, key: str) -> Any:
    """A batch entry under its bytes key (the official Python 2 pickles) or its str key."""
    return batch[key.encode()] if key.encode() in batch else batch.get(key)


def _load_pickle(file: Path) -> Any:
    """The unpickled object (bytes keys kept, as Python 2 wrote them)."""
    try:
        with open(file, "rb") as fh:
            return _ArrayUnpickler(fh, encoding="bytes").load()
    except OSError as exc:
        raise DataError(f"{file}: cannot read ({exc.strerror or type(exc).__name__})") from None
    except Exception as exc:  # a malformed pickle can fail in many ways; report any one line
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{file}: not a CIFAR python batch ({detail})") from None


def _read_batch(file: Path, fmt: CifarFormat) -> tuple[np.ndarray, np.ndarray]:
    """One batch file: ``b"data"`` N x 3072 uint8 (R, G, B planes of 32x32) and N labels."""
    expected = (f"expected a pickled dict with b'data' (N x 3072 uint8) and "
                f"b'{fmt.label_key}' (N labels in 0..{fmt.classes - 1})")
    batch = _load_pickle(file)
    if not isinstance(batch, dict):
        raise DataError(f"{file}: {expected}, got {type(batch).__name__}")
    data, labels = _field(batch, "data"), _field(batch, fmt.label_key)
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3 * SIZE * SIZE:
        got = data.shape if isinstance(data, np.ndarray) else type(data).__name__
        raise DataError(f"{file}: {expected}, got data {got}")
    if data.dtype != np.uint8:
        raise DataError(f"{file}: {expected}, got data of dtype {data.dtype}")
    try:
        y = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        y = np.empty(0, dtype=np.int64)
    if labels is None or len(y) != len(data):
        count = 0 if labels is None else len(y)
        raise DataError(f"{file}: {expected}, got {count} labels for {len(data)} images")
    if len(y) and (y.min() < 0 or y.max() >= fmt.classes):
        raise DataError(f"{file}: {expected}, got labels {y.min()}..{y.max()}")
    return data.reshape(-1, 3, SIZE, SIZE), y


def read_cifar(
    path: Path, fmt: CifarFormat
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train images, train labels, test images, test labels of an official CIFAR download."""
    folder = _cifar_dir(path, fmt)
    train = [_read_batch(folder / f, fmt) for f in fmt.train]
    x_test, y_test = _read_batch(folder / fmt.test, fmt)
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return x_train, y_train, x_test, y_test


def _class_dirs(path: Path) -> list[Path]:
    return sorted((d for d in path.iterdir() if d.is_dir()), key=lambda d: d.name)


def _image_files(folder: Path) -> list[Path]:
    """Image files anywhere under ``folder``, in torchvision's order (sorted walk)."""
    files = []
    for root, _, names in sorted(os.walk(folder, followlinks=True)):
        files += [Path(root) / n for n in sorted(names) if n.lower().endswith(IMAGE_EXTENSIONS)]
    return files


def read_image(file: Path) -> np.ndarray:
    """One image as uint8 3x32x32: RGB, shorter side resized to 32 (bilinear), centre crop,
    as torchvision's ``Resize(32)`` and ``CenterCrop(32)`` do."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as img:
            rgb = img.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{file}: cannot read as an image ({detail})") from None
    w, h = rgb.size
    short, long = min(w, h), max(w, h)
    new_long = int(SIZE * long / short)
    rgb = rgb.resize((SIZE, new_long) if w <= h else (new_long, SIZE), Image.Resampling.BILINEAR)
    w, h = rgb.size
    top, left = int(round((h - SIZE) / 2.0)), int(round((w - SIZE) / 2.0))
    crop = rgb.crop((left, top, left + SIZE, top + SIZE))
    return np.asarray(crop, dtype=np.uint8).transpose(2, 0, 1)


def read_image_folder(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Images, labels and class names of a folder with one sub-folder of images per class."""
    if not path.is_dir():
        raise DataError(f"{path} is not a directory; expected one sub-folder of images per class")
    classes = _class_dirs(path)
    if not classes:
        raise DataError(f"{path}: expected one sub-folder of images per class, found none")
    images, labels = [], []
    for label, folder in enumerate(classes):
        files = _image_files(folder)
        if not files:
            raise DataError(f"{folder}: no image files ({', '.join(IMAGE_EXTENSIONS)})")
        images += [read_image(f) for f in files]
        labels += [label] * len(files)
    return np.stack(images), np.asarray(labels, dtype=np.int64), [d.name for d in classes]

"""models.data ``cifar10:``, ``cifar100:`` and ``imagefolder:`` readers on tiny fixtures written
in exactly the published formats, and one-line DataErrors naming the bad path."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(1)

from models.data import DataError, load_data  # noqa: E402
from models.data_readers import CIFAR10, CIFAR100, read_cifar, read_image  # noqa: E402

CIFAR10_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)


def _dump(file: Path, batch: dict, protocol: int = 2) -> None:
    with open(file, "wb") as fh:
        pickle.dump(batch, fh, protocol=protocol)


def _write_cifar10(folder: Path, per_batch: int = 20, protocol: int = 2) -> dict[str, np.ndarray]:
    """The official layout: dicts with bytes keys, data N x 3072 uint8 (R, G, B planes)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for k, name in enumerate(CIFAR10_FILES):
        x = _images(per_batch, k)
        labels = [i % 10 for i in range(per_batch)]
        _dump(folder / name, {
            b"batch_label": f"{name} of 6".encode(), b"labels": labels,
            b"data": x.reshape(per_batch, 3072), b"filenames": [b"x.png"] * per_batch,
        }, protocol)
        written[name] = x
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [b"c"] * 10}))
    return written


def _write_cifar100(folder: Path, train: int = 1000, test: int = 100) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, n, seed in (("train", train, 1), ("test", test, 2)):
        fine = [i % 100 for i in range(n)]
        _dump(folder / name, {
            b"filenames": [b"x.png"] * n, b"batch_label": name.encode(),
            b"fine_labels": fine, b"coarse_labels": [f // 5 for f in fine],
            b"data": _images(n, seed).reshape(n, 3072),
        })


def _one_line_error(spec: str, *words: str) -> str:
    with pytest.raises(DataError) as info:
        load_data(spec)
    msg = str(info.value)
    assert "\n" not in msg, msg
    for word in words:
        assert word in msg, msg
    return msg


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_cifar10_reader_reads_official_layout(tmp_path: Path, protocol: int) -> None:
    written = _write_cifar10(tmp_path, protocol=protocol)
    x_train, y_train, x_test, y_test = read_cifar(tmp_path, CIFAR10)
    assert np.array_equal(x_train, np.concatenate([written[f] for f in CIFAR10_FILES[:5]]))
    assert np.array_equal(x_test, written["test_batch"])
    assert y_train.dtype == np.int64 and np.array_equal(y_test, np.arange(20) % 10)


def test_cifar10_spec_splits_and_standardises(tmp_path: Path) -> None:
    _write_cifar10(tmp_path)
    data = load_data(f"cifar10:{tmp_path}", seed=0)
    assert (len(data.train), len(data.val), len(data.test)) == (90, 10, 20)
    assert (data.classes, data.input_shape, data.name) == (10, (3, 32, 32), "cifar10")
    assert set(data.val.tensors[1].tolist()) == set(range(10))  # stratified
    x = data.train.tensors[0]
    assert x.dtype == torch.float32 and x.shape[1:] == (3, 32, 32)
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3)
    again = load_data(f"cifar10:{tmp_path}", seed=0)
    assert torch.equal(again.val.tensors[0], data.val.tensors[0])


def test_cifar10_spec_accepts_the_parent_folder(tmp_path: Path) -> None:
    _write_cifar10(tmp_path / "cifar-10-batches-py")
    data = load_data(f"cifar10:{tmp_path}")
    assert len(data.train) + len(data.val) == 100 and len(data.test) == 20


def test_cifar100_spec_reads_fine_labels(tmp_path: Path) -> None:
    _write_cifar100(tmp_path / "cifar-100-python")
    data = load_data(f"cifar100:{tmp_path}", seed=0)
    assert (len(data.train), len(data.val), len(data.test)) == (900, 100, 100)
    assert (data.classes, data.name) == (100, "cifar100")
    assert set(data.val.tensors[1].tolist()) == set(range(100))
    _, _, x_test, y_test = read_cifar(tmp_path, CIFAR100)
    assert np.array_equal(x_test, _images(100, 2)) and np.array_equal(y_test, np.arange(100))


def test_cifar_missing_folder_or_files(tmp_path: Path) -> None:
    _one_line_error(f"cifar10:{tmp_path}", str(tmp_path),
                    "expected CIFAR-10 python batches data_batch_1..5 and test_batch")
    _one_line_error(f"cifar100:{tmp_path}", str(tmp_path),
                    "expected CIFAR-100 python files train and test")
    _write_cifar10(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    _one_line_error(f"cifar10:{tmp_path}", str(tmp_path), "missing data_batch_3")
    not_dir = tmp_path / "batches.meta"
    _one_line_error(f"cifar10:{not_dir}", str(not_dir), "is not a directory")
    _one_line_error(f"cifar100:{tmp_path}/nope", f"{tmp_path}/nope", "does not exist")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"not a pickle at all", "not a CIFAR python batch"),
        (pickle.dumps([1, 2, 3]), "got list"),
        (pickle.dumps({b"data": np.zeros((20, 100), np.uint8), b"labels": [0] * 20}),
         "got data (20, 100)"),
        (pickle.dumps({b"data": np.zeros((20, 3072), np.float32), b"labels": [0] * 20}),
         "dtype float32"),
        (pickle.dumps({b"data": np.zeros((20, 3072), np.uint8), b"labels": [0] * 19}),
         "19 labels for 20 images"),
        (pickle.dumps({b"data": np.zeros((20, 3072), np.uint8), b"labels": [10] * 20}),
         "got labels 10..10"),
        (pickle.dumps({b"data": np.zeros((20, 3072), np.uint8)}), "b'labels'"),
    ],
)
def test_malformed_cifar_batch_is_named(tmp_path: Path, content: bytes, words: str) -> None:
    _write_cifar10(tmp_path)
    (tmp_path / "data_batch_2").write_bytes(content)
    _one_line_error(f"cifar10:{tmp_path}", str(tmp_path / "data_batch_2"), words)


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_cifar_batch_cannot_run_code(tmp_path: Path) -> None:
    _write_cifar10(tmp_path)
    marker = tmp_path / "ran"
    _dump(tmp_path / "test_batch", {b"data": _Exploit(marker), b"labels": []})
    _one_line_error(f"cifar10:{tmp_path}", str(tmp_path / "test_batch"), "refers to")
    assert not marker.exists()


def _save(file: Path, array: np.ndarray, mode: str | None = None) -> None:
    from PIL import Image

    file.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(file)


def _bands(width: int, height: int) -> np.ndarray:
    """Red / green / blue thirds along the long side; the centre 32 pixels are green when the
    short side is 32."""
    img = np.zeros((height, width, 3), dtype=np.uint8)
    if width >= height:
        a, b = (width - 32) // 2, (width + 32) // 2
        img[:, :a, 0], img[:, a:b, 1], img[:, b:, 2] = 255, 255, 255
    else:
        a, b = (height - 32) // 2, (height + 32) // 2
        img[:a, :, 0], img[a:b, :, 1], img[b:, :, 2] = 255, 255, 255
    return img


def test_read_image_resizes_shorter_side_and_crops_centre(tmp_path: Path) -> None:
    for w, h in ((64, 32), (32, 96)):
        _save(tmp_path / f"{w}x{h}.png", _bands(w, h))
        out = read_image(tmp_path / f"{w}x{h}.png")
        assert out.shape == (3, 32, 32) and out.dtype == np.uint8
        assert (out[1] == 255).all() and (out[0] == 0).all() and (out[2] == 0).all()
    _save(tmp_path / "big.jpg", np.full((80, 120, 3), (10, 200, 30), dtype=np.uint8))
    out = read_image(tmp_path / "big.jpg")
    assert np.abs(out.reshape(3, -1).mean(1) - [10, 200, 30]).max() < 3
    _save(tmp_path / "grey.png", np.full((40, 40), 77, dtype=np.uint8))
    out = read_image(tmp_path / "grey.png")
    assert (out == 77).all()  # greyscale becomes three equal RGB channels


def _write_folder(root: Path, classes: tuple[str, ...] = ("cat", "dog", "emu"), n: int = 8
                  ) -> None:
    for k, name in enumerate(classes):
        for i in range(n):
            colour = np.array([40 * k, 5 * i, 100], dtype=np.uint8)
            size = (40 + i, 32 + 2 * i, 3)
            ext = ".png" if i % 2 else ".JPG"
            _save(root / name / f"img{i}{ext}", np.broadcast_to(colour, size).copy())
        (root / name / "notes.txt").write_text("not an image")


def test_imagefolder_without_split_folders_is_split_60_15_25(tmp_path: Path) -> None:
    _write_folder(tmp_path)
    data = load_data(f"imagefolder:{tmp_path}", seed=0)
    assert sum(len(d) for d in (data.train, data.val, data.test)) == 24
    assert (data.classes, data.input_shape) == (3, (3, 32, 32))
    assert data.name == f"imagefolder:{tmp_path.name}"
    assert set(data.test.tensors[1].tolist()) == {0, 1, 2}
    assert torch.allclose(data.train.tensors[0].mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)


def test_imagefolder_with_train_val_test_folders(tmp_path: Path) -> None:
    for part, n in (("train", 6), ("val", 2), ("test", 3)):
        _write_folder(tmp_path / part, n=n)
    data = load_data(f"imagefolder:{tmp_path}")
    assert (len(data.train), len(data.val), len(data.test)) == (18, 6, 9)
    assert data.test.tensors[1].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]  # sorted class order


def test_imagefolder_errors_name_the_path(tmp_path: Path) -> None:
    _one_line_error(f"imagefolder:{tmp_path}", str(tmp_path), "one sub-folder of images per class")
    (tmp_path / "empty_class").mkdir()
    _one_line_error(f"imagefolder:{tmp_path}", str(tmp_path / "empty_class"), "no image files")
    (tmp_path / "empty_class").rmdir()
    _write_folder(tmp_path, classes=("a", "b"), n=4)
    (tmp_path / "b" / "broken.png").write_bytes(b"\x89PNG garbage")
    _one_line_error(f"imagefolder:{tmp_path}", str(tmp_path / "b" / "broken.png"),
                    "cannot read as an image")
    (tmp_path / "b" / "broken.png").unlink()
    _write_folder(tmp_path / "c", classes=("only",), n=4)
    _one_line_error(f"imagefolder:{tmp_path / 'c'}", ">= 2 classes")
    for part in ("train", "val", "test"):
        _write_folder(tmp_path / "s" / part, classes=("x", "y") if part != "val" else ("x", "z"),
                      n=2)
    _one_line_error(f"imagefolder:{tmp_path / 's'}", "different classes")
    file = tmp_path / "a" / "img1.png"
    _one_line_error(f"imagefolder:{file}", str(file), "is not a directory")

"""models.data: fixed seeded splits of the bundled digits set, and one-line errors."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(1)

from models.data import SPECS, DataError, load_data, shrink, subset  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    return load_data("digits", seed=0)


def test_digits_split_sizes_shapes_and_types(digits) -> None:
    assert (len(digits.train), len(digits.val), len(digits.test)) == (1077, 270, 450)
    assert digits.classes == 10 and digits.input_shape == (1, 32, 32) and digits.name == "digits"
    for ds in (digits.train, digits.val, digits.test):
        x, y = ds.tensors
        assert x.dtype == torch.float32 and x.shape[1:] == (1, 32, 32)
        assert y.dtype == torch.int64 and set(y.tolist()) == set(range(10))  # stratified
    x = digits.train.tensors[0]
    assert abs(float(x.mean())) < 1e-4 and abs(float(x.std()) - 1.0) < 1e-2


def test_splits_are_disjoint_and_cover_the_set(digits) -> None:
    rows = torch.cat([ds.tensors[0].flatten(1) for ds in (digits.train, digits.val, digits.test)])
    assert len(torch.unique(rows, dim=0)) >= 1797 - 50  # digits has a few duplicate images
    assert len(rows) == 1797


def test_same_seed_same_split_other_seed_other_split(digits) -> None:
    again = load_data("digits", seed=0)
    assert torch.equal(again.test.tensors[0], digits.test.tensors[0])
    assert torch.equal(again.train.tensors[1], digits.train.tensors[1])
    other = load_data("digits", seed=1)
    assert not torch.equal(other.test.tensors[1], digits.test.tensors[1])


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("mnist", "unknown data spec"),
        ("", "non-empty"),
        ("cifar10", "cifar10:PATH"),
        ("cifar10:/definitely/not/here", "does not exist"),
        ("imagefolder:/definitely/not/here", "does not exist"),
        ("digits:extra", "unknown data spec"),
        ("digits-wild:extra", "unknown data spec"),
        ("cifar100", "cifar100:PATH"),
        ("cifar100:/definitely/not/here", "does not exist"),
        ("digits@8", "SIZE a whole number of pixels in 16..256, got '8'"),
        ("digits@64px", "got '64px'"),
        ("digits@", "got ''"),
        ("mnist@64", "unknown data spec 'mnist'"),
    ],
)
def test_bad_specs_raise_one_line_data_errors(spec: str, words: str) -> None:
    with pytest.raises(DataError, match=words) as info:
        load_data(spec)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_path_specs_need_no_torchvision(tmp_path, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "torchvision", None)  # importing it now fails
    with pytest.raises(DataError, match="expected CIFAR-10 python batches"):
        load_data(f"cifar10:{tmp_path}")
    with pytest.raises(DataError, match="one sub-folder of images per class"):
        load_data(f"imagefolder:{tmp_path}")


def test_resized_spec_is_the_same_images_at_another_size(digits) -> None:
    big = load_data("digits@64", seed=0)
    assert big.name == "digits@64" and big.input_shape == (1, 64, 64)
    assert big.test.tensors[0].shape == (450, 1, 64, 64)
    assert torch.equal(big.test.tensors[1], digits.test.tensors[1])
    back = torch.nn.functional.avg_pool2d(big.test.tensors[0], 2)
    assert float((back - digits.test.tensors[0]).abs().mean()) < 0.1  # same pictures


def test_unknown_spec_lists_every_spec() -> None:
    with pytest.raises(DataError) as info:
        load_data("mnist")
    for spec in SPECS:
        assert spec in str(info.value)


def test_digits_sources_are_the_split_indices(digits) -> None:
    tr, va, te = digits.sources
    assert (len(tr), len(va), len(te)) == (1077, 270, 450)
    assert len(set(tr) | set(va) | set(te)) == 1797
    small = shrink(digits, 50, 20, 30)
    assert [len(s) for s in small.sources] == [50, 20, 30]
    assert set(small.sources[0]) <= set(tr)


def test_subset_is_seeded_sized_and_ordered(digits) -> None:
    a = subset(digits.train, 100, seed=3)
    b = subset(digits.train, 100, seed=3)
    c = subset(digits.train, 100, seed=4)
    assert len(a) == 100 and torch.equal(a.tensors[0], b.tensors[0])
    assert not torch.equal(a.tensors[1], c.tensors[1])
    assert subset(digits.train, 10**6) is digits.train
    with pytest.raises(DataError, match=">= 1"):
        subset(digits.train, 0)


def test_shrink_keeps_metadata(digits) -> None:
    small = shrink(digits, 50, 20, 30)
    assert (len(small.train), len(small.val), len(small.test)) == (50, 20, 30)
    assert (small.classes, small.input_shape, small.name) == (10, (1, 32, 32), "digits")

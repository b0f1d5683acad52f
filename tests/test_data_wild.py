"""models.data ``digits-wild``: split by source digit, seeded rendering, and each corruption's
effect at each severity of its published table."""

from __future__ import annotations

import io
import socket

import numpy as np
import pytest
import torch

torch.set_num_threads(1)

from models import data_wild as w  # noqa: E402
from models.data import load_data, shrink  # noqa: E402

SEVERITIES = range(1, 6)


@pytest.fixture(scope="module")
def wild():
    return load_data("digits-wild", seed=0)


@pytest.fixture(scope="module")
def crops() -> np.ndarray:
    """Real photo crops, (30, 32, 32, 3) in [0, 1]."""
    return np.stack([p[i * 20: i * 20 + 32, i * 30: i * 30 + 32]
                     for p in w.load_photos() for i in range(5)])


def _splits(data):
    return (data.train, data.val, data.test)


def _high_frequency(x: np.ndarray) -> float:
    """Mean squared difference of neighbouring pixels (both axes)."""
    return float((np.diff(x, axis=1) ** 2).mean() + (np.diff(x, axis=2) ** 2).mean())


def test_sizes_shapes_and_standardisation(wild) -> None:
    assert (len(wild.train), len(wild.val), len(wild.test)) == (3231, 540, 2250)
    assert len(wild.test) >= 2000
    assert (wild.classes, wild.input_shape, wild.name) == (10, (3, 32, 32), "digits-wild")
    for ds in _splits(wild):
        x, y = ds.tensors
        assert x.dtype == torch.float32 and x.shape[1:] == (3, 32, 32)
        assert y.dtype == torch.int64 and set(y.tolist()) == set(range(10))
    x = wild.train.tensors[0]
    assert torch.allclose(x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3)


def test_no_source_digit_is_in_two_splits(wild) -> None:
    from sklearn.datasets import load_digits

    target = load_digits().target
    sets = [set(s.tolist()) for s in wild.sources]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert sum(len(s) for s in sets) == 1797
    for ds, src, copies in zip(_splits(wild), wild.sources, w.COPIES):
        assert len(src) == len(ds) and np.all(np.bincount(src)[list(set(src))] == copies)
        assert np.array_equal(ds.tensors[1].numpy(), target[src])  # labels follow the source


def test_sources_are_the_digits_split(wild) -> None:
    digits = load_data("digits", seed=0)
    for a, b in zip(wild.sources, digits.sources):
        assert np.array_equal(np.unique(a), b)


def test_same_seed_same_tensors_other_seed_other_tensors(wild) -> None:
    again = load_data("digits-wild", seed=0)
    for a, b in zip(_splits(wild), _splits(again)):
        assert torch.equal(a.tensors[0], b.tensors[0]) and torch.equal(a.tensors[1], b.tensors[1])
    other = load_data("digits-wild", seed=1)
    assert not torch.equal(other.test.tensors[0], wild.test.tensors[0])
    assert not np.array_equal(other.sources[2], wild.sources[2])


def test_shrink_keeps_sources_aligned(wild) -> None:
    from sklearn.datasets import load_digits

    small = shrink(wild, 50, 20, 30, seed=2)
    assert [len(s) for s in small.sources] == [50, 20, 30]
    target = load_digits().target
    for ds, src in zip(_splits(small), small.sources):
        assert np.array_equal(ds.tensors[1].numpy(), target[src])


def test_render_applies_one_or_two_corruptions_at_every_severity() -> None:
    digits = np.zeros((600, 32, 32), dtype=np.float32)
    digits[:, 8:24, 12:20] = 1.0
    images, severity = w.render(digits, seed=5)
    assert images.shape == (600, 3, 32, 32) and images.dtype == np.uint8
    assert set((severity > 0).sum(axis=1).tolist()) == {1, 2}
    for column in severity.T:
        assert set(column.tolist()) == {0, 1, 2, 3, 4, 5}
    again, _ = w.render(digits, seed=5)
    assert np.array_equal(images, again)


def test_photos_load_without_network(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for source, name in w.PHOTOS:
        img = np.asarray(w._read_photo(source, name))
        assert img.ndim == 3 and img.shape[2] >= 3 and min(img.shape[:2]) >= 256


def test_blend_is_mnist_m_difference() -> None:
    digits = np.zeros((4, 32, 32), dtype=np.float32)
    digits[:, 10:20, 10:20] = 1.0
    photo = np.tile(np.array([0.2, 0.5, 0.9], dtype=np.float32), (48, 64, 1))
    out = w.blend(digits, (photo,), np.random.default_rng(0))
    assert np.allclose(out[:, 0, 0], [0.2, 0.5, 0.9])  # background: the patch itself
    assert np.allclose(out[:, 15, 15], [0.8, 0.5, 0.1])  # ink: |1 - patch|


def test_blend_crops_differ_between_images(crops) -> None:
    digits = np.zeros((8, 32, 32), dtype=np.float32)
    out = w.blend(digits, w.load_photos(), np.random.default_rng(0))
    assert len({o.tobytes() for o in out}) == 8


@pytest.mark.parametrize("severity", SEVERITIES)
def test_gaussian_noise_std_matches_table(severity: int) -> None:
    x = np.full((64, 32, 32, 3), 0.5, dtype=np.float32)
    out = w.gaussian_noise(x, severity, np.random.default_rng(0))
    c = w.GAUSSIAN_NOISE[severity - 1]
    assert abs(float((out - x).std()) / c - 1) < 0.02 and abs(float(out.mean()) - 0.5) < 1e-3


@pytest.mark.parametrize("severity", SEVERITIES)
def test_shot_noise_std_is_poisson_for_table_photons(severity: int) -> None:
    x = np.full((64, 32, 32, 3), 0.5, dtype=np.float32)
    out = w.shot_noise(x, severity, np.random.default_rng(0))
    expected = (0.5 / w.SHOT_NOISE[severity - 1]) ** 0.5
    assert abs(float((out - x).std()) / expected - 1) < 0.03 and abs(float(out.mean()) - 0.5) < 2e-3


def test_noise_grows_with_severity() -> None:
    x = np.full((16, 32, 32, 3), 0.5, dtype=np.float32)
    for fn in (w.gaussian_noise, w.shot_noise):
        stds = [float(fn(x, s, np.random.default_rng(0)).std()) for s in SEVERITIES]
        assert stds == sorted(stds) and stds[0] < stds[-1]


@pytest.mark.parametrize("severity", SEVERITIES)
def test_brightness_shifts_value_by_table_amount(severity: int) -> None:
    import skimage.color

    rng = np.random.default_rng(1)
    x = (rng.random((4, 32, 32, 3)) * 0.65).astype(np.float32)
    out = w.brightness(x, severity, rng)
    c = w.BRIGHTNESS[severity - 1]
    assert np.allclose(out.max(axis=-1), x.max(axis=-1) + c, atol=1e-5)
    hsv = skimage.color.rgb2hsv(x.reshape(-1, 32, 3))
    hsv[..., 2] = np.clip(hsv[..., 2] + c, 0, 1)
    assert np.allclose(out.reshape(-1, 32, 3), skimage.color.hsv2rgb(hsv), atol=1e-5)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_contrast_scales_deviation_by_table_factor(severity: int, crops) -> None:
    out = w.contrast(crops, severity, np.random.default_rng(0))
    c = w.CONTRAST[severity - 1]
    assert np.allclose(out.mean(axis=(1, 2)), crops.mean(axis=(1, 2)), atol=1e-5)
    assert np.allclose(out.std(axis=(1, 2)), c * crops.std(axis=(1, 2)), atol=1e-5)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_jpeg_is_pillow_at_table_quality(severity: int, crops) -> None:
    from PIL import Image

    out = w.jpeg(crops[:3], severity, np.random.default_rng(0))
    for img, got in zip(crops[:3], out):
        buf = io.BytesIO()
        u8 = np.round(img * 255).astype(np.uint8)
        Image.fromarray(u8).save(buf, format="JPEG", quality=w.JPEG_QUALITY[severity - 1])
        expected = np.asarray(Image.open(io.BytesIO(buf.getvalue())), dtype=np.float32) / 255
        assert np.array_equal(got, expected) and np.abs(got - img).mean() > 1e-3


def test_jpeg_error_grows_with_severity(crops) -> None:
    err = [float(np.abs(w.jpeg(crops, s, np.random.default_rng(0)) - crops).mean())
           for s in SEVERITIES]
    assert err == sorted(err) and err[0] < err[-1]


def test_defocus_kernels_are_normalised_disks() -> None:
    for s in SEVERITIES:
        k = w.defocus_kernel(s)
        assert abs(k.sum() - 1) < 1e-9 and np.allclose(k, k.T) and np.allclose(k, k[::-1])
    assert np.allclose(w.defocus_kernel(5), np.full((3, 3), 1 / 9), atol=1e-3)  # radius 1.5


def test_defocus_blur_removes_high_frequencies_monotonically(crops) -> None:
    noise = np.random.default_rng(3).random((8, 32, 32, 3)).astype(np.float32)
    for x in (crops, noise):
        energy = [_high_frequency(x)] + [
            _high_frequency(w.defocus_blur(x, s, np.random.default_rng(0))) for s in SEVERITIES
        ]
        assert all(a > b for a, b in zip(energy, energy[1:])), energy


def test_motion_blur_removes_high_frequencies_monotonically(crops) -> None:
    # CIFAR-10-C's severities 3 (6, 2) and 4 (8, 2) differ only by taps of weight < 1e-9.
    noise = np.random.default_rng(3).random((8, 32, 32, 3)).astype(np.float32)
    for x in (crops, noise):
        energy = [_high_frequency(x)] + [
            _high_frequency(w.motion_blur(x, s, np.random.default_rng(0))) for s in SEVERITIES
        ]
        assert all(a >= b - 1e-9 for a, b in zip(energy, energy[1:])), energy
        assert energy[0] > energy[1] > energy[3] > energy[5]
    for s in SEVERITIES:
        k = w.motion_kernel(s)
        assert abs(k.sum() - 1) < 1e-12 and np.all(np.diff(k) < 0)  # one-sided, decaying


def test_motion_blur_smears_along_a_line() -> None:
    x = np.zeros((1, 32, 32, 1), dtype=np.float32)
    x[0, 16, 16] = 1.0
    out = w.motion_blur(x, 5, np.random.default_rng(0))[0, ..., 0]
    assert abs(out.sum() - 1) < 1e-5 and out.max() < 0.5
    ys, xs = np.nonzero(out > 1e-4)
    assert len(ys) > 5 and np.ptp(xs) >= 5  # angle within +-45 degrees: mostly horizontal


def _blob(long_axis: str = "none") -> np.ndarray:
    yy, xx = np.mgrid[:32, :32] - 15.5
    sy, sx = (5.0, 2.0) if long_axis == "y" else (3.0, 3.0)
    return np.exp(-(yy**2) / (2 * sy**2) - xx**2 / (2 * sx**2))[None, :, :, None].astype(
        np.float32
    )


def _centroid(img: np.ndarray) -> np.ndarray:
    yy, xx = np.mgrid[:32, :32]
    m = img[0, ..., 0]
    return np.array([(xx * m).sum(), (yy * m).sum()]) / m.sum()


def _kind(name: str) -> np.ndarray:
    return np.array([w.AFFINE_KINDS.index(name)])


@pytest.mark.parametrize("severity", SEVERITIES)
def test_affine_translate_moves_by_table_pixels(severity: int) -> None:
    blob = _blob()
    maps = w.affine_maps(_kind("translate"), severity, np.random.default_rng(severity))
    shift = _centroid(w.warp(blob, maps)) - _centroid(blob)
    assert np.allclose(np.abs(shift), w.TRANSLATE[severity - 1], atol=0.05)
    assert np.allclose(shift, -maps[0, :, 2], atol=0.05)  # inverse map: content moves by -t


@pytest.mark.parametrize("severity", SEVERITIES)
def test_affine_scale_shrinks_mass_by_table_factor(severity: int) -> None:
    blob = _blob()
    maps = w.affine_maps(_kind("scale"), severity, np.random.default_rng(0))
    out = w.warp(blob, maps)
    assert abs(out.sum() / blob.sum() / w.SCALE[severity - 1] ** 2 - 1) < 0.02
    assert np.allclose(_centroid(out), _centroid(blob), atol=1e-3)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_affine_rotate_turns_by_table_angle(severity: int) -> None:
    blob = _blob("y")

    def orientation(img: np.ndarray) -> float:
        yy, xx = np.mgrid[:32, :32] - 15.5
        m = img[0, ..., 0]
        cov = np.cov(np.stack([xx.ravel(), yy.ravel()]), aweights=m.ravel())
        return 0.5 * np.arctan2(2 * cov[0, 1], cov[0, 0] - cov[1, 1])

    maps = w.affine_maps(_kind("rotate"), severity, np.random.default_rng(0))
    turned = orientation(w.warp(blob, maps)) - orientation(blob)
    turned = (turned + np.pi / 2) % np.pi - np.pi / 2
    assert abs(abs(turned) - w.ROTATE[severity - 1]) < 0.03


@pytest.mark.parametrize("severity", SEVERITIES)
def test_affine_shear_changes_area_by_inverse_cosine(severity: int) -> None:
    blob = _blob()
    maps = w.affine_maps(_kind("shear"), severity, np.random.default_rng(0))
    ratio = w.warp(blob, maps).sum() / blob.sum()
    assert abs(ratio * np.cos(w.SHEAR[severity - 1]) - 1) < 0.03


def test_every_corruption_rejects_severities_outside_1_to_5() -> None:
    x = np.zeros((1, 32, 32, 3), dtype=np.float32)
    for fn in w.CORRUPTIONS.values():
        for bad in (0, 6):
            with pytest.raises(ValueError, match="severity"):
                fn(x, bad, np.random.default_rng(0))

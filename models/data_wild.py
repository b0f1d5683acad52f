"""Rendering of ``digits-wild`` images: digits blended onto photo crops, then camera corruptions.

The blend follows MNIST-M (Ganin & Lempitsky, ICML 2015): ``|digit - patch|`` per channel, with
the digit a white-on-black image and the patch a random crop, at native resolution, of a
uniformly chosen photograph. The corruptions and their severity tables follow CIFAR-10-C, the
32x32 version of ImageNet-C (Hendrycks & Dietterich, ICLR 2019; tables from ``make_cifar_c.py``
in github.com/hendrycks/robustness); the geometric ones follow MNIST-C (Mu & Gilmer, 2019;
``corruptions.py`` in github.com/google-research/mnist-c), translations scaled from 28 to 32
pixels. Every corruption takes float images in [0, 1] shaped ``(n, 32, 32, channels)``, one
severity 1..5 for the whole batch, and a ``numpy.random.Generator``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from models.data_errors import DataError

__all__ = [
    "AFFINE_KINDS", "BRIGHTNESS", "CONTRAST", "COPIES", "CORRUPTIONS", "DEFOCUS_BLUR",
    "GAUSSIAN_NOISE", "JPEG_QUALITY", "MOTION_BLUR", "PHOTOS", "ROTATE", "SCALE", "SHEAR",
    "SHOT_NOISE", "SIZE", "TRANSLATE", "affine", "affine_maps", "blend", "brightness",
    "contrast", "defocus_blur", "defocus_kernel", "gaussian_noise", "jpeg", "load_photos",
    "motion_blur", "motion_kernel", "render", "shot_noise", "warp",
]

SIZE = 32
COPIES = (3, 2, 5)
"""Renders of every source digit in the train, val and test splits."""

# CIFAR-10-C tables (make_cifar_c.py), indexed by severity - 1.
GAUSSIAN_NOISE = (0.04, 0.06, 0.08, 0.09, 0.10)
"""Standard deviation of additive Gaussian noise on [0, 1] images."""
SHOT_NOISE = (500, 250, 100, 75, 50)
"""Photons per unit intensity of Poisson noise: ``Poisson(x * c) / c``."""
DEFOCUS_BLUR = ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1.0, 0.2), (1.5, 0.1))
"""Disk radius and Gaussian anti-alias sigma of the defocus kernel, in pixels."""
MOTION_BLUR = ((6, 1.0), (6, 1.5), (6, 2.0), (8, 2.0), (9, 2.5))
"""ImageMagick motion-blur radius and sigma, in pixels; angle uniform in [-45, 45] degrees."""
CONTRAST = (0.75, 0.5, 0.4, 0.3, 0.15)
"""Factor on each channel's deviation from its image mean."""
BRIGHTNESS = (0.05, 0.1, 0.15, 0.2, 0.3)
"""Shift of the HSV value channel."""
JPEG_QUALITY = (80, 65, 58, 50, 40)
"""Pillow JPEG quality."""

# MNIST-C tables (corruptions.py), indexed by severity - 1.
ROTATE = (0.2, 0.4, 0.6, 0.8, 1.0)
"""Rotation in radians, random sign."""
SHEAR = (0.2, 0.4, 0.6, 0.8, 1.0)
"""Shear angle in radians, random sign."""
SCALE = (0.9, 0.8, 0.7, 0.6, 0.5)
"""Zoom-out factor (MNIST-C warps with an inverse scale of ``1 / c``)."""
TRANSLATE = tuple(c * SIZE / 28 for c in (1, 2, 3, 4, 5))
"""Shift in pixels along each axis, random signs; MNIST-C's 28-pixel shifts scaled to 32."""
AFFINE_KINDS = ("rotate", "shear", "scale", "translate")

PHOTOS = (
    ("sklearn", "china.jpg"), ("sklearn", "flower.jpg"), ("skimage", "astronaut"),
    ("skimage", "chelsea"), ("skimage", "coffee"), ("skimage", "rocket"),
)
"""Colour photographs bundled with scikit-learn and scikit-image (no download)."""

T = TypeVar("T")
Corruption = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


def _table(values: tuple[T, ...], severity: int) -> T:
    """The entry of a severity table for ``severity`` 1..5."""
    if not 1 <= severity <= 5:
        raise ValueError(f"severity must be 1..5, got {severity}")
    return values[severity - 1]


def gaussian_noise(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Sensor read noise: additive Gaussian, clipped to [0, 1]."""
    c = _table(GAUSSIAN_NOISE, severity)
    return np.clip(x + rng.normal(scale=c, size=x.shape), 0.0, 1.0).astype(np.float32)


def shot_noise(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Photon noise: a Poisson count per pixel, so its variance grows with intensity."""
    c = _table(SHOT_NOISE, severity)
    return np.clip(rng.poisson(x * c) / c, 0.0, 1.0).astype(np.float32)


def _gaussian_kernel_3(sigma: float) -> np.ndarray:
    """OpenCV's 3-tap Gaussian (``getGaussianKernel(3, sigma)``)."""
    k = np.exp(-(np.arange(-1, 2, dtype=np.float64) ** 2) / (2.0 * sigma * sigma))
    return k / k.sum()


def defocus_kernel(severity: int) -> np.ndarray:
    """ImageNet-C's ``disk``: an aliased disk, anti-aliased by a 3x3 Gaussian, cropped."""
    from scipy.ndimage import correlate

    radius, alias = _table(DEFOCUS_BLUR, severity)
    grid = np.arange(-8, 9, dtype=np.float64)
    disk = ((grid[:, None] ** 2 + grid[None, :] ** 2) <= radius**2).astype(np.float64)
    disk /= disk.sum()
    g = _gaussian_kernel_3(alias)
    kernel = correlate(disk, g[:, None] * g[None, :], mode="mirror")
    rows = np.flatnonzero(kernel.max(axis=1) > 1e-12)
    half = int(max(8 - rows[0], rows[-1] - 8))
    return kernel[8 - half: 9 + half, 8 - half: 9 + half]


def defocus_blur(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Out-of-focus lens: the same disk kernel on every channel, mirrored borders as OpenCV."""
    from scipy.ndimage import correlate

    kernel = defocus_kernel(severity)[None, :, :, None]
    return np.clip(correlate(x, kernel, mode="mirror"), 0.0, 1.0).astype(np.float32)


def motion_kernel(severity: int) -> np.ndarray:
    """ImageMagick's one-sided motion-blur weights ``exp(-i^2 / 2 sigma^2)``, i < 2 radius + 1."""
    radius, sigma = _table(MOTION_BLUR, severity)
    taps = np.arange(2 * radius + 1, dtype=np.float64)
    k = np.exp(-(taps**2) / (2.0 * sigma * sigma))
    return k / k.sum()


def motion_blur(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Camera shake: a weighted sum of copies shifted along a random angle, edges replicated.

    Shifts are ImageMagick's ``MotionBlurImage`` offsets (as ImageNet-C calls it through Wand,
    and as the ``imagecorruptions`` package re-implements it)."""
    n, h, w = x.shape[:3]
    kernel = motion_kernel(severity)
    angle = np.deg2rad(rng.uniform(-45.0, 45.0, size=n))
    batch = np.arange(n)[:, None, None]
    out = np.zeros_like(x, dtype=np.float64)
    for i, weight in enumerate(kernel):
        dy = -np.ceil(i * np.sin(angle) - 0.5).astype(np.int64)
        dx = -np.ceil(i * np.cos(angle) - 0.5).astype(np.int64)
        rows = np.clip(np.arange(h)[None, :] - dy[:, None], 0, h - 1)
        cols = np.clip(np.arange(w)[None, :] - dx[:, None], 0, w - 1)
        out += weight * x[batch, rows[:, :, None], cols[:, None, :]]
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def contrast(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Flat lighting: every channel pulled towards its image mean."""
    c = _table(CONTRAST, severity)
    mean = x.mean(axis=(1, 2), keepdims=True)
    return np.clip((x - mean) * c + mean, 0.0, 1.0).astype(np.float32)


def brightness(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Over-exposure: HSV value raised by the table's amount, hue and saturation kept.

    With hue and saturation fixed, RGB is proportional to V, so this equals scikit-image's
    ``rgb2hsv`` / ``hsv2rgb`` round trip that ImageNet-C uses, without the colour conversion."""
    c = _table(BRIGHTNESS, severity)
    value = x.max(axis=-1, keepdims=True)
    lifted = np.clip(value + c, 0.0, 1.0)
    ratio = np.divide(lifted, value, out=np.zeros_like(value), where=value > 0)
    out = np.where(value > 0, x * ratio, lifted)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def jpeg(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Codec loss: each image saved and reloaded by Pillow as a JPEG at the table's quality."""
    from PIL import Image

    quality = _table(JPEG_QUALITY, severity)
    u8 = np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)
    out = np.empty(x.shape, dtype=np.float32)
    for i, img in enumerate(u8):
        buf = io.BytesIO()
        Image.fromarray(img.squeeze(-1) if img.shape[-1] == 1 else img).save(
            buf, format="JPEG", quality=quality
        )
        buf.seek(0)
        with Image.open(buf) as decoded:
            out[i] = np.asarray(decoded, dtype=np.float32).reshape(img.shape) / 255.0
    return out


def affine_maps(kinds: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Inverse maps ``(n, 2, 3)`` (output pixel -> input pixel, x then y, about the image
    centre) of MNIST-C's rotate / shear / scale / translate, one kind per image."""
    n = len(kinds)
    sign = rng.choice(np.array([-1.0, 1.0]), size=(n, 2))
    maps = np.zeros((n, 2, 3))
    maps[:, 0, 0] = maps[:, 1, 1] = 1.0
    for k, name in enumerate(AFFINE_KINDS):
        sel = kinds == k
        if name == "rotate":
            r = sign[sel, 0] * _table(ROTATE, severity)
            maps[sel, :, :2] = np.stack(
                [np.stack([np.cos(r), -np.sin(r)], -1), np.stack([np.sin(r), np.cos(r)], -1)], 1
            )
        elif name == "shear":  # skimage's AffineTransform(shear=s) as MNIST-C used it
            s = sign[sel, 0] * _table(SHEAR, severity)
            maps[sel, 0, 1] = -np.sin(s)
            maps[sel, 1, 1] = np.cos(s)
        elif name == "scale":
            maps[sel, 0, 0] = maps[sel, 1, 1] = 1.0 / _table(SCALE, severity)
        else:
            maps[sel, :, 2] = sign[sel] * _table(TRANSLATE, severity)
    return maps


def warp(x: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """Bilinear warp by centred inverse maps, zeros outside (skimage ``warp`` as in MNIST-C)."""
    n, h, w, ch = x.shape
    theta = maps.copy()
    theta[:, :, 2] *= 2.0 / np.array([w, h])  # pixels -> normalised coordinates
    theta_t = torch.as_tensor(theta, dtype=torch.float32)
    grid = F.affine_grid(theta_t, [n, ch, h, w], align_corners=False)
    img = torch.as_tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), dtype=torch.float32)
    out = F.grid_sample(img, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return np.clip(out.permute(0, 2, 3, 1).numpy(), 0.0, 1.0)


def affine(x: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Pose change: one of MNIST-C's four geometric corruptions per image, chosen uniformly."""
    kinds = rng.integers(0, len(AFFINE_KINDS), size=len(x))
    return warp(x, affine_maps(kinds, severity, rng))


CORRUPTIONS: dict[str, Corruption] = {
    "affine": affine,
    "defocus_blur": defocus_blur,
    "motion_blur": motion_blur,
    "contrast": contrast,
    "brightness": brightness,
    "gaussian_noise": gaussian_noise,
    "shot_noise": shot_noise,
    "jpeg": jpeg,
}
"""In camera order: pose, optics, exposure, sensor noise, codec. ``affine`` warps the digit
before it is blended (the photo stays whole); the others act on the blended image."""


def _read_photo(source: str, name: str) -> np.ndarray:
    if source == "sklearn":
        from sklearn.datasets import load_sample_image

        return load_sample_image(name)
    try:
        import skimage.data
    except ImportError:
        raise DataError(
            "data spec 'digits-wild' needs scikit-image for its photographs; "
            "install it with pip install 'scikit-image>=0.22'"
        ) from None
    return getattr(skimage.data, name)()


@lru_cache(maxsize=1)
def load_photos() -> tuple[np.ndarray, ...]:
    """The background photographs as float32 RGB in [0, 1] (read once per process)."""
    photos = []
    for source, name in PHOTOS:
        img = np.asarray(_read_photo(source, name))
        photos.append(np.ascontiguousarray(img[..., :3], dtype=np.float32) / 255.0)
    return tuple(photos)


def blend(digits: np.ndarray, photos: tuple[np.ndarray, ...], rng: np.random.Generator
          ) -> np.ndarray:
    """MNIST-M composite: ``|digit - patch|`` per channel, patch a uniform random crop of a
    uniformly chosen photo; ``digits`` is ``(n, 32, 32)`` white-on-black in [0, 1]."""
    n, size = len(digits), digits.shape[-1]
    which = rng.integers(0, len(photos), size=n)
    u = rng.random((n, 2))
    patches = np.empty((n, size, size, 3), dtype=np.float32)
    ar = np.arange(size)
    for j, photo in enumerate(photos):
        sel = np.flatnonzero(which == j)
        top = np.floor(u[sel, 0] * (photo.shape[0] - size + 1)).astype(np.int64)
        left = np.floor(u[sel, 1] * (photo.shape[1] - size + 1)).astype(np.int64)
        patches[sel] = photo[top[:, None, None] + ar[None, :, None],
                             left[:, None, None] + ar[None, None, :]]
    return np.abs(digits[..., None] - patches)


def _choose(n: int, rng: np.random.Generator) -> np.ndarray:
    """Severities ``(n, len(CORRUPTIONS))``, 0 where not applied: every image gets one or two
    distinct corruptions (uniformly), each at a severity uniform in 1..5."""
    count = rng.integers(1, 3, size=n)
    rank = rng.random((n, len(CORRUPTIONS))).argsort(axis=1).argsort(axis=1)
    severity = rng.integers(1, 6, size=(n, len(CORRUPTIONS)))
    return np.where(rank < count[:, None], severity, 0).astype(np.int8)


def _apply(x: np.ndarray, fn: Corruption, severity: np.ndarray, rng: np.random.Generator
           ) -> np.ndarray:
    """``fn`` on the images whose severity is non-zero, one batch per severity."""
    for s in range(1, 6):
        sel = np.flatnonzero(severity == s)
        if len(sel):
            x[sel] = fn(x[sel], s, rng)
    return x


def render(digits: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 ``(n, 3, 32, 32)`` images of ``digits`` (``(n, 32, 32)`` in [0, 1]) and the
    ``(n, len(CORRUPTIONS))`` severities applied; a pure function of its arguments."""
    names = list(CORRUPTIONS)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(
        2 + len(names))]
    choose_rng, blend_rng, corrupt_rngs = streams[0], streams[1], streams[2:]
    severity = _choose(len(digits), choose_rng)
    shapes = _apply(digits[..., None].astype(np.float32), CORRUPTIONS["affine"],
                    severity[:, 0], corrupt_rngs[0])
    x = blend(shapes[..., 0], load_photos(), blend_rng)
    for k in range(1, len(names)):
        x = _apply(x, CORRUPTIONS[names[k]], severity[:, k], corrupt_rngs[k])
    u8 = np.round(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)
    return np.ascontiguousarray(u8.transpose(0, 3, 1, 2)), severity

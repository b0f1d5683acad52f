"""How many bytes a camera sends for one frame: JPEG sizes of real photographs at a network's
input resolution.

Cloud-only execution (and SPINN's whole-input offload) uploads the camera frame, which a phone
encodes as a JPEG, not as the raw int8 tensor of the profile (``3 * size * size`` bytes). This
module measures that size on the colour photographs bundled with scikit-image and
scikit-learn (no download), so a scenario's ``apps[].upload_bytes`` can be a measured figure.

Choices, applied to every photograph:

1. the RGB image as shipped (8 bits per channel, alpha dropped);
2. the largest centred square (the longer side is cropped equally on both sides; an odd
   remainder leaves the extra column or row on the right or bottom);
3. resized to ``size x size`` with Pillow's bicubic filter (Pillow widens the filter when it
   shrinks, so the downscale is antialiased);
4. encoded by Pillow as a baseline JPEG at ``quality`` (default 90) with 4:2:0 chroma
   subsampling, standard Huffman tables (no ``optimize``), no EXIF or ICC profile: a
   JPEG file as a camera pipeline writes it, headers included.

The sizes depend only on the pixels and the libjpeg build Pillow links (the JSON output names
both versions), so repeated runs print the same numbers.

    python -m models.jpeg_upload --size 224 [--quality 90] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
from typing import Any

import numpy as np

__all__ = ["PHOTOS", "camera_frame", "jpeg_bytes", "main", "measure", "read_photo"]

PHOTOS: tuple[tuple[str, str], ...] = (
    ("skimage", "astronaut"),   # NASA, public domain
    ("skimage", "chelsea"),     # CC0, Stefan van der Walt
    ("skimage", "coffee"),      # CC0, Rachel Michetti
    ("skimage", "rocket"),      # SpaceX, public domain
    ("skimage", "motorcycle"),  # left view of stereo_motorcycle, Middlebury 2014 stereo
    ("sklearn", "china.jpg"),   # CC BY 2.0, Flickr user danielbuechele
    ("sklearn", "flower.jpg"),  # CC BY 2.0, Flickr user vultilion
)
"""The colour camera photographs shipped with scikit-image and scikit-learn (licences as their
docstrings and README state). Left out: ``cat`` (the same picture as ``chelsea``), microscopy,
astronomy and retina images, synthetic images and grey-scale ones."""


def read_photo(source: str, name: str) -> np.ndarray:
    """One bundled photograph as ``(H, W, 3)`` uint8 RGB."""
    if source == "sklearn":
        from sklearn.datasets import load_sample_image

        img = load_sample_image(name)
    elif source == "skimage":
        import skimage.data

        img = (skimage.data.stereo_motorcycle()[0] if name == "motorcycle"
               else getattr(skimage.data, name)())
    else:
        raise ValueError(f"unknown photo source {source!r} (sklearn or skimage)")
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] < 3:
        raise ValueError(f"{source}:{name} is not an 8-bit colour image: "
                         f"{img.dtype} {img.shape}")
    return np.ascontiguousarray(img[..., :3])


def camera_frame(img: np.ndarray, size: int) -> Any:
    """The largest centred square of ``img``, resized to ``size x size`` (bicubic), as a
    Pillow RGB image."""
    from PIL import Image

    if size < 1:
        raise ValueError(f"size must be at least 1 pixel, got {size}")
    h, w = img.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(img[top:top + side, left:left + side], mode="RGB")
    return square.resize((size, size), Image.Resampling.BICUBIC)


def jpeg_bytes(frame: Any, quality: int = 90) -> int:
    """Bytes of ``frame`` encoded as a baseline 4:2:0 JPEG at ``quality`` (whole file)."""
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1..100, got {quality}")
    buf = io.BytesIO()
    frame.save(buf, format="JPEG", quality=quality, subsampling=2, optimize=False,
               progressive=False)
    return buf.tell()


def measure(size: int = 224, quality: int = 90) -> dict[str, Any]:
    """Per-photograph JPEG sizes at ``size`` px and ``quality``, their median, and the raw
    int8 size of one such input for comparison."""
    import PIL
    from PIL import features

    sizes = {f"{src}:{name}": jpeg_bytes(camera_frame(read_photo(src, name), size), quality)
             for src, name in PHOTOS}
    median = statistics.median(sizes.values())
    raw = 3 * size * size
    return {
        "size_px": size,
        "quality": quality,
        "subsampling": "4:2:0",
        "crop": "centred square, bicubic resize",
        "bytes": sizes,
        "median_bytes": median,
        "raw_int8_bytes": raw,
        "raw_over_median": raw / median,
        "pillow": PIL.__version__,
        "libjpeg": features.version("jpg"),
        "libjpeg_turbo": features.version_feature("libjpeg_turbo"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.jpeg_upload", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=224, help="square input side in pixels")
    ap.add_argument("--quality", type=int, default=90, help="JPEG quality 1..100")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    try:
        out = measure(args.size, args.quality)
    except (ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    turbo = f", libjpeg-turbo {out['libjpeg_turbo']}" if out["libjpeg_turbo"] else ""
    print(f"JPEG of a {args.size}x{args.size} centred crop, quality {args.quality}, 4:2:0 "
          f"(Pillow {out['pillow']}, libjpeg {out['libjpeg']}{turbo})")
    for name, n in out["bytes"].items():
        print(f"  {name:22s} {n:8d} bytes")
    print(f"  {'median':22s} {out['median_bytes']:8g} bytes "
          f"(raw int8 input {out['raw_int8_bytes']} bytes, {out['raw_over_median']:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

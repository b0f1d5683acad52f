"""JPEG size of a camera frame: plausible, far below the raw input, and the same every run."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("PIL")
pytest.importorskip("skimage")
pytest.importorskip("sklearn")

from models.jpeg_upload import PHOTOS, camera_frame, jpeg_bytes, main, measure  # noqa: E402


def test_224px_median_is_a_plausible_camera_jpeg() -> None:
    out = measure(224, 90)
    assert len(out["bytes"]) == len(PHOTOS)
    # a 224x224 quality-90 photo: about 0.1-0.5 bytes per pixel, 5-25 KB
    assert 5_000 <= out["median_bytes"] <= 25_000
    assert all(2_000 <= n <= 40_000 for n in out["bytes"].values())
    assert out["raw_int8_bytes"] == 150_528
    assert out["raw_over_median"] > 4


def test_sizes_grow_with_resolution_and_quality() -> None:
    small, low, high = measure(32, 90), measure(224, 50), measure(224, 90)
    assert 300 <= small["median_bytes"] <= 3_072  # never above the 32x32x3 raw frame here
    for name in high["bytes"]:
        assert small["bytes"][name] < high["bytes"][name]
        assert low["bytes"][name] < high["bytes"][name]


def test_output_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--size", "64", "--json"]) == 0
    first = capsys.readouterr().out
    assert main(["--size", "64", "--json"]) == 0
    assert capsys.readouterr().out == first
    assert json.loads(first)["size_px"] == 64


def test_centre_crop_keeps_the_middle() -> None:
    img = np.zeros((10, 16, 3), dtype=np.uint8)
    img[:, 3:13] = 255  # the centred 10x10 square is all white
    frame = np.asarray(camera_frame(img, 10))
    assert frame.shape == (10, 10, 3) and frame.min() == 255
    assert jpeg_bytes(camera_frame(img, 10)) > 0


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="quality"):
        jpeg_bytes(camera_frame(np.zeros((4, 4, 3), dtype=np.uint8), 4), quality=0)
    assert main(["--size", "0"]) == 2
    assert "size" in capsys.readouterr().err

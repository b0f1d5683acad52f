"""CNN-CO codec: quantisation error bound, exact bit-shuffle, compression of sparse activations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from models.codec import (
    CodecError,
    bitshuffle,
    bitunshuffle,
    compressed_bytes,
    decode,
    encode,
    fp32_bytes,
    header_bytes,
    int8_bytes,
)

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def _bound(x: np.ndarray) -> float:
    x64 = x.astype(np.float64)
    span = float(x64.max() - x64.min()) if x.size else 0.0
    # half a quantisation step, plus float32 rounding of the decoded value
    return span / 255 / 2 + 1e-6 * max(1.0, float(np.abs(x64).max()) if x.size else 0.0)


finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False, width=32)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=4, max_side=9), elements=finite))
def test_round_trip_error_is_half_a_step(x: np.ndarray) -> None:
    y = decode(encode(x))
    assert y.shape == x.shape and y.dtype == np.float32
    if x.size:
        assert np.abs(y.astype(np.float64) - x).max() <= _bound(x)


@pytest.mark.parametrize("shuffle", [True, False])
def test_shuffle_flag_round_trips_and_changes_the_stream(shuffle: bool) -> None:
    g = torch.Generator().manual_seed(3)
    act = torch.relu(torch.randn(8, 12, 12, generator=g))
    blob = encode(act, shuffle=shuffle)
    assert np.array_equal(decode(blob), decode(encode(act)))  # same quantised values
    assert len(blob) == compressed_bytes(act, shuffle=shuffle)
    assert (blob == encode(act)) == shuffle


def test_constant_tensor_is_exact() -> None:
    x = np.full((3, 8, 8), -2.5, dtype=np.float32)
    y = decode(encode(x))
    assert np.array_equal(y, x)


@pytest.mark.parametrize("shape", [(0,), (2, 0, 3), (1,), (1, 1, 1)])
def test_empty_and_single_element(shape: tuple[int, ...]) -> None:
    x = np.full(shape, 3.25, dtype=np.float32)
    y = decode(encode(x))
    assert y.shape == shape and np.array_equal(y, x)


def test_torch_tensor_input_and_helpers() -> None:
    t = torch.randn(2, 16, 8, 8, generator=torch.Generator().manual_seed(0))
    y = decode(encode(t))
    assert y.shape == (2, 16, 8, 8)
    assert np.abs(y - t.numpy()).max() <= _bound(t.numpy())
    assert fp32_bytes(t) == 4 * t.numel()
    assert int8_bytes(t) == t.numel() + header_bytes(4)
    assert compressed_bytes(t) == len(encode(t)) <= int8_bytes(t)
    bf = decode(encode(t.to(torch.bfloat16)))
    assert np.abs(bf - t.to(torch.bfloat16).float().numpy()).max() <= _bound(t.numpy())


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=3000), block=st.sampled_from([8, 64, 1024, 8192]))
def test_bitshuffle_is_an_exact_permutation(data: bytes, block: int) -> None:
    shuffled = bitshuffle(data, block)
    assert shuffled.size == len(data)
    # a permutation of bits: the number of set bits is unchanged, and it inverts exactly
    src = np.frombuffer(data, dtype=np.uint8)
    assert int(np.unpackbits(shuffled).sum()) == int(np.unpackbits(src).sum())
    assert bitunshuffle(shuffled, block).tobytes() == data


def test_bitshuffle_groups_bit_planes() -> None:
    # byte 0 has only its least significant bit set, byte 7 only its most significant bit
    data = bytes([1, 0, 0, 0, 0, 0, 0, 128])
    out = bitshuffle(data, 8)
    # output byte k is bit plane k (plane 0 = MSBs), bit j of it (MSB first) comes from byte j
    assert out[0] == 0b0000_0001 and out[7] == 0b1000_0000 and out[1:7].sum() == 0


def test_relu_sparse_tensor_compresses_below_int8() -> None:
    g = torch.Generator().manual_seed(1)
    act = torch.relu(torch.randn(1, 32, 16, 16, generator=g) - 1.0)  # ~84 % zeros
    assert compressed_bytes(act) < int8_bytes(act) < fp32_bytes(act)
    assert compressed_bytes(act) < 0.75 * int8_bytes(act)


def test_incompressible_tensor_never_grows_past_int8() -> None:
    x = np.random.default_rng(2).uniform(0, 1, size=4096).astype(np.float32)
    assert compressed_bytes(x) <= int8_bytes(x)
    assert np.abs(decode(encode(x)) - x).max() <= _bound(x)


def test_bad_inputs_raise_codec_errors() -> None:
    with pytest.raises(CodecError, match="NaN"):
        encode(np.array([1.0, np.nan], dtype=np.float32))
    with pytest.raises(CodecError, match="dtype"):
        encode(np.array([1 + 2j]))
    with pytest.raises(CodecError, match="not a CNN-CO"):
        decode(b"XXXX" + bytes(20))
    with pytest.raises(CodecError, match="too short"):
        decode(b"CN")
    good = encode(np.ones((4, 4), dtype=np.float32) * np.arange(4, dtype=np.float32))
    with pytest.raises(CodecError):
        decode(good[:-3])
    with pytest.raises(CodecError, match="multiple of 8"):
        bitshuffle(b"abc", 12)

"""CNN-CO: SPINN's communication optimiser for split activations (ALGORITHMS 2.6).

A tensor crossing the device/server link is sent as

1. 8-bit linear quantisation per tensor, ``q = round(255 * (x - lo) / (hi - lo))``, with ``lo``
   and ``hi`` (plus dtype and shape) in a small header;
2. a bit-shuffle of the uint8 stream: within each block of bytes, the k-th bit of every byte is
   gathered into one contiguous bit plane. Post-ReLU activations are mostly zero or small, so
   the high bit planes are long runs of zero bits, which LZ4 finds even when neighbouring
   *bytes* differ;
3. LZ4 block compression. If LZ4 would not shrink the stream, the shuffled bytes are stored
   as they are, so an encoded tensor is never larger than its plain int8 form.

``shuffle=False`` skips step 2 (a header flag tells the decoder), to measure what the shuffle
buys: on uint8 streams with long runs of zero *bytes* (sparse maps, image background) plain
LZ4 can beat bitshuffle + LZ4, which is SPINN's choice and the default here.

Contract: ``decode(encode(x))`` has ``x``'s shape, dtype float32, and
``|decode(encode(x)) - x| <= (hi - lo) / 255 / 2`` up to float32 rounding.
"""

from __future__ import annotations

import struct
from typing import Any

import lz4.block
import numpy as np

__all__ = [
    "BLOCK_BYTES",
    "CodecError",
    "bitshuffle",
    "bitunshuffle",
    "compressed_bytes",
    "decode",
    "encode",
    "fp32_bytes",
    "header_bytes",
    "int8_bytes",
]

BLOCK_BYTES = 8192
"""Bytes per bit-shuffle block (a multiple of 8); blocks keep the bit planes cache-sized."""

_MAGIC = b"CNCO"
_VERSION = 1
_FLAG_LZ4 = 1
_FLAG_SHUFFLED = 2
# header: magic, version, flags, dtype code, ndim | shape (uint32 each) | lo, hi (float64)
_HEAD = struct.Struct("<4sBBBB")
_RANGE = struct.Struct("<dd")
_DTYPES = ("float32", "float16", "float64", "bfloat16", "int8", "uint8", "int32", "int64")


class CodecError(ValueError):
    """Bytes that are not a CNN-CO stream, or a tensor the codec cannot carry."""


def _as_array(t: Any) -> tuple[np.ndarray, str]:
    """A numpy view of a numpy array or torch tensor (duck-typed), and its dtype name."""
    if hasattr(t, "detach"):  # torch.Tensor: bfloat16 has no numpy twin, so widen it
        name = str(t.dtype).removeprefix("torch.")
        t = t.detach().cpu()
        if name == "bfloat16":
            t = t.float()
        arr = t.numpy()
    else:
        arr = np.asarray(t)
        name = arr.dtype.name
    if name not in _DTYPES:
        raise CodecError(f"tensor dtype {name!r} is not supported; expected one of {_DTYPES}")
    return arr, name


def header_bytes(ndim: int) -> int:
    """Size of the header for a tensor of ``ndim`` dimensions."""
    return _HEAD.size + 4 * ndim + _RANGE.size


def fp32_bytes(t: Any) -> int:
    """Bytes of the raw float32 payload (no header): 4 per element."""
    return 4 * int(_as_array(t)[0].size)


def int8_bytes(t: Any) -> int:
    """Bytes after 8-bit quantisation alone: one per element plus the header."""
    arr, _ = _as_array(t)
    return int(arr.size) + header_bytes(arr.ndim)


def compressed_bytes(t: Any, *, shuffle: bool = True) -> int:
    """Bytes after quantisation + bit-shuffle + LZ4, i.e. ``len(encode(t, shuffle=shuffle))``."""
    return len(encode(t, shuffle=shuffle))


def bitshuffle(data: bytes | np.ndarray, block: int = BLOCK_BYTES) -> np.ndarray:
    """Transpose the bit matrix of each ``block``-byte block (bytes x 8 bits -> 8 planes).

    The tail that does not fill a block is shuffled in the largest multiple of 8 it holds; the
    last ``len % 8`` bytes are copied as they are. The result has the input's length and is an
    exact permutation of its bits; :func:`bitunshuffle` inverts it.
    """
    if block <= 0 or block % 8:
        raise CodecError(f"bitshuffle block must be a positive multiple of 8, got {block}")
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    buf = np.ascontiguousarray(buf, dtype=np.uint8).ravel()
    out = np.empty_like(buf)
    for start, stop, size in _segments(buf.size, block):
        seg = buf[start:stop].reshape(-1, size)  # (blocks, bytes)
        bits = np.unpackbits(seg[:, :, None], axis=2)  # (blocks, bytes, 8)
        planes = np.packbits(bits.transpose(0, 2, 1), axis=2)  # (blocks, 8, bytes/8)
        out[start:stop] = planes.ravel()
    tail = buf.size - buf.size % 8
    out[tail:] = buf[tail:]
    return out


def bitunshuffle(data: bytes | np.ndarray, block: int = BLOCK_BYTES) -> np.ndarray:
    """Inverse of :func:`bitshuffle` with the same ``block``."""
    if block <= 0 or block % 8:
        raise CodecError(f"bitshuffle block must be a positive multiple of 8, got {block}")
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    buf = np.ascontiguousarray(buf, dtype=np.uint8).ravel()
    out = np.empty_like(buf)
    for start, stop, size in _segments(buf.size, block):
        planes = buf[start:stop].reshape(-1, 8, size // 8)
        bits = np.unpackbits(planes, axis=2)  # (blocks, 8, bytes)
        seg = np.packbits(bits.transpose(0, 2, 1), axis=2)  # (blocks, bytes, 1)
        out[start:stop] = seg.ravel()
    tail = buf.size - buf.size % 8
    out[tail:] = buf[tail:]
    return out


def _segments(n: int, block: int) -> list[tuple[int, int, int]]:
    """(start, stop, block size) runs: whole blocks, then the tail rounded down to 8 bytes."""
    full = n // block * block
    segs = [(0, full, block)] if full else []
    rest = (n - full) // 8 * 8
    if rest:
        segs.append((full, full + rest, rest))
    return segs


def encode(t: Any, *, shuffle: bool = True) -> bytes:
    """Quantise, bit-shuffle (unless ``shuffle=False``) and LZ4-compress one tensor (numpy
    array or torch tensor)."""
    arr, name = _as_array(t)
    x = arr.astype(np.float64, copy=False)
    if x.size and not np.isfinite(x).all():
        raise CodecError("tensor holds NaN or infinite values; the codec needs finite values")
    if any(d > 0xFFFFFFFF for d in x.shape) or x.ndim > 255:
        raise CodecError(f"tensor shape {x.shape} is too large for the header")
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    if hi > lo:
        q = np.rint((x - lo) * (255.0 / (hi - lo)))
        q = np.clip(q, 0, 255).astype(np.uint8)
    else:  # constant (or empty) tensor: every value is lo
        q = np.zeros(x.shape, dtype=np.uint8)
    stream = (bitshuffle(q.ravel()) if shuffle else q.ravel()).tobytes()
    packed = lz4.block.compress(stream, store_size=False) if stream else b""
    lz = len(packed) < len(stream)
    flags = (_FLAG_LZ4 if lz else 0) | (_FLAG_SHUFFLED if shuffle else 0)
    head = _HEAD.pack(_MAGIC, _VERSION, flags, _DTYPES.index(name), x.ndim)
    shape = struct.pack(f"<{x.ndim}I", *x.shape)
    return head + shape + _RANGE.pack(lo, hi) + (packed if lz else stream)


def decode(b: bytes) -> np.ndarray:
    """Inverse of :func:`encode`: a float32 array of the original shape."""
    if len(b) < _HEAD.size:
        raise CodecError(f"CNN-CO stream too short ({len(b)} bytes) for its header")
    magic, version, flags, _dtype, ndim = _HEAD.unpack_from(b, 0)
    if magic != _MAGIC or version != _VERSION:
        raise CodecError(f"not a CNN-CO v{_VERSION} stream (magic {magic!r}, version {version})")
    if len(b) < header_bytes(ndim):
        raise CodecError(f"CNN-CO stream truncated in its header ({len(b)} bytes)")
    shape = struct.unpack_from(f"<{ndim}I", b, _HEAD.size)
    lo, hi = _RANGE.unpack_from(b, _HEAD.size + 4 * ndim)
    body = b[header_bytes(ndim):]
    n = int(np.prod(shape, dtype=np.int64))
    try:
        raw = lz4.block.decompress(body, uncompressed_size=n) if flags & _FLAG_LZ4 else body
    except lz4.block.LZ4BlockError as exc:
        raise CodecError(f"CNN-CO payload is corrupt: {exc}") from None
    if len(raw) != n:
        raise CodecError(f"CNN-CO payload holds {len(raw)} values, header says {n}")
    flat = bitunshuffle(raw) if flags & _FLAG_SHUFFLED else np.frombuffer(raw, dtype=np.uint8)
    q = flat.reshape(shape)
    x = lo + q.astype(np.float64) * ((hi - lo) / 255.0)
    return x.astype(np.float32)

"""Compact text forms of the per-sample arrays of a profile (outcomes, transfer sizes).

A profile with thousands of eval samples would otherwise hold tens of thousands of numbers,
one per JSON line. In files they are base64 strings with a prefix naming the layout:

- ``bits:<base64>`` a string of '0'/'1' packed 8 per byte (numpy ``packbits``, big-endian
  bit order), the length given by the profile's ``samples``;
- ``u16:<base64>`` / ``u32:<base64>`` little-endian unsigned integer arrays.

Readers accept the plain forms too (a '0'/'1' string, a list of ints), so files written in
the older layout still load; in memory the plain forms are used.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np

__all__ = ["pack_bits", "pack_ints", "unpack_bits", "unpack_ints"]

_INT_KINDS = {"u16": "<u2", "u32": "<u4"}


def pack_bits(bits: str) -> str:
    """'0'/'1' string -> ``bits:<base64>``."""
    arr = np.frombuffer(bits.encode(), np.uint8) == 49
    return "bits:" + base64.b64encode(np.packbits(arr).tobytes()).decode()


def unpack_bits(value: Any, length: int | None = None) -> Any:
    """``bits:...`` -> '0'/'1' string (``length`` characters; trailing pad bits dropped)."""
    if not (isinstance(value, str) and value.startswith("bits:")):
        return value
    raw = _b64(value[5:])
    bits = np.unpackbits(np.frombuffer(raw, np.uint8))
    if length is not None:
        if len(bits) < length or len(bits) - length >= 8:
            raise ValueError(f"packed bits hold {len(bits)} bits, expected {length}")
        bits = bits[:length]
    return (bits + 48).astype(np.uint8).tobytes().decode()


def pack_ints(values: Any) -> str:
    """Non-negative ints -> ``u16:`` or ``u32:`` base64, whichever holds them."""
    arr = np.asarray(values, dtype=np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= 2**32):
        raise ValueError("only ints in [0, 2**32) can be packed")
    kind = "u16" if not arr.size or arr.max() < 2**16 else "u32"
    return f"{kind}:" + base64.b64encode(arr.astype(_INT_KINDS[kind]).tobytes()).decode()


def unpack_ints(value: Any) -> Any:
    """``u16:...`` / ``u32:...`` -> tuple of ints; anything else passes through."""
    if not isinstance(value, str):
        return value
    kind, sep, body = value.partition(":")
    if not sep or kind not in _INT_KINDS:
        raise ValueError(f"expected a list of ints or 'u16:'/'u32:' base64, got {value[:20]!r}")
    return tuple(np.frombuffer(_b64(body), _INT_KINDS[kind]).tolist())


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None

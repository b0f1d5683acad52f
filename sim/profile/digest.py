"""A digest of a profile's content, so that what is derived from a profile (routes, SPINN's
configuration tables) is shared by equal profiles: the same family run by many apps, or
loaded again by another run of the same process. ``id()`` would rebuild it for every load.

The per-sample integers (confidences, bytes per split) are hashed packed in the narrowest
unsigned type that holds them rather than through JSON, whose base64 packing costs more
than the rest of a scheduler's first decision; the packed arrays are kept for the
profile's life (:func:`per_sample_ints`), for whoever computes with them next."""

from __future__ import annotations

import hashlib
import struct
import weakref
from typing import Any

import numpy as np

from sim.profile.model import Profile
from sim.profile.shared_cache import on_clear

__all__ = ["content_key", "exact", "per_sample_ints", "server_key"]

_PER_SAMPLE: Any = {
    "extra": True,  # no code reads it
    "outcomes": {"correct": True, "confidence": True},
    "progressive": {"splits": {"__all__": {"bytes": {"int8_lz4_per_sample": True}}}},
}
"""Left out of the JSON part of the digest and hashed from :func:`per_sample_ints` instead."""
_SERVER_PART: Any = {
    "extra": True,
    "outcomes": True,
    "progressive": {"splits": {"__all__": {"bytes": {"int8_lz4_per_sample": True}}}},
}
"""What a server profile's part in a route leaves out: its outcomes and bytes (the device's
samples decide exits, correctness and what is sent; the server adds only times)."""

Ints = dict[tuple[str, str], "np.ndarray | tuple[int, ...]"]
"""(field, name) -> the values as a read-only array, or as given when they are not all
integers in 0..2**64 (a profile built in code)."""

_MAX_MEMO = 1024
_KEYS: dict[tuple[int, bool], tuple[weakref.ref[Profile], str]] = {}
_INTS: dict[int, tuple[weakref.ref[Profile], Ints]] = {}
on_clear(_KEYS.clear)
on_clear(_INTS.clear)


def content_key(profile: Profile) -> str | None:
    """A hex digest of everything in the profile but ``extra``: equal for equal content,
    computed once per Profile object. None when the profile cannot be serialised (a profile
    built in code with odd values): callers then cache nothing for it."""
    return _key(profile, False)


def server_key(profile: Profile) -> str | None:
    """A hex digest of a server profile's part in routes and estimates: all but its outcomes
    and the bytes its splits send (:data:`_SERVER_PART`); cheaper than :func:`content_key`."""
    return _key(profile, True)


def exact(x: object) -> tuple[str, str]:
    """A cache key part that tells 1 from 1.0 and True, and 0.0 from -0.0 (what is built from
    them may carry them on, into plans and timelines)."""
    return type(x).__name__, repr(x)


def per_sample_ints(profile: Profile) -> Ints:
    """The profile's per-sample integers: ("confidence", exit name) and ("bytes", position
    of the split in ``progressive.splits``) for the splits that list them; once per Profile
    object."""
    hit = _INTS.get(id(profile))
    if hit is not None and hit[0]() is profile:
        return hit[1]
    ints: Ints = {}
    out = profile.outcomes
    for name, conf in (out.confidence.items() if out is not None else ()):
        ints[("confidence", name)] = _packed(conf)
    prog = profile.progressive
    for i, s in enumerate(prog.splits if prog is not None else ()):
        if s.bytes.int8_lz4_per_sample is not None:
            ints[("bytes", str(i))] = _packed(s.bytes.int8_lz4_per_sample)
    _remember(_INTS, id(profile), (weakref.ref(profile), ints))
    return ints


def _remember(memo: dict[Any, Any], key: object, value: tuple[weakref.ref[Profile], Any]) -> None:
    if len(memo) >= _MAX_MEMO:
        for k in [k for k, (ref, _) in memo.items() if ref() is None]:
            del memo[k]
        if len(memo) >= _MAX_MEMO:
            memo.clear()
    memo[key] = value


def _key(profile: Profile, server: bool) -> str | None:
    hit = _KEYS.get((id(profile), server))
    if hit is not None and hit[0]() is profile:
        return hit[1]
    try:
        key = _server_digest(profile) if server else _digest(profile)
    except Exception:  # noqa: BLE001 - whatever fails to serialise is simply not cached
        return None
    _remember(_KEYS, (id(profile), server), (weakref.ref(profile), key))
    return key


def _server_digest(profile: Profile) -> str:
    return hashlib.sha256(profile.model_dump_json(exclude=_SERVER_PART).encode()).hexdigest()


def _digest(profile: Profile) -> str:
    h = hashlib.sha256(profile.model_dump_json(exclude=_PER_SAMPLE).encode())
    out = profile.outcomes
    for name, bits in sorted(out.correct.items()) if out is not None else ():
        _part(h, "correct", name, "bits", bits.encode())
    ints = per_sample_ints(profile)
    for (field, name), arr in sorted(ints.items(), key=lambda kv: kv[0]):
        if isinstance(arr, np.ndarray):
            _part(h, field, name, arr.dtype.str, arr.data)
        else:
            _part(h, field, name, "repr", repr(arr).encode())
    return h.hexdigest()


def _part(h: Any, field: str, name: str, kind: str, data: bytes | memoryview) -> None:
    h.update(f"\n{field}:{len(name)}:{name}:{kind}:{len(data)}\n".encode())
    h.update(data)


def _packed(values: tuple[int, ...]) -> np.ndarray | tuple[int, ...]:
    """``values`` as a read-only array of the narrowest of uint16, uint32 and uint64 that
    holds them (struct packs ints several times faster than numpy converts a tuple)."""
    for code, dtype in (("H", "<u2"), ("I", "<u4"), ("Q", "<u8")):
        try:
            packed = struct.pack(f"<{len(values)}{code}", *values)
        except struct.error:  # too large, negative or not integers: try the next
            continue
        arr = np.frombuffer(packed, dtype=dtype)
        arr.setflags(write=False)
        return arr
    return values

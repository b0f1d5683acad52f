"""A profile for a faster (or slower) machine, derived from a measured one by one stated
factor: what a study needs when it has measured the device but cannot measure the server.

Every compute time is multiplied by ``1 / speedup``: variant latencies (median and
quantiles), split and exit times, exit heads, codec times. What is not compute stays as
measured: weight load times (storage), sizes, bytes sent, accuracies and outcomes,
co-run and after-idle slowdowns (ratios). The result says so in a ``derived`` provenance
that keeps the base profile's own provenance, the factor and the date. Lookup tables and
search pools hold predictions tied to the measuring device and are refused, not scaled.
"""

from __future__ import annotations

import datetime
from typing import Any

from sim.profile.base import ProfileError
from sim.profile.model import Profile
from sim.profile.variants import Derived, DeviceInfo

__all__ = ["COMPUTE_MS", "SPEEDUP_RANGE", "derive_speedup"]

COMPUTE_MS = frozenset({"latency_ms", "device_ms", "server_ms", "head_ms", "encode_ms",
                        "decode_ms", "codec_encode_ms", "codec_decode_ms"})
"""Fields that hold compute time (scaled); every other field is copied as it is."""

SPEEDUP_RANGE = (1e-3, 1e4)
"""the factors accepted: a derived machine 1000x slower to 10,000x faster"""


def _scaled(node: Any, factor: float, scale: bool = False) -> Any:
    """``node`` with every number under a :data:`COMPUTE_MS` key multiplied by ``factor``."""
    if isinstance(node, dict):
        return {k: _scaled(v, factor, scale or k in COMPUTE_MS) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_scaled(v, factor, scale) for v in node]
    if scale and isinstance(node, int | float) and not isinstance(node, bool):
        return node * factor
    return node


def derive_speedup(profile: Profile, speedup: float, device: str, *, source: str,
                   command: str | None = None, date: str | None = None) -> Profile:
    """``profile`` as it would run on ``device``, ``speedup`` times faster at every compute
    step (see the module docstring); ProfileError for a profile that cannot be derived."""
    lo, hi = SPEEDUP_RANGE
    if not lo <= speedup <= hi:
        raise ProfileError(f"speedup must be in [{lo:g}, {hi:g}], got {speedup}")
    if profile.provenance.type == "derived":
        raise ProfileError(f"{source}: is itself derived ({profile.provenance.method}); derive "
                           "from the measured or published profile instead")
    if profile.lookup_table is not None or profile.pool is not None:
        raise ProfileError(f"{source}: has a lookup table or a search pool, whose latency "
                           "predictions belong to the device that measured them; only "
                           "profiles without them can be derived")
    if any("predicted_ms" in (v.arch or {}) for v in profile.variants):
        raise ProfileError(f"{source}: variants carry arch.predicted_ms, a prediction for "
                           "the measuring device; it cannot be derived")
    data = profile.model_dump(mode="json", exclude_none=True)
    out = {k: (v if k in ("outcomes", "extra", "interference", "task") else
               _scaled(v, 1.0 / speedup)) for k, v in data.items()}
    base = profile.device
    out["device"] = DeviceInfo(
        name=device, processor=None, framework=base.framework,
        framework_version=base.framework_version, dtype=base.dtype,
        batch_size=base.batch_size).model_dump(mode="json")
    when = date or datetime.date.today().isoformat()
    out["provenance"] = Derived(
        derived_from=f"{profile.family} on {base.name} ({source})", base=profile.provenance,
        method=(f"every compute time of the {base.name} profile divided by {speedup:g} "
                f"(a machine {speedup:g}x as fast at every layer); load times, sizes, "
                "bytes, accuracies and slowdown ratios as measured there"),
        factors={"speedup": float(speedup), "latency": 1.0 / speedup}, date=when,
        command=command).model_dump(mode="json")
    return Profile.model_validate(out)

"""A tiny early-exit network on a device and a server, with numbers chosen for hand
computation (not a measurement), and a scenario writer for it.

Device profile ``p``: full model 10 ms; exit ``e0`` at half the FLOPs (6 ms to its output,
its head 1 ms), final exit 12 ms; one split ``s1`` at the same place (6 ms on the device,
heads included; encode 1 ms; per-sample bytes 1000 and 2000). Two eval samples: sample 0 is
confident at e0 (0.9) and right there, sample 1 is not (0.1) and wrong there; the final
exit gets both right. Server profile: the suffix after s1 takes 2 ms plus 0.5 ms decoding,
the whole model 3 ms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from enginekit import write_world
from synthetic import make_profile

from sim.profile import ExitPoint, Outcomes, Profile, Progressive, SplitPoint, TransferBytes

__all__ = ["device_profile", "server_profile", "write_offload_world"]


def _profile(full_ms: float, suffix_ms: float, decode_ms: float) -> Profile:
    split = SplitPoint(name="s1", flops_fraction=0.5, device_ms=6.0, server_ms=suffix_ms,
                       bytes=TransferBytes(fp32=8000, int8=2000, int8_lz4_mean=1500,
                                           int8_lz4_per_sample=(1000, 2000)),
                       encode_ms=1.0, decode_ms=decode_ms)
    exits = (ExitPoint(name="e0", flops_fraction=0.5, device_ms=6.0, head_ms=1.0, top1=0.5),
             ExitPoint(name="final", flops_fraction=1.0, device_ms=12.0, head_ms=1.0, top1=1.0))
    outcomes = Outcomes(samples=2, correct={"e0": "10", "final": "11", "full": "11"},
                        confidence={"e0": (900, 100), "final": (1000, 1000)})
    return make_profile("p", [("full", 1_000_000, full_ms, 1.0)], kind="progressive",
                        progressive=Progressive(splits=(split,), exits=exits, input_bytes=3000),
                        outcomes=outcomes)


def device_profile() -> Profile:
    return _profile(10.0, 4.0, 1.0)


def server_profile() -> Profile:
    return _profile(3.0, 2.0, 0.5)


def write_offload_world(tmp: Path, scenario: dict[str, Any]) -> Path:
    """Profiles ``p`` under tmp/profiles/dev and tmp/profiles/srv, and the scenario (a server
    ``srv`` and a network of 8 Mbit/s = 1e6 bytes/s with a 10 ms round trip by default)."""
    write_world(tmp, {}, {"p": server_profile()}, device="srv")
    base: dict[str, Any] = {
        "server": {"name": "srv"},
        "network": {"bandwidth_mbps": 8.0, "rtt_ms": 10.0},
        "apps": [{"name": "a", "family": "p", "fps": 1}],
        "events": [{"t": 0, "action": "launch", "app": "a"}],
    }
    base.update(scenario)
    return write_world(tmp, base, {"p": device_profile()})

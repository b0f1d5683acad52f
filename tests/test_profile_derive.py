"""A derived profile divides every compute time by the speed-up, keeps everything else, and
says so; what it cannot derive it refuses (mvsched derive)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli.main import main
from sim.profile import ProfileError, load_profile
from sim.profile.derive import derive_speedup

PROFILES = Path(__file__).resolve().parents[1] / "profiles"
SPINN = PROFILES / "cpu-1t" / "spinn-resnet.json"


def test_compute_times_divided_everything_else_kept() -> None:
    base = load_profile(SPINN)
    d = derive_speedup(base, 8.0, "edge-8x", source=str(SPINN), date="2026-01-02")
    assert d.device.name == "edge-8x" and d.device.processor is None
    v, bv = d.variants[0], base.variants[0]
    assert v.latency_ms.median == pytest.approx(bv.latency_ms.median / 8)
    assert v.latency_ms.p90 == pytest.approx(bv.latency_ms.p90 / 8)
    assert v.weight_bytes == bv.weight_bytes and v.top1 == bv.top1 and v.load_ms == bv.load_ms
    for s, bs in zip(d.progressive.splits, base.progressive.splits, strict=True):
        assert s.device_ms == pytest.approx(bs.device_ms / 8)
        assert s.server_ms == pytest.approx(bs.server_ms / 8)
        assert s.bytes == bs.bytes and s.flops_fraction == bs.flops_fraction
    for e, be in zip(d.progressive.exits, base.progressive.exits, strict=True):
        assert (e.device_ms, e.head_ms) == pytest.approx((be.device_ms / 8, be.head_ms / 8))
        assert e.top1 == be.top1
    assert d.progressive.codec_decode_ms == pytest.approx(base.progressive.codec_decode_ms / 8)
    assert d.outcomes == base.outcomes and d.task == base.task
    prov = d.provenance
    assert prov.type == "derived" and prov.base == base.provenance
    assert prov.factors == {"speedup": 8.0, "latency": 0.125} and prov.date == "2026-01-02"
    assert "divided by 8" in prov.method and "cpu-1t" in prov.derived_from


def test_refusals() -> None:
    base = load_profile(SPINN)
    with pytest.raises(ProfileError, match="speedup must be in"):
        derive_speedup(base, 0.0, "x", source="f")
    d = derive_speedup(base, 2.0, "x", source="f")
    with pytest.raises(ProfileError, match="is itself derived"):
        derive_speedup(d, 2.0, "y", source="g")
    ofa = PROFILES / "cpu-1t" / "ofa-mbv3.json"
    with pytest.raises(ProfileError, match="lookup table or a search pool"):
        derive_speedup(load_profile(ofa), 2.0, "x", source=str(ofa))


def test_cli_writes_a_valid_profile_and_never_overwrites(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    args = ["derive", str(SPINN), "--speedup", "10", "--device", "srv", "--out", str(tmp_path)]
    assert main(args) == 0
    out = tmp_path / "srv" / "spinn-resnet.json"
    prof = load_profile(out)
    assert prof.provenance.type == "derived"
    assert prof.provenance.command.startswith("mvsched derive ")
    before = out.read_bytes()
    assert main(args) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert main([*args[:5], "bad/name", "--out", str(tmp_path)]) == 2
    assert "--device" in capsys.readouterr().err
    assert json.loads(before)["provenance"]["base"]["type"] == "measured"

"""Sizes a source does not publish: ``weight_bytes`` (and device processor/framework) may be
null, are written as null, and a scenario that would need them is refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.profile import Profile, ProfileError, load_profile, save_profile

HANDWRITTEN = Path(__file__).resolve().parent / "data" / "profiles" / "handwritten-phone.json"


def _unsized(tmp_path: Path) -> Path:
    """The handwritten profile with its 'medium' variant's size and the processor unknown,
    saved as ``tmp_path/profiles/example-phone/mobilenet-nested.json``."""
    profile = load_profile(HANDWRITTEN)
    variants = tuple(v.model_copy(update={"weight_bytes": None, "shared_bytes": 0, "load_ms": None})
                     if v.id == "medium" else v for v in profile.variants)
    device = profile.device.model_copy(
        update={"processor": None, "framework": None, "threads": None})
    unsized = Profile.model_validate(
        {**profile.model_dump(), "variants": [v.model_dump() for v in variants],
         "device": device.model_dump()})
    return save_profile(unsized, tmp_path / "profiles" / "example-phone" / "mobilenet-nested.json")


def test_unknown_fields_are_written_as_null_and_read_back(tmp_path: Path) -> None:
    path = _unsized(tmp_path)
    doc = json.loads(path.read_text())
    assert doc["variants"][1]["weight_bytes"] is None and "weight_bytes" in doc["variants"][1]
    assert doc["device"]["processor"] is None and doc["device"]["framework"] is None
    assert "threads" not in doc["device"]  # other optional fields stay absent when unknown
    again = load_profile(path)
    assert again.variant("medium").weight_bytes is None
    assert again.variant("small").weight_bytes == 7_800_000


def test_a_forgotten_weight_bytes_is_still_an_error(tmp_path: Path) -> None:
    doc = json.loads(HANDWRITTEN.read_text())
    del doc["variants"][0]["weight_bytes"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ProfileError, match=r"variants\[0\]\.weight_bytes"):
        load_profile(path)


def test_code_that_needs_a_size_says_so(tmp_path: Path) -> None:
    profile = load_profile(_unsized(tmp_path))
    with pytest.raises(ProfileError) as info:
        profile.switch_bytes(None, "medium")
    assert str(info.value) == ("variant 'medium': weight_bytes: null (not published by the "
                               "source), but memory and model loads need a size")
    assert profile.switch_bytes(None, "small") == 7_800_000


def test_a_scenario_running_an_unsized_profile_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _unsized(tmp_path)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "unsized", "seed": 0, "duration_s": 5, "profiles_dir": "profiles",
        "schedulers": [{"name": "nestdnn-mintotal"}],
        "device": {"name": "example-phone", "memory_mb": 64},
        "apps": [{"name": "cam", "family": "mobilenet-nested", "fps": 5, "latency_goal_ms": 50}],
        "events": [{"t": 0, "action": "launch", "app": "cam"}],
    }))
    assert main(["validate", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert (f"{scenario}: apps[0].family: {path}: variants[1].weight_bytes ('medium') is null "
            "(not published by the source), but the memory budget device.memory_mb=64 MB and "
            "model loads need every variant's size") in err

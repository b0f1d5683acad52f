"""Packed per-sample arrays: exact round trips, the old plain layout still loads."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from synthetic import progressive_profile

from sim.profile import ProfileError, load_profile, save_profile
from sim.profile.packing import pack_bits, pack_ints, unpack_bits, unpack_ints


@given(st.text(alphabet="01", min_size=1, max_size=300))
def test_bits_round_trip(bits):
    assert unpack_bits(pack_bits(bits), len(bits)) == bits


@given(st.lists(st.integers(0, 2**32 - 1), max_size=200))
def test_ints_round_trip(values):
    assert unpack_ints(pack_ints(values)) == tuple(values)


def test_small_ints_use_two_bytes():
    assert pack_ints([1, 2, 1000]).startswith("u16:")
    assert pack_ints([70000]).startswith("u32:")


def test_a_2000_sample_profile_is_small_and_round_trips(tmp_path):
    prof = progressive_profile(samples=2000, rng=np.random.default_rng(0))
    path = save_profile(prof, tmp_path / "p.json")
    assert path.stat().st_size <= 250_000
    assert load_profile(path) == prof
    text = path.read_text()
    assert '"bits:' in text and '"u16:' in text


def test_the_plain_layout_still_loads(tmp_path):
    prof = progressive_profile(samples=50, rng=np.random.default_rng(1))
    plain = prof.model_dump(mode="python")
    (tmp_path / "old.json").write_text(json.dumps(plain))
    assert load_profile(tmp_path / "old.json") == prof


@pytest.mark.parametrize(("where", "value", "words"), [
    ("correct", "bits:@@@", "base64"),
    ("correct", "bits:AA==", "expected 50"),
    ("confidence", "u8:AAAA", "u16"),
])
def test_bad_packed_fields_name_the_field(tmp_path, where, value, words):
    prof = progressive_profile(samples=50, rng=np.random.default_rng(1))
    doc = json.loads(json.dumps(prof.model_dump(mode="json")))
    key = next(iter(doc["outcomes"][where]))
    doc["outcomes"][where][key] = value
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(ProfileError, match=words) as info:
        load_profile(tmp_path / "bad.json")
    assert "outcomes" in str(info.value)

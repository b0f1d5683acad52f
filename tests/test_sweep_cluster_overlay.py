"""The input files a sweep ships with its tasks: a recording collects what a block reads and
serves a file read twice from the first read; an overlay is the only source of the reads in
its block (a shipped file is read though no disk holds it, a file on disk but not shipped is
not found) and keeps the limits of a file on disk."""

from __future__ import annotations

import pytest
from enginekit import write_world
from synthetic import make_profile

from sim.common.input_files import (
    InputFileError,
    check_input_file,
    input_exists,
    input_overlay,
    input_stems,
    read_input_bytes,
    read_input_text,
    recording_inputs,
)
from sim.config.inputs import load_inputs
from sim.profile import load_profile


def test_a_recording_collects_each_read_and_serves_a_repeat_from_it(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"first")
    b.write_bytes(b"other")
    with recording_inputs() as outer:
        assert read_input_bytes(a, "test", 100) == b"first"
        a.write_bytes(b"edited")
        with recording_inputs() as inner:
            assert read_input_text(a, "test", 100) == "first"
            assert read_input_bytes(b, "test", 100) == b"other"
        assert input_exists(a) and not input_exists(tmp_path / "c.txt")
    assert outer == {str(a): b"first", str(b): b"other"}
    assert inner == {str(a): b"first", str(b): b"other"}
    assert read_input_bytes(a, "test", 100) == b"edited"  # no recording, the disk


def test_a_recorded_file_keeps_the_limit_of_each_read(tmp_path):
    a = tmp_path / "a.txt"
    a.write_bytes(b"0123456789")
    with recording_inputs():
        read_input_bytes(a, "test", 100)
        with pytest.raises(InputFileError, match=r"a\.txt: 10 bytes, over the 5 bytes limit"):
            read_input_bytes(a, "test", 5)


def test_an_overlay_is_the_only_source(tmp_path):
    gone, there = tmp_path / "gone" / "x.json", tmp_path / "there.json"
    there.write_text("{}")
    files = {str(gone): b"shipped", str(tmp_path / "gone" / "y.json"): b"",
             str(tmp_path / "gone" / "notes.txt"): b""}
    with input_overlay(files):
        assert read_input_bytes(gone, "test", 100) == b"shipped"
        assert read_input_bytes(tmp_path / "gone" / ".." / "gone" / "x.json", "t", 100) \
            == b"shipped"
        assert check_input_file(gone, "test", 100) == 7
        assert input_exists(gone) and not input_exists(there)
        assert input_stems(gone.parent, ".json") == ["x", "y"]
        assert input_stems(tmp_path, ".json") == []
        with pytest.raises(InputFileError, match=r"there\.json: file not found$"):
            read_input_bytes(there, "test", 100)
        with pytest.raises(InputFileError, match=r"x\.json: 7 bytes, over the 3 bytes limit"):
            read_input_bytes(gone, "test", 3)
    assert read_input_bytes(there, "test", 100) == b"{}"
    assert input_stems(tmp_path, ".json") == ["there"]


def test_a_scenario_recorded_then_shipped_loads_the_same_without_its_files(tmp_path):
    prof = make_profile("p", [("small", 1000, 5.0, 0.6)])
    path = write_world(tmp_path / "w", {"apps": [{"name": "a", "family": "p", "fps": 20}],
                                         "events": [{"t": 0, "action": "launch", "app": "a"}]},
                       {"p": prof})
    with recording_inputs() as read:
        before = load_inputs(path)
    assert set(read) == {str(path), str(tmp_path / "w/profiles/dev/p.json")}
    (tmp_path / "w/profiles/dev/p.json").unlink()
    path.unlink()
    with input_overlay(read):
        after = load_inputs(path)
        assert load_profile(tmp_path / "w/profiles/dev/p.json") == before.profiles["p"]
    assert after.scenario == before.scenario and after.profiles == before.profiles
    with input_overlay({str(path): read[str(path)]}), \
            pytest.raises(ValueError, match=r"no profile file .*p\.json; folder .* has no "
                                            r"profiles$"):
        load_inputs(path)

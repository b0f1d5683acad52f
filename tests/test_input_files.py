"""Input files are read only when they are regular files within a stated size, and an error
quotes at most a short, escaped excerpt of what a file holds.

A trace path of /dev/zero (or a profile symlinked to it) was read without bound until
MemoryError, a FIFO blocked for ever, and a bad trace's first line was printed whole, so
naming any readable file as a trace disclosed it."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.common.input_files import (
    PROFILE_MAX_BYTES,
    SOURCE_MAX_BYTES,
    TRACE_MAX_BYTES,
    YAML_MAX_BYTES,
    InputFileError,
    read_input_bytes,
)
from sim.common.messages import EXCERPT_CHARS, excerpt, field_path
from sim.config.scenario import ScenarioError, load_scenario
from sim.profile import ProfileError, load_profile
from sim.results.sweep import SweepError, load_sweep
from sim.traces import CsvTraceSpec, Trace, TraceError, build_trace

ROOT = Path(__file__).resolve().parents[1]
DEV_ZERO = Path("/dev/zero")
needs_dev_zero = pytest.mark.skipif(not DEV_ZERO.exists(), reason="no /dev/zero")
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
SECRET = "sk-live-" + "0123456789abcdef" * 8  # a 136-character line nobody should see echoed


def prompt(fn: Callable[[], object], seconds: float = 10.0) -> BaseException:
    """The exception ``fn`` raises, checked to come within ``seconds`` (a FIFO opened for
    reading would block for ever: the call runs in a daemon thread so the test cannot hang)."""
    box: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still blocked after {seconds} s"
    assert box, "expected an error"
    return box[0]


def one_line(exc: BaseException, path: Path, *words: str) -> str:
    message = str(exc)
    assert "\n" not in message and message.startswith(str(path)), message
    for w in words:
        assert w in message, message
    return message


# ----------------------------------------------------------------- not regular files
@needs_dev_zero
def test_dev_zero_as_a_trace_is_refused_unread() -> None:
    with pytest.raises(TraceError) as info:
        Trace.from_whitespace(DEV_ZERO)
    one_line(info.value, DEV_ZERO, "cannot read trace file", "a character device",
             "not a regular file")
    spec = CsvTraceSpec(path=DEV_ZERO, format="csv")
    with pytest.raises(TraceError, match="character device"):
        build_trace(spec, ROOT, 10.0, None)  # type: ignore[arg-type]


@needs_dev_zero
def test_a_profile_symlinked_to_dev_zero_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "phone" / "family.json"
    link.parent.mkdir()
    link.symlink_to(DEV_ZERO)
    with pytest.raises(ProfileError) as info:
        load_profile(link)
    one_line(info.value, link, "a character device", "expected a profile JSON file")


@needs_dev_zero
def test_dev_zero_as_a_scenario_or_sweep_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="character device"):
        load_scenario(DEV_ZERO)
    sweep = tmp_path / "s.sweep.yaml"
    sweep.symlink_to(DEV_ZERO)
    with pytest.raises(SweepError, match="character device, not a regular file"):
        load_sweep(sweep)


@needs_fifo
def test_a_fifo_trace_returns_promptly_in_one_line(tmp_path: Path) -> None:
    fifo = tmp_path / "bw.csv"
    os.mkfifo(fifo)
    exc = prompt(lambda: Trace.from_csv(fifo))
    assert isinstance(exc, TraceError)
    one_line(exc, fifo, "cannot read trace file: is a FIFO (named pipe), not a regular file")
    exc = prompt(lambda: Trace.from_whitespace(fifo))
    assert isinstance(exc, TraceError)


@needs_fifo
def test_a_fifo_profile_scenario_and_sweep_return_promptly(tmp_path: Path) -> None:
    for name, load, error in (("p.json", load_profile, ProfileError),
                              ("s.yaml", load_scenario, ScenarioError),
                              ("w.sweep.yaml", load_sweep, SweepError)):
        fifo = tmp_path / name
        os.mkfifo(fifo)
        exc = prompt(lambda fifo=fifo, load=load: load(fifo))
        assert isinstance(exc, error), repr(exc)
        one_line(exc, fifo, "is a FIFO (named pipe)")


# ----------------------------------------------------------------- size limits
def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)  # no disk used: only the size is ever looked at
    return path


@pytest.mark.parametrize(("name", "limit", "load", "error", "what"), [
    ("big.csv", TRACE_MAX_BYTES, Trace.from_csv, TraceError, "trace"),
    ("big.json", PROFILE_MAX_BYTES, load_profile, ProfileError, "profile JSON"),
    ("big.yaml", YAML_MAX_BYTES, load_scenario, ScenarioError, "scenario YAML"),
    ("big.sweep.yaml", YAML_MAX_BYTES, load_sweep, SweepError, "sweep YAML"),
])
def test_a_file_over_its_limit_is_refused_naming_the_limit(
        tmp_path: Path, name: str, limit: int, load: Callable[[Path], object],
        error: type[Exception], what: str) -> None:
    path = _sparse(tmp_path / name, limit + 1)
    with pytest.raises(error) as info:
        load(path)
    one_line(info.value, path, f"{limit + 1:,} bytes, over the {limit // 1_000_000} MB limit "
                               f"of a {what} file")


def test_shipped_inputs_are_far_below_the_limits() -> None:
    largest = {"profile": max(p.stat().st_size for p in (ROOT / "profiles").rglob("*.json")),
               "trace": max(p.stat().st_size for p in (ROOT / "scenarios" / "traces").iterdir()),
               "yaml": max(p.stat().st_size for p in (ROOT / "scenarios").rglob("*.yaml")),
               "source": max(p.stat().st_size for p in
                             (ROOT / "tests" / "data" / "published").rglob("*.*"))}
    assert largest["profile"] * 100 < PROFILE_MAX_BYTES
    assert largest["trace"] * 100 < TRACE_MAX_BYTES
    assert largest["yaml"] * 100 < YAML_MAX_BYTES
    assert largest["source"] * 100 < SOURCE_MAX_BYTES


def test_the_docs_state_the_limits() -> None:
    scenarios = (ROOT / "scenarios" / "README.md").read_text()
    profiles = (ROOT / "profiles" / "README.md").read_text()
    for doc in (scenarios, profiles):
        assert "## Input limits" in doc
    assert f"{YAML_MAX_BYTES // 1_000_000} MB" in scenarios
    assert f"{TRACE_MAX_BYTES // 1_000_000} MB" in scenarios
    assert f"{PROFILE_MAX_BYTES // 1_000_000} MB" in profiles
    assert f"{SOURCE_MAX_BYTES // 1_000_000} MB" in profiles


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="no /proc")
def test_a_file_that_reports_no_size_is_read_no_further_than_the_limit() -> None:
    status = Path("/proc/self/status")  # a regular file of st_size 0 that holds ~1 kB
    assert status.stat().st_size == 0
    with pytest.raises(InputFileError, match="over the 16 bytes limit of a test file"):
        read_input_bytes(status, "test", 16)
    assert len(read_input_bytes(status, "test", 1_000_000)) > 16


def test_missing_and_folder_paths_keep_their_messages(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match=r"nope: cannot read trace file: file not found$"):
        Trace.from_whitespace(tmp_path / "nope")
    with pytest.raises(TraceError, match="is a folder, expected a trace file"):
        Trace.from_whitespace(tmp_path)
    with pytest.raises(ProfileError, match=r"x\.json: file not found$"):
        load_profile(tmp_path / "x.json")


# ----------------------------------------------------------------- short excerpts
def _assert_short(message: str, secret: str = SECRET) -> None:
    """The message holds at most EXCERPT_CHARS characters of ``secret`` in a row."""
    longest = max((n for n in range(len(secret) + 1)
                   if any(secret[i:i + n] in message for i in range(len(secret) - n + 1))),
                  default=0)
    assert 0 < longest <= EXCERPT_CHARS, (longest, message)


@pytest.mark.parametrize(("name", "text", "load", "line"), [
    ("first.csv", f"{SECRET}\n0,1\n", Trace.from_csv, 1),
    ("first", f"# comment\n{SECRET}\n", Trace.from_whitespace, 2),
    ("row.csv", f"t_s,value\n0,1\n{SECRET},2\n", Trace.from_csv, 3),
    ("wide.csv", f"t_s,value,{SECRET}\n0,1\n", Trace.from_csv, 2),
])
def test_a_bad_trace_line_is_quoted_short_with_its_number(
        tmp_path: Path, name: str, text: str, load: Callable[[Path], Trace], line: int) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(TraceError) as info:
        load(path)
    message = one_line(info.value, path, f" line {line}: ")
    _assert_short(message)


def test_an_excerpt_escapes_and_cuts() -> None:
    assert excerpt("0 1 2") == "'0 1 2'"
    assert excerpt("a\x00b\x1b[31m\u202ec") == "'a\\x00b\\x1b[31m\\u202ec'"
    assert excerpt("it's a \\ path") == "'it\\'s a \\\\ path'"
    long = excerpt(SECRET)
    assert long == f"'{SECRET[:EXCERPT_CHARS]}'..."
    assert len(excerpt("\x00" * 100)) <= EXCERPT_CHARS + 5  # escapes count, never split
    assert excerpt("\x00" * 100).startswith("'\\x00")


def test_field_paths_clip_keys_from_the_file() -> None:
    assert field_path(("apps", 0, "fps")) == "apps[0].fps"
    assert field_path(("device", "bad\nkey")) == "device.bad\\nkey"
    path = field_path(("extra", SECRET, 3))
    _assert_short(path)
    assert path.endswith("...[3]")


def test_a_yaml_error_quotes_the_file_briefly(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"name: *{SECRET}\n")  # an undefined alias: PyYAML names it
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    _assert_short(one_line(info.value, path, "line 1: not valid YAML (found undefined alias"))
    path.write_text(f"name: x\n{SECRET}: 1\n")  # an unknown key is named, clipped
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = one_line(info.value, path)
    _assert_short(message)


def test_a_long_key_in_a_profile_is_clipped(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"family": "x", "' + SECRET + '": 1}')
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    _assert_short(one_line(info.value, path))


@pytest.mark.parametrize(("name", "text", "load", "error"), [
    ("s.yaml", "name: x\nseed: " + "9" * 5000 + "\n", load_scenario, ScenarioError),
    ("w.sweep.yaml", "seeds: [" + "9" * 5000 + "]\n", load_sweep, SweepError),
    ("p.json", '{"family": "x",\n "n": ' + "9" * 5000 + "}", load_profile, ProfileError),
])
def test_a_number_over_the_digit_limit_names_file_and_line(
        tmp_path: Path, name: str, text: str, load: Callable[[Path], object],
        error: type[Exception]) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(error) as info:
        load(path)
    message = one_line(info.value, path, ": a number of 5,000 digits; at most 4,300 digits")
    assert re.search(r": line [12]: a number", message), message

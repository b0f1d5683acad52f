"""Traces: exact step-function arithmetic, file readers, generators and scenario specs."""

from __future__ import annotations

import math
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from sim.traces import (
    ConstantTraceSpec,
    CsvTraceSpec,
    InlineTraceSpec,
    MarkovTraceSpec,
    StepTraceSpec,
    Trace,
    TraceError,
    TraceSpecOrNumber,
    build_trace,
)

TRACES = Path(__file__).resolve().parents[1] / "scenarios" / "traces"
NORWAY = TRACES / "norway_bus_22"


@pytest.fixture
def gap() -> Trace:
    """Rate 2 on [0, 1), an outage on [1, 3), rate 4 after."""
    return Trace.from_points([(0, 2), (1, 0), (3, 4)])


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ----- exact hand-computed cases -----------------------------------------------------------
def test_value_at_breakpoints_take_the_new_value(gap: Trace) -> None:
    assert [gap.value_at(t) for t in (0, 0.5, 1, 2.999, 3, 1e9)] == [2, 2, 0, 0, 4, 4]


def test_value_at_rejects_negative_time(gap: Trace) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        gap.value_at(-0.1)


def test_integral_of_the_step_function(gap: Trace) -> None:
    assert gap.integral(0, 1) == 2
    assert gap.integral(0.5, 2) == 1
    assert gap.integral(0, 4) == 2 + 0 + 4
    assert gap.integral(2, 5) == 8
    assert gap.integral(3.5, 3.5) == 0


def test_next_change_after_skips_repeated_values() -> None:
    tr = Trace.from_points([(0, 1), (1, 1), (2, 5), (3, 0)])
    assert [tr.next_change_after(t) for t in (0, 1.5, 2, 3, 100)] == [2, 2, 3, math.inf, math.inf]


def test_from_points_holds_the_first_value_from_zero() -> None:
    tr = Trace.step([(10, 0.3), (20, 0.5)])
    assert tr.times.tolist() == [0, 10, 20]
    assert tr.value_at(0) == 0.3


@pytest.mark.parametrize(
    ("times", "values", "message"),
    [
        ([1, 2], [1, 1], "must start at 0.0"),
        ([0, 1, 1], [1, 1, 1], "point 2: time 1 is not after the previous time 1"),
        ([0, 1], [1, float("nan")], "point 1: value must be a finite number"),
        ([0], [-1], "point 0: value must be >= 0"),
        ([], [], "non-empty"),
    ],
)
def test_constructor_enforces_the_contract(times: list, values: list, message: str) -> None:
    with pytest.raises(TraceError, match=re.escape(message)):
        Trace(times, values)


def test_trace_is_immutable(gap: Trace) -> None:
    with pytest.raises(ValueError):
        gap.values[0] = 9
    with pytest.raises(AttributeError):
        gap._values = np.zeros(3)  # type: ignore[misc]


def test_trace_survives_pickling(gap: Trace) -> None:
    assert pickle.loads(pickle.dumps(gap)) == gap


def test_scaled_len_repr(gap: Trace) -> None:
    assert gap.scaled(0.5).values.tolist() == [1, 0, 2]
    assert len(gap) == 3
    assert repr(gap) == "Trace([(0, 2), (1, 0), (3, 4)])"
    assert gap == Trace([0, 1, 3], [2, 0, 4]) and gap != gap.scaled(2)


# ----- properties ---------------------------------------------------------------------------
@st.composite
def traces(draw: st.DrawFn, last_positive: bool = True) -> Trace:
    n = draw(st.integers(1, 20))
    widths = draw(st.lists(st.floats(0.01, 100), min_size=n - 1, max_size=n - 1))
    rate = st.one_of(st.just(0.0), st.floats(0.1, 100))
    values = draw(st.lists(rate, min_size=n, max_size=n))
    if last_positive:
        values[-1] = draw(st.floats(0.1, 100))
    return Trace(np.concatenate([[0.0], np.cumsum(widths)]), values)


@given(traces(last_positive=False), st.lists(st.floats(0, 2500), max_size=30))
def test_value_at_agrees_with_a_linear_scan(tr: Trace, queries: list[float]) -> None:
    for t in sorted(queries + tr.times.tolist()):
        naive = next(v for ti, v in zip(tr.times[::-1], tr.values[::-1], strict=True) if ti <= t)
        assert tr.value_at(t) == naive


@settings(max_examples=30)
@given(st.integers(0, 2**32), st.integers(1, 2**16))
def test_markov_is_reproducible_per_seed(seed: int, offset: int) -> None:
    def make(s: int) -> Trace:
        return Trace.markov([1.0, 5.0, 20.0], 10, 600, np.random.default_rng(s))

    assert make(seed) == make(seed)
    assert make(seed) != make(seed + offset)


def test_markov_respects_states_transition_and_duration() -> None:
    rng = np.random.default_rng(0)
    tr = Trace.markov([1.0, 5.0], [2.0, 3.0], 500, rng, transition=[[0, 1], [1, 0]])
    assert set(tr.values.tolist()) == {1.0, 5.0}
    assert tr.times[-1] < 500 and len(tr) > 50
    assert np.all(tr.values[1:] != tr.values[:-1])  # the matrix forces alternation


# ----- files --------------------------------------------------------------------------------
def test_norway_trace_loads_shifted_to_zero() -> None:
    tr = Trace.from_whitespace(NORWAY)
    assert len(tr) == 266 and tr.times[0] == 0.0
    assert tr.value_at(0) == pytest.approx(1.58879421433)
    assert 200 < tr.times[-1] < 300 and 0 < tr.values.min() and tr.values.max() < 20


def test_whitespace_times_starting_late_are_shifted(tmp_path: Path) -> None:
    tr = Trace.from_whitespace(write(tmp_path / "x", "100.0 1.5\n\n100.5\t2.5\n"))
    assert tr.times.tolist() == [0.0, 0.5] and tr.values.tolist() == [1.5, 2.5]


def test_loop_covers_a_long_scenario_by_repetition() -> None:
    once = Trace.from_whitespace(NORWAY)
    period = once.times[-1] + np.median(np.diff(once.times))
    looped = Trace.from_whitespace(NORWAY, loop=True, duration_s=3600)
    assert looped.times[-1] >= 3600 - period
    assert len(looped) == len(once) * math.ceil(3600 / period)
    for t in (0.0, 17.3, 150.0, once.times[-1]):
        assert looped.value_at(t + 5 * period) == once.value_at(t)


def test_csv_with_named_column(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "# uplink and downlink\nt_s,up,down\n0,1,10\n2.5,2,20\n")
    assert Trace.from_csv(path, column="down").values.tolist() == [10, 20]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "t_s,value\n0,1\n1,2\n\n# gap\n2,3\nabc\n",
            "line 7: expected two numbers 't_s,value', got 'abc'",
        ),
        ("t_s,value\n0,1\n0,2\n", "line 3: time 0 is not after the previous time 0"),
        ("t_s,value\n0,1\n1,-2\n", "line 3: value must be >= 0, got -2"),
        ("t_s,value\n0,nan\n", "line 2: value must be a finite number, got nan"),
        ("t_s,value\n-1,1\n", "line 2: time must be >= 0, got -1"),
        (
            "time,bw\n0,1\n",
            "line 1: expected a header naming columns 't_s' and 'value', got 'time,bw'",
        ),
        ("t_s,value\n", ": no data rows"),
        ("", ": empty file"),
    ],
)
def test_csv_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(TraceError) as exc:
        Trace.from_csv(path)
    assert str(exc.value).startswith(str(path))
    assert message in str(exc.value)


def test_whitespace_and_missing_file_errors_name_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "bad", "0 1\n1 2 3\n")
    with pytest.raises(
        TraceError, match=r"bad line 2: expected two numbers 'seconds value', got '1 2 3'"
    ):
        Trace.from_whitespace(path)
    with pytest.raises(TraceError, match=r"nope: cannot read trace file"):
        Trace.from_whitespace(tmp_path / "nope")


def test_points_errors_name_the_index() -> None:
    with pytest.raises(TraceError, match=r"points\[2\]: time 1 is not after the previous time 3"):
        Trace.from_points([(0, 1), (3, 1), (1, 1)])
    with pytest.raises(TraceError, match=r"points\[0\]: value must be >= 0"):
        Trace.from_points([(0, -1)])
    with pytest.raises(TraceError, match="at least one"):
        Trace.from_points([])


# ----- specs --------------------------------------------------------------------------------
class Scenario(BaseModel):
    network: TraceSpecOrNumber


@pytest.mark.parametrize(
    ("spec", "loc", "message"),
    [
        (
            {"kind": "step", "steps": [[0, 0], [0, 1]]},
            ("network", "step", "steps"),
            "point 1: time 0",
        ),
        ({"kind": "step", "steps": []}, ("network", "step", "steps"), "at least one"),
        (
            {"kind": "inline", "points": [[0, -1]]},
            ("network", "inline", "points", 0, 1),
            "greater than or equal to 0",
        ),
        (
            {"kind": "constant", "value": 1, "vale": 2},
            ("network", "constant", "vale"),
            "not permitted",
        ),
        (
            {"kind": "markov", "states": [1, 2], "mean_dwell_s": [1, 2, 3]},
            ("network", "markov", "mean_dwell_s"),
            "one per state (2), got 3",
        ),
        (
            {
                "kind": "markov",
                "states": [1, 2],
                "mean_dwell_s": 1,
                "transition": [[0.5, 0.4], [0, 1]],
            },
            ("network", "markov", "transition"),
            "row 0 must be non-negative and sum to 1",
        ),
        (
            {"kind": "csv", "path": "x.txt", "column": "down"},
            ("network", "csv"),
            "column applies only to format 'csv'",
        ),
        ({"kind": "wave"}, ("network",), "'constant', 'step', 'inline', 'csv', 'markov'"),
        (True, ("network",), "valid dictionary"),
    ],
)
def test_spec_errors_name_the_field(spec: object, loc: tuple, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Scenario(network=spec)
    (error,) = exc.value.errors()
    assert error["loc"] == loc
    assert message in error["msg"]


def test_bare_number_is_a_constant_spec() -> None:
    assert Scenario(network=0.3).network == ConstantTraceSpec(value=0.3)
    assert Scenario(network=2).network == ConstantTraceSpec(value=2)


def test_build_trace_for_every_kind(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    write(tmp_path / "bw.csv", "t_s,value\n0,1\n10,3\n")
    (tmp_path / "traces").mkdir()
    write(tmp_path / "traces" / "bus", (NORWAY).read_text())

    def build(spec: dict) -> Trace:
        return build_trace(Scenario(network=spec).network, tmp_path, 1000.0, rng)

    assert build({"kind": "constant", "value": 0.2}) == Trace.constant(0.2)
    assert build({"kind": "step", "steps": [[0, 0], [300, 0.4]]}).value_at(300) == 0.4
    assert build({"kind": "inline", "points": [[0, 5], [1.5, 3.2]]}).value_at(2) == 3.2
    assert build({"kind": "csv", "path": "bw.csv", "scale": 2}).values.tolist() == [2, 6]
    looped = build({"kind": "csv", "path": "traces/bus", "loop": True})
    assert len(looped) > 3 * 266 and looped == Trace.from_whitespace(NORWAY).looped(1000.0)
    markov = build({"kind": "markov", "states": [1, 5, 20], "mean_dwell_s": 10})
    assert set(markov.values.tolist()) <= {1, 5, 20} and markov.times[-1] < 1000


def test_csv_spec_format_defaults_by_extension() -> None:
    assert CsvTraceSpec(path=Path("a/b.CSV")).resolved_format == "csv"
    assert CsvTraceSpec(path=Path("a/norway_bus_1")).resolved_format == "whitespace"
    assert CsvTraceSpec(path=Path("a.log"), format="csv").resolved_format == "csv"


def test_specs_are_frozen() -> None:
    for spec in (
        StepTraceSpec(steps=((0, 1),)),
        InlineTraceSpec(points=((0, 1),)),
        MarkovTraceSpec(states=(1,), mean_dwell_s=1),
    ):
        with pytest.raises(ValidationError):
            spec.kind = "constant"  # type: ignore[misc]

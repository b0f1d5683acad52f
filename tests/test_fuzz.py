"""Fuzzing the shipped scenario, profile, sweep and trace files (hypothesis): every mutant
is refused with one line of the tool's own error classes, or runs with finite metrics and
sound frames; never a traceback, a NaN or a hang. A bounded number of cases per kind here;
``python tests/fuzzkit.py --cases 10000`` runs many more by hand."""

from __future__ import annotations

import os

import pytest
from fuzzkit import KINDS, DrawChooser, Sandbox, run_case, shipped
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CASES = int(os.environ.get("MVSCHED_FUZZ_CASES", "100"))


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    return Sandbox(tmp_path_factory.mktemp("fuzz"))


@pytest.mark.parametrize("kind", KINDS)
def test_every_mutant_is_refused_cleanly_or_runs_soundly(box, kind):
    files = shipped(kind)
    assert files, f"no shipped {kind} files to fuzz"

    @settings(max_examples=CASES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def case(data):
        src = data.draw(st.sampled_from(files), label="file")
        out = run_case(box, kind, src, DrawChooser(data))
        assert out.kind in ("accepted", "rejected"), out.detail

    case()


def test_the_harness_reports_a_traceback_and_a_nan(box, monkeypatch):
    import random

    import fuzzkit

    import sim.inputs

    src = shipped("scenario")[0]
    monkeypatch.setattr(sim.inputs, "load_inputs", lambda *a, **k: {}["boom"])
    monkeypatch.setattr(fuzzkit, "mutate", lambda doc, rng, n: doc)
    out = run_case(box, "scenario", src, random.Random(0))
    assert out.kind == "other" and out.detail.startswith("KeyError at test_fuzz.py:")
    monkeypatch.undo()
    with pytest.raises(AssertionError, match=r"NaN in metrics at run\.overall\.fps"):
        fuzzkit._finite({"overall": {"fps": float("nan")}}, "run")

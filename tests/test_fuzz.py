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

    import sim.config.inputs

    src = shipped("scenario")[0]
    monkeypatch.setattr(sim.config.inputs, "load_inputs", lambda *a, **k: {}["boom"])
    monkeypatch.setattr(fuzzkit, "mutate", lambda doc, rng, n: doc)
    out = run_case(box, "scenario", src, random.Random(0))
    assert out.kind == "other" and out.detail.startswith("KeyError at test_fuzz.py:")
    monkeypatch.undo()
    with pytest.raises(AssertionError, match=r"NaN in metrics at run\.overall\.fps"):
        fuzzkit._finite({"overall": {"fps": float("nan")}}, "run")


# -- the generated family ------------------------------------------------------------------
GEN_CASES = int(os.environ.get("MVSCHED_FUZZ_GEN_CASES", "50"))
GEN_LIMIT_S = 10.0
"""Wall seconds of one generated case in CI before it counts as a hang."""


def test_every_generated_scenario_is_refused_cleanly_or_runs_soundly():
    """Scenarios built from scratch with extreme values, same-instant events, tiny periods,
    many apps, infeasible constraints and every scheduler: each one is refused in one line
    or runs with every invariant of fuzz_strategies.check_facts kept. Hypothesis draws the
    strategy and the generator's seed (a seeded stream varies the scenarios far more than
    hypothesis' own draws do in 50 cases); no shrinking (a hang would be replayed for
    minutes): the failure prints the scenario's YAML."""
    import random

    from fuzz_strategies import STRATEGIES
    from fuzzkit import run_generated_case
    from hypothesis import Phase

    @settings(max_examples=GEN_CASES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(sorted(STRATEGIES)), st.integers(0, 2**32 - 1))
    def case(strategy, seed):
        out = run_generated_case(random.Random(seed), strategy, GEN_LIMIT_S)
        assert out.kind in ("accepted", "rejected"), f"{out.detail}\n{out.case}"

    case()


@pytest.fixture(scope="module")
def small_run():
    """A short real run with a link, several apps, frames done and dropped."""
    import warnings

    from fuzz_strategies import PROFILES

    from sim.runner import run_scenario

    raw = {"name": "inv", "duration_s": 2.0, "profiles_dir": str(PROFILES),
           "schedulers": [{"name": "cloud-only"}],
           "device": {"name": "cpu-1t", "memory_mb": 100, "background_load": 0.5,
                      "power": {"radio_tx_w": 1.0}},
           "server": {"name": "cpu-2t"}, "network": {"bandwidth_mbps": 5.0},
           "apps": [{"name": "a", "family": "spinn-resnet", "fps": 30},
                    {"name": "b", "family": "spinn-vgg", "fps": 30}],
           "events": [{"t": 0, "action": "launch", "app": "a"},
                      {"t": 0.5, "action": "launch", "app": "b"},
                      {"t": 1.5, "action": "exit", "app": "a"}]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_scenario(raw)[0]


def _facts(res):
    import dataclasses

    from fuzz_strategies import facts_of, frames_from_rows

    return dataclasses.replace(facts_of(res), frames=frames_from_rows(res.frames()))


def _broken(facts, how):
    import copy
    import dataclasses

    from fuzz_strategies import FrameFact

    facts = dataclasses.replace(facts, frames=list(facts.frames),
                                metrics=copy.deepcopy(facts.metrics))
    ov, apps = facts.metrics["overall"], facts.metrics["apps"]
    if how == "arrival-outside":  # a frame after the end of the run
        app = next(iter(apps))
        facts.frames.append(FrameFact(app=app, status="dropped", first_s=facts.duration_s + 1.0,
                                      spacing_s=0.0, frames=1, finish_s=None, goal_ms=None))
        apps[app]["dropped"] += 1
        apps[app]["frames"] += 1
        return facts
    done = [i for i, f in enumerate(facts.frames) if f.status == "done"]
    fact = facts.frames[done[0]]
    app = fact.app
    if how == "frame-twice":  # a done frame also recorded as dropped
        facts.frames.append(fact._replace(status="dropped", spacing_s=0.0, frames=1,
                                          finish_s=None, goal_ms=None))
        apps[app]["dropped"] += 1
        apps[app]["frames"] += 1
    elif how == "finish-before-arrival":
        facts.frames[done[0]] = fact._replace(finish_s=fact.first_s - 0.01)
    elif how == "latency-nan":
        facts.frames[done[0]] = fact._replace(finish_s=float("nan"))
    elif how == "goal":
        facts.frames[done[0]] = fact._replace(goal_ms=float("inf"))
    elif how == "metric-null":  # a NaN becomes a null in metrics.json
        ov["energy_j"] = None
    elif how == "energy-negative":
        apps[app]["energy_j"] = -1.0
    elif how == "device-time":
        ov["device_s"] = facts.duration_s * 1.01
    elif how == "fps-above-camera":
        apps[app]["fps"] = facts.fps[app] * 2
    elif how == "radio-sum":
        ov["radio_s"] = sum(a["radio_s"] for a in apps.values()) + 0.01
    elif how == "frame-count":
        apps[app]["processed"] += 1
    elif how == "active-time":
        apps[app]["active_s"] += 0.5
    elif how == "camera-count":  # two camera frames neither done nor lost
        for i in done[:2][::-1]:
            facts.frames.pop(i)
        apps[app]["frames"] -= 2
        apps[app]["processed"] -= 2
    elif how == "device-sum":
        apps[app]["device_s"] += 0.01
    elif how == "energy-sum":
        ov["energy_j"] += 0.01
    return facts


BROKEN = ("frame-twice", "arrival-outside", "finish-before-arrival", "latency-nan", "goal",
          "metric-null", "energy-negative", "device-time", "fps-above-camera", "radio-sum",
          "frame-count", "active-time", "camera-count", "device-sum", "energy-sum")


def test_the_invariant_checker_passes_a_sound_run(small_run):
    from fuzz_strategies import check_facts, facts_of

    facts = _facts(small_run)
    assert {f.status for f in facts.frames} >= {"done", "dropped"}
    assert facts.link and small_run.metrics["overall"]["radio_s"] > 0
    check_facts(facts)
    check_facts(facts_of(small_run))  # the records the rows expand


@pytest.mark.parametrize("how", BROKEN)
def test_the_invariant_checker_flags_a_broken_result(small_run, how):
    from fuzz_strategies import check_facts

    with pytest.raises(AssertionError, match=rf"^cloud-only: {how}: "):
        check_facts(_broken(_facts(small_run), how))


def test_a_broken_invariant_is_an_other_outcome(monkeypatch):
    """The harness runs the checker on every generated run and sorts its failure as 'other'
    with the invariant's name as its class."""
    import random

    import fuzzkit

    real = fuzzkit.facts_of
    monkeypatch.setattr(fuzzkit, "facts_of", lambda res: _broken(real(res), "arrival-outside"))
    monkeypatch.setattr(fuzzkit, "ROWS_LIMIT", -1)  # check the (broken) records, not rows
    outs = [fuzzkit.run_generated_case(random.Random(seed), "every-scheduler")
            for seed in range(3)]
    ran = [o for o in outs if o.kind != "rejected"]
    assert ran and all(o.kind == "other" for o in ran), outs
    assert fuzzkit.failure_class(ran[0].detail) == "invariant arrival-outside"
    assert "duration_s:" in ran[0].case and ran[0].strategy == "every-scheduler"

"""``engine.interference``: the profile's co-run slowdown and after-idle factor change frame
times exactly as computed by hand, and nothing changes while it is off."""

from __future__ import annotations

import pytest
from enginekit import FixedScheduler, frames, simulate, write_world
from pydantic import ValidationError
from synthetic import make_profile

from sim.config.scenario import ScenarioError
from sim.profile import Interference, ProfileError, VariantInterference

MEASURED = {"variant": "v0", "co_runner": "v0", "method": "hand-written for a test"}


def _interference(after_idle: float = 1.0, **fields) -> Interference:
    return Interference(co_runners=(1, 3), slowdown=(1.5, 2.1), after_idle=after_idle,
                        **MEASURED, **fields)


def test_factor_interpolates_between_measured_points():
    f = _interference().factor
    assert [f(k) for k in (0, 0.5, 1, 2, 3, 7)] == pytest.approx(
        [1.0, 1.25, 1.5, 1.8, 2.1, 2.1])


@pytest.mark.parametrize(("fields", "message"), [
    ({"co_runners": (2, 1), "slowdown": (1.2, 1.3)}, "increase"),
    ({"co_runners": (1, 2), "slowdown": (1.2,)}, "one factor per"),
    ({"co_runners": (1,), "slowdown": (0.8,)}, r"\[1, 100\)"),
    ({"co_runners": (0,), "slowdown": (1.1,)}, "increase from >= 1"),
])
def test_bad_measurements_are_refused(fields, message):
    with pytest.raises(ValidationError, match=message):
        Interference(**fields, **MEASURED)


def _world(tmp_path, interference: bool, after_idle: float = 1.0, cores: int = 1,
           measured: bool = True, **fields):
    extra = {"interference": _interference(after_idle, **fields)} if measured else {}
    prof = make_profile("one", [("v0", 0, 100.0, 0.5)], **extra)
    return write_world(tmp_path, {
        "duration_s": 1.0, "engine": {"interference": interference},
        "device": {"name": "dev", "memory_mb": 1000, "storage_read_mbps": 1e9, "cores": cores},
        "apps": [{"name": n, "family": "one", "fps": 2} for n in ("a", "b")],
        "events": [{"t": 0.0, "action": "launch", "app": n} for n in ("a", "b")]},
        {"one": prof})


HALVES = FixedScheduler({"a": ("v0", 0.5), "b": ("v0", 0.5)})


def test_off_by_default_frames_as_without_a_measurement(tmp_path):
    # 100 ms each at half a core: 200 ms, whatever the profile says about interference
    assert frames(simulate(_world(tmp_path, False), HALVES), "a") == [(0.0, 0.2), (0.5, 0.7)]


def test_co_run_slowdown_by_hand(tmp_path):
    # two jobs on one core: k = 2 / 1 - 1 = 1 co-runner, factor 1.5 -> 300 ms
    res = simulate(_world(tmp_path, True), HALVES)
    assert frames(res, "a") == [(0.0, 0.3), (0.5, 0.8)]
    # core seconds used, not profiled work: 2 frames x 0.1 s x 1.5
    assert res.work_done["a"] == pytest.approx(0.3)


def test_after_idle_slows_frames_the_device_waited_for(tmp_path):
    # the first frames start at once; the second ones wait 0.2 s for their frame: 100 ms x 1.2
    # of work at 1/3 core-speed -> 360 ms
    res = simulate(_world(tmp_path, True, after_idle=1.2), HALVES)
    got = [t for pair in frames(res, "a") for t in pair]
    assert got == pytest.approx([0.0, 0.3, 0.5, 0.86])


def test_no_co_runner_on_enough_cores(tmp_path):
    # two one-thread jobs on two cores: k = 2 / 2 - 1 = 0, nothing slows down
    res = simulate(_world(tmp_path, True, cores=2), HALVES)
    assert frames(res, "a") == [(0.0, 0.1), (0.5, 0.6)]


def test_interference_without_a_measurement_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match="engine.interference: .* no interference"):
        simulate(_world(tmp_path, True, measured=False), HALVES)



def test_a_variant_with_its_own_measurement_uses_it(tmp_path):
    # v0's own factors (1.6 at one co-runner, 1.5 after idle) replace the family's (1.5,
    # 1.2): 100 ms x 1.6 at half a core -> 320 ms; the second frame waits for its arrival,
    # then 100 ms x 1.5 x 1.6 at half a core -> 480 ms
    own = {"v0": VariantInterference(slowdown=(1.6, 2.5), after_idle=1.5)}
    res = simulate(_world(tmp_path, True, after_idle=1.2, per_variant=own), HALVES)
    got = [t for pair in frames(res, "a") for t in pair]
    assert got == pytest.approx([0.0, 0.32, 0.5, 0.98])
    f = _interference(per_variant=own).factor
    assert (f(0.5, "v0"), f(0.5, "other"), f(0.5)) == pytest.approx((1.3, 1.25, 1.25))


def test_per_variant_factors_are_checked():
    with pytest.raises(ValidationError, match="per_variant.v0.slowdown needs one factor"):
        _interference(per_variant={"v0": VariantInterference(slowdown=(2.0,))})
    with pytest.raises((ValidationError, ProfileError), match="unknown variants \\['zz'\\]"):
        make_profile("one", [("v0", 0, 100.0, 0.5)], interference=_interference(
            per_variant={"zz": VariantInterference(slowdown=(2.0, 2.5))}))


def test_extra_time_is_pooled_over_variants_as_the_median():
    from models.interference import pooled_extra_ms

    # (factors at k = 1, 2; after idle; alone seconds): extra ms = (factor - 1) x alone
    found = {"a": ([1.5, 2.0], 1.2, 0.001), "b": ([1.1, 1.2], 1.5, 0.004),
             "c": ([0.9, 1.0], 1.1, 0.010)}
    extra, idle = pooled_extra_ms(found)
    assert extra == pytest.approx([0.4, 0.8]) and idle == pytest.approx(1.0)

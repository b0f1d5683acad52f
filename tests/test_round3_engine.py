"""Correctness round 3 (engine side): accuracy of variants without outcomes, server
slowdown learnt from timeouts, radio time of cancelled transfers, the goal at arrival and
float ties at large times. Expected numbers are worked out by hand in each test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from synthetic import make_profile

from sim.profile import Outcomes, load_profile
from sim.routes import build_route, ranked_bits

ROOT = Path(__file__).resolve().parents[1]


def test_search_candidate_accuracy_is_its_top1_not_all_correct() -> None:
    prof = load_profile(ROOT / "profiles/cpu-1t/adaptivenet-resnet.json")
    assert prof.outcomes is not None and prof.pool is not None and prof.pool.search is not None
    n = prof.outcomes.samples
    for cand in prof.pool.search.candidates:
        assert cand.id not in prof.outcomes.correct
        route = build_route(prof, cand.id, None, None)
        # exactly round(top1 * n) of the n eval samples are right (cand-004: 1533 of 2250)
        assert sum(route.correct) == round(cand.val_top1 * n)
    cand4 = next(c for c in prof.pool.search.candidates if c.id == "cand-004")
    assert sum(build_route(prof, cand4.id, None, None).correct) == 1533


def test_ranked_bits_prefer_samples_the_measured_variants_answer() -> None:
    # ease per sample: a=1100, b=1000 -> (2, 1, 0, 0); a 50% variant gets samples 0 and 1
    prof = make_profile("f", [("a", 10, 1.0, 0.5), ("b", 20, 2.0, 0.25), ("c", 30, 3.0, 0.5)],
                        outcomes=Outcomes(samples=4, correct={"a": "1100", "b": "1000"}))
    assert ranked_bits(prof, "c", 0.5).tolist() == [True, True, False, False]
    assert ranked_bits(prof, "c", 0.25).tolist() == [True, False, False, False]
    assert ranked_bits(prof, "c", 1.0).all() and not ranked_bits(prof, "c", 0.0).any()
    route = build_route(prof, "c", None, None)
    assert route.correct == (True, True, False, False)
    # a variant with its own outcomes keeps them
    assert build_route(prof, "b", None, None).correct == (True, False, False, False)
    # deterministic: the same key gives the same tie-break
    assert np.array_equal(ranked_bits(prof, "x", 0.75), ranked_bits(prof, "x", 0.75))

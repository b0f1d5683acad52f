"""NestDNN schedulers: exact solvers against brute force and the ILP, the heuristic against
the exact optimum, hand-computed plans, floors, memory, eviction, priorities, switching."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from synthetic import MB, make_app, make_profile, make_view, random_view

from sim.bench.decisions import bench_decisions
from sim.schedulers import create_scheduler
from sim.schedulers.builtin.nestdnn.exact import solve_exact, solve_ilp
from sim.schedulers.builtin.nestdnn.greedy import solve_greedy
from sim.schedulers.builtin.nestdnn.problem import (
    build_problem,
    candidates,
    evaluate,
    is_feasible,
    load_bytes,
)

OBJECTIVES = ("mintotal", "minmax")
# s: 10 MB, 20 ms, 0.70; l: 30 MB, 50 ms, 0.90 (l is nested on s)
SMALL_LARGE = [("s", 10 * MB, 20.0, 0.70), ("l", 30 * MB, 50.0, 0.90)]


def brute_force(problem, objective):
    """Best (max, total) or (total,) over every (descendant, units) combination."""
    if not problem.apps:
        return (0.0,) if objective == "mintotal" else (0.0, 0.0)
    per_app = []
    for t in problem.apps:
        d, u = np.meshgrid(np.arange(len(t.variants)), np.arange(1, problem.units + 1))
        d, u = d.ravel(), u.ravel()
        per_app.append((t.cost[d, u - 1], t.memory[d].astype(float), u))
    n = len(per_app)
    shape = [len(c) for c, _, _ in per_app]
    total = np.zeros(shape)
    worst = np.full(shape, -np.inf)
    mem = np.zeros(shape)
    units = np.zeros(shape)
    for k, (c, m, u) in enumerate(per_app):
        idx = [None] * n
        idx[k] = slice(None)
        total = total + c[tuple(idx)]
        worst = np.maximum(worst, c[tuple(idx)])
        mem = mem + m[tuple(idx)]
        units = units + u[tuple(idx)]
    ok = (mem <= problem.memory_budget) & (units <= problem.units)
    assert ok.any()
    if objective == "mintotal":
        return (float(total[ok].min()),)
    best_max = worst[ok].min()
    return float(best_max), float(total[ok & (worst <= best_max + 1e-12)].min())


def key(problem, assignment, objective):
    worst, total = evaluate(problem, assignment)
    return (total,) if objective == "mintotal" else (worst, total)


def small_instance(seed):
    rng = np.random.default_rng(seed)
    view = random_view(rng, int(rng.integers(1, 4)))
    return build_problem(view, alpha=float(rng.uniform(0.2, 2.0)), share_step=0.25)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_exact_matches_brute_force(objective):
    for seed in range(60):
        problem = small_instance(seed)
        got = solve_exact(problem, objective)
        assert is_feasible(problem, got)
        assert key(problem, got, objective) == pytest.approx(brute_force(problem, objective))


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_exact_never_worse_than_greedy(objective):
    rng = np.random.default_rng(11)
    strictly_better = 0
    for _ in range(100):
        problem = build_problem(random_view(rng, int(rng.integers(1, 9))))
        exact, greedy = solve_exact(problem, objective), solve_greedy(problem, objective)
        assert is_feasible(problem, exact) and is_feasible(problem, greedy)
        e, g = key(problem, exact, objective)[0], key(problem, greedy, objective)[0]
        assert e <= g + 1e-9
        strictly_better += e < g - 1e-9
    assert strictly_better > 0  # the heuristic is not optimal everywhere


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_ilp_matches_exact(objective):
    for seed in range(100, 110):
        problem = build_problem(random_view(np.random.default_rng(seed), 3 + seed % 3))
        exact, ilp = solve_exact(problem, objective), solve_ilp(problem, objective)
        assert is_feasible(problem, ilp)
        assert key(problem, ilp, objective) == pytest.approx(key(problem, exact, objective))


def two_apps(priority_a=2.0, priority_b=1.0, **view_kw):
    prof = make_profile("fam", SMALL_LARGE)
    apps = [make_app("a", prof, priority=priority_a), make_app("b", prof, priority=priority_b)]
    return make_view(apps, memory_budget_bytes=45 * MB, **view_kw)


@pytest.mark.parametrize("name", ["nestdnn-mintotal", "nestdnn-minmax"])
@pytest.mark.parametrize("solver", ["exact", "ilp"])
def test_hand_computed_two_apps(name, solver):
    # Grid of quarters. s: 20 ms / u <= 100 ms goal at any u, cost 0.2 (accuracy loss).
    # l: 50 ms / u: 200 ms at u = 1/4 (cost 1.0), within goal from u = 1/2 (cost 0).
    # 45 MB fit one l (30) + one s (10). Weighted: a on l, b on s = 0 + 1 * 0.2;
    # the reverse = 2 * 0.2 + 0. a takes 2 units, b 1, the spare unit is split 2:1.
    plan = create_scheduler(name, solver=solver, share_step=0.25).decide(two_apps())
    assert plan.apps["a"].variant == "l" and plan.apps["b"].variant == "s"
    assert plan.apps["a"].share == pytest.approx(2 / 3)
    assert plan.apps["b"].share == pytest.approx(1 / 3)


@pytest.mark.parametrize("name", ["nestdnn-mintotal", "nestdnn-minmax"])
def test_hand_computed_greedy_escapes_single_step_local_optimum(name):
    # Same instance: both start on s with one unit (weighted costs 0.4 and 0.2); no single
    # model-only or compute-only move helps, but the combined move (a: l with more compute)
    # does, so the greedy reaches the exact plan.
    plan = create_scheduler(name, solver="greedy", share_step=0.25).decide(two_apps())
    exact = create_scheduler(name, solver="exact", share_step=0.25).decide(two_apps())
    assert plan.apps["a"].variant == "l" and plan == exact


def test_priority_moves_the_upgrade():
    sched = create_scheduler("nestdnn-mintotal", share_step=0.25)
    plan = sched.decide(two_apps(priority_a=1.0, priority_b=2.0))
    assert (plan.apps["a"].variant, plan.apps["b"].variant) == ("s", "l")


def test_low_capacity_prefers_small_model():
    # capacity 0.4: l needs 50 / (u 0.4) <= 100 ms -> u >= 1.25, impossible; at u = 1 its
    # cost is (125 - 100) / 100 = 0.25 > s's 0.2 (s: 20 / 0.4 = 50 ms, on time).
    prof = make_profile("fam", SMALL_LARGE)
    view = make_view([make_app("a", prof)], capacity=0.4)
    assert create_scheduler("nestdnn-mintotal").decide(view).apps["a"].variant == "s"
    view = make_view([make_app("a", prof)], capacity=1.0)
    assert create_scheduler("nestdnn-mintotal").decide(view).apps["a"].variant == "l"


def test_accuracy_floor_is_a_hard_filter():
    prof = make_profile("fam", SMALL_LARGE)
    assert [v.id for v in candidates(prof, 0.8)] == ["l"]
    assert [v.id for v in candidates(prof, 0.95)] == ["l"]  # none eligible: most accurate
    # capacity 0.4 would pick s (see above) but the floor forbids it
    view = make_view([make_app("a", prof, accuracy_floor=0.8)], capacity=0.4)
    for name in ("nestdnn-mintotal", "nestdnn-minmax"):
        for solver in ("exact", "greedy"):
            plan = create_scheduler(name, solver=solver).decide(view)
            assert plan.apps["a"].variant == "l"


@pytest.mark.parametrize("solver", ["exact", "greedy"])
def test_memory_budget_respected(solver):
    rng = np.random.default_rng(5)
    for _ in range(30):
        view = random_view(rng, int(rng.integers(2, 8)))
        plan = create_scheduler("nestdnn-mintotal", solver=solver).decide(view)
        used = 0
        for name, ap in plan.apps.items():
            v = view.app(name).profile.variant(ap.variant)
            used += v.weight_bytes + v.peak_activation_bytes
            assert (
                v.top1 >= view.app(name).accuracy_floor
                or len(candidates(view.app(name).profile, view.app(name).accuracy_floor)) == 1
            )
        assert used <= view.memory_budget_bytes
        assert sum(ap.share for ap in plan.apps.values()) == pytest.approx(1.0)


def test_eviction_order():
    prof = make_profile("fam", SMALL_LARGE)
    names = ["a", "b", "c"]
    # 25 MB hold two smallest models: equal priorities -> the latest name goes
    view = make_view([make_app(n, prof) for n in names], memory_budget_bytes=25 * MB)
    problem = build_problem(view)
    assert [t.name for t in problem.apps] == ["a", "b"] and problem.evicted == ("c",)
    # lowest priority goes first
    apps = [make_app(n, prof, priority=p) for n, p in zip(names, (2.0, 1.0, 3.0), strict=True)]
    problem = build_problem(make_view(apps, memory_budget_bytes=25 * MB))
    assert problem.evicted == ("b",)
    plan = create_scheduler("nestdnn-minmax").decide(make_view(apps, memory_budget_bytes=25 * MB))
    assert sorted(plan.apps) == ["a", "c"]
    # the grid: 3 apps cannot each get half the processor
    problem = build_problem(make_view([make_app(n, prof) for n in names]), share_step=0.5)
    assert problem.evicted == ("c",)
    # an app whose smallest model alone exceeds the budget goes first, whatever its priority
    big = make_profile("big", [("x", 40 * MB, 10.0, 0.9)])
    apps = [make_app("a", prof), make_app("z", big, priority=9.0)]
    assert build_problem(make_view(apps, memory_budget_bytes=25 * MB)).evicted == ("z",)


def test_minmax_and_mintotal_trade_off():
    rng = np.random.default_rng(3)
    differ = 0
    for _ in range(40):
        problem = build_problem(random_view(rng, int(rng.integers(2, 7))))
        tot = evaluate(problem, solve_exact(problem, "mintotal"))
        mm = evaluate(problem, solve_exact(problem, "minmax"))
        assert mm[0] <= tot[0] + 1e-9 and tot[1] <= mm[1] + 1e-9
        differ += mm[0] < tot[0] - 1e-9
    assert differ > 0


def test_load_bytes_and_switching_penalty():
    prof = make_profile("fam", SMALL_LARGE, independents=[("van", 30 * MB, 50.0, 0.9)])
    assert load_bytes(prof, "s", "l") == 20 * MB  # upgrade: the extra filters
    assert load_bytes(prof, "l", "s") == 0  # downgrade: drop filters
    assert load_bytes(prof, "s", "van") == 30 * MB  # whole independent model
    assert load_bytes(prof, None, "l") == 30 * MB  # first load: everything
    assert load_bytes(prof, "l", "l") == 0
    # running s; l gains 0.2 accuracy. Loading 20 MB at 10 MB/s = 2 s; over a 10 s
    # horizon beta = 2 charges 0.4 > 0.2: stay on s. beta = 0 (paper): switch.
    view = make_view([make_app("a", prof, current="s")], storage_read_bytes_per_s=10 * MB)
    assert create_scheduler("nestdnn-mintotal", beta=2.0).decide(view).apps["a"].variant == "s"
    assert create_scheduler("nestdnn-mintotal").decide(view).apps["a"].variant == "l"


def test_no_apps_and_bad_parameters():
    assert dict(create_scheduler("nestdnn-minmax").decide(make_view([])).apps) == {}
    prof = make_profile("fam", SMALL_LARGE)
    with pytest.raises(ValueError, match="latency_goal_ms"):
        build_problem(make_view([make_app("a", prof, latency_goal_ms=0.0)]))
    with pytest.raises(ValueError, match="share_step"):
        build_problem(make_view([]), share_step=0.0)


def test_grid_units_follow_share_step():
    prof = make_profile("fam", SMALL_LARGE)
    problem = build_problem(make_view([make_app("a", prof)]), share_step=0.05)
    assert problem.units == 20
    # every non-dominated option is distinct and the heuristic's start is among the options
    t = problem.apps[0]
    pairs = list(zip(t.opt_d.tolist(), t.opt_units.tolist(), strict=True))
    assert len(set(pairs)) == len(pairs)
    assert all(a < b for a, b in itertools.pairwise(pairs))


def test_agnostic_fixed_models_equal_shares():
    prof = make_profile(
        "fam",
        SMALL_LARGE,
        independents=[("van-s", 12 * MB, 22.0, 0.7), ("van", 32 * MB, 55.0, 0.9)],
    )
    plain = make_profile("plain", SMALL_LARGE)  # no independent models: all variants
    apps = [make_app("a", prof), make_app("b", plain), make_app("c", prof, priority=0.5)]
    sched = create_scheduler("agnostic")
    plan = sched.decide(make_view(apps))
    assert {n: p.variant for n, p in plan.apps.items()} == {"a": "van", "b": "l", "c": "van"}
    assert all(p.share == pytest.approx(1 / 3) for p in plan.apps.values())
    # resource-agnostic: load and goals do not change the model
    again = sched.decide(make_view(apps, capacity=0.1))
    assert {n: p.variant for n, p in again.apps.items()} == {"a": "van", "b": "l", "c": "van"}
    # 70 MB hold a (32) + b (30): c has the lowest priority and is paused
    tight = sched.decide(make_view(apps, memory_budget_bytes=70 * MB))
    assert sorted(tight.apps) == ["a", "b"] and tight.apps["a"].share == pytest.approx(0.5)
    small = create_scheduler("agnostic", model="smallest").decide(make_view(apps))
    assert {n: p.variant for n, p in small.apps.items()} == {"a": "van-s", "b": "s", "c": "van-s"}
    by_id = create_scheduler("agnostic", model="s").decide(make_view([make_app("b", plain)]))
    assert by_id.apps["b"] == by_id.apps["b"].__class__(variant="s", share=1.0)
    with pytest.raises(ValueError, match="no variant 'zz'"):
        create_scheduler("agnostic", model="zz").decide(make_view([make_app("b", plain)]))


def test_bench_rows():
    rows = bench_decisions(app_counts=(3,), trials=3, solvers=("exact", "greedy"))
    assert [(r["solver"], r["objective"]) for r in rows] == [
        ("exact", "mintotal"),
        ("greedy", "mintotal"),
        ("exact", "minmax"),
        ("greedy", "minmax"),
    ]
    for r in rows:
        assert r["apps"] == 3 and r["trials"] == 3 and 0 < r["median_ms"] <= r["p90_ms"]
        assert (r["mean_gap"] is None) == (r["solver"] == "exact")
        if r["mean_gap"] is not None:
            assert 0 <= r["mean_gap"] <= r["max_gap"]
    with pytest.raises(ValueError, match="unknown"):
        bench_decisions(app_counts=(2,), solvers=("simplex",))


@st.composite
def tiny_problems(draw):
    """1-3 apps, 1-3 nested descendants each, a quarter grid, any memory budget that fits
    the smallest models."""
    apps = []
    for k in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 3))
        sizes = sorted(draw(st.lists(st.integers(1, 40), min_size=n, max_size=n)))
        lats = sorted(draw(st.lists(st.floats(1, 200), min_size=n, max_size=n)))
        accs = sorted(draw(st.lists(st.floats(0.1, 0.99), min_size=n, max_size=n)))
        prof = make_profile(
            f"f{k}",
            [(f"d{i}", sizes[i] * MB, lats[i], accs[i]) for i in range(n)],
        )
        apps.append(
            make_app(
                f"a{k}",
                prof,
                latency_goal_ms=draw(st.floats(10, 150)),
                priority=draw(st.sampled_from([0.5, 1.0, 2.0])),
                accuracy_floor=draw(st.sampled_from([0.0, 0.5])),
            )
        )
    budget = draw(st.integers(1, 120)) * MB
    view = make_view(apps, memory_budget_bytes=budget, capacity=draw(st.floats(0.2, 1.0)))
    return build_problem(view, alpha=draw(st.floats(0.1, 3.0)), share_step=0.25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems(), st.sampled_from(OBJECTIVES))
def test_property_exact_optimal_and_below_greedy(problem, objective):
    exact, greedy = solve_exact(problem, objective), solve_greedy(problem, objective)
    assert is_feasible(problem, exact) and is_feasible(problem, greedy)
    assert key(problem, exact, objective) == pytest.approx(brute_force(problem, objective))
    assert key(problem, exact, objective)[0] <= key(problem, greedy, objective)[0] + 1e-9

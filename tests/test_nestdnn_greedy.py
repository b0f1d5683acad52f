"""NestDNN heuristic: compound moves escape the one-resource local optimum, the final plan
is locally optimal per app, it stays feasible and deterministic, and its gap to the exact
optimum stays small on random instances."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import MB, make_app, make_profile, make_view, random_view

from sim.schedulers.builtin.nestdnn.exact import solve_exact
from sim.schedulers.builtin.nestdnn.greedy import solve_greedy
from sim.schedulers.builtin.nestdnn.problem import build_problem, evaluate, is_feasible

OBJECTIVES = ("mintotal", "minmax")
# s: 10 MB, 20 ms, 0.70; l: 30 MB, 50 ms, 0.90 (l is nested on s)
SMALL_LARGE = [("s", 10 * MB, 20.0, 0.70), ("l", 30 * MB, 50.0, 0.90)]


def value(problem, assignment, objective):
    worst, total = evaluate(problem, assignment)
    return total if objective == "mintotal" else worst


def two_apps_problem():
    prof = make_profile("fam", SMALL_LARGE)
    apps = [make_app("a", prof, priority=2.0), make_app("b", prof, priority=1.0)]
    return build_problem(make_view(apps, memory_budget_bytes=45 * MB), share_step=0.25)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_compound_move_reaches_the_hand_computed_optimum(objective):
    # Quarter grid. Both start on s with one unit (weighted costs 0.4 and 0.2); more units
    # alone do not help s, and l with one unit costs 1.0 (x2 for a). The compound move
    # "l with 2 units" drops a's cost from 0.4 to 0 (50 ms / 0.5 = 100 ms, within the goal);
    # 45 MB leave b on s. Optimum: a = (l, 2 units), b = (s, 1 unit).
    problem = two_apps_problem()
    got = solve_greedy(problem, objective)
    assert got == ((1, 2), (0, 1))
    assert got == solve_exact(problem, objective)


def random_problems(seed, count, low, high):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield build_problem(random_view(rng, int(rng.integers(low, high + 1))))


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_feasible_deterministic_and_locally_optimal(objective):
    for problem in random_problems(3, 40, 1, 8):
        got = solve_greedy(problem, objective)
        assert is_feasible(problem, got) and len(got) == len(problem.apps)
        if not got:
            continue
        assert solve_greedy(problem, objective) == got
        used_units = sum(u for _, u in got)
        used_mem = sum(int(t.memory[d]) for t, (d, _) in zip(problem.apps, got, strict=True))
        costs = [float(t.cost[d, u - 1]) for t, (d, u) in zip(problem.apps, got, strict=True)]
        movers = range(len(got)) if objective == "mintotal" else [int(np.argmax(costs))]
        for k in movers:
            # App k alone cannot do better in what it holds plus what is free.
            t, (d, u) = problem.apps[k], got[k]
            room_u = problem.units - used_units + u
            room_m = problem.memory_budget - used_mem + int(t.memory[d])
            fits = (t.memory <= room_m)[:, None] & (np.arange(1, problem.units + 1) <= room_u)
            assert t.cost[fits].min() >= costs[k] - 1e-9


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_takes_no_unit_that_lowers_no_cost(objective):
    # One app, one model: 20 ms / (u / 4) is 80 ms (cost (80 - 50) / 50 = 0.6) with one
    # quarter and 40 ms (cost 0, within the 50 ms goal) with two; more units lower nothing.
    prof = make_profile("fam", [("s", 10 * MB, 20.0, 0.7)])
    view = make_view([make_app("a", prof, latency_goal_ms=50.0)])
    problem = build_problem(view, share_step=0.25)
    got = solve_greedy(problem, objective)
    assert got == ((0, 2),)
    assert evaluate(problem, got) == (0.0, 0.0)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_gap_to_exact_is_small(objective):
    gaps = []
    for problem in random_problems(17, 60, 2, 6):
        greedy, exact = solve_greedy(problem, objective), solve_exact(problem, objective)
        g, e = value(problem, greedy, objective), value(problem, exact, objective)
        assert e <= g + 1e-9
        gaps.append((g - e) / max(abs(e), 0.01))
    # Without the pair exchange (MinTotalCost) or the worst-app step (MinMaxCost) the mean
    # gap here is about 3% and 10%, with 14 and 7 of 60 instances off the optimum.
    assert np.mean(gaps) <= 0.015
    assert sum(gap > 1e-9 for gap in gaps) <= 5


def test_empty_and_bad_objective():
    problem = build_problem(make_view([]))
    assert solve_greedy(problem, "mintotal") == ()
    with pytest.raises(ValueError, match="objective"):
        solve_greedy(two_apps_problem(), "fastest")  # type: ignore[arg-type]

"""``mvsched bench`` counts SimPy events per processed frame (an event count, not a time)."""

from __future__ import annotations

import simpy

from sim.bench import SCENARIOS, bench_simulator, events_processed


def test_events_processed_counts_every_processed_event() -> None:
    env = simpy.Environment()
    steps = 0
    step = env.step

    def counted() -> None:  # the ground truth: a step processes one event, if one is queued
        nonlocal steps
        steps += bool(env._queue)
        step()

    env.step = counted  # type: ignore[method-assign]

    def proc(env: simpy.Environment):
        for _ in range(10):
            yield env.timeout(1.0)

    env.process(proc(env))
    env.run(until=4.5)
    assert events_processed(env) == steps == 6  # the start, 4 timeouts, the stop
    assert events_processed(env) == 6  # reading it twice counts nothing more
    env.run()
    assert events_processed(env) == steps


def test_a_one_core_scenario_needs_less_than_one_event_per_frame() -> None:
    row = bench_simulator(SCENARIOS / "validation" / "one_core_equal.yaml", "agnostic", 1)
    assert row["frames_processed"] > 1000
    assert row["events"] > 0 and row["events_per_processed_frame"] <= 0.75

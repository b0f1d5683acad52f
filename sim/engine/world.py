"""The SimPy world: apps on a shared device, a scheduler deciding, monitors watching.

The engine owns the truth (traces, processor, memory). The scheduler sees a
:class:`~sim.schedulers.base.SystemView` built from monitor estimates, returns a plan, and the
engine checks the plan before applying it (STYLE habit 3).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from itertools import groupby

import simpy

from sim.engine.app import AppRuntime
from sim.engine.monitors import Monitors
from sim.engine.processor import SharedProcessor
from sim.inputs import ROLE_APPS, RunInputs, TimedEvent, rng_for
from sim.schedulers.base import AppPlan, AppView, Plan, Scheduler, SpinnGoals, SystemView

__all__ = ["EngineResult", "PlanError", "Simulation"]


class PlanError(RuntimeError):
    """A scheduler broke its contract; names the scheduler, the time and the bad value."""


@dataclass
class EngineResult:
    """Raw outcome of one run; :mod:`sim.metrics` turns it into metrics and files."""

    inputs: RunInputs
    scheduler: str
    apps: dict[str, AppRuntime]
    work_done: dict[str, float]
    busy_time: float
    duration_s: float
    decision_wall_s: list[float] = field(default_factory=list)
    decision_apps: list[tuple[str, ...]] = field(default_factory=list)
    timeline: list[tuple[float, str, str, float, str]] = field(default_factory=list)
    refused: int = 0
    peak_memory_bytes: int = 0


class Simulation:
    """One scenario under one scheduler."""

    def __init__(self, inputs: RunInputs, scheduler: Scheduler, label: str | None = None) -> None:
        sc = inputs.scenario
        self.inputs = inputs
        self.scheduler = scheduler
        self.label = label or scheduler.name
        self.env = simpy.Environment()
        self.processor = SharedProcessor(self.env, inputs.load, sc.engine.work_conserving)
        self.monitors = Monitors(inputs.load, sc.monitor.ewma, sc.monitor.period_s, sc.monitor.oracle)
        self.memory_budget = int(sc.device.memory_mb * 1e6)
        self.storage_bps = sc.device.storage_read_mbps * 1e6
        self.apps: dict[str, AppRuntime] = {}
        for i, spec in enumerate(sc.apps):
            self.apps[spec.name] = AppRuntime(
                self.env, spec, inputs.profiles[spec.family], self.processor,
                rng_for(sc.seed, ROLE_APPS + i), self.storage_bps, sc.engine.queue_length,
                self._on_frame,
            )
        self.plan: dict[str, AppPlan] = {}
        self.result = EngineResult(inputs, self.label, self.apps, {}, 0.0, sc.duration_s)
        self._cap_at_decision = self.monitors.capacity_est
        self._ratio_at_decision: dict[str, float] = {}

    # -- running -----------------------------------------------------------------------------
    def run(self) -> EngineResult:
        sc = self.inputs.scenario
        self.env.process(self._event_loop())
        self.env.process(self._monitor_loop())
        if sc.monitor.decision_period_s is not None:
            self.env.process(self._periodic_loop(sc.monitor.decision_period_s))
        self.env.run(until=sc.duration_s)
        for app in self.apps.values():
            app.exit()
        self.processor.sync()
        r = self.result
        r.work_done = dict(self.processor.work_done)
        r.busy_time = self.processor.busy_time
        return r

    def _event_loop(self):
        for t, group in groupby(self.inputs.events, key=lambda e: e.t):
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            reasons = [self._apply_event(e) for e in group]
            reasons = [r for r in reasons if r]
            if reasons and any(a.running for a in self.apps.values()):
                self._decide("; ".join(reasons))

    def _apply_event(self, e: TimedEvent) -> str | None:
        app = self.apps[e.app]
        if e.action == "launch":
            if app.running:
                return None
            app.launch()
            self._record(app.spec.name, "", 0.0, "launch")
            return f"launch {e.app}"
        if e.action == "exit":
            if not app.running:
                return None
            app.exit()
            self.processor.forget(e.app)
            self.monitors.forget(e.app)
            self.plan.pop(e.app, None)
            self._record(e.app, "", 0.0, "exit")
            return f"exit {e.app}"
        if e.action == "priority":
            app.priority = float(e.value or 1.0)
            return f"priority {e.app}={e.value:g}" if app.running else None
        app.goal_ms = float(e.value or app.goal_ms)
        return f"goal {e.app}={e.value:g}ms" if app.running else None

    def _monitor_loop(self):
        sc = self.inputs.scenario
        period, thr = sc.monitor.period_s, sc.monitor.drift_threshold
        while True:
            yield self.env.timeout(period)
            self.monitors.sample_load(self.env.now)
            if not any(a.running for a in self.apps.values()):
                continue
            cap = self.monitors.capacity(self.env.now)
            ref = max(self._cap_at_decision, 1e-9)
            if abs(cap - self._cap_at_decision) / ref > thr:
                self._decide(f"drift: capacity {self._cap_at_decision:.2f}->{cap:.2f}")
                continue
            if not sc.monitor.latency_drift:
                continue
            for name, ratio in sorted(self.monitors.latency_ratio.items()):
                base = self._ratio_at_decision.get(name)
                if base is not None and abs(ratio - base) / max(base, 1e-9) > thr:
                    self._decide(f"drift: latency {name} x{base:.2f}->x{ratio:.2f}")
                    break

    def _periodic_loop(self, period: float):
        while True:
            yield self.env.timeout(period)
            if any(a.running for a in self.apps.values()):
                self._decide("periodic")

    # -- decisions ---------------------------------------------------------------------------
    def _view(self, reason: str) -> SystemView:
        now = self.env.now
        views = []
        for app in self.apps.values():
            if not app.running:
                continue
            s = app.spec
            goals = None
            if s.spinn is not None:
                goals = SpinnGoals(tuple(s.spinn.constraints), tuple(s.spinn.objectives))
            views.append(AppView(
                name=s.name, family=s.family, profile=app.profile, fps=s.fps,
                latency_goal_ms=app.goal_ms, accuracy_floor=s.accuracy_floor,
                priority=app.priority, current=self.plan.get(s.name),
                latency_ratio=self.monitors.latency_ratio.get(s.name, 1.0),
                observed_latency_ms=self.monitors.latency_ms.get(s.name),
                server_profile=self.inputs.server_profiles.get(s.family), spinn=goals,
            ))
        return SystemView(
            time_s=now, reason=reason, apps=tuple(views),
            capacity=self.monitors.capacity(now), memory_budget_bytes=self.memory_budget,
            storage_read_bytes_per_s=self.storage_bps, oracle=self.monitors.oracle,
        )

    def _decide(self, reason: str) -> None:
        view = self._view(reason)
        t0 = time.perf_counter()
        plan = self.scheduler.decide(view)
        self.result.decision_wall_s.append(time.perf_counter() - t0)
        self.result.decision_apps.append(tuple(a.name for a in view.apps))
        self._cap_at_decision = view.capacity
        self._ratio_at_decision = dict(self.monitors.latency_ratio)
        memory = self._check(plan, view)
        if memory > self.memory_budget:
            self.result.refused += 1
            self._record("*", "", 0.0, f"refused: plan needs {memory / 1e6:.1f} MB > "
                         f"{self.memory_budget / 1e6:.1f} MB ({reason})")
            return
        self.result.peak_memory_bytes = max(self.result.peak_memory_bytes, memory)
        for name, app in self.apps.items():
            if not app.running:
                continue
            new = plan.apps.get(name)
            old = self.plan.get(name)
            if new == old:
                continue
            if new is None:
                app.apply(None, 0.0)
                self.plan.pop(name, None)
                self._record(name, "", 0.0, f"paused ({reason})")
            else:
                app.apply(new.variant, new.share)
                self.plan[name] = new
                self._record(name, new.variant, new.share, reason)

    def _check(self, plan: Plan, view: SystemView) -> int:
        """Contract checks; returns the plan's memory need in bytes."""
        who = f"scheduler {self.label!r} at t={view.time_s:.3f}s"
        if not isinstance(plan, Plan):
            raise PlanError(f"{who}: decide() returned {type(plan).__name__}, expected Plan")
        running = {a.name: a for a in view.apps}
        total_share, memory = 0.0, 0
        for name, ap in plan.apps.items():
            if name not in running:
                raise PlanError(f"{who}: plan names {name!r}, which is not running")
            prof = running[name].profile
            try:
                v = prof.variant(ap.variant)
            except KeyError:
                raise PlanError(f"{who}: app {name!r}: unknown variant {ap.variant!r}") from None
            if not (0.0 < ap.share <= 1.0 + 1e-9) or math.isnan(ap.share):
                raise PlanError(f"{who}: app {name!r}: share {ap.share} not in (0, 1]")
            total_share += ap.share
            memory += v.weight_bytes + v.peak_activation_bytes
        if total_share > 1.0 + 1e-6:
            raise PlanError(f"{who}: shares sum to {total_share:.6f} > 1")
        return memory

    # -- callbacks ---------------------------------------------------------------------------
    def _on_frame(self, app: AppRuntime, latency_s: float, work_s: float) -> None:
        cap = self.monitors.capacity(self.env.now)
        share = max(app.share, 1e-9)
        self.monitors.observe_frame(app.spec.name, latency_s, work_s / (share * max(cap, 1e-9)))

    def _record(self, app: str, variant: str, share: float, reason: str) -> None:
        self.result.timeline.append((self.env.now, app, variant, share, reason))

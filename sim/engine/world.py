"""The SimPy world: apps on a shared device, a link and a server, a scheduler deciding,
monitors watching.

The engine owns the truth (traces, resources, memory). The scheduler sees a
:class:`~sim.schedulers.base.SystemView` built from monitor estimates, returns a plan, and the
engine checks the plan before applying it (STYLE habit 3).

Order of events at one instant (SimPy priorities): resource completions, frame arrivals and
propagation first; then offload deadlines (an answer arriving exactly at its deadline counts);
then timed scenario events (launch, exit, priority, goal), in the order exit, priority, goal,
launch; then monitor samples; then periodic decisions and scheduler wake-ups. So a frame that
completes at the instant its app exits counts as processed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby

import simpy

from sim.config.inputs import RunInputs, TimedEvent, app_rng, latency_rng
from sim.engine.app import AppRuntime
from sim.engine.context import P_DEADLINE, EngineContext
from sim.engine.latency import WorkDraw
from sim.engine.link import Link
from sim.engine.monitors import Monitors
from sim.engine.multicore import MultiCoreProcessor
from sim.engine.processor import SharedProcessor, at
from sim.engine.records import Decision
from sim.engine.server import Server
from sim.profile.routes import Route, build_route
from sim.schedulers.base import AppPlan, AppView, Plan, Scheduler, SpinnGoals, SystemView
from sim.schedulers.contract import PlanContractError, check_plan, fits_memory

__all__ = ["EngineResult", "PlanError", "Simulation"]

P_EVENT, P_MONITOR, P_PERIODIC = 3, 4, 5
PROGRESS_STEPS = 100


class PlanError(RuntimeError):
    """A scheduler broke its contract; names the scheduler, the time and the bad value."""


@dataclass
class EngineResult:
    """Raw outcome of one run; :mod:`sim.results.metrics` turns it into metrics and files."""

    inputs: RunInputs
    scheduler: str
    apps: dict[str, AppRuntime]
    work_done: dict[str, float]
    busy_time: float
    duration_s: float
    server_work: dict[str, float] = field(default_factory=dict)
    link_busy_s: float = 0.0
    decision_wall_s: list[float] = field(default_factory=list)
    decision_apps: list[tuple[str, ...]] = field(default_factory=list)
    timeline: list[Decision] = field(default_factory=list)
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
        env = self.env
        self.device: SharedProcessor | MultiCoreProcessor
        if sc.device.cores == 1 and not sc.engine.interference:
            self.device = SharedProcessor(env, inputs.load.complement(), sc.engine.work_conserving)
        else:
            self.device = MultiCoreProcessor(env, inputs.load.complement(), sc.device.cores,
                                             sc.engine.work_conserving)
            for spec in sc.apps:
                prof = inputs.profiles[spec.family]
                self.device.set_demand(spec.name, prof.device.threads or 1)
        self.monitors = Monitors(inputs.load, sc.monitor.ewma, sc.monitor.period_s,
                                 sc.monitor.oracle)
        self.link: Link | None = None
        self.server: Server | None = None
        if sc.network is not None and sc.server is not None:
            assert inputs.bandwidth is not None and inputs.server_load is not None
            self.link = Link(env, inputs.bandwidth, list(sc.network.outages), sc.network.rtt_ms)
            self.server = Server(env, inputs.server_load, list(sc.server.down))
            self.monitors.start_link(self.link.bandwidth_mbps.value_at(0.0), sc.network.rtt_ms,
                                     self.link.radio_up(0.0) and self.server.up(0.0),
                                     self.server.capacity_now.value_at(0.0))
            if sc.monitor.oracle:
                self.monitors.true_bandwidth = self.link.bandwidth_mbps
                self.monitors.true_server = self.server.capacity_now
        self.memory_budget = int(min(sc.device.memory_mb * 1e6, 2**62))
        self.storage_bps = sc.device.storage_read_mbps * 1e6
        ctx = EngineContext(
            env=env, device=self.device, link=self.link, server=self.server,
            monitors=self.monitors, storage_bytes_per_s=self.storage_bps,
            queue_length=sc.engine.queue_length, pipelined=sc.engine.pipelined,
            timeout_factor=sc.network.timeout_factor if sc.network is not None else 2.0,
            interference=sc.engine.interference,
            on_link_trouble=self._link_trouble,
        )
        self.apps: dict[str, AppRuntime] = {
            spec.name: AppRuntime(
                ctx, spec, inputs.profiles[spec.family], app_rng(sc.seed, spec.name),
                WorkDraw(inputs.profiles[spec.family], latency_rng(sc.seed, spec.name))
                if sc.engine.latency == "measured" else None)
            for spec in sc.apps
        }
        self.plan: dict[str, AppPlan] = {}
        self.notes: dict[str, str] = {}
        self.result = EngineResult(inputs, self.label, self.apps, {}, 0.0, sc.duration_s)
        self._routes: dict[tuple[str, str, str | None, float | None], Route] = {}
        self._at_decision: dict[str, float] = {}
        self._ratio_at_decision: dict[str, float] = {}
        self._wake_version = 0
        self._trouble_pending = False

    # -- running -----------------------------------------------------------------------------
    def run(self, progress: Callable[[float], None] | None = None) -> EngineResult:
        """Simulate the whole scenario. ``progress(now_s)`` is called at every percent of
        simulated time (the run is cut into 100 stretches; events keep their order, since
        the stops are SimPy's urgent events, before any of ours at that instant)."""
        sc = self.inputs.scenario
        env = self.env
        groups = [(t, list(g)) for t, g in groupby(self.inputs.events, key=lambda e: e.t)]
        self._schedule_events(groups, 0)
        at(env, sc.monitor.period_s, self._monitor_tick, P_MONITOR)
        if sc.monitor.decision_period_s is not None:
            at(env, sc.monitor.decision_period_s, self._periodic_tick, P_PERIODIC)
        if progress is None:
            env.run(until=sc.duration_s)
        else:
            for k in range(1, PROGRESS_STEPS + 1):
                env.run(until=sc.duration_s * k / PROGRESS_STEPS)
                progress(env.now)
        for app in self.apps.values():
            app.exit()
        r = self.result
        r.work_done = self.device.work_done()
        r.busy_time = self.device.busy_time
        if self.server is not None and self.link is not None:
            r.server_work = self.server.work_done()
            r.link_busy_s = self.link.busy_time
        return r

    def _schedule_events(self, groups: list[tuple[float, list[TimedEvent]]], i: int) -> None:
        if i >= len(groups):
            return
        t, group = groups[i]

        def fire(_e: object) -> None:
            reasons = [r for r in (self._apply_event(e) for e in group) if r]
            if reasons and self._any_running():
                self._decide("; ".join(reasons))
            self._schedule_events(groups, i + 1)

        at(self.env, max(0.0, t - self.env.now), fire, P_EVENT)

    def _any_running(self) -> bool:
        return any(a.running for a in self.apps.values())

    def _apply_event(self, e: TimedEvent) -> str | None:
        app = self.apps[e.app]
        if e.action == "launch":
            if app.running:
                return None
            app.launch()
            self._record(app.name, "", 0.0, None, None, "launch")
            return f"launch {e.app}"
        if e.action == "exit":
            if not app.running:
                return None
            app.exit()
            self.monitors.forget(e.app)
            self.plan.pop(e.app, None)
            self.notes.pop(e.app, None)
            self._record(e.app, "", 0.0, None, None, "exit")
            return f"exit {e.app}"
        assert e.value is not None  # validated: priority and goal events carry a value
        if e.action == "priority":
            app.priority = float(e.value)
            return f"priority {e.app}={e.value:g}" if app.running else None
        app.set_goal(float(e.value))
        return f"goal {e.app}={e.value:g}ms" if app.running else None

    def _monitor_tick(self, _e: object) -> None:
        sc = self.inputs.scenario
        now = self.env.now
        at(self.env, sc.monitor.period_s, self._monitor_tick, P_MONITOR)
        mon = self.monitors
        mon.sample_load(now)
        reason = self._probe(now)
        if not self._any_running():
            return
        if reason is None:
            reason = self._drift()
        if reason is not None:
            self._decide(reason)

    def _probe(self, now: float) -> str | None:
        """The radio's state is known; an unreachable server is probed once per period."""
        link, server, mon = self.link, self.server, self.monitors
        if link is None or server is None:
            return None
        radio = link.radio_up(now)
        if mon.link_up and not radio:
            mon.link_up = False
            return "link lost"
        if radio:
            mon.probe_server(server.capacity_now.value_at(now))
        if not mon.link_up and radio and server.up(now):
            mon.link_up = True
            if not mon.bandwidth_mbps:  # never measured a live link: the probe measures it
                mon.bandwidth_mbps = link.bandwidth_mbps.value_at(now)
            return "link restored"
        return None

    def _drift(self) -> str | None:
        """A relative change past ``drift_threshold`` in an estimate since the last decision."""
        sc = self.inputs.scenario
        thr = sc.monitor.drift_threshold
        for key, now_value in self._estimates().items():
            ref = self._at_decision.get(key)
            if ref is None:
                continue
            if abs(now_value - ref) / max(abs(ref), 1e-9) > thr:
                return f"drift: {key} {ref:.3g}->{now_value:.3g}"
        if sc.monitor.latency_drift:
            for name, ratio in sorted(self.monitors.latency_ratios().items()):
                base = self._ratio_at_decision.get(name)
                if base is not None and abs(ratio - base) / max(base, 1e-9) > thr:
                    return f"drift: latency {name} x{base:.2f}->x{ratio:.2f}"
        return None

    def _estimates(self) -> dict[str, float]:
        now = self.env.now
        out = {"capacity": self.monitors.capacity(now)}
        if self.link is not None:
            view = self._network_view(now)
            out["bandwidth"] = view[0] or 0.0
            out["server"] = view[2] or 0.0
        return out

    def _periodic_tick(self, _e: object) -> None:
        period = self.inputs.scenario.monitor.decision_period_s
        assert period is not None
        at(self.env, period, self._periodic_tick, P_PERIODIC)
        if self._any_running():
            self._decide("periodic")

    def _link_trouble(self, app: str, what: str) -> None:
        """An app's offload timed out or met a dead link: the scheduler is told at once."""
        mon = self.monitors
        if not mon.link_up:
            return
        mon.link_up = False
        if self._trouble_pending:
            return
        self._trouble_pending = True

        def tell(_e: object) -> None:
            self._trouble_pending = False
            if self._any_running():
                self._decide(f"{what} ({app})")

        at(self.env, 0.0, tell, P_DEADLINE)

    # -- decisions ---------------------------------------------------------------------------
    def _network_view(self, now: float) -> tuple[float | None, float | None, float | None, bool]:
        link, server, mon = self.link, self.server, self.monitors
        if link is None or server is None:
            return None, None, None, True
        if mon.oracle:
            up = link.radio_up(now) and server.up(now)
            return (link.bandwidth_mbps.value_at(now), link.rtt_s * 1000.0,
                    server.capacity_now.value_at(now), up)
        return mon.bandwidth_mbps, mon.rtt_ms, mon.server_capacity, mon.link_up

    def _view(self, reason: str) -> SystemView:
        now = self.env.now
        sc = self.inputs.scenario
        mon = self.monitors
        views = []
        for app in self.apps.values():
            if not app.running:
                continue
            s = app.spec
            est = mon.app(s.name)
            goals = None
            if s.spinn is not None:
                goals = SpinnGoals(tuple(s.spinn.constraints), tuple(s.spinn.objectives))
            views.append(AppView(
                name=s.name, family=s.family, profile=app.profile, fps=s.fps,
                latency_goal_ms=app.goal_ms, accuracy_floor=s.accuracy_floor,
                priority=app.priority, current=self.plan.get(s.name),
                latency_ratio=est.latency_ratio if est.latency_ratio is not None else 1.0,
                observed_latency_ms=est.latency_ms,
                server_profile=self.inputs.server_profiles.get(s.family), spinn=goals,
                device_slowdown=est.device_slowdown,
                upload_bytes=float(s.upload_bytes) if s.upload_bytes is not None else None,
            ))
        bw, rtt, srv, up = self._network_view(now)
        return SystemView(
            time_s=now, reason=reason, apps=tuple(views),
            capacity=mon.capacity(now), memory_budget_bytes=self.memory_budget,
            storage_read_bytes_per_s=self.storage_bps, bandwidth_mbps=bw, rtt_ms=rtt,
            server_capacity=srv, link_up=up, oracle=mon.oracle, power=sc.device.power,
            pipelined=sc.engine.pipelined,
        )

    def _decide(self, reason: str) -> None:
        view = self._view(reason)
        t0 = time.perf_counter()
        plan = self.scheduler.decide(view)
        self.result.decision_wall_s.append(time.perf_counter() - t0)
        self.result.decision_apps.append(tuple(a.name for a in view.apps))
        self._at_decision = self._estimates()
        self._ratio_at_decision = self.monitors.latency_ratios()
        memory = self._check(plan, view)
        self._wake(plan, view)
        if not fits_memory(memory, self.memory_budget):
            self.result.refused += 1
            self._record("*", "", 0.0, None, None,
                         f"refused: plan needs {memory / 1e6:.1f} MB > "
                         f"{self.memory_budget / 1e6:.1f} MB ({reason})")
            return
        self.result.peak_memory_bytes = max(self.result.peak_memory_bytes, memory)
        for name, app in self.apps.items():
            if not app.running:
                continue
            new = plan.apps.get(name)
            old = self.plan.get(name)
            note = plan.notes.get(name)
            if new == old and note == self.notes.get(name):
                continue
            why = reason if note is None else f"{reason}; {note}"
            if note is None:
                self.notes.pop(name, None)
            else:
                self.notes[name] = note
            if new is None:
                if old is not None:
                    app.apply(None, 0.0, None)
                    self.plan.pop(name, None)
                self._record(name, "", 0.0, None, None, f"paused ({why})")
                continue
            if new != old:
                route = self._route(app, new)
                app.apply(new.variant, new.share, route, new.local_fallback)
                self.plan[name] = new
            self._record(name, new.variant, new.share, new.split, new.threshold, why)

    def _wake(self, plan: Plan, view: SystemView) -> None:
        self._wake_version += 1
        if plan.wake_at_s is None:
            return
        version = self._wake_version
        delay = plan.wake_at_s - view.time_s

        def wake(_e: object) -> None:
            if version == self._wake_version and self._any_running():
                self._decide("scheduler wake-up")

        at(self.env, delay, wake, P_PERIODIC)

    def _route(self, app: AppRuntime, entry: AppPlan) -> Route:
        key = (app.name, entry.variant, entry.split, entry.threshold)
        route = self._routes.get(key)
        if route is None:
            route = build_route(
                app.profile, entry.variant, entry.split, entry.threshold,
                self.inputs.server_profiles.get(app.spec.family) if self.server else None,
                app.spec.upload_bytes,
            )
            self._routes[key] = route
        return route

    def _check(self, plan: Plan, view: SystemView) -> int:
        """The plan contract (:func:`sim.schedulers.contract.check_plan`, routes from this
        run's cache); returns the plan's memory need in bytes."""
        try:
            return check_plan(plan, view, lambda app, entry: self._route(self.apps[app.name],
                                                                          entry))
        except PlanContractError as exc:
            raise PlanError(f"scheduler {self.label!r} at t={view.time_s:.3f}s: {exc}") from None

    def _record(self, app: str, variant: str, share: float, split: str | None,
                threshold: float | None, reason: str) -> None:
        self.result.timeline.append(
            Decision(t_s=self.env.now, app=app, variant=variant, share=share, split=split,
                     threshold=threshold, reason=reason))

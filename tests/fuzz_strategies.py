"""Generated scenarios for the fuzz kit, and the invariants every finished run must keep.

The generated family builds scenarios from scratch (the format of scenarios/README.md, the
shipped profiles in profiles/) that are structurally valid but adversarial: extreme scalars
(subnormals, values near the float limits, exact powers of two), many events at one instant
(t=0, the end of the run, a late instant), tiny periods and steps, many apps at once,
constraint sets nothing meets, every registered scheduler with every profile kind it
accepts, and values moved onto the bounds validation names (at-bounds). A chooser
(``random.Random`` or the fuzz kit's hypothesis ``DrawChooser``: only ``choice``, ``random``
and ``randrange`` are used) makes every decision.

:func:`check_facts` checks a finished run (:func:`facts_of` reads one) beyond finite metrics:
each camera frame recorded once (done, dropped or failed), every arrival inside its app's
active interval and on its camera's grid, as many frames as the camera gave, finish after
arrival and before the end, metrics finite (a NaN turns into a null in metrics.json),
energy not negative and summing up, device time within the run and summing up, active time
as the events give it, per-app fps within the camera rate, frame goals finite and positive,
the apps' radio time summing to the link's busy time.
"""

from __future__ import annotations

import bisect
import copy
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "profiles"
LATE_T = 20_000.0
"""A large instant: runs this long only start their apps near the end (wall time bounded)."""
MAX_DURATION_S = 30 * 86400.0
MAX_APPS = 1000

SUBNORMAL = (5e-324, 1e-310)
HUGE = (1e300, 1e308, 1.7e308, 1.7976931348623157e308)
EXTREMES: tuple[float, ...] = (
    *SUBNORMAL, 2.2250738585072014e-308, 1e-300, 2.0**-1074, 2.0**-52, 2.0**-20, 1e-9,
    0.5, 1.0, 2.0, 2.0**20, 2.0**53, 1e12, *HUGE,
)
"""Valid-looking floats at the edges of what a double holds."""
TINY = (5e-324, 1e-310, 1e-300, 2.0**-40, 1e-9, 2.0**-20, 1e-4, 2.0**-10)
"""Tiny periods and steps."""
SMALL = (1e-3, 2.0**-9, 0.01, 1 / 30)
"""Small periods and steps a run should still step through."""


# -- the shipped profiles ----------------------------------------------------------------
@dataclass(frozen=True)
class Model:
    """One shipped profile as the generator needs it."""

    device: str
    family: str
    kind: str
    threads: int
    min_bytes: int
    max_bytes: int
    top1: float
    servers: tuple[str, ...]
    """other device folders with this family's profile (usable as ``server.name``)"""
    interference: bool
    """the profile carries an interference measurement (``engine.interference``)"""


@lru_cache(maxsize=1)
def catalog() -> tuple[Model, ...]:
    """Every shipped profile whose variants all have sizes (the others cannot run)."""
    import warnings

    from sim.config.inputs import server_mismatch
    from sim.profile import ProfileError, load_profile

    loaded = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in sorted(PROFILES.glob("*/*.json")):
            try:
                prof = load_profile(p)
            except ProfileError:
                continue
            if any(v.weight_bytes is None for v in prof.variants):
                continue
            loaded[p.parent.name, p.stem] = prof
    out = []
    for (dev, fam), prof in loaded.items():
        sizes = [v.known_weight_bytes() + v.peak_activation_bytes for v in prof.variants]
        top1 = max((v.top1 for v in prof.variants if v.top1 is not None), default=1.0)
        servers = tuple(d for (d, f), p in loaded.items() if f == fam and d != dev
                        and server_mismatch(prof, p) is None)
        out.append(Model(dev, fam, prof.kind, prof.device.threads or 1, min(sizes), max(sizes),
                         float(top1), servers, prof.interference is not None))
    return tuple(out)


def scheduler_table() -> dict[str, tuple[frozenset[str] | None, bool]]:
    """Registered scheduler name -> (profile kinds it runs or None for any, needs a server)."""
    from sim.schedulers.registry import get_scheduler, list_schedulers

    return {n: (get_scheduler(n).kinds, get_scheduler(n).needs_server) for n in list_schedulers()}


def _runnable(name: str) -> list[Model]:
    kinds, server = scheduler_table()[name]
    return [m for m in catalog() if (kinds is None or m.kind in kinds)
            and (not server or m.servers)]


PARAM_VALUES: dict[str, tuple[Any, ...]] = {
    "alpha": (5e-324, 1e-300, 2.0**-20, 1.0, 1e308, 1.7976931348623157e308),
    "solver": ("exact", "greedy", "ilp"),
    "share_step": (1.0, 0.5, 2.0**-10, 1e-3, 1e-6, 1e-300, 5e-324),
    "beta": (0.0, 5e-324, 1.0, 1e308),
    "horizon_s": (5e-324, 1e-300, 1e-3, 1e308),
    "observed_latency": (False, True),
    "model": ("largest", "smallest", "fastest"),
    "epsilon_ms": (0.0, 5e-324, 1e308, 1.7976931348623157e308),
    "research_after_s": (0.0, 5e-324, 1e-3, 1e308),
    "monitor_period_s": (5e-324, 1e-300, 1e-4, 2.0**-10, 1e308),
    "threshold": (None, 0.0, 5e-324, 0.5, 1.0),
    "thresholds": ([None], [0.0], [1.0], [5e-324], [None, 1.0], [k / 64 for k in range(65)]),
    "tolerance": (0.0, 5e-324, 0.5, 1 - 2.0**-53),
    "offload": (False, True),
    "objective": ("latency_ms", "energy_mj"),
    "local_fallback": (False, True),
}
"""Values to try for each scheduler parameter (edges of their documented ranges)."""
TINY_PARAMS = ("share_step", "monitor_period_s", "research_after_s", "horizon_s")


MODERATE_PARAMS: dict[str, tuple[Any, ...]] = {
    "alpha": (0.5, 1.0, 4.0), "solver": ("exact", "greedy", "ilp"),
    "share_step": (1.0, 0.5, 0.1, 0.05, 0.02), "beta": (0.0, 0.5), "horizon_s": (1.0, 10.0),
    "observed_latency": (False, True), "model": ("largest", "smallest", "fastest"),
    "epsilon_ms": (0.0, 1.0, 5.0), "research_after_s": (0.0, 1.0, 5.0),
    "monitor_period_s": (0.5, 1.0), "threshold": (None, 0.0, 0.5, 1.0),
    "thresholds": ([None], [None, 0.5, 1.0], [0.0, 1.0]), "tolerance": (0.0, 0.01, 0.5),
    "offload": (False, True), "objective": ("latency_ms", "energy_mj"),
    "local_fallback": (False, True),
}
"""Ordinary values of each scheduler parameter."""
UNBOUNDED = {"share_step": 1e-3, "monitor_period_s": 1e-4}
"""Parameters whose run time grows as 1 / value, and the smallest value the strategies
other than tiny-periods use (so that one case is one bounded run, not a hang)."""


def _params(rng: Any, name: str, chance: float, pool: dict[str, tuple[Any, ...]] = PARAM_VALUES
            ) -> dict[str, Any]:
    """Some of a scheduler's parameters (each with ``chance``) set to values of ``pool``
    (edge values by default), none of them below :data:`UNBOUNDED` (tiny_periods goes
    below)."""
    from sim.schedulers.params import describe
    from sim.schedulers.registry import get_scheduler

    out = {}
    for p in describe(get_scheduler(name)):
        if p.name in pool and rng.random() < chance:
            values = [v for v in pool[p.name] if p.name not in UNBOUNDED
                      or v >= UNBOUNDED[p.name]]
            out[p.name] = rng.choice(values)
    return out


# -- building blocks -----------------------------------------------------------------------
def _shuffle(rng: Any, items: list[Any]) -> list[Any]:
    items = list(items)
    for i in range(len(items) - 1, 0, -1):
        j = rng.randrange(i + 1)
        items[i], items[j] = items[j], items[i]
    return items


def _server_network(raw: dict[str, Any], server: str) -> None:
    raw["server"] = {"name": server, "load": 0.0}
    raw["network"] = {"bandwidth_mbps": 10.0, "rtt_ms": 20.0}


def base(rng: Any, cap_s: float, n_apps: int | None = None, scheduler: str | None = None,
         extreme_params: float = 0.0, kind: str | None = None) -> dict[str, Any]:
    """A valid scenario: one registered scheduler, apps on profiles of kinds it runs (one
    device; only ``kind`` when given), all launched at t=0, memory for every model, a server
    when it offloads."""
    table = scheduler_table()
    name = scheduler or rng.choice(sorted(n for n in table if _runnable(n)))
    models = [m for m in _runnable(name) if kind is None or m.kind == kind]
    device = rng.choice(sorted({m.device for m in models}))
    mine = [m for m in models if m.device == device]
    servers = sorted(set(mine[0].servers).intersection(*(m.servers for m in mine)))
    if table[name][1] and not servers:  # every app needs a profile on the server
        mine, servers = [mine[0]], list(mine[0].servers)
    n = n_apps if n_apps is not None else rng.choice((1, 1, 2, 3, 5))
    # at most 20 drawn apps, repeated cyclically (few draws for hypothesis to hold)
    drawn = [(rng.choice(mine), rng.choice((1, 10, 30))) for _ in range(min(n, 20))]
    apps, used = [], []
    for i in range(n):
        m, fps = drawn[i % len(drawn)]
        used.append(m)
        apps.append({"name": f"a{i}", "family": m.family, "fps": fps})
    raw: dict[str, Any] = {
        "name": "gen", "seed": rng.randrange(4), "duration_s": cap_s,
        "profiles_dir": str(PROFILES),
        "schedulers": [{"name": name, "params": _params(rng, name, extreme_params)}],
        "device": {"name": device, "memory_mb": sum(m.max_bytes for m in used) / 1e6 * 2,
                   "cores": max(m.threads for m in used)},
        "apps": apps,
        "events": [{"t": 0, "action": "launch", "app": a["name"]} for a in apps],
    }
    progressive = any(m.kind == "progressive" for m in used)
    if servers and (table[name][1] or (progressive and rng.random() < 0.5)):
        _server_network(raw, rng.choice(servers))
    if rng.random() < 0.5:  # the engine's and monitor's switches, some at once
        raw["engine"] = {k: v for k, v in (
            ("pipelined", rng.choice((True, False))),
            ("work_conserving", rng.choice((True, False))),
            ("queue_length", rng.choice((1, 2, 5))),
            ("interference", all(m.interference for m in used) and rng.random() < 0.5),
        ) if rng.random() < 0.5}
        raw["monitor"] = {k: v for k, v in (
            ("oracle", rng.choice((True, False))), ("latency_drift", rng.choice((True, False))),
            ("ewma", rng.choice((0.3, 1.0))), ("drift_threshold", rng.choice((0.1, 0.01))),
        ) if rng.random() < 0.5}
        if rng.random() < 0.3:
            raw["device"]["cores"] = raw["device"]["cores"] * rng.choice((2, 3))
    return raw


def _models_of(raw: dict[str, Any]) -> dict[str, Model]:
    dev = raw["device"]["name"]
    return {m.family: m for m in catalog() if m.device == dev}


# -- strategies ----------------------------------------------------------------------------
def _set_extreme_scalar(raw: dict[str, Any], rng: Any, cap_s: float) -> str:
    """One field set to an extreme but type-correct value; returns its path."""
    apps = raw["apps"]
    i = rng.randrange(len(apps))
    app = apps[i]
    models = _models_of(raw)
    wide = rng.random() < 0.4  # any extreme double, else one at the edge of the field's range
    pick = (lambda *edges: rng.choice(EXTREMES)) if wide else (lambda *edges: rng.choice(edges))
    what = rng.choice((
        "fps", "goal", "priority", "floor", "upload", "memory", "storage", "cores", "power",
        "load", "bandwidth", "rtt", "timeout", "server_load", "duration", "ewma", "drift",
        "queue", "seed", "params", "outage"))
    if what == "fps":
        app["fps"] = pick(*SUBNORMAL, 1e-300, 2.0**-20, 1e-3, 1000.0, 999.9999999999999, 512)
    elif what == "goal":
        app["latency_goal_ms"] = pick(*SUBNORMAL, 2.0**-30, *HUGE)
    elif what == "priority":
        for a in apps:
            a["priority"] = pick(*SUBNORMAL, 2.0**-1074, *HUGE)
    elif what == "floor":
        app["accuracy_floor"] = pick(0.0, 5e-324, 1 - 2.0**-53, 1.0)
    elif what == "upload":
        app["upload_bytes"] = rng.choice((1, 2**31, 2**53 + 1, 2**62, 2**63 - 1, 2**64, 10**30))
    elif what == "memory":
        need = sum(models[a["family"]].min_bytes for a in apps) / 1e6
        raw["device"]["memory_mb"] = pick(1e9, 999999999.9999999, need,
                                          math.nextafter(need, math.inf), 2.0**29)
    elif what == "storage":
        raw["device"]["storage_read_mbps"] = pick(*SUBNORMAL, 1e-300, *HUGE)
    elif what == "cores":
        raw["device"]["cores"] = rng.choice((raw["device"]["cores"], 128, 255, 256))
    elif what == "power":
        busy = pick(*SUBNORMAL, *HUGE)
        raw["device"]["power"] = {
            "idle_w": rng.choice((0.0, busy)), "busy_w": busy,
            "radio_j_per_byte": pick(0.0, *SUBNORMAL, *HUGE),
            "radio_tx_w": pick(0.0, *SUBNORMAL, *HUGE)}
    elif what == "load":
        raw["device"]["background_load"] = _trace(rng, raw["duration_s"], pick(
            5e-324, 0.5, 1 - 2.0**-53, 0.999999))
    elif what == "duration":
        d = pick(*SUBNORMAL, 1e-300, 2.0**-20, 1e-6, cap_s)
        # a legal long run is not what this case is about (and would take minutes, not
        # hang): longer legal durations become the cap; illegal ones stay, to be refused
        raw["duration_s"] = cap_s if cap_s < d <= MAX_DURATION_S else d
    elif what == "ewma":
        raw.setdefault("monitor", {})["ewma"] = pick(5e-324, 2.0**-52, 1.0)
    elif what == "drift":
        raw.setdefault("monitor", {})["drift_threshold"] = pick(5e-324, 1e-300, *HUGE)
    elif what == "queue":
        raw.setdefault("engine", {})["queue_length"] = rng.choice((1, 2**31, 2**63 - 1, 10**6))
    elif what == "seed":
        raw["seed"] = rng.choice((2**32 - 1, 2**63 - 1, 2**64, 2**128))
    elif what == "params":
        s = raw["schedulers"][0]
        s["params"] = _params(rng, s["name"], 1.0)
    elif "server" in raw:
        net, srv = raw["network"], raw["server"]
        if what == "bandwidth":
            net["bandwidth_mbps"] = _trace(rng, raw["duration_s"], pick(
                *SUBNORMAL, 1e-300, 1e-6, 2.0**40, *HUGE))
        elif what == "rtt":
            net["rtt_ms"] = pick(0.0, *SUBNORMAL, 2.0**30, *HUGE)
        elif what == "timeout":
            net["timeout_factor"] = pick(*SUBNORMAL, 1e-300, *HUGE)
        elif what == "server_load":
            srv["load"] = _trace(rng, raw["duration_s"], pick(5e-324, 1 - 2.0**-53, 0.999999))
        else:
            d = raw["duration_s"]
            net["outages"] = [[0.0, d]] if rng.random() < 0.5 else [[5e-324, d / 2]]
            srv["down"] = [[d / 2, d]]
    else:
        return _set_extreme_scalar(raw, rng, cap_s)
    return what


def _trace(rng: Any, d: float, value: float) -> Any:
    """``value`` as a number, or a trace that jumps to it and back: many steps at one
    instant, the last step at the end of the run, or a Markov chain with tiny dwells."""
    shape = rng.choice(("number", "number", "step", "same-instant", "end", "markov"))
    if shape == "number":
        return value
    if shape == "step":
        return {"kind": "step", "steps": [[0, 0.0], [d / 2, value], [d / 2 + 1e-9, 0.0]]}
    if shape == "same-instant":
        return {"kind": "inline", "points": [[0, 0.0], *([[d / 2, value], [d / 2, 0.0]] * 5),
                                             [d / 2, value]]}
    if shape == "end":
        return {"kind": "step", "steps": [[0, 0.0], [d, value]]}
    return {"kind": "markov", "states": [0.0, value], "mean_dwell_s": rng.choice(
        (1e-3, 0.01, 5e-324))}


def extreme_scalars(rng: Any, cap_s: float) -> dict[str, Any]:
    """One to three fields at extreme values: subnormals, near the float limits, powers of two."""
    raw = base(rng, cap_s)
    for _ in range(rng.choice((1, 1, 2, 3))):
        _set_extreme_scalar(raw, rng, cap_s)
    return raw


def same_instant(rng: Any, cap_s: float) -> dict[str, Any]:
    """Many launches, exits, priority and goal changes at one instant: t=0, the end of the
    run, or a late instant (the run then lasts that long, its apps only near the end)."""
    raw = base(rng, cap_s, n_apps=rng.choice((2, 5, 20)))
    names = [a["name"] for a in raw["apps"]]
    where = rng.choice(("zero", "end", "mid", "late", "latest"))
    d = cap_s
    if where == "late":
        d = LATE_T + rng.choice((0.0, 0.5, cap_s))
        raw.setdefault("monitor", {})["period_s"] = rng.choice((1.0, 10.0))
    elif where == "latest":
        d = MAX_DURATION_S
        raw["monitor"] = {**raw.get("monitor", {}), "period_s": 3600.0,
                          "decision_period_s": rng.choice((None, 3600.0))}
    raw["duration_s"] = d
    t = {"zero": 0.0, "end": d, "mid": d / 2, "late": LATE_T, "latest": d - cap_s / 2}[where]
    start = 0.0 if where in ("zero", "end", "mid") else max(0.0, t - rng.choice((0.0, cap_s / 2)))
    events: list[dict[str, Any]] = []
    for a in names:
        events.append({"t": start, "action": "launch", "app": a})
    values = (EXTREMES if rng.random() < 0.2 else
              (0.01, 0.5, 1.0, 2.0, 33.0, 2.0**10, 1e6))
    for _ in range(rng.choice((1, 2, 5, 50))):
        a = rng.choice(names)
        kind = rng.choice(("launch", "exit", "relaunch", "priority", "goal", "goal"))
        if kind == "exit":
            events.append({"t": t, "action": "exit", "app": a})
        elif kind == "relaunch":
            events += [{"t": t, "action": "exit", "app": a}, {"t": t, "action": "launch", "app": a}]
        elif kind == "launch":
            events.append({"t": t, "action": "launch", "app": a})
        else:
            events.append({"t": t, "action": kind, "app": a, "value": rng.choice(values)})
    if rng.random() < 0.3:  # more at the exact end of the run
        events += [{"t": d, "action": "launch", "app": a} if rng.random() < 0.5
                   else {"t": d, "action": "goal", "app": a, "value": 1.0} for a in names]
    raw["events"] = _fix_order(_shuffle(rng, events))
    if where in ("zero", "mid") and rng.random() < 0.2:  # launches and exits close together
        pool = names[:4]  # about a thousand launches and exits at most
        raw["random_workload"] = {
            "pool": pool, "min_concurrent": 1, "max_concurrent": len(pool),
            "mean_on_s": rng.choice((1e-2, 0.05, 5e-324)),
            "mean_off_s": rng.choice((1e-2, 0.05, 5e-324))}
        raw["events"] = []
    return raw


def _fix_order(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop exits the scenario would refuse (of an app not running at that instant: events
    at one instant apply exits before launches)."""
    order = {"exit": 0, "priority": 1, "goal": 2, "launch": 3}
    running: set[str] = set()
    keep = set()
    for i in sorted(range(len(events)), key=lambda i: (events[i]["t"],
                                                        order[events[i]["action"]])):
        e = events[i]
        if e["action"] == "launch":
            running.add(e["app"])
        elif e["action"] == "exit":
            if e["app"] not in running:
                continue
            running.discard(e["app"])
        keep.add(i)
    return [e for i, e in enumerate(events) if i in keep]


def tiny_periods(rng: Any, cap_s: float) -> dict[str, Any]:
    """Tiny monitor and decision periods, share steps and scheduler periods. The run is
    short enough for about two thousand periods, or the whole cap for the subnormal ones
    (which no run can step through: those must be refused)."""
    raw = base(rng, cap_s)
    sched = raw["schedulers"][0]
    from sim.schedulers.params import describe
    from sim.schedulers.registry import get_scheduler

    own = [p.name for p in describe(get_scheduler(sched["name"])) if p.name in TINY_PARAMS]
    periods = []
    for key in _shuffle(rng, ["period_s", "decision_period_s", *own])[:rng.choice((1, 1, 2))]:
        v = rng.choice(TINY if rng.random() < 0.5 else SMALL)
        periods.append(v)
        if key in own:
            sched["params"][key] = v
        else:
            raw.setdefault("monitor", {})[key] = v
    shortest = min(periods)
    if shortest >= 1e-4 or (shortest < 1e-300 and rng.random() < 0.5):
        raw["duration_s"] = cap_s
    else:
        raw["duration_s"] = min(cap_s, 2000 * shortest)
    return raw


def many_apps(rng: Any, cap_s: float) -> dict[str, Any]:
    """Many apps launched at one instant (up to the accepted limit, and one over it), with
    memory for all of them or for only a few."""
    n = rng.choice((50, 200, 200, 500, MAX_APPS, MAX_APPS + 1))
    raw = base(rng, cap_s, n_apps=n)
    raw["duration_s"] = cap_s if n <= 200 else min(cap_s, 0.5)
    t = rng.choice((0.0, raw["duration_s"] / 2))
    raw["events"] = [{"t": t, "action": "launch", "app": a["name"]} for a in raw["apps"]]
    if rng.random() < 0.3:
        raw["events"] += [{"t": t, "action": "exit", "app": a["name"]}
                          for a in raw["apps"][::3]]
        raw["events"] = _fix_order(raw["events"])
    if rng.random() < 0.5:
        models = _models_of(raw)
        biggest = max(models[a["family"]].min_bytes for a in raw["apps"])
        raw["device"]["memory_mb"] = biggest * rng.choice((1, 2, 10)) / 1e6
    return raw


SPINN_INFEASIBLE = (
    [["latency_ms", "<=", 5e-324]],
    [["latency_ms", "<=", 0.0]],
    [["accuracy", ">=", 1.0000001]],
    [["accuracy", ">=", 1e308]],
    [["throughput_fps", ">=", 1e9]],
    [["throughput_fps", ">=", 1.7976931348623157e308]],
    [["accuracy", ">=", 1.0], ["throughput_fps", ">=", 1000.0]],
    [["energy_mj", "<=", 0.0]],
    [["device_ms", "<=", 0.0], ["server_ms", "<=", 0.0]],
    [["latency_ms", "<=", 1.0], ["latency_ms", ">=", 2.0]],
    [["energy_mj", "<=", -1e308]],
)


def infeasible(rng: Any, cap_s: float) -> dict[str, Any]:
    """Constraint sets nothing meets: SPINN goals, a memory budget that holds one model of
    one app only (or not even that), accuracy floors above every variant, goals of 5e-324 ms,
    no capacity, a link or server down for the whole run."""
    what = rng.choice(("spinn", "memory", "floor", "goal", "capacity", "dead-link"))
    if what in ("spinn", "dead-link"):
        sched = rng.choice(("spinn", "neurosurgeon", "cloud-only", "device-only")
                           if what == "dead-link" else ("spinn",))
        raw = base(rng, cap_s, scheduler=sched)
    else:
        raw = base(rng, cap_s, n_apps=rng.choice((1, 3)))
    models = _models_of(raw)
    apps = raw["apps"]
    if what == "spinn":
        for a in apps:
            a["spinn"] = {"constraints": rng.choice(SPINN_INFEASIBLE), "objectives": rng.choice((
                [["latency_ms", "min"]], [["throughput_fps", "max"], ["accuracy", "max"]],
                [["energy_mj", "min"], ["server_ms", "max"], ["device_ms", "min"]]))}
    elif what == "memory":
        smallest = [models[a["family"]].min_bytes for a in apps]
        raw["device"]["memory_mb"] = rng.choice((
            max(smallest) / 1e6, math.nextafter(max(smallest) / 1e6, 0.0),
            min(smallest) / 1e6, 5e-324))
    elif what == "floor":
        for a in apps:
            top = models[a["family"]].top1
            a["accuracy_floor"] = rng.choice((1.0, min(1.0, math.nextafter(top, 2.0))))
    elif what == "goal":
        for a in apps:
            a["latency_goal_ms"] = rng.choice((5e-324, 1e-300))
    elif what == "capacity":
        raw["device"]["background_load"] = rng.choice((1 - 2.0**-53, 0.999999999))
    else:
        d = raw["duration_s"]
        if "server" not in raw:
            return raw
        if rng.random() < 0.5:
            raw["network"]["outages"] = [[0.0, d]]
        else:
            raw["server"]["down"] = [[0.0, d]]
        raw["network"]["bandwidth_mbps"] = rng.choice((10.0, 5e-324))
    return raw


def every_scheduler(rng: Any, cap_s: float) -> dict[str, Any]:
    """One device's profiles of one kind under every registered scheduler that runs that kind
    (the offloading ones with a server), some with edge parameters."""
    kind = rng.choice(sorted({m.kind for m in catalog()}))
    table = scheduler_table()
    raw = base(rng, cap_s, kind=kind, scheduler=rng.choice(sorted(
        n for n, (kinds, _) in table.items() if (kinds is None or kind in kinds)
        and any(m.kind == kind for m in _runnable(n)))))
    models = _models_of(raw)
    fams = {a["family"] for a in raw["apps"]}
    kinds = {models[f].kind for f in fams}
    has_server = "server" in raw
    if not has_server and kinds == {"progressive"}:
        servers = set.intersection(*(set(models[f].servers) for f in fams))
        if servers:
            _server_network(raw, sorted(servers)[0])
            has_server = True
    scheds = []
    for n, (k, needs) in sorted(table.items()):
        if (k is None or kinds <= k) and (has_server or not needs):
            scheds.append({"name": n, "params": _params(rng, n, 0.5, MODERATE_PARAMS)})
            if rng.random() < 0.1:
                scheds.append({"name": n, "label": f"{n}.edge", "params": _params(rng, n, 1.0)})
    raw["schedulers"] = scheds
    return raw


_RANGE = re.compile(
    r"^<scenario>: (?P<path>[\w.\[\]]+): (?:(?P<sub>value): )?(?:[^\[(]*?)must be in "
    r"[\[(](?P<lo>[-\d.,e+]+), (?P<hi>[-\d.,e+]+)[\])].*?\(got (?P<got>[^)]+)\)")
_PARAM = re.compile(
    r"^<scenario>: schedulers\[(?P<i>\d+)\]: scheduler '[^']+': (?P<param>\w+) must be in "
    r"[\[(](?P<lo>[-\d.,e+]+), (?P<hi>[-\d.,e+]+)[\])].*?, got (?P<got>\S+)")
_AT = re.compile(r"^<scenario>: (?P<path>[\w.\[\]]+): must be at (?P<rel>most|least) "
                 r"(?P<x>[-\d.,e+]+)")
_DEFAULT_GOAL = re.compile(r"^<scenario>: apps\[(?P<i>\d+)\]: fps .* outside "
                           r"\[(?P<lo>[-\d.,e+]+), (?P<hi>[-\d.,e+]+)\]")
_PYDANTIC = re.compile(
    r"^<scenario>: (?P<path>[\w.\[\]]+): Input should be (?P<rel>less than or equal to|"
    r"greater than or equal to|less than|greater than) (?P<x>[-\d.e+]+)")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def bound_fix(msg: str) -> tuple[list[str | int], float] | None:
    """From a refusal naming a field's range (``must be in [lo, hi]``, pydantic's ``less
    than or equal to x``), the field's path and the bound nearest the refused value."""
    if m := _PARAM.match(msg):
        path: list[str | int] = ["schedulers", int(m["i"]), "params", m["param"]]
    elif m := _RANGE.match(msg):
        path = [int(t[1:-1]) if t.startswith("[") else t
                for t in re.findall(r"[^.\[\]]+|\[\d+\]", m["path"])]
        if m["sub"]:
            path.append(m["sub"])
    elif m := _DEFAULT_GOAL.match(msg):
        return ["apps", int(m["i"]), "latency_goal_ms"], _number(m["hi"])
    elif m := _AT.match(msg):
        path = [int(t[1:-1]) if t.startswith("[") else t
                for t in re.findall(r"[^.\[\]]+|\[\d+\]", m["path"])]
        if path[-2:] == ["constant", "value"]:  # a trace given as a number
            path = path[:-2]
        return path, _number(m["x"])
    elif m := _PYDANTIC.match(msg):
        path = [int(t[1:-1]) if t.startswith("[") else t
                for t in re.findall(r"[^.\[\]]+|\[\d+\]", m["path"])]
        x = float(m["x"])
        rel = m["rel"]
        return path, x if rel.endswith("equal to") else math.nextafter(
            x, math.inf if rel.startswith("greater") else -math.inf)
    else:
        return None
    lo, hi = _number(m["lo"]), _number(m["hi"])
    try:
        got = float(m["got"])
    except ValueError:
        got = math.inf
    return path, lo if got < lo else hi


def _validation_error(raw: dict[str, Any]) -> str | None:
    import warnings

    from sim.common.messages import OneLineError
    from sim.config.inputs import load_inputs
    from sim.runner import create_schedulers
    from sim.schedulers.registry import SchedulerError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            create_schedulers(load_inputs(copy.deepcopy(raw)))
        except (OneLineError, SchedulerError) as exc:  # the tool's own refusals
            return str(exc)
    return None


def at_bounds(rng: Any, cap_s: float) -> dict[str, Any]:
    """A scenario of another strategy whose out-of-range values are moved, one refusal at a
    time, onto the bound the refusal names: extreme values validation must still accept."""
    inner = rng.choice(("extreme-scalars", "tiny-periods", "same-instant", "infeasible"))
    raw = STRATEGIES[inner](rng, cap_s)
    for _ in range(100):
        msg = _validation_error(raw)
        fix = bound_fix(msg) if msg else None
        if fix is None:
            break
        path, value = fix
        node: Any = raw
        try:
            for k in path[:-1]:
                node = node[k]
            old = node[path[-1]]
        except (KeyError, IndexError, TypeError):
            break
        node[path[-1]] = int(value) if isinstance(old, int) and not isinstance(old, bool) \
            and value == int(value) else value
    d = raw["duration_s"]
    if isinstance(d, float) and d > LATE_T:  # a long run: its events near the end
        shift = d - cap_s
        raw["events"] = [{**e, "t": min(d, e["t"] + shift)} if e["t"] < shift else e
                         for e in raw["events"]]
        raw["monitor"] = {**raw.get("monitor", {}), "period_s": 3600.0,
                          "decision_period_s": 3600.0}
    return raw


PLANS_LABEL = "fuzz-plans-"
"""A scheduler label ``fuzz-plans-<seed>``: the fuzz kit runs :class:`FuzzPlans` (seed)
in its place (the label's registered name only passes validation)."""
SHARES = (1.0, 0.5, 1 / 3, 2.0**-52, 1e-17, 1e-300, 5e-324)


def fuzz_plans(seed: int) -> Any:
    """A scheduler whose plans are valid (known variants, shares in (0, 1] summing to at
    most 1, splits the profile has) but adversarial: shares down to 5e-324, apps paused and
    resumed at random, other variants, splits and thresholds at every decision, wake-ups at
    the same instant or a millisecond on. A plug-in may do all of it; the engine must cope."""
    import random

    from sim.profile.routes import table_thresholds
    from sim.schedulers.base import AppPlan, Plan, Scheduler, SystemView

    class FuzzPlans(Scheduler):
        name = "fuzz-plans"

        def __init__(self) -> None:
            self.rng = random.Random(seed)

        def decide(self, view: SystemView) -> Plan:
            rng = self.rng
            apps = {}
            weights = {a.name: rng.choice(SHARES) for a in view.apps if rng.random() < 0.85}
            total = sum(weights.values())
            for a in view.apps:
                if a.name not in weights:
                    continue  # paused
                share = weights[a.name] / total if total > 1.0 else weights[a.name]
                variants = sorted(a.profile.variants, key=lambda v: v.known_weight_bytes())
                split = threshold = None
                prog = a.profile.progressive
                if prog is not None and a.profile.outcomes is not None and rng.random() < 0.5:
                    threshold = rng.choice(table_thresholds(a.profile) or (0.0, 0.5, 1.0))
                if prog is not None and a.server_profile is not None and rng.random() < 0.5:
                    split = rng.choice(("input", *(sp.name for sp in prog.splits)))
                    threshold = None if split == "input" else threshold  # runs no exits
                apps[a.name] = AppPlan(rng.choice(variants[:3]).id, max(share, 5e-324), split,
                                       threshold, rng.random() < 0.7)
            wake = rng.choice((None, 0.0, 1e-3, 0.01, 0.05, 0.25))
            return Plan(apps, wake_at_s=None if wake is None else view.time_s + wake)

    return FuzzPlans()


def adversarial_plans(rng: Any, cap_s: float) -> dict[str, Any]:
    """A scenario of any profiles (with a server when they can offload) run by
    :func:`fuzz_plans` instead of a built-in scheduler; memory for the largest models."""
    raw = base(rng, cap_s, n_apps=rng.choice((1, 2, 3, 8)), scheduler="agnostic")
    models = _models_of(raw)
    if "server" not in raw and all(models[a["family"]].servers for a in raw["apps"]):
        common = set.intersection(*(set(models[a["family"]].servers) for a in raw["apps"]))
        if common and rng.random() < 0.7:
            _server_network(raw, sorted(common)[0])
    raw["schedulers"] = [{"name": "agnostic", "label": f"{PLANS_LABEL}{rng.randrange(10**6)}"}]
    raw.setdefault("monitor", {})["decision_period_s"] = rng.choice((0.1, 0.5, 30.0))
    if rng.random() < 0.5:
        raw["events"] += [{"t": cap_s / 2, "action": "exit", "app": raw["apps"][0]["name"]},
                          {"t": cap_s / 2, "action": "launch", "app": raw["apps"][0]["name"]}]
    return raw


STRATEGIES = {
    "extreme-scalars": extreme_scalars,
    "same-instant": same_instant,
    "tiny-periods": tiny_periods,
    "many-apps": many_apps,
    "infeasible": infeasible,
    "every-scheduler": every_scheduler,
    "at-bounds": at_bounds,
    "adversarial-plans": adversarial_plans,
}


def generate(strategy: str, rng: Any, cap_s: float) -> dict[str, Any]:
    """A generated scenario (a mapping; ``profiles_dir`` absolute) of one strategy."""
    return STRATEGIES[strategy](rng, cap_s)


# -- invariants of a finished run ----------------------------------------------------------
class FrameFact(NamedTuple):
    """One done frame (``frames`` 1) or one run of lost frames (status dropped or failed)."""

    app: str
    status: str
    first_s: float
    """arrival (of the first frame of a run)"""
    spacing_s: float
    frames: int
    finish_s: float | None
    goal_ms: float | None


@dataclass
class RunFacts:
    """What the invariants read of one finished run (plain data, so a test can break it)."""

    label: str
    duration_s: float
    timing: bool
    fps: dict[str, float]
    """camera rate per app"""
    intervals: dict[str, list[tuple[float, float]]]
    """each app's active intervals [launch, exit or end], from the scenario's events"""
    frames: list[FrameFact]
    metrics: dict[str, Any]
    link: bool
    """the run had a link (server and network)"""
    idle_w: float | None = None
    """the device's idle power (overall energy is idle power x duration + the apps' energy)"""


def intervals_of(events: Any, duration: float) -> dict[str, list[tuple[float, float]]]:
    """Active intervals per app from timed events sorted as the engine applies them (a
    launch of a running app and an exit of a stopped one do nothing)."""
    open_at: dict[str, float] = {}
    out: dict[str, list[tuple[float, float]]] = {}
    for e in events:
        t = min(e.t, duration)
        if e.action == "launch" and e.app not in open_at:
            open_at[e.app] = t
        elif e.action == "exit" and e.app in open_at:
            out.setdefault(e.app, []).append((open_at.pop(e.app), t))
    for app, t in open_at.items():
        out.setdefault(app, []).append((t, duration))
    return {a: sorted(v) for a, v in out.items()}


def facts_of(res: Any) -> RunFacts:
    """The facts of a :class:`sim.runner.RunResult`."""
    eng = res.engine
    sc = eng.inputs.scenario
    frames: list[FrameFact] = []
    for name, app in eng.apps.items():
        for f in app.record.frames.rows():
            frames.append(FrameFact(app=name, status="done", first_s=f.arrival_s, spacing_s=0.0,
                                    frames=1, finish_s=f.finish_s, goal_ms=f.goal_ms))
        for run in app.record.lost.rows():
            frames.append(FrameFact(app=name, status=run.why, first_s=run.first_s,
                                    spacing_s=run.spacing_s, frames=run.frames, finish_s=None,
                                    goal_ms=None))
    return RunFacts(res.label, eng.duration_s, sc.metrics.timing,
                    {a.name: a.fps for a in sc.apps}, intervals_of(eng.inputs.events,
                                                                   eng.duration_s),
                    frames, res.metrics, sc.server is not None and sc.network is not None,
                    sc.device.power.idle_w)


def frames_from_rows(rows: list[dict[str, Any]]) -> list[FrameFact]:
    """RunFacts.frames from ``RunResult.frames()`` rows (or frames.csv read as dicts)."""
    return [FrameFact(app=r["app"], status=r["status"], first_s=r["arrival_s"], spacing_s=0.0,
                      frames=1, finish_s=r["finish_s"], goal_ms=r["goal_ms"]) for r in rows]


def _fail(facts: RunFacts, name: str, msg: str) -> None:
    raise AssertionError(f"{facts.label}: {name}: {msg}")


NULLABLE_APP = {"accuracy", "accuracy_in_time", "latency_ms_mean", "latency_ms_p95"}
"""per-app metrics that are null when the app processed no frame"""


def _check_metrics(facts: RunFacts) -> None:
    m = facts.metrics
    groups = [("overall", m["overall"])] + [(f"apps.{k}", v) for k, v in m["apps"].items()]
    for where, g in groups:
        for k, v in g.items():
            if isinstance(v, float) and not math.isfinite(v):
                _fail(facts, "metric-not-finite", f"{where}.{k} = {v}")
            if v is not None:
                continue
            ok = (k == "decision_ms_median" and (not facts.timing or not m["overall"]["decisions"])
                  or k in NULLABLE_APP and g.get("processed") == 0
                  or k == "fps" and not g.get("active_s")
                  or k == "worst_app_accuracy" and all(
                      a["accuracy"] is None for a in m["apps"].values()))
            if not ok:
                _fail(facts, "metric-null", f"{where}.{k} is null (a NaN or an overflow) with "
                      f"processed={g.get('processed')}, active_s={g.get('active_s')}")
        for k in ("energy_j", "radio_energy_j", "device_s", "radio_s", "server_s", "sent_mb"):
            if g.get(k) is not None and g[k] < 0:
                _fail(facts, "energy-negative" if "energy" in k else "time-negative",
                      f"{where}.{k} = {g[k]}")
        for k in ("accuracy", "accuracy_in_time"):
            if g.get(k) is not None and not 0 <= g[k] <= 1:
                _fail(facts, "accuracy-range", f"{where}.{k} = {g[k]}")
        if where != "overall" and g["frames"] != g["processed"] + g["dropped"] + g["failed"]:
            _fail(facts, "frame-count", f"{where}: frames {g['frames']} != processed "
                  f"{g['processed']} + dropped {g['dropped']} + failed {g['failed']}")


def check_facts(facts: RunFacts) -> None:
    """AssertionError ``label: invariant: what`` at the first broken invariant."""
    _check_metrics(facts)
    d = facts.duration_s
    m = facts.metrics
    ov = m["overall"]
    tol_t = 1e-6 + 1e-9 * d  # metrics are rounded to 6 decimals
    # device, link and server time within the run (work is in full-device seconds, so the
    # bound is the duration itself; the duration x cores is implied)
    for k in ("device_s", "busy_s", "server_s", "radio_s"):
        if ov.get(k) is not None and ov[k] > d + tol_t:
            _fail(facts, "device-time" if k in ("device_s", "busy_s") else f"{k[:-2]}-time",
                  f"overall.{k} = {ov[k]} > duration {d}")
    radio_sum = sum(a["radio_s"] or 0.0 for a in m["apps"].values())
    if facts.link and ov["radio_s"] is not None \
            and abs(radio_sum - ov["radio_s"]) > 1e-6 * (len(m["apps"]) + 1) + 1e-9 * d:
        _fail(facts, "radio-sum", f"apps' radio_s sum to {radio_sum:.9g}, the link was busy "
              f"{ov['radio_s']:.9g} s")
    n = len(m["apps"]) + 1
    dev_sum = sum(a["device_s"] or 0.0 for a in m["apps"].values())
    if ov["device_s"] is not None and abs(dev_sum - ov["device_s"]) > 1e-6 * n + 1e-9 * d:
        _fail(facts, "device-sum", f"apps' device_s sum to {dev_sum:.9g}, overall "
              f"{ov['device_s']:.9g}")
    if facts.idle_w is not None and ov["energy_j"] is not None:
        e_sum = facts.idle_w * d + sum(a["energy_j"] or 0.0 for a in m["apps"].values())
        if abs(e_sum - ov["energy_j"]) > 1e-6 * n + 1e-9 * abs(e_sum):
            _fail(facts, "energy-sum", f"idle {facts.idle_w} W x {d} s + the apps' energy is "
                  f"{e_sum:.9g} J, overall energy_j {ov['energy_j']:.9g}")
    _check_frames(facts)
    # per app: active time, camera frames, fps, device time
    for name, g in m["apps"].items():
        ivs = facts.intervals.get(name, [])
        active = sum(b - a for a, b in ivs)
        if g["active_s"] is not None and abs(g["active_s"] - active) > tol_t:
            _fail(facts, "active-time", f"app {name}: active_s {g['active_s']} but its events "
                  f"give {active:.9g} s over {len(ivs)} intervals")
        period = 1.0 / facts.fps[name]
        lo = hi = 0
        for a, b in ivs:
            tie = 1e-9 * max(1.0, abs(b))
            lo += max(0, math.ceil((b - tie - a) / period)) if b - tie > a else 0
            hi += math.floor((b + tie - a) / period) + 1 if math.isfinite(period) else 1
        if not lo <= g["frames"] <= hi:
            _fail(facts, "camera-count", f"app {name}: {g['frames']} frames counted, its camera "
                  f"gave {lo}" + (f" to {hi}" if hi > lo else "") + f" in {len(ivs)} intervals")
        if g["device_s"] is not None and g["device_s"] > active + tol_t:
            _fail(facts, "device-time", f"app {name}: device_s {g['device_s']} > active {active}")
        cam = facts.fps[name]
        if g["fps"] is not None and g["active_s"]:
            bound = cam * (1 + 1e-9) + len(ivs) / g["active_s"] + 1e-6
            if g["fps"] > bound:
                _fail(facts, "fps-above-camera", f"app {name}: fps {g['fps']} > camera {cam} "
                      f"(+{len(ivs)} frame(s) over {g['active_s']} s)")


def _check_frames(facts: RunFacts) -> None:
    d = facts.duration_s
    per_app: dict[str, list[tuple[float, float, str]]] = {}
    counts: dict[tuple[str, str], int] = {}
    for fact in facts.frames:
        app, status, first, spacing = fact.app, fact.status, fact.first_s, fact.spacing_s
        count, finish, goal = fact.frames, fact.finish_s, fact.goal_ms
        period = 1.0 / facts.fps[app]
        last = first + (count - 1) * spacing if count > 1 else first
        where = f"app {app}: {status} frame at {first!r}" + (
            f" (+{count - 1} every {spacing!r})" if count > 1 else "")
        if not (math.isfinite(first) and math.isfinite(last)):
            _fail(facts, "arrival-not-finite", where)
        if count > 1 and abs(spacing - period) > 1e-9 * period:
            _fail(facts, "arrival-off-camera", f"{where}: spacing is not the camera period "
                  f"{period!r}")
        ivs = facts.intervals.get(app, [])
        k = bisect.bisect_right(ivs, (first, math.inf)) - 1
        tol = 1e-9 * max(1.0, abs(last))
        if k < 0 or last > ivs[k][1] + tol or first < ivs[k][0] - tol or first < 0 \
                or last > d + tol:
            _fail(facts, "arrival-outside", f"{where}: outside the app's active intervals "
                  f"{ivs[:5]}{'...' if len(ivs) > 5 else ''} of a {d} s run")
        launch = ivs[k][0]
        steps = (first - launch) / period
        if math.isfinite(steps) and abs(steps - round(steps)) * period > 1e-6 * period + tol:
            _fail(facts, "arrival-off-camera", f"{where}: not launch {launch!r} + k/fps")
        if status == "done":
            if finish is None or not math.isfinite(finish) or math.isnan(finish - first):
                _fail(facts, "latency-nan", f"{where}: finish {finish!r}")
            if finish < first:
                _fail(facts, "finish-before-arrival", f"{where}: finish {finish!r}")
            if finish > d + tol:
                _fail(facts, "finish-after-end", f"{where}: finish {finish!r} after {d}")
            if goal is None or not math.isfinite(goal) or goal <= 0:
                _fail(facts, "goal", f"{where}: goal_ms {goal!r}")
        per_app.setdefault(app, []).append((first, last, status))
        counts[app, status] = counts.get((app, status), 0) + count
    for app, items in per_app.items():
        items.sort()
        prev_last, prev_status = -math.inf, ""
        for first, last, status in items:
            if first <= prev_last + 1e-12 * max(1.0, abs(first)):
                _fail(facts, "frame-twice", f"app {app}: the frame at {first!r} is recorded "
                      f"as {prev_status} and as {status}")
            if last > prev_last:
                prev_last, prev_status = last, status
    for name, g in facts.metrics["apps"].items():
        for status, key in (("done", "processed"), ("dropped", "dropped"), ("failed", "failed")):
            if counts.get((name, status), 0) != g[key]:
                _fail(facts, "frame-count", f"app {name}: {counts.get((name, status), 0)} "
                      f"{status} frames recorded, metrics say {key} {g[key]}")

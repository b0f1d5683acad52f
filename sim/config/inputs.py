"""Resolve a validated scenario into what the engine runs: profiles, traces, timed events.

Randomness: one root seed per scenario; each component draws from its own child stream
(``SeedSequence(seed, spawn_key=(role,))``), so adding an app does not change the load
trace, and every scheduler of a comparison sees the same workload and traces.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.common.input_files import input_exists, input_stems
from sim.config.plausibility import PlausibilityWarning, plausibility_warnings
from sim.config.scenario import Scenario, ScenarioError, load_scenario
from sim.profile import Profile, ProfileError, load_profile
from sim.traces import Trace, TraceError, build_trace

__all__ = ["RunInputs", "TimedEvent", "app_rng", "latency_rng", "rng_for", "resolve",
           "load_inputs"]

# stream roles: fixed numbers so results never depend on construction order
ROLE_WORKLOAD, ROLE_LOAD, ROLE_BANDWIDTH, ROLE_SERVER, ROLE_APPS, ROLE_LATENCY = 0, 1, 2, 3, 100, 101


def rng_for(seed: int, role: int, *key: int) -> np.random.Generator:
    """The child random stream of one component."""
    seq = np.random.SeedSequence(seed, spawn_key=(role, *key))
    return np.random.Generator(np.random.PCG64(seq))


def app_rng(seed: int, name: str) -> np.random.Generator:
    """An app's frame-sampling stream, keyed by its name (not its place in the app list), so
    reordering or adding apps leaves every other app's samples unchanged."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return rng_for(seed, ROLE_APPS, int.from_bytes(digest[:8], "little"))


def latency_rng(seed: int, name: str) -> np.random.Generator:
    """An app's per-inference latency stream (``engine.latency: measured``), keyed by its name
    and apart from its sample draws."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return rng_for(seed, ROLE_LATENCY, int.from_bytes(digest[:8], "little"))


@dataclass(frozen=True)
class TimedEvent:
    t: float
    action: str  # launch | exit | priority | goal
    app: str
    value: float | None = None


@dataclass(frozen=True)
class RunInputs:
    """A scenario with its files read: everything a run needs, nothing it must look up."""

    scenario: Scenario
    source: Path
    profiles: dict[str, Profile]  # family -> device profile
    server_profiles: dict[str, Profile]  # family -> server profile (when a server is given)
    load: Trace
    bandwidth: Trace | None
    server_load: Trace | None
    events: tuple[TimedEvent, ...]
    warnings: tuple[str, ...] = ()
    """values that are legal but probably in the wrong unit (sim.config.plausibility)"""


def _trace(spec, base: Path, duration: float, seed: int, role: int, where: str) -> Trace:
    try:
        return build_trace(spec, base, duration, rng_for(seed, role))
    except TraceError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def _profile(path: Path, where: str) -> Profile:
    if not input_exists(path):
        folder = path.parent
        known = input_stems(folder, ".json")
        hint = f"; profiles there: {known}" if known else f"; folder {folder} has no profiles"
        raise ScenarioError(f"{where}: no profile file {path}{hint}")
    try:
        return load_profile(path)
    except ProfileError as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def _events(sc: Scenario) -> tuple[TimedEvent, ...]:
    evs = [TimedEvent(e.t, e.action, e.app, e.value) for e in sc.events]
    if sc.random_workload is not None:
        for w in sc.random_workload.generate(sc.duration_s, rng_for(sc.seed, ROLE_WORKLOAD)):
            evs.append(TimedEvent(w.t, w.action, w.app))
    order = {"exit": 0, "priority": 1, "goal": 2, "launch": 3}
    return tuple(sorted(evs, key=lambda e: (e.t, order[e.action], e.app)))


def _check_sizes(sc: Scenario, profile: Profile, path: Path, where: str) -> None:
    """A variant whose size the source did not publish (weight_bytes null) cannot be run: the
    engine enforces the memory budget (device.memory_mb, always set) and times model loads by
    size. Refuse it here, naming the profile, the variant and the field."""
    for k, v in enumerate(profile.variants):
        if v.weight_bytes is None:
            raise ScenarioError(
                f"{where}: {path}: variants[{k}].weight_bytes ({v.id!r}) is null (not published "
                f"by the source), but the memory budget device.memory_mb="
                f"{sc.device.memory_mb:g} MB and model loads need every variant's size; give "
                "weight_bytes in the profile or use one that has them")


def _check_fits(sc: Scenario, profiles: dict[str, Profile], where: str) -> None:
    """An app none of whose models fits the memory budget would drop every frame silently:
    refuse it, with what the smallest model needs."""
    budget = sc.device.memory_mb * 1e6
    for i, app in enumerate(sc.apps):
        smallest = min(v.known_weight_bytes() + v.peak_activation_bytes
                       for v in profiles[app.family].variants)
        if smallest > budget:
            raise ScenarioError(
                f"{where}: device.memory_mb: {sc.device.memory_mb:g} MB holds no model of "
                f"apps[{i}] ({app.name!r}, {app.family}): the smallest needs "
                f"{smallest / 1e6:.3g} MB (weights and peak activations)")


def resolve(sc: Scenario, source: str | os.PathLike[str]) -> RunInputs:
    """Read the profiles and build the traces a scenario names; ScenarioError on problems."""
    src = Path(source)
    base = src.parent
    where = str(src)
    pdir = (base / sc.profiles_dir).resolve()
    profiles: dict[str, Profile] = {}
    for i, app in enumerate(sc.apps):
        if app.family not in profiles:
            path = pdir / sc.device.name / f"{app.family}.json"
            profiles[app.family] = _profile(path, f"{where}: apps[{i}].family")
            _check_sizes(sc, profiles[app.family], path, f"{where}: apps[{i}].family")
            threads = profiles[app.family].device.threads or 1
            if sc.engine.interference and profiles[app.family].interference is None:
                raise ScenarioError(
                    f"{where}: engine.interference: {path} has no interference measurement "
                    f"(python -m models.interference {path}), or set it false")
            if threads > sc.device.cores:
                raise ScenarioError(
                    f"{where}: device.cores: {path} was measured with {threads} threads, "
                    f"which need device.cores >= {threads} (got {sc.device.cores})")
    _check_fits(sc, profiles, where)
    server_profiles: dict[str, Profile] = {}
    if sc.server is not None:
        for fam, prof in profiles.items():
            path = pdir / sc.server.name / f"{fam}.json"
            if prof.kind != "progressive" and not input_exists(path):
                continue  # only split-capable families run on the server
            srv = _profile(path, f"{where}: server.name")
            mismatch = server_mismatch(prof, srv)
            if mismatch:
                raise ScenarioError(f"{where}: server.name: {path} does not describe the same "
                                    f"network as the device's {fam} profile ({mismatch})")
            server_profiles[fam] = srv
    d = sc.duration_s
    load = _trace(sc.device.background_load, base, d, sc.seed, ROLE_LOAD, f"{where}: device.background_load")
    if load.values.max(initial=0.0) >= 1.0:
        raise ScenarioError(f"{where}: device.background_load: values must be below 1 (a fraction)")
    bandwidth = server_load = None
    if sc.network is not None:
        bandwidth = _trace(sc.network.bandwidth_mbps, base, d, sc.seed, ROLE_BANDWIDTH,
                           f"{where}: network.bandwidth_mbps")
    if sc.server is not None:
        server_load = _trace(sc.server.load, base, d, sc.seed, ROLE_SERVER, f"{where}: server.load")
        if server_load.values.max(initial=0.0) >= 1.0:
            raise ScenarioError(f"{where}: server.load: values must be below 1 (a fraction; "
                                "use server.down for an unavailable server)")
    read = {pdir / sc.device.name / f"{f}.json": p for f, p in profiles.items()}
    if sc.server is not None:
        read.update({pdir / sc.server.name / f"{f}.json": p for f, p in server_profiles.items()})
    notes = plausibility_warnings(sc, read, bandwidth, where)
    for line in notes:
        warnings.warn(line, PlausibilityWarning, stacklevel=3)
    return RunInputs(sc, src, profiles, server_profiles, load, bandwidth, server_load,
                     _events(sc), tuple(notes))


def server_mismatch(device: Profile, server: Profile) -> str | None:
    """Why a server profile cannot be paired with a device profile (None if it can): both
    must describe one network (same task, variants and split points), measured on two
    machines."""
    if device.task != server.task:
        return "different task"
    dv = {v.id: v.weight_bytes for v in device.variants}
    sv = {v.id: v.weight_bytes for v in server.variants}
    if dv != sv:
        return "different variants or weight sizes"
    dp, sp = device.progressive, server.progressive
    if (dp is None) != (sp is None):
        return "one of them has no split points"
    if dp is not None and sp is not None and [s.name for s in dp.splits] != [s.name for s in sp.splits]:
        return "different split points"
    return None


def load_inputs(source: str | os.PathLike[str] | dict[str, Any] | Scenario,
                seed: int | None = None, overrides: Sequence[str] = ()) -> RunInputs:
    """``load_scenario`` + ``resolve`` in one step. A mapping or :class:`Scenario` resolves
    its relative paths against the working folder."""
    sc = load_scenario(source, seed=seed, overrides=overrides)
    return resolve(sc, "<scenario>" if isinstance(source, (dict, Scenario)) else source)

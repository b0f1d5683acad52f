"""``mvsched emulate``: a simulated run executed for real, and how far the simulation was.

The scenario is simulated under one scheduler; then every app of that run becomes an OS
process running torch models of its profiled variants on this machine, in wall-clock time,
following the run's timeline. Processes are pinned to ``device.cores`` cores, shares become
nice levels (CFS weights), and the background load is a duty-cycled busy process per core.
The emulated frames go through the same metrics code as simulated ones, and
``fidelity.csv`` puts the two side by side.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from models.emulate.calibrate import machine_speed
from models.emulate.family_args import family_kwargs
from models.emulate.fidelity import fidelity_rows, write_fidelity
from models.emulate.log import FrameLine, SwitchLine, read_lines
from models.emulate.processes import AppWorker, BackgroundWorker, run_app, run_background
from models.emulate.schedule import (
    AppSession,
    EmulationError,
    app_sessions,
    kernel_weight,
    load_steps,
    nice_levels,
)
from sim.common.atomic import write_text_atomic
from sim.common.paths import name_problem
from sim.config.inputs import RunInputs, load_inputs
from sim.engine.records import AppRecord
from sim.engine.world import EngineResult, Simulation
from sim.results.metrics import compute_metrics, write_outputs
from sim.runner import create_schedulers, resolved_scenario

__all__ = ["EmulationResult", "emulate"]

READY_TIMEOUT_S = 300.0
BACKGROUND_PERIOD_S = 0.005


@dataclass
class EmulationResult:
    label: str
    simulated: dict[str, Any]
    emulated: dict[str, Any]
    fidelity: list[dict[str, Any]]
    out_dir: Path
    interrupted: bool
    trained: bool


@dataclass
class _Emulated:
    """Duck-typed stand-in for an engine app: what :func:`compute_metrics` reads."""

    spec: Any
    record: AppRecord


def _source(source: Path, scheduler: str | None) -> tuple[Path, str | None]:
    if source.is_dir():
        scenario, metrics = source / "scenario.yaml", source / "metrics.json"
        if not scenario.exists() or not metrics.exists():
            raise EmulationError(f"{source}: not a run folder (needs scenario.yaml and "
                                 "metrics.json, as `mvsched run` writes)")
        try:
            label = json.loads(metrics.read_text())["scheduler"]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmulationError(f"{metrics}: not a run's metrics ({type(exc).__name__})") from None
        problem = name_problem(label) if isinstance(label, str) else "is not a string"
        if problem:  # it names folders and files: nothing may lead out of the output folder
            raise EmulationError(f"{metrics}: scheduler label {str(label)[:40]!r} {problem}")
        if scheduler is not None and scheduler != label:
            raise EmulationError(f"{source}: this run is of scheduler {label!r}, not "
                                 f"{scheduler!r}")
        return scenario, label
    return source, scheduler


def _check(inputs: RunInputs) -> list[int]:
    sc = inputs.scenario
    where = str(inputs.source)
    if sc.network is not None or sc.server is not None:
        raise EmulationError(f"{where}: network/server: emulate runs device-side execution only")
    if not sc.engine.work_conserving:
        raise EmulationError(f"{where}: engine.work_conserving: false cannot be emulated "
                             "(kernel weights share the cores work-conservingly)")
    allowed = sorted(os.sched_getaffinity(0))
    if sc.device.cores > len(allowed):
        raise EmulationError(f"{where}: device.cores: {sc.device.cores} cores, but this "
                             f"process may use {len(allowed)} ({allowed})")
    return allowed[:sc.device.cores]



def _checkpoints(family: str, kw: dict[str, Any], dataset: str, root: Path | None) -> Path | None:
    from models.profiler import default_checkpoint_dir

    folder = (Path(root) if root is not None
              else default_checkpoint_dir(family, kw["scale"], kw["seed"], dataset))
    return folder if (folder / "family.json").exists() else None


def _samples(inputs: RunInputs, tmp: Path) -> str:
    """The test split of the profiles' data set, for accuracy with trained weights."""
    import torch

    from models.data import load_data

    datasets = {p.task.dataset for p in inputs.profiles.values()}
    if len(datasets) != 1:
        raise EmulationError(f"apps' profiles use several data sets {sorted(datasets)}")
    data = load_data(datasets.pop())
    path = tmp / "samples.pt"
    x, y = data.test.tensors
    torch.save((x, y), path)
    return str(path)


def _set_nice(pid: int, nice: int) -> None:
    """Nice applies per thread on Linux: set it on every thread of the process."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except FileNotFoundError:
        return
    for tid in tids:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
        except (ProcessLookupError, PermissionError):
            pass


def _weight_events(sim: EngineResult) -> list[tuple[float, dict[str, float]]]:
    """The running apps' shares after each decision instant."""
    shares: dict[str, float] = {}
    out: list[tuple[float, dict[str, float]]] = []
    for d in sim.timeline:
        if d.app == "*":
            continue
        if d.reason == "exit":
            shares.pop(d.app, None)
        else:
            shares[d.app] = d.share if d.variant else 0.0
        if out and out[-1][0] == d.t_s:
            out[-1] = (d.t_s, dict(shares))
        else:
            out.append((d.t_s, dict(shares)))
    return out


def _parse(path: Path, name: str, spec: Any, sessions: list[AppSession],
           stopped_s: float) -> tuple[_Emulated, float, list[tuple[float, float]]]:
    """One app's frames, switches and sessions; a session still open when the run was
    stopped (interrupted) counts its frames up to ``stopped_s``."""
    rec = AppRecord(name)
    cpu, busy = 0.0, []
    closed, open_frames = 0, 0
    if path.exists():
        goal = spec.goal_ms
        for line in read_lines(path.read_text()):
            if isinstance(line, FrameLine):
                rec.frames.append(arrival_s=line.arrival_s, finish_s=line.finish_s,
                                  correct=line.correct == 1, variant=line.variant,
                                  exit=line.variant, offloaded=False, fallback=False,
                                  goal_ms=goal)
                cpu = line.cpu_s
                busy.append((line.start_s, line.finish_s))
                open_frames += 1
            elif isinstance(line, SwitchLine):
                if line.replaced:
                    rec.switches += 1
                    rec.switch_s += line.seconds
                else:
                    rec.load_s += line.seconds
            else:
                rec.arrived += line.arrived
                rec.dropped += line.arrived - line.processed
                rec.active_s += line.end_s - line.launch_s
                closed += 1
                open_frames = 0
    for sess in sessions[closed:closed + 1]:
        end = min(sess.exit_s, stopped_s)
        if end > sess.launch_s:
            arrived = max(0, math.ceil((end - sess.launch_s) * spec.fps - 1e-9))
            rec.arrived += arrived
            rec.dropped += max(0, arrived - open_frames)
            rec.active_s += end - sess.launch_s
    return _Emulated(spec, rec), cpu, busy


def _union(intervals: list[tuple[float, float]]) -> float:
    total, reach = 0.0, -1.0
    for a, b in sorted(intervals):
        if b <= reach:
            continue
        total += b - max(a, reach)
        reach = b
    return total


def emulate(source: str | os.PathLike[str], scheduler: str | None = None,
            out: str | os.PathLike[str] | None = None,
            checkpoints: str | os.PathLike[str] | None = None,
            progress: bool = True, calibrate: bool = True) -> EmulationResult:
    """Simulate, then execute, one scheduler's run of a scenario (or of a run folder).
    ``calibrate`` first times each variant used alone (:mod:`models.emulate.calibrate`)."""
    from tqdm.auto import tqdm

    scenario_path, label = _source(Path(source), scheduler)
    inputs = load_inputs(scenario_path)
    cpus = _check(inputs)
    sc = inputs.scenario
    [(spec, sched)] = create_schedulers(inputs, [label] if label else [sc.schedulers[0].key])
    sim = Simulation(inputs, sched, label=spec.key).run()
    sim_metrics = compute_metrics(sim)
    sessions = app_sessions(sim)
    out_dir = Path(out) if out is not None else Path("runs") / Path(scenario_path).stem / \
        f"emulate-{spec.key}"
    if Path(source).is_dir() and out is None:
        out_dir = Path(source) / "emulated"
    write_outputs(sim, sim_metrics, out_dir / "simulated", resolved_scenario(inputs))

    ctx = mp.get_context("spawn")
    start_at = ctx.Value("d", 0.0)
    procs: dict[str, Any] = {}
    ready: dict[str, Any] = {}
    work = out_dir / "processes"
    work.mkdir(parents=True, exist_ok=True)
    trained = True
    import tempfile

    ckpts: dict[str, Path | None] = {}
    for fam, prof in inputs.profiles.items():
        kw = family_kwargs(prof)
        ckpts[fam] = _checkpoints(fam, kw, prof.task.dataset,
                                  Path(checkpoints) / fam if checkpoints else None)
        if checkpoints is not None and ckpts[fam] is None:
            raise EmulationError(f"--checkpoints: {Path(checkpoints) / fam} holds no trained "
                                 f"{fam} checkpoints (family.json); leave --checkpoints out to "
                                 f"run freshly initialised weights (no accuracy)")
        trained = trained and ckpts[fam] is not None
    tmp = Path(tempfile.mkdtemp(prefix="mvsched-emulate-"))
    samples = _samples(inputs, tmp) if trained else None
    variants_of: dict[str, set[str]] = {}
    for name, ss in sessions.items():
        variants_of[name] = {v for s in ss for _, v, _ in s.changes if v is not None}
    profile_path = {fam: str(Path(resolved_scenario(inputs)["profiles_dir"]) / sc.device.name
                             / f"{fam}.json") for fam in inputs.profiles}
    used = sorted({(sc.app(n).family, v) for n, vs in variants_of.items() for v in vs})
    speed = machine_speed(
        [(profile_path[f], f, v, inputs.profiles[f].device.threads or 1,
          inputs.profiles[f].variant(v).latency_ms.median) for f, v in used], cpus[0]) \
        if calibrate and used else None
    policy = ctx.Array("c", 32)
    interrupted = False
    t0: float | None = None
    stopped_s = sc.duration_s
    try:
        for name, ss in sessions.items():
            app = sc.app(name)
            prof = inputs.profiles[app.family]
            w = AppWorker(
                app=name, family=app.family, family_kwargs=family_kwargs(prof),
                profile_path=profile_path[app.family],
                variants=sorted(variants_of[name]), sessions=ss, fps=app.fps,
                queue_length=sc.engine.queue_length, threads=prof.device.threads or 1,
                cpus=cpus, ckpt_dir=str(ckpts[app.family]) if trained else None,
                samples_path=samples, seed=sc.seed + len(procs),
                out_csv=str(work / f"{name}.csv"))
            ready[name] = ctx.Event()
            procs[name] = ctx.Process(target=run_app, args=(w, ready[name], start_at),
                                      name=f"mvsched-app-{name}", daemon=True)
        steps = load_steps(sim)
        if any(v > 0.0 for _, v in steps):
            for cpu in cpus:
                key = f"background-{cpu}"
                bw = BackgroundWorker(cpu, steps, sc.duration_s, BACKGROUND_PERIOD_S)
                ready[key] = ctx.Event()
                procs[key] = ctx.Process(target=run_background,
                                         args=(bw, ready[key], start_at, policy),
                                         name=f"mvsched-{key}", daemon=True)
        for p in procs.values():
            p.start()
        deadline = time.monotonic() + READY_TIMEOUT_S
        for key, ev in ready.items():
            while not ev.wait(0.2):
                if not procs[key].is_alive():
                    raise EmulationError(f"emulated process {key} failed while preparing "
                                         f"(exit code {procs[key].exitcode})")
                if time.monotonic() > deadline:
                    raise EmulationError(f"emulated process {key} not ready after "
                                         f"{READY_TIMEOUT_S:.0f} s")
        events = _weight_events(sim)
        weights_log = []
        t0 = time.monotonic() + 0.2
        start_at.value = t0
        with tqdm(total=round(sc.duration_s, 1), unit="s", desc=f"emulate {spec.key}",
                  disable=not progress, bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} s "
                  "wall [{elapsed}<{remaining}]") as bar:
            i = 0
            while True:
                now = time.monotonic() - t0
                while i < len(events) and events[i][0] <= now:
                    t, shares = events[i]
                    nice = nice_levels(shares)
                    for app, level in nice.items():
                        _set_nice(procs[app].pid, level)
                    total_w = sum(kernel_weight(n) for n in nice.values())
                    total_s = sum(shares[a] for a in nice)
                    weights_log.append({"t_s": round(t, 6), "apps": {
                        a: {"share": round(shares[a] / total_s, 4), "nice": n,
                            "kernel_share": round(kernel_weight(n) / total_w, 4)}
                        for a, n in nice.items()}})
                    i += 1
                shown = round(min(max(now, 0.0), sc.duration_s), 1)
                if shown > bar.n:
                    bar.update(shown - bar.n)
                if now >= sc.duration_s + 0.05:
                    break
                nxt = events[i][0] if i < len(events) else sc.duration_s + 0.05
                time.sleep(max(0.0, min(0.1, nxt - now)))
        for p in procs.values():
            p.join(timeout=30.0)
    except KeyboardInterrupt:
        interrupted = True
        stopped_s = min(sc.duration_s, max(0.0, time.monotonic() - t0)) if t0 is not None else 0.0
    finally:
        started = [p for p in procs.values() if p.pid is not None]
        for p in started:
            if p.is_alive():
                p.terminate()
        for p in started:
            p.join(timeout=5.0)
            if p.is_alive():
                p.kill()
                p.join()
        if samples:
            Path(samples).unlink(missing_ok=True)
        tmp.rmdir()

    apps, work_done, busy = {}, {}, []
    for name in sessions:
        apps[name], cpu, b = _parse(work / f"{name}.csv", name, sc.app(name),
                                    sessions[name], stopped_s)
        work_done[name] = cpu / sc.device.cores
        busy += b
    if interrupted:  # compare with the simulation of the same stretch
        cut = replace(inputs, scenario=sc.model_copy(update={"duration_s": stopped_s}))
        [(_, fresh)] = create_schedulers(cut, [spec.key])
        sim_metrics = compute_metrics(Simulation(cut, fresh, label=spec.key).run())
    emu = EngineResult(inputs, spec.key, apps, work_done, _union(busy),  # type: ignore[arg-type]
                       stopped_s, timeline=[d for d in sim.timeline if d.t_s <= stopped_s],
                       peak_memory_bytes=sim.peak_memory_bytes)
    emu_metrics = compute_metrics(emu)
    if not trained:
        for block in (emu_metrics["overall"], *emu_metrics["apps"].values()):
            block["accuracy"] = None
        emu_metrics["overall"]["worst_app_accuracy"] = None
    bg = bytes(policy.value).decode(errors="replace").strip("\x00") or None
    emu_metrics["emulation"] = {
        "weights": "trained checkpoints" if trained else
                   "freshly initialised (latency does not depend on the weights; no accuracy)",
        "cores": cpus, "background_policy": bg,
        "background_period_ms": BACKGROUND_PERIOD_S * 1000.0 if bg else None,
        "interrupted": interrupted, "kernel_weights": weights_log,
        "machine_speed": speed,
        "note": "device_s is the apps' CPU time / cores; busy_s the union of frame times",
    }
    write_outputs(emu, emu_metrics, out_dir, resolved_scenario(inputs))
    rows = fidelity_rows(sim_metrics, emu_metrics)
    write_fidelity(out_dir / "fidelity.csv", rows)
    write_text_atomic(out_dir / "emulation.json",
                      json.dumps(emu_metrics["emulation"], indent=1) + "\n")
    return EmulationResult(spec.key, sim_metrics, emu_metrics, rows, out_dir, interrupted,
                           trained)

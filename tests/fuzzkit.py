"""Fuzzing the inputs: mutate a shipped scenario, profile, sweep or trace file (the mutate
family), or generate an adversarial scenario from scratch (the generate family,
:mod:`fuzz_strategies`), run it through validation and a short simulation, and sort the
outcome.

An outcome is ``accepted`` (it ran; every metric finite, every invariant of
:func:`fuzz_strategies.check_facts` held), ``rejected`` (a one-line error of one of the
tool's own error classes, exit 2 in the CLI) or anything else (a traceback, a NaN, a broken
invariant, a hang, a memory error), which is a bug.

    python tests/fuzzkit.py --cases 10000                  # both families: counts per kind
    python tests/fuzzkit.py --cases 300 --family generate --report gen.json
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import random
import signal
import sys
import traceback
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from fuzz_strategies import (
    PLANS_LABEL,
    STRATEGIES,
    check_facts,
    facts_of,
    frames_from_rows,
    fuzz_plans,
    generate,
)

ROOT = Path(__file__).resolve().parents[1]
SIM_CAP_S = 2.0
"""Simulated seconds of an accepted case (validation and trace building see the full file)."""
CASE_LIMIT_S = 30.0
"""Wall seconds after which a case counts as a hang."""

ODD_VALUES: tuple[Any, ...] = (
    0, -1, -1e-9, 1e-300, 1e-7, 1e12, 1e300, float("nan"), float("inf"), -float("inf"),
    2**31, 2**63, True, None, "", "x", "ghost", "../x", "a/b", "a\nb", "é☃", "\x00",
    "a" * 300, [], {}, [1, 2, 3], {"k": 1}, [[0, 1], [1, 0]], list(range(20_000)),
)
OPS = ("drop", "replace", "replace", "scale", "nudge", "nudge", "duplicate", "swap-ref")
TRACE_TOKENS = ("nan", "inf", "-1", "1e300", "abc", "\x00", "é", "", "1,2", "-inf", "0")


@dataclass(frozen=True)
class Outcome:
    kind: str  # accepted | rejected | other
    detail: str = ""
    strategy: str = ""
    """the generated family's strategy ("" for a mutant)"""
    case: str = ""
    """the generated scenario as YAML (a reproducer)"""


def failure_class(detail: str) -> str:
    """The class of an 'other' outcome: the invariant's name, 'hang', or the exception type
    and the place it was raised."""
    if detail.startswith("invariant: "):
        parts = detail.split(": ")
        return f"invariant {parts[2]}" if len(parts) > 3 else "invariant"
    if detail.startswith("hang"):
        return "hang"
    if detail.startswith("error not one line"):
        return "error not one line"
    return detail.split(": ")[0]


# -- files -------------------------------------------------------------------------------
def shipped(kind: str) -> list[Path]:
    """The shipped files of one kind (scenario, sweep, profile, trace), sorted."""
    scen = ROOT / "scenarios"
    if kind == "scenario":
        return sorted(p for p in scen.rglob("*.yaml") if not p.name.endswith(".sweep.yaml"))
    if kind == "sweep":
        return sorted(scen.rglob("*.sweep.yaml"))
    if kind == "profile":
        return sorted(p for p in (ROOT / "profiles").glob("*/*.json"))
    if kind == "trace":
        return sorted(p for p in (scen / "traces").iterdir()
                      if p.is_file() and p.name.startswith("norway_"))
    raise ValueError(kind)


def _tree_paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _tree_paths(v, (*prefix, k))
    elif isinstance(node, list) and len(node) <= 200:
        for i, v in enumerate(node):
            yield from _tree_paths(v, (*prefix, i))


def _strings(node: Any) -> list[str]:
    return [x for p in _tree_paths(node) if isinstance(x := _get(node, p), str)]


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        node = node[k]
    return node


def mutate(doc: Any, rng: Any, n: int) -> Any:
    """``doc`` with ``n`` random edits: a key or item dropped, a value replaced by an odd
    one, a number scaled by 1e-6, 1e6 or -1 or nudged by 0-10x, a list item repeated, a string swapped for another
    string of the file (a wrong reference)."""
    doc = copy.deepcopy(doc)
    for _ in range(n):
        paths = [p for p in _tree_paths(doc) if p]
        if not paths:
            return odd_value(rng)
        leaves = [p for p in paths if not isinstance(_get(doc, p), dict | list)]
        path = rng.choice(leaves if leaves and rng.random() < 0.7 else paths)
        parent, key = _get(doc, path[:-1]), path[-1]
        op = rng.choice(OPS)
        value = parent[key]
        if op == "drop":
            del parent[key]
        elif op == "scale" and isinstance(value, int | float) and not isinstance(value, bool):
            parent[key] = value * rng.choice((1e-6, 1e6, -1))
        elif op == "nudge" and isinstance(value, int | float) and not isinstance(value, bool):
            parent[key] = type(value)(value * rng.choice((0, 0.1, 0.5, 2, 10)))
        elif op == "duplicate" and isinstance(value, list) and value:
            value.append(copy.deepcopy(rng.choice(value)))
        elif op == "swap-ref" and isinstance(value, str):
            parent[key] = rng.choice(_strings(doc) or ["ghost"])
        else:
            parent[key] = copy.deepcopy(odd_value(rng))
    return doc


def odd_value(rng: Any) -> Any:
    """An odd value: from ODD_VALUES, or from the chooser's own wider source (hypothesis
    strategies draw any float, integer or text too)."""
    wide = getattr(rng, "odd_value", None)
    return wide() if wide is not None else rng.choice(ODD_VALUES)


class DrawChooser:
    """The ``random.Random`` methods the mutators use, answered by hypothesis draws, so a
    failing case shrinks to the fewest, simplest edits."""

    def __init__(self, data: Any) -> None:
        from hypothesis import strategies as st

        self._data, self._st = data, st

    def choice(self, seq: Any) -> Any:
        return self._data.draw(self._st.sampled_from(list(seq)))

    def randrange(self, n: int) -> int:
        return int(self._data.draw(self._st.integers(0, n - 1)))

    def random(self) -> float:
        return float(self._data.draw(self._st.floats(0, 1, exclude_max=True)))

    def odd_value(self) -> Any:
        st = self._st
        return self._data.draw(st.one_of(
            st.sampled_from(ODD_VALUES), st.floats(), st.integers(), st.text(max_size=30),
            st.lists(st.floats(), max_size=5)))


def mutate_text(text: str, rng: Any, n: int) -> str:
    """A trace file's text with ``n`` line edits: dropped, repeated, moved, a field
    replaced by an odd token, a header or blank line inserted."""
    lines = text.splitlines()
    for _ in range(n):
        if not lines:
            lines = [rng.choice(TRACE_TOKENS)]
            continue
        i = rng.randrange(len(lines))
        op = rng.randrange(6)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            lines.insert(rng.randrange(len(lines)), lines.pop(i))
        elif op == 3:
            fields = lines[i].split() or [""]
            fields[rng.randrange(len(fields))] = rng.choice(TRACE_TOKENS)
            lines[i] = " ".join(fields)
        elif op == 4:
            lines.insert(i, rng.choice(("time throughput", "", "# note", "1 2 3")))
        else:
            del lines[i:]
    return "\n".join(lines) + "\n"


# -- a private copy of the repository's inputs -------------------------------------------
class Sandbox:
    """A folder that looks like the repository's scenarios/ and profiles/ (links to the real
    files) where one file at a time is replaced by its mutant."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for src in [*shipped("scenario"), *shipped("sweep"), *shipped("profile"),
                    *(ROOT / "scenarios" / "traces").iterdir()]:
            self._link(src)

    def _dest(self, src: Path) -> Path:
        return self.root / src.relative_to(ROOT)

    def _link(self, src: Path) -> None:
        dest = self._dest(src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_symlink() or dest.exists():
            dest.unlink()
        dest.symlink_to(src)

    def replace(self, src: Path, text: str | bytes) -> Path:
        dest = self._dest(src)
        dest.unlink()
        if isinstance(text, bytes):
            dest.write_bytes(text)
        else:
            dest.write_text(text, encoding="utf-8", errors="surrogatepass")
        return dest

    def restore(self, src: Path) -> None:
        self._link(src)


# -- running one case --------------------------------------------------------------------
class _Hang(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _Hang()


def clean_errors() -> tuple[type[BaseException], ...]:
    from sim.config.overrides import OverrideError
    from sim.config.scenario import ScenarioError
    from sim.profile import ProfileError
    from sim.profile.routes import RouteError
    from sim.results.sweep import SweepError
    from sim.schedulers.registry import SchedulerError
    from sim.traces import TraceError

    return (ScenarioError, ProfileError, TraceError, SweepError, OverrideError,
            SchedulerError, RouteError)


def _dump(kind: str, doc: Any) -> str:
    if kind == "profile":
        return json.dumps(doc, allow_nan=True)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _capped(raw: Any) -> Any:
    """The scenario shortened to SIM_CAP_S simulated seconds (later events dropped), when
    its duration is a number above the cap; otherwise unchanged (validation judges it)."""
    if not isinstance(raw, dict):
        return raw
    d = raw.get("duration_s")
    if isinstance(d, int | float) and not isinstance(d, bool) and math.isfinite(d) \
            and d > SIM_CAP_S:
        raw = {**raw, "duration_s": SIM_CAP_S}
        events = raw.get("events")
        if isinstance(events, list):
            raw["events"] = [e for e in events if not (
                isinstance(e, dict) and isinstance(e.get("t"), int | float)
                and e["t"] > SIM_CAP_S)]
    return raw


ROWS_LIMIT = 200_000
"""Runs with at most this many frames are checked on ``RunResult.frames()`` rows (what
frames.csv holds); longer ones on the records those rows expand (runs of lost frames)."""


def check_run(inputs: Any) -> None:
    """Simulate every scheduler of the inputs; AssertionError ``label: invariant: what``
    when a metric is not finite or the run breaks an invariant (fuzz_strategies)."""
    from sim.results.metrics import compute_metrics

    for res in _run_all(inputs):
        _finite(res.metrics, res.label)
        compute_metrics(res.engine)
        facts = facts_of(res)
        if sum(f.frames for f in facts.frames) <= ROWS_LIMIT:
            facts = dataclasses.replace(facts, frames=frames_from_rows(res.frames()))
        check_facts(facts)


def _run_all(inputs: Any) -> list[Any]:
    """run_inputs, with :func:`fuzz_strategies.fuzz_plans` for the labels that name it."""
    from sim.engine.world import Simulation
    from sim.results.metrics import compute_metrics
    from sim.runner import RunResult, run_inputs

    if not any(s.key.startswith(PLANS_LABEL) for s in inputs.scenario.schedulers):
        return run_inputs(inputs)
    out = []
    for spec in inputs.scenario.schedulers:
        if spec.key.startswith(PLANS_LABEL):
            sched = fuzz_plans(int(spec.key[len(PLANS_LABEL):]))
            eng = Simulation(inputs, sched, label=spec.key).run()
            out.append(RunResult(spec.key, compute_metrics(eng), eng))
        else:
            out += run_inputs(inputs, [spec.key])
    return out


def _finite(node: Any, where: str) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _finite(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _finite(v, f"{where}[{i}]")
    elif isinstance(node, float):
        assert not math.isnan(node), f"NaN in metrics at {where}"


def _sorted_exception(exc: BaseException) -> Outcome:
    tb = traceback.extract_tb(exc.__traceback__)[-1]
    return Outcome("other", f"{type(exc).__name__} at {Path(tb.filename).name}:"
                            f"{tb.lineno}: {str(exc)[:200]}")


def _scenario_case(path: Path) -> None:
    from sim.config.inputs import load_inputs

    load_inputs(path)  # the whole file: validation, profiles, traces
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    capped = _capped(raw)
    if capped is not raw:
        tmp = path.with_name(f".capped-{path.name}")
        tmp.write_text(yaml.safe_dump(capped, allow_unicode=True), encoding="utf-8")
        try:
            inputs = load_inputs(tmp)
        finally:
            tmp.unlink()
    else:
        inputs = load_inputs(path)
    check_run(inputs)


def _sweep_case(path: Path) -> None:
    from sim.config.inputs import load_inputs
    from sim.results.sweep import load_sweep

    sw = load_sweep(path)
    tasks = sw.tasks()
    assert tasks, "a valid sweep has at least one run"
    task = tasks[len(tasks) // 2]
    raw = yaml.safe_load(Path(task.scenario).read_text(encoding="utf-8"))
    capped = _capped(raw)
    capped["profiles_dir"] = str((Path(task.scenario).parent / capped.get(
        "profiles_dir", "../profiles")).resolve())
    capped = _absolute_trace_paths(capped, Path(task.scenario).parent)
    inputs = load_inputs(capped, seed=task.seed, overrides=task.overrides)
    check_run(_only(inputs, task.scheduler))


def _absolute_trace_paths(node: Any, base: Path) -> Any:
    if isinstance(node, dict):
        out = {k: _absolute_trace_paths(v, base) for k, v in node.items()}
        if out.get("kind") == "csv" and isinstance(out.get("path"), str):
            out["path"] = str((base / out["path"]).resolve())
        return out
    if isinstance(node, list):
        return [_absolute_trace_paths(v, base) for v in node]
    return node


def _only(inputs: Any, label: str) -> Any:
    sc = inputs.scenario
    keep = [s for s in sc.schedulers if s.key == label]
    return dataclasses.replace(inputs, scenario=sc.model_copy(update={"schedulers": keep}))


def _users(kind: str, src: Path) -> list[Path]:
    """Shipped scenarios that read ``src`` (a profile or a trace)."""
    found = []
    for sc in shipped("scenario"):
        raw = yaml.safe_load(sc.read_text())
        if kind == "trace":
            if src.name in sc.read_text():
                found.append(sc)
            continue
        prof_dir = (sc.parent / raw.get("profiles_dir", "../profiles")).resolve()
        devices = {raw["device"]["name"], (raw.get("server") or {}).get("name")}
        if src.parent.parent.resolve() == prof_dir and src.parent.name in devices \
                and any(a["family"] == src.stem for a in raw["apps"]):
            found.append(sc)
    return found


SCHEDULER_FOR_KIND = {"multi_capacity": "nestdnn-mintotal", "elastified": "adaptivenet",
                      "supernet": "ofa-static", "progressive": "device-only", "fixed": "agnostic"}


def _scenario_for(box: Sandbox, profile: Path, kind: str) -> Path:
    """A small scenario that runs one app on ``profile`` (which no shipped scenario reads)
    under the scheduler made for its kind, next to the app-agnostic baseline."""
    raw = {"name": "fuzz", "duration_s": SIM_CAP_S, "profiles_dir": str(box.root / "profiles"),
           "schedulers": [{"name": "agnostic"}, {"name": SCHEDULER_FOR_KIND[kind]}],
           "device": {"name": profile.parent.name, "memory_mb": 4000},
           "apps": [{"name": "app", "family": profile.stem, "fps": 10}],
           "events": [{"t": 0, "action": "launch", "app": "app"}]}
    path = box.root / "scenarios" / "fuzz-profile.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def run_case(box: Sandbox, kind: str, src: Path, rng: Any) -> Outcome:
    """Mutate ``src`` inside the sandbox, run its check, restore it; the sorted outcome."""
    n = rng.choice((1, 1, 1, 2, 3))
    text = src.read_text(encoding="utf-8")
    if kind == "trace":
        mutant: str | bytes = mutate_text(text, rng, n)
    else:
        doc = json.loads(text) if kind == "profile" else yaml.safe_load(text)
        mutant = _dump(kind, mutate(doc, rng, n))
    if kind != "trace" and rng.random() < 0.02:  # absurd nesting, beyond any recursion limit
        mutant = ("[" * 3000 + "]" * 3000) if kind == "profile" else \
            f"scenario: {'[' * 3000}{']' * 3000}\n"
    if rng.random() < 0.02:
        mutant = mutant.encode("utf-8", "surrogatepass")[:-7] + b"\xff\xfe" \
            if isinstance(mutant, str) else mutant
    dest = box.replace(src, mutant)
    users = [box._dest(s) for s in _users(kind, src)] if kind in ("profile", "trace") else []
    def check() -> None:
        if kind == "scenario":
            _scenario_case(dest)
        elif kind == "sweep":
            _sweep_case(dest)
        elif kind == "profile":
            from sim.profile import load_profile

            prof = load_profile(dest)
            for sc in users[:1] or [_scenario_for(box, dest, prof.kind)]:
                _scenario_case(sc)
        else:
            for sc in users[:1]:
                _scenario_case(sc)

    try:
        return _sorted(check, f"{kind} {src.name}", CASE_LIMIT_S)
    finally:
        box.restore(src)


def _sorted(check: Any, what: str, limit_s: float) -> Outcome:
    """Run ``check()`` (warnings off: the inputs are meant to be implausible) for at most
    ``limit_s`` wall seconds; its outcome."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    quiet = warnings.catch_warnings()
    quiet.__enter__()
    warnings.simplefilter("ignore")
    try:
        check()
        return Outcome("accepted")
    except _Hang:
        return Outcome("other", f"hang over {limit_s:g} s: {what}")
    except clean_errors() as exc:
        msg = str(exc)
        if "\n" in msg or not msg:
            return Outcome("other", f"error not one line: {msg!r}")
        return Outcome("rejected", msg)
    except AssertionError as exc:
        return Outcome("other", f"invariant: {exc}")
    except Exception as exc:  # noqa: BLE001 (sorting every failure is the point)
        return _sorted_exception(exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        quiet.__exit__(None, None, None)


def dump_case(raw: Any) -> str:
    """A generated scenario as YAML, ``profiles_dir`` relative to the scenarios/ folder, so
    the text saved there reproduces the case."""
    raw = {**raw, "profiles_dir": "../profiles"}
    return yaml.safe_dump(raw, sort_keys=False, default_flow_style=None, width=100)


def run_generated_case(rng: Any, strategy: str | None = None,
                       limit_s: float = CASE_LIMIT_S) -> Outcome:
    """Generate a scenario (a strategy of :data:`fuzz_strategies.STRATEGIES`, drawn when not
    given), validate it, run it under each of its schedulers and check every run; the sorted
    outcome carries the strategy and the scenario's YAML."""
    from sim.config.inputs import load_inputs

    strategy = strategy or rng.choice(sorted(STRATEGIES))
    try:
        raw = generate(strategy, rng, SIM_CAP_S)
    except Exception as exc:  # noqa: BLE001 (a generator fault is reported, not hidden)
        out = _sorted_exception(exc)
        return Outcome("other", f"generator {strategy}: {out.detail}", strategy)
    case = dump_case(raw)
    out = _sorted(lambda: check_run(load_inputs(raw)), f"generated {strategy}", limit_s)
    return dataclasses.replace(out, strategy=strategy, case=case)


KINDS = ("scenario", "profile", "sweep", "trace")
FAMILIES = ("mutate", "generate", "all")


def _limit_memory(gb: float) -> None:
    """Cap this process's address space, so a case that allocates without bound fails with
    a MemoryError instead of taking the machine's memory."""
    import resource

    limit = int(gb * 2**30)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    from tqdm import tqdm

    ap = argparse.ArgumentParser(description="fuzz the inputs (mutated shipped files, "
                                             "generated scenarios); print counts")
    ap.add_argument("--cases", type=int, default=1000, help="cases in all")
    ap.add_argument("--seed", type=int, default=0, help="random seed of the mutations and generated scenarios")
    ap.add_argument("--family", choices=FAMILIES, default="all",
                    help="mutate shipped files, generate scenarios, or both (default)")
    ap.add_argument("--kind", choices=KINDS, action="append",
                    help="only these file kinds (mutate family)")
    ap.add_argument("--strategy", choices=sorted(STRATEGIES), action="append",
                    help="only these strategies (generate family)")
    ap.add_argument("--memory-gb", type=float, default=8.0,
                    help="address-space cap of this process (a MemoryError beyond it)")
    ap.add_argument("--report", type=Path, help="write counts and every 'other' as JSON")
    args = ap.parse_args(argv)
    if args.memory_gb > 0:
        _limit_memory(args.memory_gb)
    slots: list[tuple[str, str]] = []
    if args.family in ("mutate", "all"):
        slots += [("mutate", k) for k in args.kind or KINDS]
    if args.family in ("generate", "all"):
        slots += [("generate", s) for s in args.strategy or sorted(STRATEGIES)]
    counts: Counter[tuple[str, str]] = Counter()
    classes: Counter[tuple[str, str]] = Counter()
    others: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        box = Sandbox(Path(tmp)) if any(f == "mutate" for f, _ in slots) else None
        files = {k: shipped(k) for f, k in slots if f == "mutate"}
        for case in tqdm(range(args.cases), unit="case"):
            family, kind = slots[case % len(slots)]
            rng = random.Random(args.seed * 1_000_003 + case)
            if family == "mutate":
                assert box is not None
                src = rng.choice(files[kind])
                out = run_case(box, kind, src, rng)
                where = {"file": src.name}
            else:
                out = run_generated_case(rng, kind)
                where = {"scenario": out.case}
            counts[kind, out.kind] += 1
            if out.kind == "other":
                cls = failure_class(out.detail)
                classes[kind, cls] += 1
                others.append({"case": case, "family": family, "kind": kind, "class": cls,
                               "detail": out.detail, **where})
    for _, kind in slots:
        row = {o: counts[kind, o] for o in ("accepted", "rejected", "other")}
        print(f"{kind:16s} " + "  ".join(f"{k} {v}" for k, v in row.items()))
    total = {o: sum(v for (_, ok), v in counts.items() if ok == o)
             for o in ("accepted", "rejected", "other")}
    print(f"{'all':16s} " + "  ".join(f"{k} {v}" for k, v in total.items()))
    by_class: Counter[str] = Counter()
    for (_, cls), v in classes.items():
        by_class[cls] += v
    for cls, v in by_class.most_common():
        per = ", ".join(f"{k} {n}" for (k, c), n in sorted(classes.items()) if c == cls)
        print(f"  {v:4d}  {cls}  ({per})")
    for o in others[:50]:
        print(f"  case {o['case']} {o['kind']} {o.get('file', '')}: {o['detail']}")
    if args.report:
        args.report.write_text(json.dumps({
            "counts": total,
            "by_kind": {f"{k}/{o}": v for (k, o), v in sorted(counts.items())},
            "by_class": dict(by_class.most_common()),
            "by_kind_class": {f"{k}/{c}": v for (k, c), v in sorted(classes.items())},
            "other": others}, indent=1))
    return 1 if total["other"] else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    sys.exit(main())

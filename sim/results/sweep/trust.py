"""What a sweep run's result depends on, beyond its key: the files it reads and the tool.

A run's key (:func:`sim.results.sweep.run_key`) names its grid point, scheduler, parameters and seed;
with the scenario's digest (``scenario_sha256``) that fixes the resolved scenario. What the
scenario reads is fixed here: every profile and trace file, by the sha256 of its content,
and the mvsched version. The run file stores both (``inputs``), and their digest
(``fingerprint``), as the worker that computed it saw them; a resumed sweep recomputes a run
whose fingerprint is not the one its inputs have now, and ``sweep.csv`` is made only of runs
whose fingerprint is the current one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.common.input_files import PROFILE_MAX_BYTES, TRACE_MAX_BYTES, read_input_bytes
from sim.config.inputs import RunInputs
from sim.traces import CsvTraceSpec

__all__ = ["FileHasher", "changes", "fingerprint", "input_digest", "input_files",
           "tool_version"]

INPUT_MAX_BYTES = max(PROFILE_MAX_BYTES, TRACE_MAX_BYTES)
"""Largest file hashed: a run's files are profiles and traces, each read within its limit."""


def tool_version() -> str:
    """The installed mvsched version (a run's result may change with it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mvsched")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _csv_traces(node: Any) -> Iterator[CsvTraceSpec]:
    """Every trace read from a file, wherever the scenario holds one."""
    if isinstance(node, CsvTraceSpec):
        yield node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _csv_traces(getattr(node, name))
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _csv_traces(v)
    elif isinstance(node, dict):
        for v in node.values():
            yield from _csv_traces(v)


def input_files(inputs: RunInputs) -> list[Path]:
    """The profile and trace files that ``sim.config.inputs.resolve`` read for these inputs, as
    absolute paths (found the way it finds them)."""
    sc = inputs.scenario
    base = inputs.source.parent.resolve()
    pdir = (base / sc.profiles_dir).resolve()
    files = [pdir / sc.device.name / f"{fam}.json" for fam in inputs.profiles]
    if sc.server is not None:
        files += [pdir / sc.server.name / f"{fam}.json" for fam in inputs.server_profiles]
    files += [(base / spec.path).resolve() for spec in _csv_traces(sc)]
    return sorted(set(files))


class FileHasher:
    """sha256 of file contents, each file read once, through :mod:`sim.common.input_files` so
    that a worker hashes the bytes shipped with its task, the ones its run read."""

    def __init__(self) -> None:
        self._seen: dict[Path, str] = {}

    def __call__(self, path: Path) -> str:
        if path not in self._seen:
            data = read_input_bytes(path, "input", INPUT_MAX_BYTES)
            self._seen[path] = hashlib.sha256(data).hexdigest()
        return self._seen[path]


def input_digest(inputs: RunInputs, hasher: FileHasher | None = None) -> dict[str, Any]:
    """``{"files": {path: sha256}, "mvsched": version}``; paths relative to the scenario's
    folder, so a moved project keeps its results."""
    hasher = hasher or FileHasher()
    base = inputs.source.parent.resolve()
    files = {Path(os.path.relpath(f, base)).as_posix(): hasher(f) for f in input_files(inputs)}
    return {"files": files, "mvsched": tool_version()}


def fingerprint(scenario_sha256: str, key: str, inputs: Mapping[str, Any]) -> str:
    """First 16 hex digits of the sha256 of everything a run's result depends on."""
    ident = {"scenario_sha256": scenario_sha256, "key": key, "inputs": dict(inputs)}
    text = json.dumps(ident, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _shown(rel: str, scenario: Path) -> str:
    """A stored path as the user would type it: relative to the working folder if inside."""
    path = Path(os.path.normpath(scenario.parent / rel))
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def changes(record: Mapping[str, Any], expected: Mapping[str, Any], fp: str,
            scenario: Path) -> list[str]:
    """What differs between the inputs a run file was computed from and ``expected`` (empty
    when its fingerprint is ``fp``): changed, added or removed files, the mvsched version."""
    if record.get("fingerprint") == fp:
        return []
    had = record.get("inputs")
    if not isinstance(had, dict) or not isinstance(had.get("files"), dict):
        return ["no input fingerprint in the run file"]
    old, new = had["files"], expected["files"]
    found = [_shown(rel, scenario) for rel in sorted(set(old) | set(new))
             if old.get(rel) != new.get(rel)]
    if had.get("mvsched") != expected["mvsched"]:
        found.append(f"mvsched {had.get('mvsched')} -> {expected['mvsched']}")
    return found or ["fingerprint"]

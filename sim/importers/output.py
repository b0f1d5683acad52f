"""What every importer shares: choosing source devices and writing profiles safely.

Importers first build every profile in memory (each validated as it is built), then
:func:`write_profiles` checks every target before writing any: the names and paths, that no
file stands where a folder must go, that nothing is overwritten without ``force``, and that
each profile serialises to a file that loads back. It then writes every file to a temporary
file beside its target and renames them into place only when all were written, so an
import writes everything or (refusing, or failing on bad data or a full disk) nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from sim.common.atomic import stage_bytes
from sim.common.messages import excerpt
from sim.common.paths import name_problem, path_problem
from sim.importers.source import ImportDataError, slug
from sim.profile import Profile, dumps_compact
from sim.profile.io import first_error

__all__ = ["building", "checked_name", "device_name", "select_devices", "write_profiles"]


def checked_name(name: str, what: str, where: Path) -> str:
    """``name`` when it can be a profile's folder or file name (the rule scenarios apply to
    device and family names); else an ImportDataError saying ``what`` it is."""
    problem = name_problem(name)
    if problem is not None:
        size = f" ({len(name)} characters)" if len(name) > 40 else ""
        raise ImportDataError(f"{where}: {what} {excerpt(name)}{size} {problem}")
    return name


def device_name(key: str, known: Mapping[str, str], where: Path) -> str:
    """Profile device name of a source device key: the known table's name (keeps the
    shipped profiles' folders) or a safe slug of the key, at most 100 characters."""
    if key in known:
        return known[key]
    try:
        name = slug(key)
    except ValueError:
        raise ImportDataError(f"{where}: device {excerpt(key)}: expected a name usable as a "
                              "folder (it has no letters or digits)") from None
    return checked_name(name, f"device {excerpt(key)}: its profile folder name", where)


@contextmanager
def building(where: Path, what: str) -> Iterator[None]:
    """Around the code that builds one profile from the source: a validation failure
    becomes one ImportDataError naming the source file, ``what`` was being built (device,
    model) and the profile field, never pydantic's multi-line report."""
    try:
        yield
    except ValidationError as exc:
        raise ImportDataError(f"{where}: {what}: the profile built from it is invalid: "
                              f"{first_error(exc)}") from None


def _slug_or_none(key: str) -> str | None:
    try:
        return slug(key)
    except ValueError:
        return None


def select_devices(available: Iterable[str], wanted: Sequence[str] | None,
                   names: Mapping[str, str], where: Path) -> list[str]:
    """The source device keys to import: all of ``available`` when ``wanted`` is empty,
    else each wanted one, given as its source key or its profile device name (``names``:
    known key -> profile name; others are named by their slug). An unknown one is refused,
    listing what the source has."""
    keys = sorted(set(available))
    if not wanted:
        return keys
    chosen: list[str] = []
    for name in wanted:
        match = [k for k in keys if name in (k, names.get(k) or _slug_or_none(k))]
        if not match:
            listed = ", ".join(k if len(k) <= 40 else excerpt(k) for k in keys)
            raise ImportDataError(f"{where}: --device {excerpt(name)}: not a device of this "
                                  f"source; it has: {listed}")
        chosen.extend(k for k in match if k not in chosen)
    return chosen


def _path_problem(path: Path) -> str | None:
    """Why ``path`` cannot receive a profile file, or None."""
    problem = path_problem(str(path))
    if problem is not None:
        return problem
    if path.exists() and not path.is_file():
        return "is not a regular file; a profile cannot be written there"
    for folder in path.parents:
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                return f"{folder} is not a folder"
            break
    return None


def _text(path: Path, profile: Profile) -> str:
    """The file :func:`sim.profile.save_profile` writes, checked to load back."""
    text = dumps_compact(profile.model_dump(mode="json", exclude_none=True)) + "\n"
    try:
        Profile.model_validate(json.loads(text))
    except ValidationError as exc:
        raise ImportDataError(f"{path}: the profile would not load back: "
                              f"{first_error(exc)}; nothing written") from None
    return text


def _stage(path: Path, text: str, made: list[Path]) -> str:
    """Write ``text`` to a temporary file beside ``path`` (creating folders, recorded in
    ``made``); return the temporary file's name."""
    missing = [f for f in reversed(path.parents) if not f.exists()]
    for folder in missing:
        folder.mkdir()
        made.append(folder)
    return stage_bytes(path, text.encode("utf-8"))


def write_profiles(planned: Sequence[tuple[Path, Profile]], force: bool) -> list[Path]:
    """Write each profile to its path, all or nothing: every target is checked first (see
    the module docstring); without ``force`` an existing target is refused, so a re-import
    never silently replaces edited profiles."""
    seen: set[Path] = set()
    for path, _ in planned:
        if path in seen:
            raise ImportDataError(f"{path}: two source entries map to this profile file "
                                  "(rename one device or model in the source)")
        seen.add(path)
        problem = _path_problem(path)
        if problem is not None:
            raise ImportDataError(f"{path}: {problem}; nothing written")
    if not force:
        for path, _ in planned:
            if path.exists():
                raise ImportDataError(f"{path}: already exists; nothing written (pass --force "
                                      "to overwrite)")
    texts = [(path, _text(path, profile)) for path, profile in planned]
    staged: list[tuple[str, Path]] = []
    made: list[Path] = []
    try:
        for path, text in texts:
            staged.append((_stage(path, text, made), path))
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
    return [path for path, _ in planned]

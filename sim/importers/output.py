"""What every importer shares: choosing source devices and writing profiles safely.

Importers first build every profile in memory, then :func:`write_profiles` checks all target
paths before writing any, so an import either writes everything or (refusing to overwrite,
or failing on bad data) nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from sim.importers.source import ImportDataError, slug
from sim.profile import Profile, save_profile

__all__ = ["device_name", "select_devices", "write_profiles"]


def device_name(key: str, known: Mapping[str, str], where: Path) -> str:
    """Profile device name of a source device key: the known table's name (keeps the
    shipped profiles' folders) or a safe slug of the key."""
    if key in known:
        return known[key]
    try:
        return slug(key)
    except ValueError as exc:
        raise ImportDataError(f"{where}: device {key!r}: expected a name usable as a "
                              f"folder ({exc})") from None


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
            raise ImportDataError(f"{where}: --device {name!r}: not a device of this source; "
                                  f"it has: {', '.join(keys)}")
        chosen.extend(k for k in match if k not in chosen)
    return chosen


def write_profiles(planned: Sequence[tuple[Path, Profile]], force: bool) -> list[Path]:
    """Write each profile to its path; without ``force``, refuse (before writing anything)
    when any target exists, so a re-import never silently replaces edited profiles."""
    seen: set[Path] = set()
    for path, _ in planned:
        if path in seen:
            raise ImportDataError(f"{path}: two source entries map to this profile file "
                                  "(rename one device or model in the source)")
        seen.add(path)
    if not force:
        for path, _ in planned:
            if path.exists():
                raise ImportDataError(f"{path}: already exists; nothing written (pass --force "
                                      "to overwrite)")
    return [save_profile(profile, path) for path, profile in planned]

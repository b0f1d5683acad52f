"""Importers: published third-party measurements -> profile files (``provenance: published``).

Each importer reads a folder of source files and writes validated profiles with
:func:`sim.profile.save_profile`; it never invents numbers (what the source does not publish
is recorded as null). ``mvsched import NAME --src DIR [--device D ...] [--out profiles/]
[--force]`` runs one (:mod:`sim.cli.importers`): it imports every device of the source, or
the ones named, and refuses to overwrite an existing profile unless ``--force``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.importers.adaptivenet import import_adaptivenet
from sim.importers.ofa import import_ofa
from sim.importers.portend import import_portend
from sim.importers.source import ImportDataError

__all__ = ["IMPORTERS", "UNIT_OPTION", "ImportDataError", "import_adaptivenet", "import_ofa",
           "import_portend"]

Importer = Callable[..., list[Path]]
IMPORTERS: dict[str, Importer] = {"adaptivenet": import_adaptivenet, "ofa": import_ofa,
                                  "portend": import_portend}
"""Importer name -> ``fn(src_dir, out_dir, notes=None, *, devices=None, force=False, ...)
-> written paths`` (adaptivenet also takes ``units``)."""
UNIT_OPTION = {"adaptivenet"}
"""importers whose sources may state no units (``--units``)"""

"""The built-in schedulers, one module (or package) each, registering itself with
``@register_scheduler``.

Found, not listed: :data:`BUILTIN_MODULES` is every module and package of this folder (a name
starting with ``_`` excepted), which the registry imports on its first lookup. Adding a
scheduler is one new file here; a package (``nestdnn/``, ``spinn/``) registers from its ``__init__``.
Nothing here is imported by this module itself: a scheduler module imports the registry to
register, so the registry importing it back at import time would be a cycle.
"""

from __future__ import annotations

import pkgutil

__all__ = ["BUILTIN_MODULES"]

BUILTIN_MODULES: tuple[str, ...] = tuple(sorted(
    f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__)
    if not m.name.startswith("_")))
"""The modules that register the built-in schedulers, found in this folder."""

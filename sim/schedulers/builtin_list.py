"""The built-in scheduler modules, each registering itself with ``@register_scheduler``.

Named, not imported: the registry imports them on its first lookup (a module imports the
registry to register, so the registry importing it back would be a cycle).
"""

__all__ = ["BUILTIN_MODULES"]

BUILTIN_MODULES = tuple(f"sim.schedulers.builtin.{m}" for m in (
    "adaptivenet", "agnostic", "cloud_only", "device_only", "nestdnn.scheduler", "neurosurgeon",
    "ofa_static",
)) + ("sim.schedulers.spinn",)

"""The model family behind a profile: the ``create_family`` keyword arguments that rebuild
the networks it was measured on, shared by the emulation run and the speed calibration."""

from __future__ import annotations

from typing import Any

__all__ = ["family_kwargs"]


def family_kwargs(profile: Any) -> dict[str, Any]:
    """``scale`` and ``seed`` from the profile's ``extra`` (default tiny, 0), ``classes`` and
    ``input_shape`` from its task."""
    extra = profile.extra or {}
    return {"scale": extra.get("scale", "tiny"), "seed": int(extra.get("seed", 0)),
            "classes": profile.task.classes, "input_shape": tuple(profile.task.input_shape)}

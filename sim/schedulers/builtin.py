"""Imports every built-in scheduler module so each registers itself."""

from sim.schedulers import agnostic, nestdnn  # noqa: F401

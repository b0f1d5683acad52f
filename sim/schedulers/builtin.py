"""Imports every built-in scheduler module so each registers itself."""

from sim.schedulers import (  # noqa: F401
    adaptivenet,
    agnostic,
    cloud_only,
    device_only,
    nestdnn,
    neurosurgeon,
    ofa_static,
    spinn,
)

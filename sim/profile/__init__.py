"""Profile files: one model family measured on one device.

The profiler (``models``) writes profiles through this module and the simulator reads them
through it, so there is exactly one data model. ``profiles/schema.json`` is generated from
these classes (``python -m sim.profile --schema``) and a test keeps the two in sync.

Units: milliseconds for times, bytes for sizes, fractions in [0, 1] for accuracy and FLOP
positions, plain counts for FLOPs and parameters.
"""

from sim.profile.base import SCHEMA_VERSION, ProfileError
from sim.profile.interference import Interference, VariantInterference
from sim.profile.io import dumps_compact, load_profile, profile_json_schema, save_profile
from sim.profile.model import Profile
from sim.profile.outcomes import ExitTable, Outcomes
from sim.profile.pool import Pool, SearchCandidate, SearchRecord, SearchRun
from sim.profile.progressive import ExitPoint, Progressive, SplitPoint, TransferBytes
from sim.profile.variants import (
    Derived,
    DeviceInfo,
    LatencyStats,
    LoadTimes,
    LookupTable,
    Measured,
    Published,
    Task,
    Variant,
)

__all__ = [
    "SCHEMA_VERSION",
    "Derived",
    "DeviceInfo",
    "ExitPoint",
    "ExitTable",
    "Interference",
    "VariantInterference",
    "LatencyStats",
    "LoadTimes",
    "LookupTable",
    "Measured",
    "Outcomes",
    "Pool",
    "Profile",
    "ProfileError",
    "Progressive",
    "Published",
    "SearchCandidate",
    "SearchRecord",
    "SearchRun",
    "SplitPoint",
    "Task",
    "TransferBytes",
    "Variant",
    "load_profile",
    "save_profile",
    "profile_json_schema",
    "dumps_compact",
]

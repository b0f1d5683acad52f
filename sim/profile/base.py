"""What every part of a profile shares: the error, the frozen base model and the field
types (fractions, packed per-sample integers, free-form records)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

from sim.common.frozen import deep_freeze
from sim.common.messages import OneLineError
from sim.profile.packing import unpack_ints

SCHEMA_VERSION = 1


class ProfileError(OneLineError):
    """A profile file that cannot be used; the message names the file and the field."""


class FrozenModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


NonNeg = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Frozen = AfterValidator(deep_freeze)
"""Containers inside a profile are made immutable (tuples, FrozenDicts): see sim.common.frozen."""
FreeForm = Annotated[Any, Frozen]
PackedInts = Annotated[
    tuple[int, ...],
    BeforeValidator(unpack_ints),
    WithJsonSchema({"anyOf": [{"type": "array", "items": {"type": "integer", "minimum": 0}},
                              {"type": "string", "pattern": "^u(16|32):"}]}),
]
"""Non-negative ints per eval sample, written as packed base64 (see sim.profile.packing)."""



"""Early-exit, partitioned networks: split points with their transfer sizes and exits
with their positions and accuracies."""

from __future__ import annotations

from pydantic import (
    Field,
    field_serializer,
    model_validator,
)

from sim.profile.base import Fraction, FrozenModel, NonNeg, PackedInts
from sim.profile.packing import pack_ints


class TransferBytes(FrozenModel):
    """Bytes sent when splitting at one point."""

    fp32: NonNeg
    int8: NonNeg
    int8_lz4_mean: NonNeg | None = Field(
        default=None, description="mean bytes after int8 + bit-shuffle + LZ4; null = not "
                                  "published by the source (the split then sends int8)")
    int8_lz4_per_sample: PackedInts | None = Field(
        default=None, description="per eval sample, aligned with outcomes ('u16:'/'u32:' base64 in files)"
    )

    @field_serializer("int8_lz4_per_sample", when_used="json")
    def _pack(self, v: tuple[int, ...] | None) -> str | None:
        return None if v is None else pack_ints(v)

    @model_validator(mode="after")
    def _mean_with_samples(self) -> TransferBytes:
        if self.int8_lz4_per_sample is not None and self.int8_lz4_mean is None:
            raise ValueError("int8_lz4_per_sample needs int8_lz4_mean (their mean)")
        return self

    def sent_mean(self) -> float:
        """Mean bytes a split sends: the compressed size when known, else the int8 tensor
        (SPINN's 8-bit quantisation without the lossless stage)."""
        return self.int8_lz4_mean if self.int8_lz4_mean is not None else self.int8


class SplitPoint(FrozenModel):
    """A candidate device/server split (after a ReLU)."""

    name: str
    flops_fraction: Fraction = Field(description="share of backbone FLOPs before the split")
    device_ms: NonNeg = Field(description="cumulative device latency up to the split, exits included")
    server_ms: NonNeg | None = Field(
        default=None, description="latency after the split to the final exit (server profile)"
    )
    bytes: TransferBytes
    encode_ms: NonNeg | None = Field(
        default=None, description="codec encode time at this split (default: progressive.codec_encode_ms)"
    )
    decode_ms: NonNeg | None = Field(
        default=None, description="codec decode time at this split (default: progressive.codec_decode_ms)"
    )


class ExitPoint(FrozenModel):
    """An early exit of a progressive network."""

    name: str
    flops_fraction: Fraction
    device_ms: NonNeg = Field(description="cumulative device latency to this exit's output")
    head_ms: NonNeg | None = Field(
        default=None, description="latency of the exit head alone; absent = not published "
                                  "(counted as 0 where heads are subtracted)")
    top1: Fraction


class Progressive(FrozenModel):
    """Split points and exits of an early-exit network (SPINN)."""

    splits: tuple[SplitPoint, ...]
    exits: tuple[ExitPoint, ...]
    codec_encode_ms: NonNeg = 0.0
    codec_decode_ms: NonNeg = 0.0
    input_bytes: NonNeg = Field(default=0.0, description="bytes of one raw input (cloud-only)")

    @model_validator(mode="after")
    def _names(self) -> Progressive:
        names = [s.name for s in self.splits]
        if "input" in names:
            raise ValueError("splits: 'input' is reserved for cloud-only execution; rename it")
        if len(set(names)) != len(names):
            raise ValueError(f"splits: repeated split names in {names}")
        return self



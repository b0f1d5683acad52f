"""Who measured what on which machine (task, provenance, device) and the runnable variants
with their latency, size and load times; a supernet's lookup table."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from sim.profile.base import Fraction, Frozen, FrozenModel, NonNeg, ProfileError


class Task(FrozenModel):
    """What the network was trained and evaluated on."""

    dataset: str = Field(description="data set name, e.g. 'digits', 'cifar10', 'imagenet'")
    classes: int = Field(ge=1, description="number of output classes")
    input_shape: tuple[int, int, int] = Field(description="[channels, height, width] of one input")
    eval_samples: int = Field(ge=0, description="number of evaluation samples behind the accuracies")


class Measured(FrozenModel):
    """Numbers measured by a tool (ours or another) on the device named in the profile."""

    type: Literal["measured"] = "measured"
    tool: str = Field(description="tool that measured it, e.g. 'mvsched profile'")
    tool_version: str
    command: str | None = Field(default=None, description="command line that regenerates it")


class Published(FrozenModel):
    """Numbers taken from a publication or its artifact: never presented as our measurement."""

    type: Literal["published"] = "published"
    citation: str = Field(description="paper the numbers come from")
    source: str = Field(description="where the numbers were read (repository, file, commit)")
    note: str | None = None


class Derived(FrozenModel):
    """Numbers computed from another profile by a stated rule (a faster server, a calibrated
    copy): never a measurement of the device this profile names."""

    type: Literal["derived"] = "derived"
    derived_from: str = Field(description="the profile it was derived from: family on device "
                                          "(and file)")
    base: Measured | Published = Field(
        description="provenance of the profile it was derived from")
    method: str = Field(description="how every changed number was computed")
    factors: dict[str, float] = Field(
        description="the factors applied, by name, e.g. {'latency': 0.1}")
    date: str = Field(description="ISO date of the derivation")
    command: str | None = Field(default=None, description="command line that regenerates it")


Provenance = Annotated[Measured | Published | Derived, Field(discriminator="type")]


class DeviceInfo(FrozenModel):
    """The machine and settings the latencies belong to."""

    name: str = Field(description="device name used by scenarios, e.g. 'cpu-1t', 'pixel7'")
    processor: str | None = Field(
        description="processor string, e.g. 'Intel Xeon 8375C' or 'Snapdragon 8 Gen 2'; "
                    "null = not published by the source")
    threads: int | None = Field(default=None, ge=1, description="inference threads, null if unknown")
    framework: str | None = Field(
        description="inference framework, e.g. 'pytorch', 'tflite'; null = not published by the "
                    "source")
    framework_version: str | None = None
    accelerator: str | None = Field(default=None, description="'cpu', 'cuda:NVIDIA H100', 'gpu', ...")
    dtype: str = "float32"
    batch_size: int = Field(default=1, ge=1)
    warmup: int | None = Field(default=None, ge=0, description="untimed runs before timing")
    repeats: int | None = Field(default=None, ge=1, description="timed runs per latency figure")
    date: str | None = Field(default=None, description="ISO date of the measurement")

    @model_serializer(mode="wrap")
    def _unpublished_as_null(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Write an unpublished processor/framework as an explicit null: save_profile drops
        Nones, and "not published" must stay distinct from a forgotten (required) field."""
        out: dict[str, Any] = handler(self)
        return {k: out.get(k) for k in type(self).model_fields
                if k in out or (k in ("processor", "framework") and getattr(self, k) is None)}


class LatencyStats(FrozenModel):
    """Latency of one inference over the repeats, in ms."""

    median: NonNeg
    p10: NonNeg | None = None
    p90: NonNeg | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LatencyStats:
        if self.p10 is not None and self.p10 > self.median:
            raise ValueError(f"p10 ({self.p10}) must not exceed median ({self.median})")
        if self.p90 is not None and self.p90 < self.median:
            raise ValueError(f"p90 ({self.p90}) must not be below median ({self.median})")
        return self


class LoadTimes(FrozenModel):
    """Measured time to load a variant's weights from storage, in ms."""

    full: NonNeg = Field(description="load the whole variant")
    incremental: NonNeg | None = Field(
        default=None, description="load only the bytes not shared with the parent (nested models)"
    )


class Variant(FrozenModel):
    """One runnable model: a descendant, a subnet, a fixed model."""

    id: str = Field(min_length=1)
    arch: Annotated[dict[str, Any] | str, Frozen] = Field(
        description="architecture description or config"
    )
    params: int | None = Field(default=None, ge=0)
    weight_bytes: int | None = Field(
        ge=0, description="bytes of weights held in memory; null = not published by the source "
                          "(a scenario that runs the profile is refused: memory and model loads "
                          "need every size)")
    peak_activation_bytes: int = Field(default=0, ge=0)
    flops: float | None = Field(default=None, ge=0, description="floating-point ops per inference")
    latency_ms: LatencyStats
    top1: Fraction = Field(description="top-1 accuracy on the eval split, in [0, 1]")
    parent: str | None = Field(default=None, description="id of the next smaller nested variant")
    shared_bytes: int = Field(default=0, ge=0, description="weight bytes shared with the parent")
    independent: bool = Field(
        default=False, description="trained on its own (a baseline), not part of the nested set"
    )
    load_ms: LoadTimes | None = None
    blocks: tuple[str, ...] | None = Field(
        default=None,
        description="keys of pool.block_bytes this subnet holds in memory (supernets); "
                    "switching loads only the blocks not already resident",
    )

    @field_validator("latency_ms")
    @classmethod
    def _takes_time(cls, v: LatencyStats) -> LatencyStats:
        if not v.median > 0:
            raise ValueError("median must be > 0 ms: every inference takes some time")
        return v

    @model_serializer(mode="wrap")
    def _unpublished_as_null(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Write an unpublished weight_bytes as an explicit null (see DeviceInfo's)."""
        out: dict[str, Any] = handler(self)
        return {k: out.get(k) for k in type(self).model_fields
                if k in out or (k == "weight_bytes" and self.weight_bytes is None)}

    def known_weight_bytes(self) -> int:
        """``weight_bytes`` for code that needs a size (memory, loads): a one-line
        ProfileError when the source did not publish it (null), never a guess."""
        if self.weight_bytes is None:
            raise ProfileError(f"variant {self.id!r}: weight_bytes: null (not published by the "
                               "source), but memory and model loads need a size")
        return self.weight_bytes


class LookupTable(FrozenModel):
    """Per-block latency table of a supernet and its honestly measured error."""

    stem_ms: NonNeg = 0.0
    head_ms: NonNeg = 0.0
    blocks: Annotated[dict[str, NonNeg], Frozen] = Field(
        description="block choice key -> latency in ms"
    )
    samples: Annotated[tuple[dict[str, Any], ...], Frozen] = Field(
        default=(),
        description="sampled subnets: {'arch': ..., 'measured_ms': x, 'predicted_ms': y}",
    )
    error: Annotated[dict[str, float], Frozen] = Field(
        default_factory=dict,
        description="over samples: 'n', 'mape', 'bias_pct', 'max_abs_pct' (percent), "
                    "'within_5pct', 'within_10pct' (fractions); see sim.profile.lut_error",
    )



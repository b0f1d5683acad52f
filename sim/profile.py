"""Profile files: one model family measured on one device.

The profiler (``models``) writes profiles through this module and the simulator reads them
through it, so there is exactly one data model. ``profiles/schema.json`` is generated from
these classes (``python -m sim.profile --schema``) and a test keeps the two in sync.

Units: milliseconds for times, bytes for sizes, fractions in [0, 1] for accuracy and FLOP
positions, plain counts for FLOPs and parameters.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    WithJsonSchema,
    field_serializer,
    field_validator,
    model_serializer,
    model_validator,
)

from sim.atomic import write_text_atomic
from sim.frozen import deep_freeze
from sim.input_files import (
    PROFILE_MAX_BYTES,
    InputFileError,
    long_number_problem,
    read_input_text,
)
from sim.messages import OneLineError, field_path, one_line
from sim.packing import pack_bits, pack_ints, unpack_bits, unpack_ints

__all__ = [
    "SCHEMA_VERSION",
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
]

SCHEMA_VERSION = 1


class ProfileError(OneLineError):
    """A profile file that cannot be used; the message names the file and the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


NonNeg = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Frozen = AfterValidator(deep_freeze)
"""Containers inside a profile are made immutable (tuples, FrozenDicts): see sim.frozen."""
FreeForm = Annotated[Any, Frozen]
PackedInts = Annotated[
    tuple[int, ...],
    BeforeValidator(unpack_ints),
    WithJsonSchema({"anyOf": [{"type": "array", "items": {"type": "integer", "minimum": 0}},
                              {"type": "string", "pattern": "^u(16|32):"}]}),
]
"""Non-negative ints per eval sample, written as packed base64 (see sim.packing)."""


class Task(_Frozen):
    """What the network was trained and evaluated on."""

    dataset: str = Field(description="data set name, e.g. 'digits', 'cifar10', 'imagenet'")
    classes: int = Field(ge=1, description="number of output classes")
    input_shape: tuple[int, int, int] = Field(description="[channels, height, width] of one input")
    eval_samples: int = Field(ge=0, description="number of evaluation samples behind the accuracies")


class Measured(_Frozen):
    """Numbers measured by a tool (ours or another) on the device named in the profile."""

    type: Literal["measured"] = "measured"
    tool: str = Field(description="tool that measured it, e.g. 'mvsched profile'")
    tool_version: str
    command: str | None = Field(default=None, description="command line that regenerates it")


class Published(_Frozen):
    """Numbers taken from a publication or its artifact: never presented as our measurement."""

    type: Literal["published"] = "published"
    citation: str = Field(description="paper the numbers come from")
    source: str = Field(description="where the numbers were read (repository, file, commit)")
    note: str | None = None


Provenance = Annotated[Measured | Published, Field(discriminator="type")]


class DeviceInfo(_Frozen):
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


class LatencyStats(_Frozen):
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


class LoadTimes(_Frozen):
    """Measured time to load a variant's weights from storage, in ms."""

    full: NonNeg = Field(description="load the whole variant")
    incremental: NonNeg | None = Field(
        default=None, description="load only the bytes not shared with the parent (nested models)"
    )


class Variant(_Frozen):
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


class LookupTable(_Frozen):
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
                    "'within_5pct', 'within_10pct' (fractions); see sim.lut_error",
    )


class TransferBytes(_Frozen):
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


class SplitPoint(_Frozen):
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


class ExitPoint(_Frozen):
    """An early exit of a progressive network."""

    name: str
    flops_fraction: Fraction
    device_ms: NonNeg = Field(description="cumulative device latency to this exit's output")
    head_ms: NonNeg | None = Field(
        default=None, description="latency of the exit head alone; absent = not published "
                                  "(counted as 0 where heads are subtracted)")
    top1: Fraction


class Progressive(_Frozen):
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


_SLACK = 1e-9
"""Rounding a published fraction may leave: comparisons of exit-table fractions allow it."""


def _row_problem(name: str, row: tuple[float | None, ...], width: int) -> str | None:
    if len(row) != width:
        return f"{name}: {len(row)} entries, expected one per exit ({width})"
    return None


class ExitTable(_Frozen):
    """Aggregate outcomes of an early-exit network: per exit threshold, how many frames
    have left by each exit and how accurate the frames leaving at each exit are.

    Published work often gives only these aggregates, not per-sample outcomes; the
    simulator then draws each frame's exit and correctness from them (:mod:`sim.routes`),
    so the joint behaviour of one sample across exits and thresholds is lost.
    """

    confidence: str = Field(
        min_length=1, description="what each exit compares with the threshold (a frame leaves "
                                  "at the first exit whose value is >= it), e.g. 'max softmax' "
                                  "or '1 - normalised entropy'")
    exits: tuple[str, ...] = Field(
        min_length=1, description="exit names in network order, the final exit last: the "
                                  "names of progressive.exits, in their order")
    thresholds: tuple[Fraction, ...] = Field(
        min_length=1, description="thresholds in increasing order, each in [0, 1]")
    left_by: tuple[tuple[Fraction, ...], ...] = Field(
        description="per threshold, per exit: fraction of frames that have left by that exit "
                    "(cumulative; 1 at the final exit)")
    accuracy: tuple[tuple[Fraction | None, ...], ...] = Field(
        description="per threshold, per exit: accuracy, at that exit, of the frames that leave "
                    "there; null where none leave")
    final_accuracy: tuple[tuple[Fraction | None, ...], ...] | None = Field(
        default=None,
        description="per threshold, per exit: accuracy of the final exit on the frames that "
                    "would leave at that exit (an offloaded frame is answered by the server at "
                    "the final exit); null where none leave; absent: the final exit's top1")

    @model_validator(mode="after")
    def _shape(self) -> ExitTable:
        ths, width = self.thresholds, len(self.exits)
        if len(set(self.exits)) != width:
            raise ValueError(f"exits: repeated names in {list(self.exits)}")
        for i, (a, b) in enumerate(zip(ths, ths[1:])):
            if not b > a:
                raise ValueError(f"thresholds[{i + 1}]: must increase ({b} after {a})")
        tables = [("left_by", self.left_by), ("accuracy", self.accuracy)]
        if self.final_accuracy is not None:
            tables.append(("final_accuracy", self.final_accuracy))
        for name, table in tables:
            if len(table) != len(ths):
                raise ValueError(f"{name}: {len(table)} rows, expected one per threshold "
                                 f"({len(ths)})")
            for j, row in enumerate(table):
                problem = _row_problem(f"{name}[{j}]", row, width)
                if problem:
                    raise ValueError(problem)
        for j, row in enumerate(self.left_by):
            for k in range(1, width):
                if row[k] < row[k - 1] - _SLACK:
                    raise ValueError(
                        f"left_by[{j}][{k}]: {row[k]} after {row[k - 1]}: the fraction that has "
                        f"left by an exit cannot fall from one exit ({self.exits[k - 1]!r}) to "
                        f"the next ({self.exits[k]!r})")
            if abs(row[-1] - 1.0) > _SLACK:
                raise ValueError(f"left_by[{j}][{width - 1}]: {row[-1]}, expected 1: every "
                                 f"frame has left by the final exit ({self.exits[-1]!r})")
        for j in range(1, len(ths)):
            for k in range(width):
                if self.left_by[j][k] > self.left_by[j - 1][k] + _SLACK:
                    raise ValueError(
                        f"left_by[{j}][{k}]: {self.left_by[j][k]} at threshold {ths[j]} above "
                        f"{self.left_by[j - 1][k]} at {ths[j - 1]}: a higher threshold cannot "
                        f"let more frames leave by exit {self.exits[k]!r}")
        if self.final_accuracy is not None:
            for j, (own, fin) in enumerate(zip(self.accuracy, self.final_accuracy)):
                if (own[-1] is None) != (fin[-1] is None) or (
                        own[-1] is not None and abs(own[-1] - fin[-1]) > _SLACK):  # type: ignore[operator]
                    raise ValueError(
                        f"final_accuracy[{j}][{width - 1}]: {fin[-1]} differs from "
                        f"accuracy[{j}][{width - 1}] ({own[-1]}): both are the final exit's "
                        "accuracy on the frames that reach it")
        for name, table in tables[1:]:
            for j, row in enumerate(table):
                for k, acc in enumerate(row):
                    if acc is None and self.leaving(j, k) > _SLACK:
                        raise ValueError(
                            f"{name}[{j}][{k}]: null, but a fraction "
                            f"{self.leaving(j, k):.6g} of frames leave at exit "
                            f"{self.exits[k]!r} at threshold {ths[j]}")
        return self

    def leaving(self, row: int, k: int) -> float:
        """Fraction of frames that leave at exit ``k`` at threshold ``thresholds[row]``."""
        cum = self.left_by[row]
        return cum[k] - (cum[k - 1] if k else 0.0)

    def row(self, threshold: float) -> int | None:
        """Index of ``threshold`` in ``thresholds`` (within 1e-9), or None."""
        for j, t in enumerate(self.thresholds):
            if abs(t - threshold) <= _SLACK:
                return j
        return None


class Outcomes(_Frozen):
    """Evaluation outcomes, so the simulator samples real behaviour: per sample (the joint
    behaviour of variants and exits is kept) or, for published aggregates, an exit table.

    ``correct`` maps a variant id (or exit name) to a string of '0'/'1', one per sample;
    ``confidence`` maps an exit name to max-softmax confidences in permille (0..1000);
    ``exit_table`` gives per-threshold exit fractions and accuracies over the ``samples``
    evaluation samples, used for exit thresholds when the exits have no confidences.
    """

    samples: int = Field(ge=1)
    correct: Annotated[dict[str, str], Frozen] = Field(
        default_factory=dict, description="'0'/'1' per sample ('bits:' base64 in files)"
    )
    confidence: Annotated[dict[str, PackedInts], Frozen] = Field(
        default_factory=dict, description="permille per sample ('u16:' base64 in files)"
    )
    exit_table: ExitTable | None = Field(
        default=None, description="aggregate exit fractions and accuracies per threshold "
                                  "(published profiles without per-sample outcomes)")

    @model_validator(mode="before")
    @classmethod
    def _unpack_bits(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("correct"), dict):
            n = data.get("samples")
            try:
                data = {**data, "correct": {k: unpack_bits(v, n if isinstance(n, int) else None)
                                            for k, v in data["correct"].items()}}
            except ValueError as exc:
                raise ValueError(f"correct: {exc}") from None
        return data

    @field_serializer("correct", when_used="json")
    def _pack_correct(self, v: dict[str, str]) -> dict[str, str]:
        return {k: pack_bits(bits) for k, bits in v.items()}

    @field_serializer("confidence", when_used="json")
    def _pack_confidence(self, v: dict[str, tuple[int, ...]]) -> dict[str, str]:
        return {k: pack_ints(c) for k, c in v.items()}

    @model_validator(mode="after")
    def _aligned(self) -> Outcomes:
        for key, bits in self.correct.items():
            if len(bits) != self.samples or set(bits) - {"0", "1"}:
                raise ValueError(
                    f"correct[{key!r}] must be {self.samples} characters of '0'/'1'"
                )
        for key, conf in self.confidence.items():
            if len(conf) != self.samples or any(c < 0 or c > 1000 for c in conf):
                raise ValueError(f"confidence[{key!r}] must be {self.samples} ints in 0..1000")
        return self


class SearchRun(_Frozen):
    """One on-device search the profiler ran (AdaptiveNet), for one latency budget."""

    budget_ms: NonNeg
    seconds: NonNeg = Field(description="measured wall time of this search")
    evaluated: int = Field(ge=0, description="subnets whose accuracy it measured")


class SearchCandidate(_Frozen):
    """A subnet an on-device search evaluated: what a re-search can choose at run time.

    Its latency is the lookup table's prediction (``table_ms``; see ``lookup_table.error``)
    and its accuracy the search's validation accuracy: neither is an end-to-end measurement.
    """

    id: str = Field(min_length=1)
    arch: FreeForm
    table_ms: NonNeg = Field(description="lookup-table latency on this device")
    val_top1: Fraction = Field(description="accuracy on the search's validation split")
    weight_bytes: int = Field(ge=0)
    peak_activation_bytes: int = Field(default=0, ge=0)
    blocks: tuple[str, ...] = Field(description="keys of pool.block_bytes it holds")


class SearchRecord(_Frozen):
    """The on-device searches behind a pool, so a simulated re-search costs their real time."""

    seconds: NonNeg = Field(description="mean measured wall time of one search")
    runs: tuple[SearchRun, ...] = ()
    candidates: tuple[SearchCandidate, ...] = ()


class Pool(_Frozen):
    """Runtime adaptation data of a supernet (AdaptiveNet): the subnet pool to switch among,
    the bytes of every block (switching loads only the blocks not resident), and the search
    that built the pool."""

    ids: tuple[str, ...] = Field(min_length=1, description="variant ids in the pool")
    rule: str = Field(description="how the pool was chosen from the evaluated subnets")
    block_bytes: Annotated[dict[str, int], Frozen] | None = Field(
        default=None, description="block key (stem, head, table keys) -> weight bytes"
    )
    search: SearchRecord | None = None


def _check_factors(name: str, factors: tuple[float, ...], ks: tuple[int, ...]) -> None:
    if len(factors) != len(ks):
        raise ValueError(f"{name} needs one factor per co_runners entry")
    if any(not (1.0 <= f < 100.0) for f in factors):
        raise ValueError(f"{name} factors must be in [1, 100), got {list(factors)}")


def _interpolate(factors: tuple[float, ...], ks: tuple[int, ...], k: float) -> float:
    if k <= 0.0:
        return 1.0
    xs, ys = (0, *ks), (1.0, *factors)
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if k <= x1:
            return y0 + (y1 - y0) * (k - x0) / (x1 - x0)
    return ys[-1]


class VariantInterference(_Frozen):
    """One variant's own co-run slowdown and after-idle factor: a small model loses more to
    cold caches and context switches, relative to its run time, than a large one."""

    slowdown: tuple[float, ...] = Field(description="factor >= 1 at each co_runners entry")
    after_idle: float = Field(default=1.0, ge=1.0, lt=100.0,
                              description="slowdown of an inference after its process slept")


class Interference(_Frozen):
    """How much slower the family's model runs while other models time-share its cores:
    CPU time per inference with ``k`` co-running processes over that alone (AdaptiveNet's
    artifact measures the same with 1, 2 and 4 co-running processes)."""

    co_runners: tuple[int, ...] = Field(min_length=1, description="k, increasing, each >= 1")
    slowdown: tuple[float, ...] = Field(description="factor >= 1 at each k (1 at k = 0)")
    after_idle: float = Field(
        default=1.0, ge=1.0, lt=100.0,
        description="slowdown of an inference that starts after its process slept (waiting "
                    "for a camera frame): cold caches")
    variant: str = Field(description="variant timed for slowdown and after_idle (they apply "
                                     "to every variant without its own entry in per_variant)")
    per_variant: Annotated[dict[str, VariantInterference], Frozen] = Field(
        default_factory=dict, description="variant id -> its own measured factors")
    co_runner: str = Field(description="what the co-running processes ran")
    method: str = Field(description="how it was measured")

    @model_validator(mode="after")
    def _shape(self) -> Interference:
        ks = self.co_runners
        if ks[0] < 1 or any(b <= a for a, b in zip(ks, ks[1:])):
            raise ValueError(f"co_runners must increase from >= 1, got {list(ks)}")
        _check_factors("slowdown", self.slowdown, ks)
        for vid, v in self.per_variant.items():
            _check_factors(f"per_variant.{vid}.slowdown", v.slowdown, ks)
        return self

    def factor(self, k: float, variant: str | None = None) -> float:
        """The slowdown of ``variant`` at ``k`` co-runners (linear between measured points,
        1 at 0, the last factor beyond the last point)."""
        own = self.per_variant.get(variant) if variant is not None else None
        return _interpolate(own.slowdown if own else self.slowdown, self.co_runners, k)

    def idle_factor(self, variant: str | None = None) -> float:
        """The after-idle factor of ``variant`` (its own when measured)."""
        own = self.per_variant.get(variant) if variant is not None else None
        return own.after_idle if own else self.after_idle


class Profile(_Frozen):
    """One family measured on one device (DESIGN 3.1)."""

    schema_version: Literal[1] = 1
    family: str = Field(min_length=1)
    kind: Literal["multi_capacity", "supernet", "elastified", "progressive", "fixed"]
    task: Task
    provenance: Provenance
    device: DeviceInfo
    variants: tuple[Variant, ...] = Field(min_length=1)
    lookup_table: LookupTable | None = None
    progressive: Progressive | None = None
    outcomes: Outcomes | None = None
    pool: Pool | None = None
    interference: Interference | None = Field(
        default=None, description="co-run slowdown (applied by engine.interference)")
    extra: Annotated[dict[str, Any], Frozen] = Field(
        default_factory=dict, description="family-specific records that no code reads (logs, notes)"
    )
    _runnable_cache: tuple[tuple[int, int], dict[str, Variant]] | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Equal content (the private lookup cache does not count)."""
        if not isinstance(other, Profile):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # profiles are compared, never hashed

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        ids = [v.id for v in self.variants]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"variants: duplicate variant ids: {sorted(dup)}")
        known = set(ids)
        for i, v in enumerate(self.variants):
            if v.parent is not None and v.parent not in known:
                raise ValueError(
                    f"variants[{i}].parent: {v.parent!r} is not a variant id (variant {v.id!r})"
                )
            if v.weight_bytes is not None and v.shared_bytes > v.weight_bytes:
                raise ValueError(f"variants[{i}].shared_bytes: exceeds weight_bytes ({v.id!r})")
        if self.kind == "progressive" and self.progressive is None:
            raise ValueError("progressive: kind 'progressive' needs a 'progressive' section")
        if self.outcomes is not None:
            names = known | {e.name for e in (self.progressive.exits if self.progressive else [])}
            unknown = set(self.outcomes.correct) - names
            if unknown:
                raise ValueError(f"outcomes.correct: unknown variants/exits {sorted(unknown)}")
            if self.outcomes.exit_table is not None:
                _check_exit_table(self.outcomes.exit_table, self.progressive)
        if self.pool is not None:
            _check_pool(self.pool, self.variants, known)
        if self.interference is not None:
            stray = sorted(set(self.interference.per_variant) - set(self._runnable()))
            if stray:
                raise ValueError(f"interference.per_variant: unknown variants {stray}")
        return self

    def variant(self, variant_id: str) -> Variant:
        """The variant (or search candidate, see :meth:`runnable`) with this id; KeyError
        naming the known ids otherwise."""
        found = self._runnable().get(variant_id)
        if found is None:
            raise KeyError(
                f"{self.family}: no variant {variant_id!r}; known: {[v.id for v in self.variants]}"
            )
        return found

    def _runnable(self) -> dict[str, Variant]:
        """id -> Variant over variants and search candidates, built once per content (a
        ``model_copy`` with new variants or pool rebuilds it)."""
        key = (id(self.variants), id(self.pool))
        # the private store read directly: attribute access to a pydantic private attribute
        # costs ~2 us, and the engine and schedulers look variants up on every decision
        cached = self.__pydantic_private__["_runnable_cache"]  # type: ignore[index]
        if cached is not None and cached[0] == key:
            return cached[1]
        cache = {v.id: v for v in self.variants}
        search = self.pool.search if self.pool is not None else None
        for c in search.candidates if search is not None else ():
            cache.setdefault(c.id, Variant(
                id=c.id, arch=c.arch, weight_bytes=c.weight_bytes,
                peak_activation_bytes=c.peak_activation_bytes,
                latency_ms=LatencyStats(median=c.table_ms), top1=c.val_top1, blocks=c.blocks,
            ))
        self._runnable_cache = (key, cache)
        return cache

    def runnable_ids(self) -> tuple[str, ...]:
        """Every id a plan may name: the variants, then the search candidates."""
        return tuple(self._runnable())

    def nested(self) -> list[Variant]:
        """Variants of the multi-capacity set (not independent), smallest first."""
        return sorted((v for v in self.variants if not v.independent), key=lambda v: v.known_weight_bytes())

    def independents(self) -> list[Variant]:
        """Independently trained variants (the resource-agnostic baseline's models)."""
        return sorted((v for v in self.variants if v.independent), key=lambda v: v.known_weight_bytes())

    def switch_bytes(self, old: str | None, new: str) -> int:
        """Bytes read from storage to go from ``old`` to ``new`` (DESIGN 4, Switching).

        Upgrade inside the nested set: only the bytes not shared with the old descendant.
        Downgrade inside it, or no change: nothing. Anything else (a first load with ``old``
        None, independent models): the whole target.
        """
        target = self.variant(new)
        if old == new:
            return 0
        if old is None:
            return target.known_weight_bytes()
        previous = self.variant(old)
        sizes = self.pool.block_bytes if self.pool is not None else None
        if sizes is not None and target.blocks is not None and previous.blocks is not None:
            resident = set(previous.blocks)
            return sum(sizes[k] for k in target.blocks if k not in resident)
        if self.is_ancestor(new, old):
            return 0
        if self.is_ancestor(old, new):
            return max(0, target.known_weight_bytes() - self.variant(old).known_weight_bytes())
        return target.known_weight_bytes()

    def is_ancestor(self, older: str, newer: str) -> bool:
        """True when ``older`` is nested inside ``newer`` (following parent links)."""
        cur: str | None = newer
        while cur is not None:
            if cur == older:
                return True
            cur = self.variant(cur).parent
        return False


def _check_exit_table(table: ExitTable, prog: Progressive | None) -> None:
    """The exit table names the progressive section's exits, in order, final exit last."""
    if prog is None:
        raise ValueError("outcomes.exit_table: needs a progressive section with the exits")
    names = [e.name for e in prog.exits]
    if list(table.exits) != names:
        raise ValueError(f"outcomes.exit_table.exits: {list(table.exits)} must be the "
                         f"progressive exits in their order, {names}")
    last = prog.exits[-1]
    if last.flops_fraction < 1.0 or any(e.flops_fraction >= 1.0 for e in prog.exits[:-1]):
        raise ValueError("outcomes.exit_table.exits: the last exit must be the final one "
                         "(flops_fraction 1) and the only one")


def _check_pool(pool: Pool, variants: tuple[Variant, ...], known: set[str]) -> None:
    """Cross-references of the pool section (ValueError naming the field)."""
    missing = [i for i in pool.ids if i not in known]
    if missing:
        raise ValueError(f"pool.ids: not variant ids: {missing}")
    sizes = pool.block_bytes
    cands = pool.search.candidates if pool.search is not None else ()
    ids = [c.id for c in cands]
    clash = sorted({i for i in ids if ids.count(i) > 1 or i in known})
    if clash:
        raise ValueError(f"pool.search.candidates: ids repeated or equal to a variant id: {clash}")
    holders = [(f"variants[{i}].blocks", v.blocks) for i, v in enumerate(variants)]
    holders += [(f"pool.search.candidates.{i}.blocks", c.blocks) for i, c in enumerate(cands)]
    for where, blocks in holders:
        if blocks is None:
            continue
        if sizes is None:
            raise ValueError(f"{where}: needs pool.block_bytes to say what the blocks weigh")
        unknown = [k for k in blocks if k not in sizes]
        if unknown:
            raise ValueError(f"{where}: unknown block keys {unknown[:3]} (not in pool.block_bytes)")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = field_path(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    return one_line(f"{loc}: {msg}" if loc else msg)


def load_profile(path: str | os.PathLike[str]) -> Profile:
    """Read and validate a profile file; ProfileError with file and field on any problem.
    Only a regular file of at most :data:`sim.input_files.PROFILE_MAX_BYTES` is read."""
    p = Path(path)
    try:
        text = read_input_text(p, "profile JSON", PROFILE_MAX_BYTES)
        raw = json.loads(text)
    except InputFileError as exc:
        raise ProfileError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{p}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except ValueError as exc:  # a number over the digit limit of int()
        raise ProfileError(f"{p}: {long_number_problem(text, exc)}") from None
    except RecursionError:
        raise ProfileError(f"{p}: nested too deeply to be a profile") from None
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        raise ProfileError(f"{p}: {_first_error(exc)}") from None


def save_profile(profile: Profile, path: str | os.PathLike[str]) -> Path:
    """Write atomically (temp file + rename) so an interrupted run leaves no half file.

    Per-sample arrays are packed (sim.packing) and lists of plain numbers stay on one line."""
    return write_text_atomic(path, dumps_compact(profile.model_dump(mode="json", exclude_none=True)) + "\n")


def dumps_compact(doc: Any, indent: int = 1, level: int = 0) -> str:
    """JSON with nested objects indented and lists of scalars on one line."""
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(doc, dict) and doc:
        items = [f"{inner}{json.dumps(k)}: {dumps_compact(v, indent, level + 1)}"
                 for k, v in doc.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(doc, list | tuple) and doc and any(isinstance(v, dict | list) for v in doc):
        items = [inner + dumps_compact(v, indent, level + 1) for v in doc]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(doc)


def profile_json_schema() -> dict[str, Any]:
    """JSON Schema of the profile format (shipped as profiles/schema.json)."""
    schema = Profile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mvsched profile"
    return schema


if __name__ == "__main__":  # python -m sim.profile --schema > profiles/schema.json
    import sys

    if sys.argv[1:] == ["--schema"]:
        print(json.dumps(profile_json_schema(), indent=1))
    else:
        sys.exit("usage: python -m sim.profile --schema")

"""Per-sample outcomes (correctness, confidences) and the published aggregate exit table
that stands in for them when only aggregates exist."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    Field,
    field_serializer,
    model_validator,
)

from sim.profile.base import Fraction, Frozen, FrozenModel, PackedInts
from sim.profile.packing import pack_bits, pack_ints, unpack_bits

_SLACK = 1e-9
"""Rounding a published fraction may leave: comparisons of exit-table fractions allow it."""


def _row_problem(name: str, row: tuple[float | None, ...], width: int) -> str | None:
    if len(row) != width:
        return f"{name}: {len(row)} entries, expected one per exit ({width})"
    return None


class ExitTable(FrozenModel):
    """Aggregate outcomes of an early-exit network: per exit threshold, how many frames
    have left by each exit and how accurate the frames leaving at each exit are.

    Published work often gives only these aggregates, not per-sample outcomes; the
    simulator then draws each frame's exit and correctness from them (:mod:`sim.profile.routes`),
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


class Outcomes(FrozenModel):
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



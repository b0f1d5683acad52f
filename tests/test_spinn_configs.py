"""SPINN's configuration table (every threshold of a split at once, over arrays derived once
per profile) equals, bit for bit, the means of the routes build_route gives, on the shipped
published profiles (exits drawn from an exit table), on tables with odd shapes and on
confidences that are not integers; the arrays and tables are shared by equal profiles
loaded twice. (tests/test_speed_paths.py does the same on the shipped per-sample profiles.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from spinnkit import assert_same, fresh_table, reference_table
from synthetic import make_profile, progressive_profile

from sim.profile import (
    ExitPoint,
    ExitTable,
    Outcomes,
    Profile,
    Progressive,
    SplitPoint,
    TransferBytes,
    load_profile,
)
from sim.schedulers.builtin.spinn import configs, samples
from sim.schedulers.builtin.spinn.offload_model import config_table
from sim.schedulers.builtin.spinn.scheduler import DEFAULT_THRESHOLDS

PROFILES = Path(__file__).resolve().parent.parent / "profiles"


PUBLISHED = [("a1.medium", "g4dn.xlarge", "portend-efficientnet-b0"),
             ("a1.large", "g4dn.xlarge", "portend-resnet110"),
             ("a1.medium", "a1.large", "portend-resnet20")]


@pytest.mark.parametrize("device,server,family", PUBLISHED)
def test_table_equals_routes_on_published_profiles(device: str, server: str,
                                                   family: str) -> None:
    dev = load_profile(PROFILES / device / f"{family}.json")
    srv = load_profile(PROFILES / server / f"{family}.json")
    table = dev.outcomes.exit_table  # type: ignore[union-attr]
    ths_sets = (DEFAULT_THRESHOLDS, (None, *table.thresholds), (None,))  # type: ignore[union-attr]
    for ths in ths_sets:
        for upload in (None, 16323.0):
            assert_same(fresh_table(dev, srv, upload, ths), reference_table(dev, srv, upload, ths))


def _table_profile(confident: tuple[str, ...] = (), per_sample_bytes: bool = False,
                   exits_order: tuple[int, ...] = (0, 1, 2, 3)) -> Profile:
    """Exits from an exit table of 4 exits; some exits may have confidences too, splits may
    send per-sample bytes, and the exits may be listed out of their FLOPs order."""
    n = 997
    rng = np.random.default_rng(3)
    names = ("e0", "e1", "e2", "final")
    exits = [ExitPoint(name="e0", flops_fraction=0.2, device_ms=1.5, top1=0.5),
             ExitPoint(name="e1", flops_fraction=0.45, device_ms=2.25, top1=0.6),
             ExitPoint(name="e2", flops_fraction=0.7, device_ms=3.7, top1=0.7),
             ExitPoint(name="final", flops_fraction=1.0, device_ms=5.3, top1=0.8)]
    splits = tuple(SplitPoint(
        name=f"s{i}", flops_fraction=f, device_ms=0.3 + 5 * f, server_ms=1.1,
        bytes=TransferBytes(fp32=4e4, int8=1e4, int8_lz4_mean=3333.3,
                            int8_lz4_per_sample=(tuple(rng.integers(0, 9000, n).tolist())
                                                 if per_sample_bytes else None)))
        for i, f in enumerate((0.0, 0.2, 0.3, 0.45, 0.9)))
    table = ExitTable(
        confidence="max softmax", exits=names, thresholds=(0.2, 0.5, 0.8, 1.0),
        left_by=((0.4, 0.7, 0.9, 1.0), (0.2, 0.45, 0.7, 1.0), (0.1, 0.2, 0.3, 1.0),
                 (0.0, 0.0, 0.0, 1.0)),
        accuracy=((0.5, 0.61, 0.7, 0.8), (0.7, 0.66, 0.75, 0.77), (0.9, 0.8, 0.85, 0.79),
                  (None, None, None, 0.8)),
        final_accuracy=((0.9, 0.85, 0.8, 0.8), (0.93, 0.83, 0.81, 0.77),
                        (0.95, 0.9, 0.85, 0.79), (None, None, None, 0.8)))
    conf = {k: tuple(rng.integers(0, 1001, n).tolist()) for k in confident}
    prof = make_profile("tp", [("full", 1_000_000, 5.3, 0.8)], kind="progressive",
                        progressive=Progressive(splits=splits, exits=tuple(exits)),
                        outcomes=Outcomes(samples=n, confidence=conf, exit_table=table))
    prog = prof.progressive
    assert prog is not None  # out of order: past the checks, as a profile built in code
    return prof.model_copy(update={"progressive": prog.model_copy(
        update={"exits": tuple(exits[i] for i in exits_order)})})


def _float_confidences() -> Profile:
    """Confidences that are not whole permille (a profile built in code): compared as floats."""
    base = progressive_profile(80, np.random.default_rng(9))
    out = base.outcomes
    assert out is not None
    conf = {k: tuple(c + 0.5 if i % 3 else float("nan") for i, c in enumerate(v))
            for k, v in out.confidence.items()}
    return base.model_copy(update={"outcomes": out.model_copy(update={"confidence": conf})})


ODD_TABLES = {
    "table": _table_profile(),
    "per-sample bytes": _table_profile(per_sample_bytes=True),
    "first exit confident": _table_profile(confident=("e0",)),  # early splits use confidences
    "all but one confident": _table_profile(confident=("e0", "e1")),
    "exits out of order": _table_profile(exits_order=(2, 0, 1, 3)),
    "float confidences": _float_confidences(),
}
THRESHOLD_SETS = (DEFAULT_THRESHOLDS, (None, 0.2, 0.5, 0.8, 1.0, 1, True, 0.35),
                  (1.0, 0.5 + 1e-10, -0.0, 0.0), (None,))


@pytest.mark.parametrize("name", list(ODD_TABLES))
def test_table_equals_routes_on_odd_profiles(name: str) -> None:
    prof = ODD_TABLES[name]
    for ths in THRESHOLD_SETS:
        for server in (prof, None):
            assert_same(fresh_table(prof, server, None, ths), reference_table(prof, server, None, ths))


def test_arrays_are_shared_by_equal_profiles_and_tables_reuse_them() -> None:
    path = PROFILES / "cpu-1t" / "spinn-resnet.json"
    a, b = load_profile(path), load_profile(path)
    configs._TABLES.clear()
    samples._SAMPLES.clear()
    assert samples.profile_samples(a) is samples.profile_samples(b)
    spinn = config_table(a, b, None, DEFAULT_THRESHOLDS)
    assert config_table(b, a, None, DEFAULT_THRESHOLDS) is spinn
    assert len(samples._SAMPLES) == 1  # Neurosurgeon's table comes from the same arrays
    config_table(b, a, None, (None,))
    assert len(samples._SAMPLES) == 1 and len(configs._TABLES) == 2


def test_accuracy_count_without_ranked_bits_is_theirs() -> None:
    """A key without outcomes of its own: the count the table uses without building the
    ranked bits is the number they make right."""
    rng = np.random.default_rng(0)
    base = progressive_profile(101, rng)
    out = base.outcomes
    assert out is not None
    for top1 in (0.0, 0.004, 0.5, 0.995, 1.0):
        prof = base.model_copy(update={
            "outcomes": Outcomes(samples=101, correct={"e0": out.correct["e0"]},
                                 confidence=dict(out.confidence)),
            "variants": (base.variants[0].model_copy(update={"top1": top1}),)})
        src = samples.ProfileSamples(prof)
        count = src.correct_count("full")
        assert count == int(np.count_nonzero(src.correct_of("full")))
        assert src.correct_count("full") == count

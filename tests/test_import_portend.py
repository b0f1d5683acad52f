"""The PORTEND importer: a hand-made source in the authors' layout (numbers chosen for hand
computation), the published copy in tests/data/published/portend, the restricted unpickler,
bad source data, and a run of the published SPINN scenario on the imported profiles."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.cli import main
from sim.importers import IMPORTERS, ImportDataError
from sim.importers.portend import CITATION, LICENCE, import_portend
from sim.importers.portend_arch import ARCHITECTURES
from sim.importers.safe_pickle import load_pickle, loads_restricted
from sim.profile import load_profile

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "tests" / "data" / "published" / "portend"
R20 = ARCHITECTURES[("ResNet20", "CIFAR10")]
K = len(R20.blocks)  # 10
N = 100
COUNTS = {  # entropy threshold -> [count, correct] per early exit (exit 3 falls below exit 2)
    0.0: [(0, 0)] * (K - 1),
    0.5: [(10, 5), (20, 12), (15, 9), (30, 20), (40, 30), (50, 40), (60, 50), (70, 60),
          (80, 70)],
    1.0: [(N, c) for c in (10, 20, 30, 40, 50, 60, 70, 80, 85)],
}
FINAL = (N, 90)


def _ms(scale: float, s: int, e: int) -> float:
    return scale * sum(range(s, e + 1))


def _partitions(scale: float) -> str:
    rows = [(s, e) for s in range(1, K + 1) for e in range(s, K + 1)]
    doc = {"partition_start": {str(i): s for i, (s, _) in enumerate(rows)},
           "partition_end": {str(i): e for i, (_, e) in enumerate(rows)},
           "latency_partition": {str(i): [_ms(scale, s, e) * f for f in (1.1, 1.0, 0.9)]
                                 for i, (s, e) in enumerate(rows)}}
    return json.dumps(json.dumps(doc))


def _exit_pickle() -> bytes:
    doc: dict[str, Any] = {}
    for k in range(1, K):
        doc[f"[1, {k}]"] = {np.float64(t): list(COUNTS[t][k - 1]) for t in COUNTS}
    doc[f"[1, {K}]"] = {np.float64(t): list(FINAL) for t in COUNTS}
    return pickle.dumps(doc)


def write_source(root: Path, machines: dict[str, float] | None = None) -> Path:
    """A PORTEND-layout folder with ResNet-20 on each machine (latency of blocks s..e:
    scale x (s + ... + e) ms, as three figures around it) and a VGGish file to skip."""
    for machine, scale in (machines or {"edge.box": 1.0, "big_server": 0.01}).items():
        (root / machine).mkdir(parents=True)
        (root / machine / "profiling_partition_ResNet20_CIFAR10.txt").write_text(
            _partitions(scale))
        (root / machine / "profiling_partition_VGGish_AudioSet.txt").write_text("skipped")
    (root / "accuracy_exitrate").mkdir()
    (root / "accuracy_exitrate" / "ResNet20_CIFAR10_test.pkl").write_bytes(_exit_pickle())
    shapes = {0: (1, 3, 32, 32), **{k: (1, *R20.blocks[k - 1].shape) for k in range(1, K)}}
    (root / "intermediate_dict.pkl").write_bytes(pickle.dumps({"ResNet20": shapes}))
    return root


# ------------------------------------------------------------------ hand-made source
def test_every_machine_becomes_a_profile_with_its_partition_latencies(tmp_path: Path) -> None:
    notes: list[str] = []
    written = import_portend(write_source(tmp_path / "src"), tmp_path / "out", notes)
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in written) == [
        "big_server/portend-resnet20.json", "edge.box/portend-resnet20.json"]
    assert any("VGGish" in n and "skipped" in n for n in notes)
    edge = load_profile(tmp_path / "out" / "edge.box" / "portend-resnet20.json")
    server = load_profile(tmp_path / "out" / "big_server" / "portend-resnet20.json")
    assert edge.provenance.type == "published" and edge.provenance.citation == CITATION
    assert LICENCE in (edge.provenance.note or "")
    assert edge.device.processor is None and edge.device.threads is None  # unknown machine
    prog, srv = edge.progressive, server.progressive
    assert prog is not None and srv is not None
    assert edge.variants[0].latency_ms.median == pytest.approx(_ms(1.0, 1, K))  # the median
    for k, (split, exit_) in enumerate(zip(prog.splits, prog.exits), start=1):
        assert split.name == f"block{k}" and exit_.name == f"exit{k}"
        assert split.device_ms == exit_.device_ms == pytest.approx(_ms(1.0, 1, k))
        assert split.server_ms == pytest.approx(_ms(1.0, k + 1, K))
        assert srv.splits[k - 1].server_ms == pytest.approx(_ms(0.01, k + 1, K))
        c, h, w = R20.blocks[k - 1].shape
        assert (split.bytes.fp32, split.bytes.int8) == (4 * c * h * w, c * h * w)
        assert split.bytes.int8_lz4_mean is None and exit_.head_ms is None  # not published
        assert exit_.top1 == COUNTS[1.0][k - 1][1] / N
        assert split.flops_fraction == pytest.approx(R20.backbone_fraction(k))
    assert prog.exits[-1].name == "final" and prog.exits[-1].top1 == 0.9
    assert edge.variants[0].weight_bytes == R20.weight_bytes
    assert edge.task.eval_samples == N and edge.task.input_shape == (3, 32, 32)


def test_exit_table_reads_the_counts_as_documented(tmp_path: Path) -> None:
    import_portend(write_source(tmp_path / "src"), tmp_path / "out")
    prof = load_profile(tmp_path / "out" / "edge.box" / "portend-resnet20.json")
    table = prof.outcomes.exit_table  # type: ignore[union-attr]
    assert table.thresholds == (0.0, 0.5, 1.0)  # 1 - the entropy thresholds
    at_half = table.row(0.5)
    left = [max(c for c, _ in COUNTS[0.5][:k]) / N for k in range(1, K)]  # running max
    assert table.left_by[at_half] == pytest.approx((*left, 1.0))
    assert table.left_by[at_half][2] == table.left_by[at_half][1] == 0.2  # 15 < 20
    own = [c / n for n, c in COUNTS[0.5]]
    assert table.accuracy[at_half][:-1] == pytest.approx(own)
    fin = [max(a, 0.9) for a in own]
    assert table.final_accuracy[at_half][:-1] == pytest.approx(fin)  # type: ignore[index]
    leaving = [left[0]] + [b - a for a, b in zip(left, left[1:])]
    rest = (0.9 - sum(x * f for x, f in zip(leaving, fin))) / (1 - left[-1])
    assert table.accuracy[at_half][-1] == pytest.approx(min(1.0, max(0.0, rest)))
    assert table.left_by[table.row(1.0)][:-1] == (0.0,) * (K - 1)  # no early exit
    assert table.accuracy[table.row(1.0)][-1] == pytest.approx(0.9)
    assert table.left_by[table.row(0.0)] == (1.0,) * K  # everything leaves at the first


def test_device_filter_by_machine_or_device_name(tmp_path: Path) -> None:
    src = write_source(tmp_path / "src", {"edge.box": 1.0, "a1.large_multicore": 1.0})
    (src / "a1.large_multicore" / "profiling_partition_ResNet20_CIFAR10.txt").rename(
        src / "a1.large_multicore" / "profiling_partition_ResNet20_CIFAR10_2core.txt")
    [path] = import_portend(src, tmp_path / "a", devices=["a1.large_multicore-2core"])
    prof = load_profile(path)
    assert prof.device.name == "a1.large_multicore-2core" and prof.device.threads == 2
    assert prof.device.accelerator == "cpu" and "Graviton" in (prof.device.processor or "")
    assert len(import_portend(src, tmp_path / "b", devices=["edge.box"])) == 1
    with pytest.raises(ImportDataError, match=r"--device 'nope': not a machine of this source; "
                                              r"it has: a1.large_multicore, "):
        import_portend(src, tmp_path / "c", devices=["nope"])


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: (s / "edge.box" / "profiling_partition_ResNet20_CIFAR10.txt").write_text(
        json.dumps(json.dumps({"partition_start": {"0": 1}, "partition_end": {"0": 10},
                               "latency_partition": {"0": [5.0]}}))),
     r"profiling_partition_ResNet20_CIFAR10.txt: partition_start/partition_end: expected a "
     r"row for partition \[1, 1\]"),
    (lambda s: (s / "edge.box" / "profiling_partition_ResNet20_CIFAR10.txt").write_text(
        json.dumps(json.dumps({"partition_start": {"0": 1}, "partition_end": {"0": 1},
                               "latency_partition": {"0": [-5.0]}}))),
     r"ResNet20_CIFAR10.txt: latency_partition.0.0: expected a positive number"),
    (lambda s: (s / "edge.box" / "profiling_partition_ResNet20_CIFAR10.txt").write_text(
        json.dumps("{x")),
     r"ResNet20_CIFAR10.txt: the JSON string it holds is not valid JSON"),
    (lambda s: (s / "accuracy_exitrate" / "ResNet20_CIFAR10_test.pkl").write_bytes(
        pickle.dumps({"[1, 1]": {0.5: [5, 7]}})),
     r"ResNet20_CIFAR10_test.pkl: \(top level\): expected one entry per exit '\[1, 1\]' to '\[1, 10\]'"),
    (lambda s: (s / "accuracy_exitrate" / "ResNet20_CIFAR10_test.pkl").write_bytes(
        pickle.dumps({f"[1, {k}]": {0.5: [5, 7], 1.0: [N, 1]} for k in range(1, K + 1)})),
     r"ResNet20_CIFAR10_test.pkl: \[1, 1\].0.5: expected correct \(7\) <= count \(5\)"),
    (lambda s: (s / "accuracy_exitrate" / "ResNet20_CIFAR10_test.pkl").unlink(),
     r"ResNet20_CIFAR10_test.pkl: file not found"),
    (lambda s: (s / "intermediate_dict.pkl").write_bytes(pickle.dumps(
        {"ResNet20": {**{k: (1, 16, 32, 32) for k in range(K)}}})),
     r"intermediate_dict.pkl: ResNet20.0: shape \[1, 16, 32, 32\], but the architecture"),
])
def test_bad_source_data_names_file_and_field_and_writes_nothing(
        tmp_path: Path, change: Any, message: str) -> None:
    src = write_source(tmp_path / "src")
    change(src)
    with pytest.raises(ImportDataError, match=message):
        import_portend(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_imports_and_refuses_overwrite_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_source(tmp_path / "src")
    out = tmp_path / "out"
    assert main(["import", "portend", "--src", str(src), "--out", str(out)]) == 0
    assert "2 profile(s) written by the portend importer" in capsys.readouterr().err
    assert main(["import", "portend", "--src", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "already exists; nothing written" in err
    assert "Traceback" not in err
    assert main(["import", "portend", "--src", str(tmp_path / "none"), "--out", str(out)]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert IMPORTERS["portend"] is import_portend


def test_architectures_match_torchvisions_published_counts() -> None:
    for key, params, gmacs in ((("EfficientNetB0", "ImageNet"), 5_288_548, 0.39),
                               (("EfficientNetB7", "ImageNet"), 66_347_960, 37.75)):
        net = ARCHITECTURES[key]
        backbone = sum(b.params for b in net.blocks) + net.blocks[-1].exit_params
        assert backbone == params  # torchvision's num_params (classifier included)
        assert sum(b.macs for b in net.blocks) / 1e9 == pytest.approx(gmacs, rel=0.02)
    r20 = ARCHITECTURES[("ResNet20", "CIFAR10")]
    assert [b.shape for b in r20.blocks][:2] == [(16, 32, 32), (16, 32, 32)]
    assert r20.blocks[4].shape == (32, 16, 16) and r20.blocks[-1].shape == (64, 8, 8)
    # by hand: the stem conv 3->16 (3x3, bias) + BN, and a 16->16 basic block
    assert r20.blocks[0].params == 3 * 16 * 9 + 16 + 2 * 16
    assert r20.blocks[1].params == 2 * (16 * 16 * 9 + 16 + 2 * 16)
    assert r20.blocks[0].exit_params == 16 * 10 + 10


# ------------------------------------------------------------------ restricted unpickler
class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


class _Evals:
    def __reduce__(self) -> tuple[Any, ...]:
        return (eval, ("__import__('os').getcwd()",))


def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"[1, 1]": {0.5: _RunsCode(marker)}}))
    with pytest.raises(ImportDataError, match=r"evil.pkl: not loaded: it names "
                                              r"'(posix|os|nt)\.system'.*refused, nothing was run"):
        load_pickle(path)
    assert not marker.exists()
    with pytest.raises(ImportDataError, match=r"'builtins\.eval'"):
        loads_restricted(pickle.dumps([_Evals()]), "x.pkl")
    # the same payload in the importer's exit file: refused before anything is written
    src = write_source(tmp_path / "src")
    (src / "accuracy_exitrate" / "ResNet20_CIFAR10_test.pkl").write_bytes(
        pickle.dumps({"[1, 1]": _RunsCode(marker)}))
    with pytest.raises(ImportDataError, match="ResNet20_CIFAR10_test.pkl: not loaded"):
        import_portend(src, tmp_path / "out")
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_restricted_unpickler_reads_numpy_scalars_and_shapes_as_plain_values() -> None:
    data = pickle.dumps({"a": np.float64(0.25), "b": np.int64(-3), "c": np.float32(0.5),
                         "d": [np.uint8(7), np.bool_(True)]})
    value = loads_restricted(data, "x.pkl")
    assert value == {"a": 0.25, "b": -3, "c": 0.5, "d": [7, True]}
    assert type(value["a"]) is float and type(value["b"]) is int
    shape = b"ctorch\nSize\n((I1\nI16\nI32\nI32\nttR."  # torch.Size([1, 16, 32, 32])
    assert loads_restricted(shape, "s.pkl") == (1, 16, 32, 32)
    with pytest.raises(ImportDataError, match="s.pkl: not a readable pickle"):
        loads_restricted(b"ctorch\nSize\n((S'x'\nttR.", "s.pkl")
    with pytest.raises(ImportDataError, match="t.pkl: not a readable pickle"):
        loads_restricted(data[:20], "t.pkl")
    with pytest.raises(ImportDataError, match="expected plain data"):
        loads_restricted(pickle.dumps({1, 2}), "set.pkl")
    with pytest.raises(ImportDataError, match="'numpy.load'"):
        loads_restricted(b"cnumpy\nload\n(S'x'\ntR.", "n.pkl")


# ------------------------------------------------------------------ published data
def test_published_copy_matches_the_committed_profiles(tmp_path: Path) -> None:
    written = import_portend(PUBLISHED, tmp_path)
    assert len(written) == 6  # a1.medium and g4dn.xlarge x 2 models, 2 core runs of ResNet-20
    for path in written:
        committed = ROOT / "profiles" / path.parent.name / path.name
        assert committed.read_text() == path.read_text(), f"{committed} drifted"


def test_published_efficientnet_b0_figures() -> None:
    dev = load_profile(ROOT / "profiles" / "a1.medium" / "portend-efficientnet-b0.json")
    srv = load_profile(ROOT / "profiles" / "g4dn.xlarge" / "portend-efficientnet-b0.json")
    assert 590 < dev.variants[0].latency_ms.median < 610  # about 600 ms on one ARM core
    assert 8 < srv.variants[0].latency_ms.median < 10  # about 9 ms on a T4
    assert dev.variants[0].top1 == pytest.approx(18499 / 25000)
    assert dev.variants[0].params == 5_288_548 + 7 * 1000 + sum(  # torchvision's B0 + exits
        c * 1000 for c in (32, 16, 24, 40, 80, 112, 192))
    splits = dev.progressive.splits  # type: ignore[union-attr]
    assert [s.bytes.int8 for s in splits] == [401408, 200704, 75264, 31360, 15680, 21952, 9408]
    table = dev.outcomes.exit_table  # type: ignore[union-attr]
    assert dev.outcomes.samples == 25000 and 0.5 not in table.thresholds  # type: ignore[union-attr]
    assert dev.extra["exit_table_check"]["runs"] == 24


def test_spinn_runs_on_the_published_profiles(tmp_path: Path) -> None:
    scenario = ROOT / "scenarios" / "paper" / "spinn_published.yaml"
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--quiet", "--out", str(out), "--set", "duration_s=40",
                 "--set", "network.bandwidth_mbps=0.1", "--set", "network.outages=[]"]) == 0
    spinn = json.loads((out / "spinn" / "metrics.json").read_text())["overall"]
    assert spinn["frames"] == 30 * 40 and not spinn["refused_plans"]
    # at 0.1 Mbit/s SPINN stays on the device and exits early (threshold from the exit table)
    assert spinn["offloaded"] == 0 and spinn["early_exits"] > 0 and spinn["fps"] > 2.0
    assert 0.5 < spinn["accuracy"] < 0.95
    device_only = json.loads((out / "device-only" / "metrics.json").read_text())["overall"]
    assert device_only["offloaded"] == 0 and device_only["fps"] < 1.7  # ~600 ms a frame

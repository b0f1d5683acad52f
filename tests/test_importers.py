"""Importers of published measurements: real source data in, valid profiles out, committed
files unchanged, lookup-table errors recomputed; bad source data -> one-line errors."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from sim.importers import IMPORTERS, ImportDataError, add_subcommand
from sim.importers.adaptivenet import table_key
from sim.importers.arch_params import (
    make_divisible,
    mobilenetv2_counts,
    ofa_net_counts,
    resnet_subnet_counts,
)
from sim.importers.ofa_lut import layer_keys
from sim.lut_error import prediction_error
from sim.profile import load_profile

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "profiles"


def _shared_data() -> Path:
    env = os.environ.get("MVSCHED_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def data() -> Path:
    root = _shared_data()
    if not (root / "adaptivenet").is_dir() or not (root / "ofa").is_dir():
        pytest.skip(f"published source data not found at {root} (set MVSCHED_SHARED_DATA)")
    return root


@pytest.fixture(scope="module")
def imported(data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    out = tmp_path_factory.mktemp("profiles")
    return {name: fn(data / name, out) for name, fn in sorted(IMPORTERS.items())}


# ----------------------------------------------------------------- real data
def test_importers_write_valid_profiles(imported: dict[str, list[Path]]) -> None:
    assert len(imported["adaptivenet"]) == 6 and len(imported["ofa"]) == 8
    for paths in imported.values():
        for path in paths:
            profile = load_profile(path)
            assert profile.provenance.type == "published"
            assert path.parent.name == profile.device.name
            assert path.name == f"{profile.family}.json"


def test_committed_profiles_equal_a_fresh_import(imported: dict[str, list[Path]]) -> None:
    for paths in imported.values():
        for path in paths:
            committed = PROFILES / path.parent.name / path.name
            assert committed.is_file(), f"{committed} missing: re-run mvsched import"
            assert committed.read_text() == path.read_text(), f"{committed} drifted"


def test_import_is_deterministic(data: Path, imported: dict[str, list[Path]],
                                 tmp_path: Path) -> None:
    again = IMPORTERS["ofa"](data / "ofa", tmp_path)
    assert [p.read_text() for p in again] == [p.read_text() for p in imported["ofa"]]


def _by_name(paths: list[Path], device: str, family: str) -> Any:
    return load_profile(next(p for p in paths if p.parent.name == device
                             and p.name == f"{family}.json"))


def test_adaptivenet_table_reproduces_published_latencies(
        imported: dict[str, list[Path]]) -> None:
    for path in imported["adaptivenet"]:
        profile = load_profile(path)
        table = profile.lookup_table
        assert table is not None and table.samples
        n_choices = profile.extra["choices_per_block"]
        for sample in table.samples:
            choices = sample["arch"]["choices"]
            total = table.stem_ms + table.head_ms + sum(
                table.blocks[table_key(i + 1, c % n_choices[i])]
                for i, c in enumerate(choices) if c != 99)
            assert total == pytest.approx(sample["predicted_ms"], abs=1e-4)
            assert profile.variant(sample["id"]).latency_ms.median == sample["measured_ms"]
        error = prediction_error([s["measured_ms"] for s in table.samples],
                                 [s["predicted_ms"] for s in table.samples])
        assert table.error["mape"] == pytest.approx(error["mape"], abs=1e-4)
        # the source says the listed latency is the table sum: the error must be ~0
        assert table.error["mape"] < 1e-3 and table.error["within_5pct"] == 1.0


def test_adaptivenet_units_and_sizes(imported: dict[str, list[Path]]) -> None:
    r50 = _by_name(imported["adaptivenet"], "jetson-nano", "adaptivenet-resnet50")
    original = r50.variant("original")
    assert original.params == 25_557_032
    assert 50.0 < original.latency_ms.median < 200.0, "seconds must become milliseconds"
    assert 0.7 < original.top1 < 0.9, "percent must become a fraction"
    assert all(v.weight_bytes <= original.weight_bytes for v in r50.variants)
    mbv2 = _by_name(imported["adaptivenet"], "rtx3090", "adaptivenet-mobilenetv2")
    assert mbv2.extra["size_derived_per_variant"] is False
    assert list(mbv2.extra["duplicates_dropped"]) == ["sub-0b1x0a00b00000000"]


def test_ofa_note10_lookup_error(imported: dict[str, list[Path]]) -> None:
    note10 = _by_name(imported["ofa"], "note10", "ofa-mbv3")
    table = note10.lookup_table
    assert table is not None
    predictable = {s["id"] for s in table.samples}
    unpredictable = set(note10.extra["unpredictable"])
    assert predictable | unpredictable == {v.id for v in note10.variants}
    assert len(predictable) == 3 and not predictable & unpredictable
    for sample in table.samples:
        res = sample["arch"]["image_size"]
        keys = layer_keys(note10.variant(sample["id"]).arch, res)
        total = sum(table.blocks[f"r{res}:{k}"] for k in keys)
        assert total == pytest.approx(sample["predicted_ms"], abs=1e-4)
        assert sample["measured_ms"] == note10.variant(sample["id"]).latency_ms.median
    error = table.error
    assert error["n"] == 3
    assert 0.0 < error["mape"] < 5.0 and error["within_10pct"] == 1.0
    assert "260" in note10.extra["unpredictable"]["note10_lat-64ms_top1-80.2_finetune-75"]


def test_ofa_devices_and_batches(imported: dict[str, list[Path]]) -> None:
    batch = {p.parent.name: load_profile(p).device.batch_size for p in imported["ofa"]}
    assert batch == {"gtx1080ti": 64, "lg-g8": 1, "note10": 1, "note8": 1, "pixel2": 1,
                     "server-cpu": 1, "tx2": 16, "v100": 64}
    note10 = _by_name(imported["ofa"], "note10", "ofa-mbv3")
    largest = note10.variant("note10_lat-64ms_top1-80.2_finetune-75")
    assert 8.5e6 < largest.params < 9.5e6  # OFA's 595M-MAC model has about 9.1M parameters


# ----------------------------------------------------------------- bad source data
def _copy(data: Path, name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copytree(data / name, dst)
    for f in dst.iterdir():
        f.chmod(0o644)
    return dst


def test_missing_source_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ImportDataError, match=r"latency_tables\.json: file not found"):
        IMPORTERS["adaptivenet"](tmp_path, tmp_path / "out")
    with pytest.raises(ImportDataError, match=r"specialized_subnets\.json: file not found"):
        IMPORTERS["ofa"](tmp_path, tmp_path / "out")


def test_malformed_adaptivenet_arch_is_named(data: Path, tmp_path: Path) -> None:
    src = _copy(data, "adaptivenet", tmp_path)
    doc = json.loads((src / "searched_subnets.json").read_text())
    doc["devices"]["jetson_nano"]["resnet50"]["subnets"][0]["arch"][1] = 0  # merge not followed by 99
    (src / "searched_subnets.json").write_text(json.dumps(doc))
    with pytest.raises(ImportDataError) as info:
        IMPORTERS["adaptivenet"](src, tmp_path / "out")
    message = str(info.value)
    assert "searched_subnets.json: devices.jetson_nano.resnet50.subnets[0].arch" in message
    assert "\n" not in message


def test_malformed_ofa_entry_is_named(data: Path, tmp_path: Path) -> None:
    src = _copy(data, "ofa", tmp_path)
    doc = json.loads((src / "specialized_subnets.json").read_text())
    del doc["subnets"][2]["value"]
    (src / "specialized_subnets.json").write_text(json.dumps(doc))
    with pytest.raises(ImportDataError, match=r"specialized_subnets\.json: subnets\[2\]\.value"):
        IMPORTERS["ofa"](src, tmp_path / "out")


def test_ofa_skips_devices_without_latency(data: Path, tmp_path: Path) -> None:
    src = _copy(data, "ofa", tmp_path)
    doc = json.loads((src / "specialized_subnets.json").read_text())
    for entry in doc["subnets"]:
        if entry["device"] == "pixel2":
            entry["measure"] = "mflops"
    (src / "specialized_subnets.json").write_text(json.dumps(doc))
    notes: list[str] = []
    written = IMPORTERS["ofa"](src, tmp_path / "out", notes=notes)
    assert "pixel2" not in {p.parent.name for p in written} and len(written) == 7
    assert notes and notes[0].startswith("ofa: pixel2: device skipped")


def test_cli_handler_reports_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="mvsched")
    add_subcommand(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["import", "ofa", "--src", str(tmp_path), "--out", str(tmp_path)])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "specialized_subnets.json: file not found" in err


# ----------------------------------------------------------------- counters and helpers
def test_standard_parameter_counts() -> None:
    assert resnet_subnet_counts("resnet50", [0] * 16).params == 25_557_032
    assert resnet_subnet_counts("resnet101", [0] * 33).params == 44_549_160
    assert mobilenetv2_counts().params == 3_504_872


def test_merged_resnet_blocks() -> None:
    # merging blocks 1+2 of layer1 keeps block 1's shape and drops block 2 (70,400 params)
    assert resnet_subnet_counts("resnet50", [1, 99] + [0] * 14).params == 25_557_032 - 70_400
    # merging layer1's last block with layer2's first: (256 -> 64 -> 512) + projection
    merged = [0, 0, 1, 99] + [0] * 12
    assert resnet_subnet_counts("resnet50", merged).params == 25_557_032 - 230_400
    with pytest.raises(ValueError, match="followed by"):
        resnet_subnet_counts("resnet50", [0] * 15 + [1])
    with pytest.raises(ValueError, match="16"):
        resnet_subnet_counts("resnet50", [0] * 15)


TINY_OFA = {
    "name": "MobileNetV3",
    "first_conv": {"name": "ConvLayer", "in_channels": 3, "out_channels": 16, "kernel_size": 3,
                   "stride": 2, "use_bn": True, "bias": False},
    "blocks": [
        {"mobile_inverted_conv": {"name": "MBInvertedConvLayer", "in_channels": 16,
                                  "out_channels": 16, "kernel_size": 3, "stride": 1,
                                  "expand_ratio": 1, "mid_channels": None, "act_func": "relu",
                                  "use_se": False},
         "shortcut": {"name": "IdentityLayer"}},
        {"mobile_inverted_conv": {"name": "MBInvertedConvLayer", "in_channels": 16,
                                  "out_channels": 24, "kernel_size": 5, "stride": 2,
                                  "expand_ratio": 3, "mid_channels": 48, "act_func": "h_swish",
                                  "use_se": True},
         "shortcut": None},
    ],
    "final_expand_layer": {"name": "ConvLayer", "in_channels": 24, "out_channels": 96,
                           "kernel_size": 1, "use_bn": True},
    "feature_mix_layer": {"name": "ConvLayer", "in_channels": 96, "out_channels": 128,
                          "kernel_size": 1, "use_bn": False},
    "classifier": {"name": "LinearLayer", "in_features": 128, "out_features": 10, "bias": True},
}


def test_ofa_counts_by_hand() -> None:
    counts = ofa_net_counts(TINY_OFA)
    # stem 464, block1 464, block2 4960 (SE squeeze 16), expand 2496, mix 12288, fc 1290
    assert counts.params == 21_962
    assert counts.buffers == 528
    assert counts.weight_bytes == 4 * (21_962 + 528)
    assert make_divisible(12, 8) == 16 and make_divisible(47, 8) == 48


def test_ofa_layer_keys_by_hand() -> None:
    assert layer_keys(TINY_OFA, 224) == [
        "Conv-input:224x224x3-output:112x112x16",
        "expanded_conv-input:112x112x16-output:112x112x16-expand:16-kernel:3-stride:1"
        "-idskip:1-se:0-hs:0",
        "expanded_conv-input:112x112x16-output:56x56x24-expand:48-kernel:5-stride:2"
        "-idskip:0-se:1-hs:1",
        "Conv_1-input:56x56x24-output:56x56x96",
        "AvgPool2D-input:56x56x96-output:1x1x96",
        "Conv_2-input:1x1x96-output:1x1x128",
        "Logits-input:1x1x128-output:10",
    ]
    assert layer_keys(TINY_OFA, 175)[0] == "Conv-input:175x175x3-output:88x88x16"


def test_prediction_error_figures() -> None:
    error = prediction_error([10.0, 20.0], [11.0, 19.0])
    assert error == {"n": 2.0, "mape": 7.5, "bias_pct": 2.5, "max_abs_pct": 10.0,
                     "within_5pct": 0.5, "within_10pct": 1.0}  # 10 % and 5 % errors
    assert prediction_error([], []) == {}
    with pytest.raises(ValueError):
        prediction_error([1.0], [1.0, 2.0])

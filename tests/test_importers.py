"""Importers of published measurements: real source data in, valid profiles out, committed
files unchanged, lookup-table errors recomputed; bad source data -> one-line errors.

The published samples live in tests/data/published (sources in its README), so these tests
run on a clean clone; MVSCHED_SHARED_DATA may point at another copy of the same layout."""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sim.cli import main
from sim.cli.importers import add_subcommand
from sim.importers import IMPORTERS, ImportDataError
from sim.importers.adaptivenet import build_adaptivenet, infer_unit, table_key
from sim.importers.adaptivenet_sources import match_device, split_name
from sim.importers.arch_params import (
    make_divisible,
    mobilenetv2_counts,
    ofa_net_counts,
    resnet_subnet_counts,
)
from sim.importers.ofa_lut import layer_keys
from sim.profile import load_profile
from sim.profile.lut_error import prediction_error

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "profiles"


PUBLISHED = Path(__file__).resolve().parent / "data" / "published"
ARTIFACT = PUBLISHED / "adaptivenet_artifact"


@pytest.fixture(scope="module")
def data() -> Path:
    env = os.environ.get("MVSCHED_SHARED_DATA")
    root = Path(env) if env else PUBLISHED
    assert (root / "adaptivenet").is_dir() and (root / "ofa").is_dir(), (
        f"published source data missing at {root}")
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
    assert all(v.known_weight_bytes() <= original.known_weight_bytes() for v in r50.variants)
    mbv2 = _by_name(imported["adaptivenet"], "rtx3090", "adaptivenet-mobilenetv2")
    assert mbv2.extra["size_derived_per_variant"] is False
    assert list(mbv2.extra["duplicates_dropped"]) == ["sub-0b1x0a00b00000000"]
    # the unmodified model's size is derivable, the shrunk subnets' is not: null, no placeholder
    assert mbv2.variant("original").weight_bytes == mobilenetv2_counts().weight_bytes
    assert all(v.weight_bytes is None and v.params is None
               for v in mbv2.variants if v.id != "original")


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


# ----------------------------------------------------------------- the artifact's own layout
def test_artifact_layout_reproduces_the_converted_profiles(data: Path) -> None:
    notes: list[str] = []
    artifact = dict(build_adaptivenet(ARTIFACT, notes))
    converted = dict(build_adaptivenet(data / "adaptivenet"))
    assert set(artifact) == set(converted) | {
        f"xiaomi/adaptivenet-{m}.json" for m in ("mobilenetv2", "resnet101", "resnet50")}
    for rel, profile in converted.items():
        mine = artifact[rel].model_dump()
        theirs = profile.model_dump()
        assert mine.pop("provenance")["source"].endswith("_info.yaml")
        theirs.pop("provenance")
        assert mine == theirs, rel
    assert any("xiaomi: latencies carry no unit in the source; read as ms" in n for n in notes)
    assert any("jetson_nano: latencies carry no unit in the source; read as s" in n for n in notes)


def test_xiaomi_table_sums_are_its_published_latencies() -> None:
    profiles = dict(build_adaptivenet(ARTIFACT, devices=["xiaomi"]))
    r50 = profiles["xiaomi/adaptivenet-resnet50.json"]
    assert r50.variant("original").latency_ms.median == 93.92  # ms, as published
    assert "read as ms (inferred from magnitude" in (r50.provenance.note or "")
    assert r50.device.processor is None and r50.device.framework is None
    for profile in profiles.values():
        table = profile.lookup_table
        assert table is not None and table.error["n"] == 10
        # the published subnet latencies are the sums of the published per-block table
        assert table.error["mape"] == 0.0 and table.error["max_abs_pct"] == 0.0


def test_units_inference_and_override() -> None:
    assert infer_unit([0.098, 0.17]) == "s" and infer_unit([14.9, 213.9]) == "ms"
    assert infer_unit([2.0]) is None  # 2 s and 2 ms are both plausible
    assert infer_unit([1e-6]) is None and infer_unit([0.1, 90.0]) is None
    given = dict(build_adaptivenet(ARTIFACT, devices=["xiaomi"], units="s"))
    r50 = given["xiaomi/adaptivenet-resnet50.json"]
    assert r50.variant("original").latency_ms.median == 93920.0
    assert "read as s (given with --units), converted to ms" in (r50.provenance.note or "")


def test_ambiguous_units_ask_for_the_option(tmp_path: Path) -> None:
    src = tmp_path / "artifact"
    shutil.copytree(ARTIFACT, src)
    for path in src.rglob("xiaomi_*_info.yaml"):
        doc = path.read_text()
        first = doc.split("\n")[2]  # "  - <latency of the unmodified model>"
        path.write_text(doc.replace(first, "  - 2.0", 1))
    with pytest.raises(ImportDataError) as info:
        build_adaptivenet(src, devices=["xiaomi"])
    assert str(info.value).endswith(
        "[0][1]: the latencies of device xiaomi carry no unit and their magnitude (2 to 2 for "
        "the unmodified models) does not settle it; expected --units s or --units ms")
    assert build_adaptivenet(src, devices=["xiaomi"], units="ms")


def test_searched_file_names_map_to_table_devices_by_rule(tmp_path: Path) -> None:
    devices = ["3090", "jetson_nano", "xiaomi"]
    assert match_device("jetson", devices, tmp_path) == "jetson_nano"
    assert match_device("nvidia_3090", devices, tmp_path) == "3090"
    assert match_device("xiaomi", devices, tmp_path) == "xiaomi"
    assert match_device("pixel", devices, tmp_path) is None
    with pytest.raises(ImportDataError, match="matches several"):
        match_device("nano", ["jetson_nano", "nano_x"], tmp_path)
    names = {"res50": "resnet50", "mbv2": "mobilenetv2_100", "mobilenetv2_100": "mobilenetv2_100"}
    assert split_name("nvidia_3090_res50", names) == ("nvidia_3090", "resnet50")
    assert split_name("xiaomi_mobilenetv2_100", names) == ("xiaomi", "mobilenetv2_100")
    assert split_name("res50", names) is None


def test_the_table_file_is_parsed_never_run(tmp_path: Path) -> None:
    src = tmp_path / "artifact"
    shutil.copytree(ARTIFACT, src)
    table = src / "oncloud" / "prebuilt_latency_table.py"
    marker = tmp_path / "ran"
    table.write_text(f"open({str(marker)!r}, 'w')\n" + table.read_text())
    assert build_adaptivenet(src, devices=["xiaomi"])  # the literal is read...
    assert not marker.exists()  # ...and nothing in the file ran
    table.write_text(f"LATENCY_TABLE = {{'xiaomi': open({str(marker)!r}, 'w')}}\n")
    with pytest.raises(ImportDataError, match=r"LATENCY_TABLE \(line 1\): expected a plain literal"):
        build_adaptivenet(src)
    assert not marker.exists()


def test_only_the_tuple_tag_is_accepted(tmp_path: Path) -> None:
    src = tmp_path / "artifact"
    shutil.copytree(ARTIFACT, src)
    path = src / "oncloud" / "visualization" / "searched" / "xiaomi_res50_info.yaml"
    path.write_text("- !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ImportDataError, match=r"xiaomi_res50_info\.yaml: not valid YAML"):
        build_adaptivenet(src, devices=["xiaomi"])


# ----------------------------------------------------------------- mvsched import: any device
def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["import", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_imports_a_device_it_does_not_know(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(capsys, "adaptivenet", "--src", str(ARTIFACT), "--device", "xiaomi",
                          "--out", str(tmp_path))
    assert code == 0, err
    written = sorted((tmp_path / "xiaomi").glob("adaptivenet-*.json"))
    assert [p.name for p in written] == ["adaptivenet-mobilenetv2.json",
                                         "adaptivenet-resnet101.json", "adaptivenet-resnet50.json"]
    assert out.split() == [str(p) for p in written]
    schema = json.loads((PROFILES / "schema.json").read_text())
    for path in written:
        assert load_profile(path).device.name == "xiaomi"
        jsonschema.validate(json.loads(path.read_text()), schema)
    assert [p.name for p in tmp_path.iterdir()] == ["xiaomi"]


def test_cli_refuses_to_overwrite_without_force(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    args = ("adaptivenet", "--src", str(ARTIFACT), "--device", "xiaomi", "--out", str(tmp_path))
    assert _cli(capsys, *args)[0] == 0
    folder = tmp_path / "xiaomi"
    fresh = {p.name: p.read_text() for p in folder.iterdir()}
    (folder / "adaptivenet-resnet50.json").write_text("edited by hand\n")
    (folder / "adaptivenet-mobilenetv2.json").unlink()  # every target is checked first
    code, out, err = _cli(capsys, *args)
    assert (code, out) == (2, "")
    assert err == (f"mvsched import: error: {folder / 'adaptivenet-resnet101.json'}: already "
                   "exists; nothing written (pass --force to overwrite)\n")
    assert not (folder / "adaptivenet-mobilenetv2.json").exists()
    assert (folder / "adaptivenet-resnet50.json").read_text() == "edited by hand\n"
    code, out, err = _cli(capsys, *args, "--force")
    assert code == 0, err
    assert {p.name: p.read_text() for p in folder.iterdir()} == fresh


def test_cli_unknown_device_lists_the_source_devices(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(capsys, "adaptivenet", "--src", str(ARTIFACT), "--device", "pixel9",
                          "--out", str(tmp_path))
    table = ARTIFACT / "oncloud" / "prebuilt_latency_table.py"
    assert (code, out) == (2, "")
    assert err == (f"mvsched import: error: {table}: --device 'pixel9': not a device of this "
                   "source; it has: 3090, jetson_nano, xiaomi\n")
    code, _, err = _cli(capsys, "ofa", "--src", str(PUBLISHED / "ofa"), "--device", "pixel9",
                        "--out", str(tmp_path))
    assert code == 2 and err.endswith(
        "--device 'pixel9': not a device of this source; it has: 1080ti, LG-G8, cpu, note10, "
        "note8, pixel2, tx2, v100\n")
    assert not any(tmp_path.iterdir())


def test_cli_bad_options_exit_2_in_one_line(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "ofa", "--src", str(PUBLISHED / "ofa"), "--units", "ms",
                        "--out", str(tmp_path))
    assert (code, err) == (2, "mvsched import: error: --units: the ofa source states its units "
                              "(ms); the option is for adaptivenet\n")
    code, _, err = _cli(capsys, "adaptivenet", "--src", str(PUBLISHED / "adaptivenet"),
                        "--units", "ms", "--out", str(tmp_path))
    assert code == 2 and err.count("\n") == 1
    assert "units.3090: expected --units ms to agree with the unit the source states ('s')" in err


def test_ofa_device_selection_and_unknown_devices(data: Path, tmp_path: Path) -> None:
    only = IMPORTERS["ofa"](data / "ofa", tmp_path / "a", devices=["gtx1080ti", "note10"])
    assert [p.relative_to(tmp_path / "a").as_posix() for p in only] == [
        "gtx1080ti/ofa-proxyless.json", "note10/ofa-mbv3.json"]
    src = _copy(data, "ofa", tmp_path)
    doc = json.loads((src / "specialized_subnets.json").read_text())
    for entry in doc["subnets"]:
        if entry["device"] == "pixel2":
            entry["device"] = "Pixel 7a"
    (src / "specialized_subnets.json").write_text(json.dumps(doc))
    [path] = IMPORTERS["ofa"](src, tmp_path / "b", devices=["Pixel 7a"])
    assert path == tmp_path / "b" / "pixel-7a" / "ofa-mbv3.json"
    device = load_profile(path).device
    assert device.name == "pixel-7a" and device.processor is None and device.framework is None


def test_unknown_weight_bytes_under_a_memory_budget_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(capsys, "adaptivenet", "--src", str(ARTIFACT), "--device", "xiaomi",
                "--out", str(tmp_path / "profiles"))[0] == 0
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "xiaomi", "seed": 0, "duration_s": 5, "profiles_dir": "profiles",
        "schedulers": [{"name": "adaptivenet"}],
        "device": {"name": "xiaomi", "memory_mb": 4000},
        "apps": [{"name": "cam", "family": "adaptivenet-mobilenetv2", "fps": 5,
                  "latency_goal_ms": 20}],
        "events": [{"t": 0, "action": "launch", "app": "cam"}],
    }))
    profile = tmp_path / "profiles" / "xiaomi" / "adaptivenet-mobilenetv2.json"
    assert main(["run", str(scenario), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {scenario}: apps[0].family: {profile}: variants[1].weight_bytes "
                   "('sub-0b00000b000000000') is null (not published by the source), but the "
                   "memory budget device.memory_mb=4000 MB and model loads need every variant's "
                   "size; give weight_bytes in the profile or use one that has them\n")
    assert not (tmp_path / "runs").exists()

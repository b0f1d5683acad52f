"""Importers on hostile copies of the published sources: each bad value is one line naming
the file and the field (never an OverflowError, a pydantic report or Python's digit-limit
error without a file), and a failing import writes nothing at all.

The sources are copies of tests/data/published built in tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

from sim.cli import main
from sim.importers import IMPORTERS, ImportDataError
from sim.importers.adaptivenet import build_adaptivenet

PUBLISHED = Path(__file__).resolve().parent / "data" / "published"
BIG = "1" + "0" * 400  # 401 digits: beyond the largest float
HUGE = "9" * 5000  # beyond Python's 4,300-digit limit of int()


def _copy(name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copytree(PUBLISHED / name, dst)
    for f in dst.rglob("*"):
        f.chmod(0o755 if f.is_dir() else 0o644)
    return dst


def _edit_json(path: Path, edit: Any) -> None:
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def _import(capsys: pytest.CaptureFixture[str], name: str, src: Path,
            out: Path) -> str:
    """The one error line of ``mvsched import`` (exit 2), checked to write nothing."""
    code = main(["import", name, "--src", str(src), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert captured.out == "" and captured.err.count("\n") == 1, captured.err
    assert not out.exists() or not any(out.rglob("*")), sorted(out.rglob("*"))
    return captured.err.removeprefix("mvsched import: error: ").rstrip("\n")


# ----------------------------------------------------------------- 401 digits
def test_401_digits_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _copy("ofa", tmp_path)
    path = src / "specialized_subnets.json"
    text = path.read_text().replace('"value": 12.0', f'"value": {BIG}', 1)
    path.write_text(text)
    err = _import(capsys, "ofa", src, tmp_path / "out")
    assert err == (f"{path}: subnets[0].value: expected a positive number of at most 1.8e308 "
                   "(got an integer of 401 digits)")


def test_401_digits_in_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _copy("ofa", tmp_path)
    path = src / "note10_224_lookup_table.yaml"
    text = path.read_text()
    first_mean = text.index("mean: ") + len("mean: ")
    path.write_text(text[:first_mean] + BIG + text[text.index("\n", first_mean):])
    err = _import(capsys, "ofa", src, tmp_path / "out")
    assert err.startswith(f"{path}: AvgPool2D-input:7x7x1152-output:1x1x1152.mean: expected a "
                          "number >= 0 of at most 1.8e308 (got an integer of 401 digits)")


def test_401_digits_in_the_python_table(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    src = _copy("adaptivenet_artifact", tmp_path)
    table = src / "oncloud" / "prebuilt_latency_table.py"
    text = table.read_text()
    table.write_text(text.replace("0.003638958053844031", BIG, 1))
    err = _import(capsys, "adaptivenet", src, tmp_path / "out")
    assert err == (f"{table}: LATENCY_TABLE.jetson_nano.resnet50[0]: expected a number >= 0 "
                   "of at most 1.8e308 (got an integer of 401 digits)")


def test_401_digit_integers_are_refused(tmp_path: Path) -> None:
    src = _copy("ofa", tmp_path)
    path = src / "specialized_subnets.json"
    path.write_text(path.read_text().replace('"batch": 64', f'"batch": {BIG}', 1))
    with pytest.raises(ImportDataError, match=r"subnets\[\d+\]\.batch: expected an integer "
                                              r"from 1 to 1,000,000,000$"):
        IMPORTERS["ofa"](src, tmp_path / "out")


# ----------------------------------------------------------------- negative values
def test_a_negative_table_latency(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _copy("adaptivenet", tmp_path)
    path = src / "latency_tables.json"

    def negate(doc: dict[str, Any]) -> None:
        doc["tables"]["jetson_nano"]["resnet50"][1][0] = -0.004

    _edit_json(path, negate)
    err = _import(capsys, "adaptivenet", src, tmp_path / "out")
    assert err == f"{path}: tables.jetson_nano.resnet50[1][0]: expected a number >= 0"


def test_a_negative_lookup_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _copy("ofa", tmp_path)
    path = src / "note10_160_lookup_table.yaml"
    text = path.read_text()
    path.write_text(text.replace("mean: ", "mean: -", 1))
    err = _import(capsys, "ofa", src, tmp_path / "out")
    assert err.startswith(f"{path}: ") and err.endswith(".mean: expected a number >= 0")


def test_negative_channels_name_the_field(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    src = _copy("ofa", tmp_path)
    path = src / "specialized_subnets.json"

    def negate(doc: dict[str, Any]) -> None:
        doc["subnets"][0]["net_config"]["first_conv"]["out_channels"] = -24

    _edit_json(path, negate)
    err = _import(capsys, "ofa", src, tmp_path / "out")
    assert err.startswith(f"{path}: subnets['1080ti_gpu64-12ms_top1-72.6_finetune-25']"
                          ".net_config: expected a known layout (first_conv: malformed "
                          "ConvLayer (out_channels: expected 1 to 1,000,000))")


def test_an_invalid_built_profile_is_one_line(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """What no source check catches still fails in one line naming file and field: here two
    entries of one device with the same name give duplicate variant ids."""
    src = _copy("ofa", tmp_path)
    path = src / "specialized_subnets.json"

    def duplicate(doc: dict[str, Any]) -> None:
        doc["subnets"].append(dict(doc["subnets"][0]))

    _edit_json(path, duplicate)
    err = _import(capsys, "ofa", src, tmp_path / "out")
    assert err == (f"{path}: device '1080ti', ofa-proxyless: the profile built from it is "
                   "invalid: variants: duplicate variant ids: "
                   "['1080ti_gpu64-12ms_top1-72.6_finetune-25']")


# ----------------------------------------------------------------- 5,000 digits
def test_5000_digits_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _copy("ofa", tmp_path)
    path = src / "specialized_subnets.json"
    doc = json.loads(path.read_text())
    doc["subnets"][3]["value"] = 4242
    path.write_text(json.dumps(doc, indent=1).replace("4242", HUGE))
    line = path.read_text()[: path.read_text().index(HUGE)].count("\n") + 1
    err = _import(capsys, "ofa", src, tmp_path / "out")
    assert err == (f"{path}: line {line}: a number of 5,000 digits; at most 4,300 digits are "
                   "read")


def test_5000_digits_in_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _copy("ofa", tmp_path)
    path = src / "note10_192_lookup_table.yaml"
    text = path.read_text()
    at = text.index("count: ") + len("count: ")
    path.write_text(text[:at] + HUGE + text[text.index("\n", at):])
    line = text[:at].count("\n") + 1
    err = _import(capsys, "ofa", src, tmp_path / "out")
    assert err == f"{path}: line {line}: a number of 5,000 digits; at most 4,300 digits are read"


def test_5000_digits_in_the_python_table(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    src = _copy("adaptivenet_artifact", tmp_path)
    table = src / "oncloud" / "prebuilt_latency_table.py"
    text = table.read_text()
    table.write_text(text.replace("0.003638958053844031", HUGE, 1))
    line = text[:text.index("0.003638958053844031")].count("\n") + 1
    err = _import(capsys, "adaptivenet", src, tmp_path / "out")
    assert err == f"{table}: line {line}: a number of 5,000 digits; at most 4,300 digits are read"


# ----------------------------------------------------------------- names and all-or-nothing
def test_a_300_character_device_name_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _copy("ofa", tmp_path)
    path = src / "specialized_subnets.json"
    long = "p" * 300

    def rename(doc: dict[str, Any]) -> None:
        for entry in doc["subnets"]:
            if entry["device"] == "pixel2":
                entry["device"] = long

    _edit_json(path, rename)
    out = tmp_path / "out"
    err = _import(capsys, "ofa", src, out)
    assert err == (f"{path}: device '{'p' * 40}'...: its profile folder name '{'p' * 40}'... "
                   "(300 characters) becomes a file or folder name: use 1-100 letters, digits "
                   "and '._+-', starting with a letter or digit")
    assert not out.exists()


def test_a_model_key_without_a_usable_name(tmp_path: Path) -> None:
    src = _copy("adaptivenet", tmp_path)
    for name in ("latency_tables.json", "searched_subnets.json"):
        def rename(doc: dict[str, Any]) -> None:
            key = "tables" if "tables" in doc else "devices"
            doc[key]["jetson_nano"]["m" * 120] = doc[key]["jetson_nano"].pop("resnet50")

        _edit_json(src / name, rename)
    with pytest.raises(ImportDataError, match=r"latency_tables\.json: model 'm{40}'\.\.\. of "
                                              r"device 'jetson_nano': its profile file name"):
        build_adaptivenet(src)


def test_a_file_where_a_folder_must_go_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "tx2").write_text("not a folder\n")
    with pytest.raises(ImportDataError, match=rf"{out / 'tx2'} is not a folder; nothing written"):
        IMPORTERS["ofa"](PUBLISHED / "ofa", out)
    assert sorted(p.name for p in out.iterdir()) == ["tx2"]


def test_a_failure_while_writing_leaves_nothing(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk on the fourth file: the three staged files and their new folders go."""
    out = tmp_path / "out"
    real = tempfile.mkstemp
    calls = []

    def failing(*args: Any, **kwargs: Any) -> tuple[int, str]:
        calls.append(1)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", failing)
    with pytest.raises(OSError, match="No space left"):
        IMPORTERS["ofa"](PUBLISHED / "ofa", out)
    assert not out.exists() or not any(out.rglob("*"))
    monkeypatch.undo()
    assert len(IMPORTERS["ofa"](PUBLISHED / "ofa", out)) == 8


# ----------------------------------------------------------------- not regular files
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_source_returns_promptly(tmp_path: Path) -> None:
    src = tmp_path / "ofa"
    src.mkdir()
    os.mkfifo(src / "specialized_subnets.json")
    box: list[BaseException] = []

    def run() -> None:
        try:
            IMPORTERS["ofa"](src, tmp_path / "out")
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "the import blocked on a FIFO"
    assert isinstance(box[0], ImportDataError)
    assert str(box[0]) == (f"{src / 'specialized_subnets.json'}: is a FIFO (named pipe), not "
                           "a regular file; expected a published source file (only regular "
                           "files are read)")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_source_linked_to_dev_zero(tmp_path: Path) -> None:
    src = _copy("ofa", tmp_path)
    (src / "note10_224_lookup_table.yaml").unlink()
    (src / "note10_224_lookup_table.yaml").symlink_to("/dev/zero")
    with pytest.raises(ImportDataError, match="is a character device, not a regular file"):
        IMPORTERS["ofa"](src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_device_key_is_never_part_of_a_path(tmp_path: Path) -> None:
    """A device named ``../x`` must not make the importer read ``../x_*_lookup_table.yaml``."""
    src = _copy("ofa", tmp_path)
    outside = tmp_path / "evil_224_lookup_table.yaml"
    outside.write_text("- not a table\n")

    def rename(doc: dict[str, Any]) -> None:
        for entry in doc["subnets"]:
            if entry["device"] == "note10":
                entry["device"] = "../evil"

    _edit_json(src / "specialized_subnets.json", rename)
    written = IMPORTERS["ofa"](src, tmp_path / "out", devices=["../evil"])
    assert [p.relative_to(tmp_path / "out").as_posix() for p in written] == ["evil/ofa-mbv3.json"]

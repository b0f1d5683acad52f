"""Contract every registered model family must meet (tiny scale, small data subset).

Parametrised over ``list_families()``, so a family is tested the moment it is registered.
"""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(1)

from models.data import load_data, shrink  # noqa: E402
from models.measure import MeasureSettings  # noqa: E402
from models.registry import (  # noqa: E402
    Family,
    ModelsUserError,
    create_family,
    family_class,
    list_families,
)
from sim.profile import Profile, load_profile, save_profile  # noqa: E402

SETTINGS = MeasureSettings(device="contract-test", threads=1, warmup=1, repeats=3)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data():
    return shrink(load_data("digits", seed=0), 200, 60, 100, seed=0)


@pytest.fixture(scope="module", params=list_families())
def trained(request, data, tmp_path_factory):
    fam = create_family(request.param, scale="tiny", seed=0, classes=data.classes,
                        input_shape=data.input_shape)
    ckpt = tmp_path_factory.mktemp(request.param)
    fam.train(data, ckpt, progress=False)
    return fam, ckpt


@pytest.fixture(scope="module")
def profile(trained, data) -> Profile:
    fam, ckpt = trained
    return fam.build_profile(data, ckpt, SETTINGS)


def test_registry_lists_and_rejects() -> None:
    names = list_families()
    assert {"nestdnn-vgg", "nestdnn-resnet"} <= set(names)
    with pytest.raises(ModelsUserError, match="known:"):
        create_family("no-such-family")
    with pytest.raises(ModelsUserError, match="unknown scale"):
        create_family("nestdnn-vgg", scale="enormous")


@pytest.mark.parametrize("name", list_families())
def test_class_declares_name_kind_and_scales(name: str) -> None:
    cls = family_class(name)
    assert issubclass(cls, Family) and cls.name == name
    assert cls.kind in ("multi_capacity", "supernet", "elastified", "progressive", "fixed")
    assert "tiny" in cls.scales


def test_profile_is_valid_and_round_trips(profile, trained, tmp_path) -> None:
    fam, _ = trained
    assert profile.family == fam.name and profile.kind == fam.kind
    assert Profile.model_validate(profile.model_dump()) == profile
    path = save_profile(profile, tmp_path / "p.json")
    assert load_profile(path) == profile
    assert profile.device.name == "contract-test" and profile.device.repeats == 3


def test_variants_have_measured_numbers(profile) -> None:
    for v in profile.variants:
        assert v.latency_ms.median > 0, v.id
        assert 0.0 <= v.top1 <= 1.0, v.id
        assert v.weight_bytes > 0, v.id


def test_outcomes_are_aligned_with_the_eval_split(profile, data) -> None:
    assert profile.task.eval_samples == len(data.test)
    if profile.outcomes is None:
        pytest.skip("family stores no outcomes")
    assert profile.outcomes.samples == profile.task.eval_samples
    ids = {v.id for v in profile.variants}
    for key, bits in profile.outcomes.correct.items():
        if key in ids:  # a variant's accuracy is the mean of its outcomes
            assert abs(bits.count("1") / len(bits) - profile.variant(key).top1) < 1e-9


def test_training_again_skips_finished_stages(trained, data) -> None:
    fam, ckpt = trained
    before = {p: p.stat().st_mtime_ns for p in ckpt.rglob("*") if p.is_file()}
    fam.train(data, ckpt, progress=False)
    after = {p: p.stat().st_mtime_ns for p in ckpt.rglob("*") if p.is_file()}
    assert after == before


def test_cli_profiles_end_to_end(data, tmp_path, capsys) -> None:
    from models.cli import main

    out = tmp_path / "cpu-test" / "nestdnn-vgg.json"
    ckpt = tmp_path / "ck"
    create_family("nestdnn-vgg", scale="tiny").train(data, ckpt, progress=False)  # small+fast
    argv = ["profile", "--family", "nestdnn-vgg", "--device", "cpu-test", "--threads", "1",
            "--warmup", "1", "--repeats", "2", "--checkpoints", str(ckpt), "--out", str(out),
            "--data", "digits", "--quiet"]
    assert main(argv) == 0
    prof = load_profile(out)
    assert prof.provenance.type == "measured"
    assert prof.provenance.command.startswith("mvsched profile --family nestdnn-vgg")
    assert prof.device.name == "cpu-test" and prof.task.eval_samples == 450
    assert max(v.top1 for v in prof.variants) > 0.2  # twice chance, even tiny and 200 samples
    assert main(["train", "--family", "nope", "--quiet"]) == 2
    assert "unknown model family 'nope'" in capsys.readouterr().err
    from models.regenerate import main as regenerate_main

    assert regenerate_main(["--family", "nope", "--quiet"]) == 2
    assert "unknown families ['nope']" in capsys.readouterr().err

"""NestDNN's independent baselines get the training of the descendant of their size: the same
stages (epochs, learning rates, data order) and the same distillation from the vanilla model."""

from __future__ import annotations

import dataclasses

import pytest
import torch

torch.set_num_threads(1)

import models.nestdnn.family as family_mod  # noqa: E402
from models.data import load_data, shrink  # noqa: E402
from models.nestdnn.family import SCALES, independent_schedule  # noqa: E402
from models.registry import create_family  # noqa: E402


def test_standard_schedule_matches_the_descendants_epochs_and_distillation() -> None:
    sc = SCALES["standard"]
    k_max = len(sc.fractions) - 1
    seen = {}
    for level in range(1, k_max + 1):
        stages = independent_schedule(sc, level, k_max)
        epochs = sum(cfg.epochs for _, cfg, _ in stages)
        distilled = sum(cfg.epochs for _, cfg, kd in stages if kd)
        seen[level] = (epochs, distilled)
        assert [s for s, _, _ in stages][: k_max + 1] == (
            ["vanilla"] + [f"prune{i}" for i in range(1, k_max + 1)])
        assert all(kd == s.startswith("grow") for s, _, kd in stages)
    # seed size (d1-ind): vanilla 5 + 4 prune epochs; each larger size adds one 3-epoch growth
    assert seen == {4: (9, 0), 3: (12, 3), 2: (15, 6), 1: (18, 9)}
    with pytest.raises(ValueError, match="levels 1..4"):
        independent_schedule(sc, 0, k_max)  # the full size is the vanilla model itself


def test_independents_train_through_the_mirrored_stages_with_distillation(
        monkeypatch, tmp_path) -> None:
    tiny = dataclasses.replace(SCALES["tiny"], grow_kd=0.5)
    monkeypatch.setitem(SCALES, "tiny", tiny)
    data = shrink(load_data("digits", seed=0), 120, 40, 60, seed=0)
    fam = create_family("nestdnn-vgg", scale="tiny", seed=0)
    k_max = len(fam.levels()) - 1
    calls: list[tuple[str, bool, int]] = []
    real_fit = family_mod.fit

    def spy(model, dataset, cfg, generator, **kw):
        calls.append((kw["desc"], "loss_fn" in kw, int(generator.initial_seed())))
        return real_fit(model, dataset, cfg, generator, **kw)

    monkeypatch.setattr(family_mod, "fit", spy)
    fam.train(data, tmp_path, progress=False)
    seeds = {desc: seed for desc, _, seed in calls}
    for level in range(1, k_max + 1):
        mine = [(d, kd, s) for d, kd, s in calls if d.startswith(f"independent{level}/")]
        want = independent_schedule(tiny, level, k_max)
        assert [d.split("/", 1)[1] for d, _, _ in mine] == [s for s, _, _ in want]
        for (desc, kd, seed), (stage, _, distil) in zip(mine, want, strict=True):
            assert kd == distil, desc  # distilled exactly where the descendant was grown
            assert seed == seeds[stage], desc  # same data order as the mirrored stage
    assert any(kd for d, kd, _ in calls if d.startswith("independent"))


def test_a_level_below_the_seed_floor_stops_training(monkeypatch, tmp_path) -> None:
    from models.registry import ModelsUserError

    monkeypatch.setitem(SCALES, "tiny", dataclasses.replace(SCALES["tiny"], seed_floor=1.5))
    data = shrink(load_data("digits", seed=0), 120, 40, 60, seed=0)
    fam = create_family("nestdnn-vgg", scale="tiny", seed=0)
    with pytest.raises(ModelsUserError, match=r"pruning to 0.8 of the filters keeps validation "
                                              r"top-1 [0-9.]+, below the seed floor"):
        fam.train(data, tmp_path, progress=False)
    assert (tmp_path / "prune1.pt").exists() and not (tmp_path / "prune2.pt").exists()


def test_standard_seed_is_a_quarter_of_the_filters() -> None:
    sc = SCALES["standard"]
    assert sc.fractions[-1] == 0.25 and sc.seed_floor == 0.85

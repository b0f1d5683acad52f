"""NestDNN: TRR ranking, pruning roadmap, freeze-&-grow nesting, switching bytes, resume."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

torch.set_num_threads(1)

import models.nestdnn.family as family_mod  # noqa: E402
from models.data import load_data, shrink  # noqa: E402
from models.measure import MeasureSettings, tensor_bytes, weight_bytes  # noqa: E402
from models.nestdnn.grow import grow_step  # noqa: E402
from models.nestdnn.network import NestedNet, NetSpec, init_weights  # noqa: E402
from models.nestdnn.prune import level_widths, reverse_roadmap  # noqa: E402
from models.nestdnn.trr import sample_triplets, trr_from_maps, trr_scores  # noqa: E402
from models.registry import ModelsUserError, create_family  # noqa: E402
from models.train import TrainConfig, fit, load_checkpoint  # noqa: E402

pytestmark = pytest.mark.slow
SETTINGS = MeasureSettings(device="nest-test", threads=1, warmup=1, repeats=3)


@pytest.fixture(scope="module")
def data():
    return shrink(load_data("digits", seed=0), 200, 60, 100, seed=0)


@pytest.fixture(scope="module", params=["nestdnn-vgg", "nestdnn-resnet"])
def trained(request, data, tmp_path_factory):
    fam = create_family(request.param, scale="tiny", seed=0)
    ckpt = tmp_path_factory.mktemp(request.param)
    fam.train(data, ckpt, progress=False)
    return fam, ckpt


# --- TRR --------------------------------------------------------------------------------
def test_triplets_have_matching_positives_and_other_class_negatives() -> None:
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 1])
    a, p, n = sample_triplets(labels, 500, torch.Generator().manual_seed(0))
    assert torch.equal(labels[a], labels[p]) and bool((a != p).all())
    assert bool((labels[a] != labels[n]).all())
    assert set(a.tolist()) == set(range(10))  # every sample can be an anchor
    with pytest.raises(ValueError, match=">= 2 samples"):
        sample_triplets(torch.tensor([0, 0, 1]), 4, torch.Generator())


def test_trr_of_maps_rewards_class_separation() -> None:
    labels = torch.arange(40) % 4
    maps = torch.zeros(40, 2, 3, 3)
    maps[:, 0] = labels.float().view(-1, 1, 1)  # responds to the class
    maps[:, 1] = 5.0  # constant
    a, p, n = sample_triplets(labels, 100, torch.Generator().manual_seed(1))
    s = trr_from_maps(maps[a], maps[p], maps[n])
    assert float(s[0]) > 0 and float(s[1]) == 0.0


def test_trr_ranks_a_discriminative_filter_above_a_constant_one() -> None:
    net = NestedNet(NetSpec("vgg", 1, 3, vgg=(2,))).eval()
    conv = net.layers["c0"]
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 1, 1] = 1.0  # filter 0 passes the image through
        conv.bn_bias[1] = 1.0  # filter 1 outputs a constant 1
    labels = torch.arange(30) % 3
    x = labels.float().view(-1, 1, 1, 1).expand(-1, 1, 8, 8).clone()
    scores = trr_scores(net, TensorDataset(x, labels), 200, torch.Generator().manual_seed(0))
    assert float(scores["c0"][0]) > float(scores["c0"][1]) == 0.0


# --- network mechanics ------------------------------------------------------------------
@pytest.mark.parametrize("backbone", ["vgg", "resnet"])
def test_permuting_a_group_keeps_the_function(backbone: str) -> None:
    spec = NetSpec(backbone, 1, 10, vgg=(6, "M", 8), resnet=((6, 1), (8, 1)))
    net = NestedNet(spec)
    init_weights(net, torch.Generator().manual_seed(0))
    net.eval()
    x = torch.randn(4, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    ref = net(x)
    g = torch.Generator().manual_seed(2)
    for group, w in net.widths.items():
        net.permute_group(group, torch.randperm(w, generator=g))
    assert torch.allclose(net(x), ref, atol=1e-5)


def test_export_equals_the_sliced_forward() -> None:
    spec = NetSpec("resnet", 1, 10, resnet=((6, 1), (8, 1)))
    net = NestedNet(spec)
    init_weights(net, torch.Generator().manual_seed(0))
    widths = {g: max(1, w // 2) for g, w in net.widths.items()}
    net.set_active(widths)
    net.eval()
    x = torch.randn(3, 1, 16, 16)
    assert torch.allclose(net.export(widths)(x), net(x), atol=1e-6)


def test_grow_step_freezes_weights_and_bn_statistics_bitwise() -> None:
    spec = NetSpec("vgg", 1, 4, vgg=(6, "M", 8))
    net = NestedNet(spec)
    init_weights(net, torch.Generator().manual_seed(0))
    parent, child = {"c0": 3, "c1": 4}, {"c0": 6, "c1": 8}
    x = torch.randn(32, 1, 8, 8)
    y = torch.arange(32) % 4
    before = net.sliced_state(parent)
    cfg = TrainConfig(epochs=3, lr=0.5, batch_size=8, weight_decay=0.1)
    grow_step(net, parent, child, torch.Generator().manual_seed(1),
              lambda hook: fit(net, TensorDataset(x, y), cfg, torch.Generator().manual_seed(2),
                               before_step=hook, progress=False))
    after = net.sliced_state(parent)
    assert all(torch.equal(before[k], after[k]) for k in before)
    grown = net.sliced_state(child)["layers.c1.weight"]
    assert bool(grown[4:].any())  # new filters trained
    assert not bool(grown[:4, 3:].any())  # old filters never read the new channels
    head = net.sliced_state(child)["head.weight"]
    assert bool(head[:, 4:].any())  # the head learned to use the new features


def test_grow_from_pruned_weights_restores_them_and_keeps_the_parent() -> None:
    from models.nestdnn.grow import reinit_new

    spec = NetSpec("vgg", 1, 4, vgg=(6, "M", 8))
    net = NestedNet(spec)
    init_weights(net, torch.Generator().manual_seed(0))
    parent, child = {"c0": 3, "c1": 4}, {"c0": 6, "c1": 8}
    old = {k: v.clone() for k, v in net.sliced_state(child).items()}
    reinit_new(net, parent, child, torch.Generator().manual_seed(1), init="pruned")
    new = net.sliced_state(child)
    w0, w1 = "layers.c0.weight", "layers.c1.weight"
    assert torch.equal(new[w0][3:], old[w0][3:])  # added filters start where pruning left them
    assert torch.equal(new[w1][4:], old[w1][4:])
    assert not bool(new[w1][:4, 3:].any())  # the parent's filters still ignore new channels
    reinit_new(net, parent, child, torch.Generator().manual_seed(1), init="fresh")
    assert not torch.equal(net.sliced_state(child)[w1][4:], old[w1][4:])
    with pytest.raises(ValueError, match="init"):
        reinit_new(net, parent, child, torch.Generator().manual_seed(1), init="zeros")


def test_growing_distils_from_the_vanilla_model() -> None:
    from models.nestdnn.family import _distilling

    teacher, student = torch.nn.Linear(3, 4), torch.nn.Linear(3, 4)
    x, y = torch.randn(5, 3), torch.tensor([0, 1, 2, 3, 0])
    assert _distilling(teacher, student, 0.0, 0.0) == {}
    kw = _distilling(teacher, student, 2.0, 0.0)
    out = kw["forward"](x)
    soft = torch.softmax(teacher(x), dim=1).detach()
    expect = (torch.nn.functional.cross_entropy(out, y)
              - 2.0 * (soft * torch.log_softmax(out, dim=1)).sum(dim=1).mean())
    assert torch.allclose(kw["loss_fn"](out, y), expect)


def test_levels_need_distinct_widths() -> None:
    assert level_widths({"a": 8}, (1.0, 0.5))[1] == {"a": 4}
    with pytest.raises(ValueError, match="same widths"):
        level_widths({"a": 2}, (1.0, 0.8, 0.6))
    with pytest.raises(ValueError, match="start at 1.0"):
        level_widths({"a": 8}, (0.9, 0.5))


# --- the trained family -----------------------------------------------------------------
def test_descendants_are_bitwise_nested_after_all_training(trained) -> None:
    fam, ckpt = trained
    levels = fam.levels()
    k_max = len(levels) - 1
    assert k_max >= 4  # seed + >= 4 growths
    final = fam.multi_capacity(ckpt)
    # the seed as it left pruning is literally inside the final model
    seed_net = NestedNet(fam.spec())
    seed_net.load_state_dict(load_checkpoint(ckpt / f"prune{k_max}.pt")["state"])
    for widths, stage in [(levels[k_max], None)] + [
        (levels[k_max - j], f"grow{j}") for j in range(1, k_max + 1)
    ]:
        ref = seed_net if stage is None else NestedNet(fam.spec())
        if stage is not None:
            ref.load_state_dict(load_checkpoint(ckpt / f"{stage}.pt")["state"])
        want, got = ref.sliced_state(widths), final.sliced_state(widths)
        assert all(torch.equal(want[k], got[k]) for k in want), stage
    # and descendant k's tensors are the leading block of descendant k+1's
    for small, big in zip(levels[:0:-1], levels[-2::-1], strict=True):
        s, b = final.sliced_state(small), final.sliced_state(big)
        for name, t in s.items():
            assert torch.equal(b[name][tuple(slice(0, n) for n in t.shape)], t), name


def test_roadmap_reversal_reproduces_the_full_architecture(trained) -> None:
    fam, ckpt = trained
    levels = fam.levels()
    k_max = len(levels) - 1
    perm = load_checkpoint(ckpt / f"prune{k_max}.pt")["perm"]
    seed = {g: [int(i) for i in perm[g][: levels[k_max][g]]] for g in perm}
    grown = reverse_roadmap(seed, fam.roadmap(ckpt))
    assert [{g: len(v) for g, v in d.items()} for d in grown] == levels[::-1]
    full = fam.spec().full_widths()
    assert {g: sorted(v) for g, v in grown[-1].items()} == {g: list(range(w)) for g, w in full.items()}
    assert NestedNet(fam.spec()).widths == full == fam.multi_capacity(ckpt).widths


def test_incremental_bytes_are_new_minus_parent(trained) -> None:
    fam, ckpt = trained
    net = fam.multi_capacity(ckpt)
    levels = fam.levels()
    for parent, child in zip(levels[:0:-1], levels[-2::-1], strict=True):
        delta = tensor_bytes(net.delta_state(parent, child))
        assert delta == weight_bytes(net.export(child)) - weight_bytes(net.export(parent)) > 0
        assert tensor_bytes(net.sliced_state(child)) == weight_bytes(net.export(child))


def test_profile_accounts_memory_and_switching(trained, data) -> None:
    fam, ckpt = trained
    prof = fam.build_profile(data, ckpt, SETTINGS)
    nested, ind = prof.nested(), prof.independents()
    assert [v.id for v in nested] == [f"d{i}" for i in range(1, len(fam.levels()) + 1)]
    assert len(ind) == len(nested)
    assert nested[0].parent is None and nested[0].load_ms.incremental is None
    for small, big in zip(nested, nested[1:], strict=False):
        assert big.parent == small.id and big.shared_bytes == small.weight_bytes
        assert big.load_ms.incremental is not None and big.load_ms.full > 0
        assert big.flops > small.flops and big.params > small.params
        assert prof.is_ancestor(small.id, nested[-1].id)
    for v, n in zip(ind, nested, strict=True):
        assert v.parent is None and v.load_ms.incremental is None and v.shared_bytes == 0
        assert v.weight_bytes == n.weight_bytes and v.flops == n.flops
    assert set(prof.outcomes.correct) == {v.id for v in prof.variants}
    assert prof.extra["pruning_roadmap"][-1]["widths"] == fam.levels()[-1]


def test_resume_retrains_only_missing_stages_identically(trained, data, tmp_path, monkeypatch) -> None:
    fam, ckpt = trained
    for f in ckpt.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    k_max = len(fam.levels()) - 1
    (tmp_path / f"grow{k_max}.pt").unlink()
    (tmp_path / f"independent{k_max}.pt").unlink()
    ran: list[str] = []
    real_fit = family_mod.fit

    def spy(*args, **kw):
        ran.append(kw["desc"])
        return real_fit(*args, **kw)

    monkeypatch.setattr(family_mod, "fit", spy)
    fam.train(data, tmp_path, progress=False)
    # the seed-size independent model reruns its whole schedule (vanilla and prune stages)
    schedule = family_mod.independent_schedule(family_mod.SCALES["tiny"], k_max, k_max)
    assert ran == [f"grow{k_max}"] + [f"independent{k_max}/{s}" for s, _, _ in schedule]
    for name in (f"grow{k_max}", f"independent{k_max}"):
        a, b = load_checkpoint(ckpt / f"{name}.pt"), load_checkpoint(tmp_path / f"{name}.pt")
        assert all(torch.equal(a["state"][k], b["state"][k]) for k in a["state"]), name


def test_checkpoints_of_another_run_are_refused(trained, data) -> None:
    fam, ckpt = trained
    other = create_family(fam.name, scale="tiny", seed=1)
    with pytest.raises(ModelsUserError, match="checkpoints were made for"):
        other.train(data, ckpt, progress=False)


def test_missing_checkpoints_name_the_train_command(data, tmp_path) -> None:
    fam = create_family("nestdnn-vgg", scale="tiny")
    with pytest.raises(ModelsUserError, match="mvsched train --family nestdnn-vgg"):
        fam.build_profile(data, tmp_path, SETTINGS)

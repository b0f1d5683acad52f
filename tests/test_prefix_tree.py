"""Reuse-based evaluation over a prefix tree gives exactly the naive accuracies, with less work."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from models.adaptivenet.backbone import SCALES  # noqa: E402
from models.adaptivenet.prefix_tree import (  # noqa: E402
    ReuseEvaluator,
    build_tree,
    naive_evaluate,
    reuse_speedup,
)
from models.adaptivenet.space import SubnetConfig  # noqa: E402
from models.adaptivenet.supernet import ElasticResNet  # noqa: E402


def _randomise_bn(net: torch.nn.Module, gen: torch.Generator) -> None:
    """Non-trivial BN statistics so that every branch changes the predictions."""
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.normal_(0.0, 0.2, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)
                m.weight.normal_(1.0, 0.5, generator=gen)
                m.bias.normal_(0.0, 0.3, generator=gen)


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    net = ElasticResNet(replace(SCALES["tiny"], in_channels=1, classes=10))
    _randomise_bn(net, gen)
    net.eval()
    x = torch.randn(70, 1, 32, 32, generator=gen)
    with torch.no_grad():  # labels = the original path's predictions, with noise
        y = net(x).argmax(dim=1)
    y[::3] = torch.randint(0, 10, y[::3].shape, generator=gen)
    rng = np.random.default_rng(0)
    cfgs = [net.sample_subnet(rng) for _ in range(40)]
    cfgs += cfgs[:3] + [net.space.original()]  # duplicates must work too
    return net, x, y, cfgs


def test_tree_shares_prefixes_and_counts_each_block_once() -> None:
    a = SubnetConfig((0, 1, 99, 0))
    b = SubnetConfig((0, 1, 99, -1))
    c = SubnetConfig((2, 99, 99, 0))
    root = build_tree([a, b, c, a])
    assert set(root.children) == {(0, 0), (0, 2)}
    shared = root.children[(0, 0)].children[(1, 1)]
    assert set(shared.children) == {(3, 0), (3, -1)}
    assert shared.children[(3, 0)].ends == [0, 3]
    assert root.edges() == 6  # naive: 3 + 3 + 2 (+ 3 for the duplicate)


def test_reuse_equals_naive_exactly(setup) -> None:  # type: ignore[no-untyped-def]
    net, x, y, cfgs = setup
    ev = ReuseEvaluator(net, x, y, batch_size=32)  # 70 = 32 + 32 + 6: a ragged last batch
    reuse = ev.evaluate(cfgs)
    naive = naive_evaluate(net, x, y, cfgs, batch_size=32)
    assert reuse == naive
    assert len(set(naive)) > 3  # the subnets really differ, so equality means something
    assert ev.blocks_naive == sum(len(c.tokens()) for c in cfgs) * len(ev.batches)
    assert ev.blocks_run < ev.blocks_naive
    assert ev.evaluate(cfgs[::-1]) == naive[::-1]  # stem cache reused, order kept


def test_reuse_matches_exported_subnets(setup) -> None:  # type: ignore[no-untyped-def]
    net, x, y, cfgs = setup
    accs = ReuseEvaluator(net, x, y, batch_size=70).evaluate(cfgs[:5])
    for cfg, acc in zip(cfgs[:5], accs, strict=True):
        with torch.inference_mode():
            pred = net.export_subnet(cfg).eval()(x).argmax(dim=1)
        assert acc == int((pred == y).sum()) / len(y)


def test_speedup_record_checks_equality(setup) -> None:  # type: ignore[no-untyped-def]
    net, x, y, cfgs = setup
    rec = reuse_speedup(net, x, y, cfgs, batch_size=35)
    assert rec["candidates"] == len(cfgs) and rec["reuse_s"] > 0 and rec["naive_s"] > 0
    assert rec["blocks_reuse"] < rec["blocks_naive"]


def test_bad_inputs_are_rejected(setup) -> None:  # type: ignore[no-untyped-def]
    net, x, y, _ = setup
    with pytest.raises(ValueError, match="equally many"):
        ReuseEvaluator(net, x, y[:-1])
    with pytest.raises(ValueError, match="gene"):
        ReuseEvaluator(net, x, y).evaluate([SubnetConfig((1, 0, 0, 0))])

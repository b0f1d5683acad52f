"""Freeze-&-grow (ALGORITHMS 1.4): rebuild larger descendants on top of the seed.

Growing from widths ``parent`` to ``child`` initialises the filters added back and trains
only them. ``init="fresh"`` draws new Kaiming weights (unit BN); ``init="pruned"`` starts
them from the weights they had when pruning removed them (the roadmap run backwards, each
filter restored to where it left), which recovers the larger model's accuracy in far fewer
epochs. Either way every weight of the parent's filters stays
frozen, including their (zero) weights on the new input channels, so the parent's features
are computed exactly as before and the grown model starts at the parent's function (the head's
new columns start at zero). Gradients of frozen weights are zeroed before every optimiser step
and the parent's BN channels use (and keep) their running statistics, so the parent's tensors
stay bitwise unchanged; :func:`grow_step` checks it.

Why the new input columns of old filters stay frozen at zero: the parent's BN is frozen in eval
mode, so training those columns shifts old activations unnormalised (amplified by 1/sigma of
the frozen statistics) and diverged in practice; a frozen filter is frozen as a whole.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from models.nestdnn.network import IN, OUT, NestedNet, Widths

__all__ = ["frozen_masks", "grow_step", "reinit_new"]


def _region(net: NestedNet, name: str, t: torch.Tensor, w: Widths) -> tuple[slice, ...]:
    g0, g1 = net.specs[name]
    s0 = slice(None) if g0 in (None, OUT) else slice(0, w[g0])
    if t.dim() == 1:
        return (s0,)
    s1 = slice(None) if g1 in (None, IN) else slice(0, w[g1])
    return (s0, s1)


def frozen_masks(net: NestedNet, parent: Widths) -> dict[str, torch.Tensor]:
    """Per parameter: 0 on the parent's filters (all their input columns), 1 elsewhere."""
    masks = {}
    for name, p in net.named_parameters():
        m = torch.ones_like(p)
        g0 = net.specs[name][0]
        rows = slice(None) if g0 in (None, OUT) else slice(0, parent[g0])
        if p.dim() == 1 or g0 in (None, OUT):
            m[_region(net, name, p, parent)] = 0.0  # head: old input columns; BN: old channels
        else:
            m[rows] = 0.0
        masks[name] = m
    return masks


def reinit_new(net: NestedNet, parent: Widths, child: Widths, generator: torch.Generator,
               init: str = "fresh") -> None:
    """Weights for the filters in ``child`` but not in ``parent`` (fresh, or kept as pruning
    left them); zero the new input columns of the parent's filters and of the head
    (function-preserving start)."""
    if init not in ("fresh", "pruned"):
        raise ValueError(f"init must be 'fresh' or 'pruned', got {init!r}")
    with torch.no_grad():
        for name, t in net.state_dict(keep_vars=True).items():
            if name not in net.specs:
                continue
            g0, g1 = net.specs[name]
            p0 = t.shape[0] if g0 in (None, OUT) else parent[g0]
            c0 = t.shape[0] if g0 in (None, OUT) else child[g0]
            data = t.data
            if t.dim() == 1:
                if init == "fresh":
                    fill = 1.0 if name.endswith(("bn_weight", "running_var")) else 0.0
                    data[p0:c0] = fill
                continue
            p1 = t.shape[1] if g1 in (None, IN) else parent[g1]
            c1 = t.shape[1] if g1 in (None, IN) else child[g1]
            data[:p0, p1:c1] = 0.0
            if c0 > p0 and init == "fresh":
                shape = data[p0:c0, :c1].shape
                if data.dim() == 4:
                    fan_out = data.shape[0] * data.shape[2] * data.shape[3]
                    fresh = torch.randn(shape, generator=generator) * (2.0 / fan_out) ** 0.5
                else:
                    bound = 1.0 / data.shape[1] ** 0.5
                    fresh = (torch.rand(shape, generator=generator) * 2 - 1) * bound
                data[p0:c0, :c1] = fresh


def grow_step(
    net: NestedNet, parent: Widths, child: Widths, generator: torch.Generator,
    train: Callable[[Callable[[], None]], object], init: str = "fresh",
) -> None:
    """Grow ``net`` from ``parent`` to ``child`` widths and train only the new weights.

    ``train(before_step)`` runs the training loop (e.g. :func:`models.train.fit` with
    ``before_step``). RuntimeError if any weight of the parent changed (an invariant).
    """
    reinit_new(net, parent, child, generator, init)
    before = net.sliced_state(parent)
    masks = frozen_masks(net, parent)
    params = dict(net.named_parameters())

    def zero_frozen_grads() -> None:
        for name, p in params.items():
            if p.grad is not None:
                p.grad.mul_(masks[name])

    net.set_active(child)
    net.set_frozen(parent)
    try:
        train(zero_frozen_grads)
    finally:
        net.set_frozen({})
    after = net.sliced_state(parent)
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    changed += [k for k, t in net.delta_state(parent, child).items()
                if k.endswith("#cols") and not k.startswith("head.") and bool(t.any())]
    if changed:
        raise RuntimeError(f"freeze-&-grow changed frozen weights: {changed[:3]}")

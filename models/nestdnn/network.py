"""Channel-sliceable VGG/ResNet backbones for 32x32 inputs: one weight set, many widths.

Filters are grouped into *channel groups* (a VGG conv layer; a ResNet block's inner conv; a
ResNet stage's residual stream, shared by every conv writing to it). A descendant is a width
per group; it uses the *first* ``n`` filters of each group, so descendants nest by construction
(filters ordered seed-first, ALGORITHMS 1.4). Every tensor is described by the groups of its
first two dimensions, which makes slicing, growing and permuting generic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["NestedNet", "NetSpec", "Widths", "init_weights"]

Widths = dict[str, int]
IN, OUT = "input", "classes"  # fixed pseudo-groups: input channels and classifier outputs


@dataclass(frozen=True)
class NetSpec:
    """Architecture of a backbone at full width.

    ``vgg``: conv widths with ``"M"`` for 2x2 max-pooling. ``resnet``: (width, blocks) per
    stage; the stem has the first stage's width and later stages start with stride 2.
    """

    backbone: Literal["vgg", "resnet"]
    in_channels: int = 1
    classes: int = 10
    vgg: tuple[int | str, ...] = ()
    resnet: tuple[tuple[int, int], ...] = field(default=())

    def full_widths(self) -> Widths:
        if self.backbone == "vgg":
            convs = [w for w in self.vgg if w != "M"]
            return {f"c{i}": int(w) for i, w in enumerate(convs)}
        out: Widths = {}
        for s, (w, blocks) in enumerate(self.resnet):
            out[f"s{s}"] = w
            for b in range(blocks):
                out[f"s{s}b{b}"] = w
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["vgg"] = list(self.vgg)
        d["resnet"] = [list(x) for x in self.resnet]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NetSpec:
        return cls(d["backbone"], d["in_channels"], d["classes"], tuple(d["vgg"]),
                   tuple(tuple(x) for x in d["resnet"]))


class _ConvBN(nn.Module):
    """Conv (no bias) + BN over a full-width weight, run at any width.

    ``frozen`` channels (the first ``frozen`` outputs) use running statistics even in training
    mode and never update them, so growing a model leaves the smaller descendant untouched.
    """

    def __init__(self, cin: int, cout: int, k: int, stride: int) -> None:
        super().__init__()
        self.stride, self.pad = stride, k // 2
        self.weight = nn.Parameter(torch.empty(cout, cin, k, k))
        self.bn_weight = nn.Parameter(torch.ones(cout))
        self.bn_bias = nn.Parameter(torch.zeros(cout))
        self.register_buffer("running_mean", torch.zeros(cout))
        self.register_buffer("running_var", torch.ones(cout))
        self.frozen = 0

    def forward(self, x: torch.Tensor, n: int) -> torch.Tensor:
        w = self.weight
        if n != w.shape[0] or x.shape[1] != w.shape[1]:
            w = w[:n, : x.shape[1]]
        y = F.conv2d(x, w, None, self.stride, self.pad)
        g, b, rm, rv = self.bn_weight, self.bn_bias, self.running_mean, self.running_var
        if n != g.shape[0]:
            g, b, rm, rv = g[:n], b[:n], rm[:n], rv[:n]
        f = min(self.frozen, n) if self.training else 0
        if f == 0:
            return F.batch_norm(y, rm, rv, g, b, self.training, 0.1, 1e-5)
        old = F.batch_norm(y[:, :f], rm[:f], rv[:f], g[:f], b[:f], False, 0.0, 1e-5)
        if f == n:
            return old
        new = F.batch_norm(y[:, f:], rm[f:], rv[f:], g[f:], b[f:], True, 0.1, 1e-5)
        return torch.cat([old, new], dim=1)


class NestedNet(nn.Module):
    """A VGG- or ResNet-style classifier whose every group can run at a smaller width.

    ``widths`` are the allocated (full) widths; ``active`` the widths the forward pass uses
    (``set_active``). ``specs`` maps each state-dict tensor name to the groups of its first two
    dimensions (``None`` = not sliced).
    """

    def __init__(self, spec: NetSpec, widths: Widths | None = None) -> None:
        super().__init__()
        self.spec = spec
        self.widths: Widths = dict(widths or spec.full_widths())
        self.specs: dict[str, tuple[str | None, str | None]] = {}
        self.layers = nn.ModuleDict()
        self._plan: list[tuple[str, str, str]] = []  # (layer name, in group, out group)
        if spec.backbone == "vgg":
            self._build_vgg()
        else:
            self._build_resnet()
        last = self._plan[-1][2] if spec.backbone == "vgg" else f"s{len(spec.resnet) - 1}"
        self.head_group = last
        self.head = nn.Linear(self.widths[last], spec.classes)
        self.specs["head.weight"] = (OUT, last)
        self.specs["head.bias"] = (OUT, None)
        self.active: Widths = dict(self.widths)

    def _width(self, g: str) -> int:
        return self.spec.in_channels if g == IN else self.widths[g]

    def _add(self, name: str, gin: str, gout: str, k: int, stride: int) -> None:
        self.layers[name] = _ConvBN(self._width(gin), self._width(gout), k, stride)
        self._plan.append((name, gin, gout))
        self.specs[f"layers.{name}.weight"] = (gout, gin)
        for t in ("bn_weight", "bn_bias", "running_mean", "running_var"):
            self.specs[f"layers.{name}.{t}"] = (gout, None)

    def _build_vgg(self) -> None:
        gin, i = IN, 0
        for item in self.spec.vgg:
            if item == "M":
                continue
            self._add(f"c{i}", gin, f"c{i}", 3, 1)
            gin, i = f"c{i}", i + 1

    def _build_resnet(self) -> None:
        self._add("stem", IN, "s0", 3, 1)
        prev = "s0"
        for s, (_, blocks) in enumerate(self.spec.resnet):
            for b in range(blocks):
                stride = 2 if (s > 0 and b == 0) else 1
                self._add(f"s{s}b{b}_conv1", prev, f"s{s}b{b}", 3, stride)
                self._add(f"s{s}b{b}_conv2", f"s{s}b{b}", f"s{s}", 3, 1)
                if prev != f"s{s}":
                    self._add(f"s{s}b{b}_short", prev, f"s{s}", 1, stride)
                prev = f"s{s}"

    # --- widths -------------------------------------------------------------------------
    def groups(self) -> list[str]:
        """Prunable channel groups, in network order."""
        return list(self.widths)

    def set_active(self, active: Widths) -> None:
        """Run the forward pass at ``active`` widths (each between 1 and the full width)."""
        for g, n in active.items():
            if g not in self.widths or not 1 <= n <= self.widths[g]:
                raise ValueError(f"bad active width {g}={n} (full widths {self.widths})")
        self.active = {**self.widths, **active}

    def set_frozen(self, frozen: Widths) -> None:
        """Freeze the BN statistics of the first ``frozen[g]`` channels of each group."""
        for name, _, gout in self._plan:
            self.layers[name].frozen = frozen.get(gout, 0)

    # --- forward ------------------------------------------------------------------------
    def forward_features(
        self, x: torch.Tensor, taps: dict[str, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Pooled features; when ``taps`` is given, post-ReLU maps are stored per group."""
        a = self.active
        if self.spec.backbone == "vgg":
            i = 0
            for item in self.spec.vgg:
                if item == "M":
                    x = F.max_pool2d(x, 2)
                    continue
                x = F.relu(self.layers[f"c{i}"](x, a[f"c{i}"]))
                if taps is not None:
                    taps[f"c{i}"] = x
                i += 1
        else:
            x = F.relu(self.layers["stem"](x, a["s0"]))
            prev = "s0"
            for s, (_, blocks) in enumerate(self.spec.resnet):
                for b in range(blocks):
                    h = F.relu(self.layers[f"s{s}b{b}_conv1"](x, a[f"s{s}b{b}"]))
                    if taps is not None:
                        taps[f"s{s}b{b}"] = h
                    h = self.layers[f"s{s}b{b}_conv2"](h, a[f"s{s}"])
                    short = (self.layers[f"s{s}b{b}_short"](x, a[f"s{s}"])
                             if prev != f"s{s}" else x)
                    x = F.relu(h + short)
                    prev = f"s{s}"
                if taps is not None:
                    taps[f"s{s}"] = x
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.forward_features(x)
        w = self.head.weight
        return F.linear(f, w if f.shape[1] == w.shape[1] else w[:, : f.shape[1]], self.head.bias)

    # --- tensors by group ---------------------------------------------------------------
    def sliced_state(self, widths: Widths) -> dict[str, torch.Tensor]:
        """The tensors of the descendant with ``widths`` (contiguous copies)."""
        sd = self.state_dict()
        out: dict[str, torch.Tensor] = {}
        for name, (g0, g1) in self.specs.items():
            t = sd[name]
            idx0 = slice(None) if g0 in (None, OUT) else slice(0, widths[g0])
            idx1 = slice(None) if g1 in (None, IN) else slice(0, widths[g1])
            out[name] = (t[idx0, idx1] if t.dim() > 1 else t[idx0]).clone().contiguous()
        return out

    def delta_state(self, parent: Widths, child: Widths) -> dict[str, torch.Tensor]:
        """The tensors the descendant ``child`` holds beyond its nested ``parent``: for a
        matrix, rows of new filters plus new input columns of old filters."""
        sd = self.state_dict()
        out: dict[str, torch.Tensor] = {}
        for name, (g0, g1) in self.specs.items():
            t = sd[name]
            p0 = t.shape[0] if g0 in (None, OUT) else parent[g0]
            c0 = t.shape[0] if g0 in (None, OUT) else child[g0]
            if t.dim() == 1:
                if c0 > p0:
                    out[name] = t[p0:c0].clone()
                continue
            p1 = t.shape[1] if g1 in (None, IN) else parent[g1]
            c1 = t.shape[1] if g1 in (None, IN) else child[g1]
            if c0 > p0:
                out[f"{name}#rows"] = t[p0:c0, :c1].clone().contiguous()
            if c1 > p1:
                out[f"{name}#cols"] = t[:p0, p1:c1].clone().contiguous()
        return out

    def permute_group(self, group: str, order: torch.Tensor) -> None:
        """Reorder the filters of ``group`` (and every input channel reading them)."""
        with torch.no_grad():
            for name, t in self.state_dict(keep_vars=True).items():
                g0, g1 = self.specs.get(name, (None, None))
                if g0 == group:
                    t.data.copy_(t.data[order])
                if g1 == group:
                    t.data.copy_(t.data[:, order])

    def export(self, widths: Widths | None = None) -> NestedNet:
        """A static copy of the descendant ``widths`` (allocated at exactly those widths, so
        no slicing at run time); same outputs in eval mode."""
        w = dict(widths or self.active)
        net = NestedNet(self.spec, w)
        net.load_state_dict(self.sliced_state(w))
        return net.eval()

    def to_config(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "widths": dict(self.widths)}

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> NestedNet:
        return cls(NetSpec.from_dict(cfg["spec"]), dict(cfg["widths"]))


def init_weights(net: NestedNet, generator: torch.Generator) -> None:
    """Kaiming-normal conv weights, unit BN, small uniform head, from ``generator``."""
    with torch.no_grad():
        for name, t in net.named_parameters():
            if name.endswith(".weight") and t.dim() == 4:
                fan_out = t.shape[0] * t.shape[2] * t.shape[3]
                t.copy_(torch.randn(t.shape, generator=generator) * (2.0 / fan_out) ** 0.5)
            elif name == "head.weight":
                bound = 1.0 / t.shape[1] ** 0.5
                t.copy_((torch.rand(t.shape, generator=generator) * 2 - 1) * bound)
            elif name.endswith("bn_weight"):
                t.fill_(1.0)
            elif name.endswith("bn_bias") or name == "head.bias":
                t.zero_()

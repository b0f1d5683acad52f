"""once-for-all's latency lookup table: layer keys of a subnet and their additive sum.

Follows ALGORITHMS 4.4 (the authors' ``latency_lookup_table.py``): the key of a layer is
``"-".join([op, "input:HxWxC", "output:HxWxC", ...])``; MBConv blocks (``expanded_conv``) add
``expand:<mid channels>``, ``kernel``, ``stride``, ``idskip``, ``se`` and ``hs`` (h-swish).
The feature size starts at ``(r + 1) // 2`` after the first conv and becomes
``(size - 1) // stride + 1`` after each block. The predicted latency of a subnet at input
resolution ``r`` is the sum of the ``mean`` of the first conv (``Conv``), every block,
``Conv_1`` (final expand), ``AvgPool2D``, ``Conv_2`` (feature mix) and ``Logits``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.common.messages import clip

__all__ = ["layer_keys", "predict_ms", "missing_keys"]


def _shape(*dims: int) -> str:
    return "x".join(str(d) for d in dims)


def layer_keys(net_config: Mapping[str, Any], resolution: int) -> list[str]:
    """Lookup keys of every timed layer of a MobileNetV3-layout ``net_config`` at ``resolution``.

    Raises ValueError when the config lacks a layer the table times (e.g. a ProxylessNAS
    layout without ``final_expand_layer``).
    """
    try:
        first = net_config["first_conv"]
        size = (resolution + 1) // 2
        keys = [f"Conv-input:{_shape(resolution, resolution, 3)}"
                f"-output:{_shape(size, size, first['out_channels'])}"]
        for block in net_config["blocks"]:
            conv = block.get("mobile_inverted_conv")
            if conv is None or conv.get("name") == "ZeroLayer":
                continue
            stride = int(conv["stride"])
            if not 1 <= stride <= size:
                raise ValueError(f"stride {stride} outside 1 to the feature size {size}")
            out = (size - 1) // stride + 1
            mid = conv.get("mid_channels") or conv["in_channels"]
            keys.append(
                f"expanded_conv-input:{_shape(size, size, conv['in_channels'])}"
                f"-output:{_shape(out, out, conv['out_channels'])}-expand:{mid}"
                f"-kernel:{conv['kernel_size']}-stride:{stride}"
                f"-idskip:{0 if block.get('shortcut') is None else 1}"
                f"-se:{1 if conv.get('use_se') else 0}"
                f"-hs:{1 if conv.get('act_func') == 'h_swish' else 0}"
            )
            size = out
        expand, mix, logits = (net_config["final_expand_layer"], net_config["feature_mix_layer"],
                               net_config["classifier"])
        keys += [
            f"Conv_1-input:{_shape(size, size, expand['in_channels'])}"
            f"-output:{_shape(size, size, expand['out_channels'])}",
            f"AvgPool2D-input:{_shape(size, size, expand['out_channels'])}"
            f"-output:{_shape(1, 1, expand['out_channels'])}",
            f"Conv_2-input:{_shape(1, 1, mix['in_channels'])}"
            f"-output:{_shape(1, 1, mix['out_channels'])}",
            f"Logits-input:{_shape(1, 1, logits['in_features'])}-output:{logits['out_features']}",
        ]
    except KeyError as exc:  # the key is one this code asks for, never file content
        raise ValueError(f"net_config lacks a timed layer field ({exc!r})") from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"net_config has a bad timed layer field ({clip(str(exc), 80)})"
                         ) from None
    return keys


def missing_keys(table: Mapping[str, Any], keys: list[str]) -> list[str]:
    """Keys the table does not hold (an empty list means the table can predict the subnet)."""
    return [k for k in keys if k not in table]


def predict_ms(table: Mapping[str, float], keys: list[str]) -> float:
    """Additive prediction: sum of the table's mean latency (ms) over ``keys``.

    Contract: every key is in ``table`` (check with :func:`missing_keys` first).
    """
    return float(sum(table[k] for k in keys))

"""A sweep figure's legend fits its width: long hue values get fewer columns."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from sim.present.plots.sweep import legend_columns  # noqa: E402


def test_long_labels_get_fewer_columns() -> None:
    fig = plt.figure(figsize=(10.0, 4.0))
    try:
        assert legend_columns(fig, ["spinn", "neurosurgeon", "cloud-only", "device-only"]) == 4
        long = [f"spinn, [['latency_ms','<=',100],['accuracy','>=',0.{k}]]" for k in range(8)]
        cols = legend_columns(fig, long)
        assert 1 <= cols < 4
        assert cols * (0.075 * max(map(len, long)) + 0.7) <= 10.0  # the columns fit the width
        assert legend_columns(fig, []) == 1
        assert legend_columns(fig, ["x" * 400]) == 1
    finally:
        plt.close(fig)

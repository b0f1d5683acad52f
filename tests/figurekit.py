"""A fixture for tests that draw: low resolution keeps them fast, and every figure a test
opens must be closed by the code under test (a leak would pile up over a sweep of plots)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from sim.present.plots import figure


@pytest.fixture(autouse=True)
def quick_and_closed(monkeypatch):
    monkeypatch.setattr(figure, "DPI", 50)
    yield
    assert plt.get_fignums() == []

"""The public API of ``sim``: every name in ``__all__`` resolves to the object its home module
defines, and importing ``sim`` alone loads none of them."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import sim


@pytest.mark.parametrize("name", sim.__all__)
def test_every_public_name_is_its_home_modules_object(name: str) -> None:
    home = importlib.import_module(sim._HOME[name])
    assert getattr(sim, name) is getattr(home, name)


def test_all_lists_every_public_name_once() -> None:
    assert sorted(sim.__all__) == sorted(set(sim._HOME))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'run_scenarios'"):
        sim.run_scenarios  # noqa: B018


def test_importing_sim_loads_no_part_of_it() -> None:
    code = ("import sys, sim; print(sorted(m for m in sys.modules "
            "if m.startswith('sim.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"

"""The scripts under examples/ run and do what their docstrings say (tiny budgets)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_solve_my_pde_through_the_python_api():
    assert load("solve_my_pde").main("fd") < 1e-3


@pytest.mark.parametrize("experts, mixture", [((1, 1), {}), ((2, 1), {"overlap": 0.25, "blend": True})])
def test_hard_constraint_layer_trains_its_backbone(experts, mixture):
    before, after = load("hard_constraint_layer").main(30, experts, **mixture)
    assert after < 0.6 * before

"""Fixtures of the PINN tests; shared helpers live in ``pinn_helpers``."""

from __future__ import annotations

import pytest
from pinn_helpers import poisson1d

from pdesolve.problem import Problem
from pdesolve.solvers.base import Settings


@pytest.fixture
def settings64() -> Settings:
    return Settings(device="cpu", dtype="float64", seed=0)


@pytest.fixture
def problem1d() -> Problem:
    return poisson1d()

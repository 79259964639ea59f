"""Import every solver module so that each registers itself; a new family adds one line here."""

from __future__ import annotations

import importlib

SOLVER_MODULES = (
    "pdesolve.classical.fd",
    "pdesolve.classical.fem",
    "pdesolve.classical.fem_newton",
    "pdesolve.classical.spectral",
    "pdesolve.classical.mol",
    "pdesolve.classical.fem_mol",
    "pdesolve.solvers.classical_alias",
    "pdesolve.pinn.solver",
    "pdesolve.operators.solver",
    "pdesolve.teng.solver",
    "pdesolve.linalg.solver",
)


def load_all() -> None:
    for module in SOLVER_MODULES:
        importlib.import_module(module)

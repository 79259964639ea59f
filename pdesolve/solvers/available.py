"""Every solver by name: its family, one line on what it does, and the module that defines it.

A module is imported only when its solver is needed (``pdesolve list`` names the solvers without importing
any family, and so without torch); importing it registers the class (:func:`~pdesolve.solvers.base.register`),
which takes its ``family`` and ``summary`` from here. A new family adds its lines here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class SolverEntry:
    module: str
    family: str
    summary: str


SOLVER_TABLE: dict[str, SolverEntry] = {
    "fd": SolverEntry(
        "pdesolve.classical.fd",
        "classical",
        "finite differences (2nd order) + sparse LU or PCG (Jacobi / IC(0) / AMG); linear stationary problems",
    ),
    "fem": SolverEntry(
        "pdesolve.classical.fem",
        "classical",
        "finite elements (scikit-fem P1/P2): -div(K grad u) + q u = f with Dirichlet, Neumann, Robin conditions; "
        "systems (Stokes, Navier-Stokes, elasticity) by Taylor-Hood P2/P1 and Newton",
    ),
    "fem_newton": SolverEntry(
        "pdesolve.classical.fem_newton",
        "classical",
        "finite elements (P1/P2) + Newton with a line search: c(x,u,grad u) + div F(x,u,grad u) = 0",
    ),
    "spectral": SolverEntry(
        "pdesolve.classical.spectral",
        "classical",
        "Fourier pseudo-spectral in space, ETDRK4 in time (evolution problems periodic in every axis)",
    ),
    "mol": SolverEntry(
        "pdesolve.classical.mol",
        "classical",
        "method of lines: 2nd-order finite differences, implicit BDF/Radau in time (boxes; Dirichlet/Neumann/Robin)",
    ),
    "fem_mol": SolverEntry(
        "pdesolve.classical.fem_mol",
        "classical",
        "finite elements (P1/P2) in space, BDF2 / theta-method with Newton in time (meshes, disks, polygons); "
        "evolution systems (unsteady Stokes, Navier-Stokes) by Taylor-Hood P2/P1, the pressure algebraic",
    ),
    "pinn": SolverEntry(
        "pdesolve.pinn.solver",
        "pinn",
        "physics-informed network: Gauss–Newton natural gradient scaled to the problem (preset=ngd), hard "
        "constraints, Adam → L-BFGS, RAR/RAD, causal weights, time marching",
    ),
    "fno": SolverEntry(
        "pdesolve.operators.solver",
        "operator",
        "Fourier neural operator trained on classical solves of the problem's family (--set model=PATH)",
    ),
    "teng": SolverEntry(
        "pdesolve.teng.solver",
        "teng",
        "time-evolving natural gradient (TENG-Euler/Heun): per-step Gauss–Newton fits, float64",
    ),
    "cg": SolverEntry(
        "pdesolve.classical.cg_solver",
        "cg",
        "preconditioned conjugate gradients in torch (CPU/CUDA): Jacobi, geometric MG, AMG, IC(0)",
    ),
    "classical": SolverEntry(
        "pdesolve.solvers.classical_alias",
        "alias",
        "the first applicable of spectral, fd, fem, fem_newton, mol, fem_mol",
    ),
}

SOLVER_MODULES = tuple(dict.fromkeys(entry.module for entry in SOLVER_TABLE.values()))


def load_all() -> None:
    """Import every solver module, so that every solver is registered."""
    for module in SOLVER_MODULES:
        importlib.import_module(module)

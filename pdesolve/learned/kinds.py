"""The three learned preconditioners by name: how each is built, trained and applied.

``gnn`` (Li et al. 2023, SPD factor, plain CG), ``dcdm`` (Kaneda et al. 2023, learned directions, DCDM loop or
flexible CG), ``mg`` (learned prolongations in the Galerkin V-cycle, plain CG).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import scipy.sparse as sp
import torch
from torch import nn

from pdesolve.errors import PdesolveError
from pdesolve.learned import directions, factor_gnn, learned_multigrid
from pdesolve.learned.conjugate_directions import conjugate_directions
from pdesolve.learned.prolongation import ProlongationNetwork
from pdesolve.learned.systems import GridSystem
from pdesolve.linalg.cg import CGResult, cg
from pdesolve.linalg.system import LinearOperator, SparseOperator


@dataclass(frozen=True)
class Kind:
    """``build(dim, **architecture)``, ``prepare(system, pairs, rng, device)``, ``loss(model, sample)`` and
    ``preconditioner(model, operator, matrix, shape)``."""

    name: str
    summary: str
    build: Callable[..., nn.Module]
    prepare: Callable[..., Any]
    loss: Callable[[nn.Module, Any], torch.Tensor]
    preconditioner: Callable[..., Any]
    architecture: dict[str, Any]  # keyword arguments of build (checkpoints without a key get its default)
    pairs: int  # right-hand sides (or probes) per member and step
    lr: float
    training_device: str | None = None  # a fixed device for training (dense multigrid training: the CPU)


def _gnn(model: nn.Module, operator: LinearOperator, matrix: sp.csr_matrix, shape: tuple[int, ...]) -> Any:
    return factor_gnn.factor_preconditioner(model, matrix, operator.device, operator.dtype)


def _dcdm(model: nn.Module, operator: LinearOperator, matrix: sp.csr_matrix, shape: tuple[int, ...]) -> Any:
    return directions.NeuralPreconditioner(model, matrix, shape, operator.device)


def _mg(model: nn.Module, operator: LinearOperator, matrix: sp.csr_matrix, shape: tuple[int, ...]) -> Any:
    return learned_multigrid.learned_multigrid(model, operator, matrix, shape)


KINDS = {
    "gnn": Kind(
        "gnn",
        "graph network → sparse SPD factor L Lᵀ (Li et al. 2023), plain CG",
        lambda dim, **a: factor_gnn.FactorNetwork(**a),
        factor_gnn.prepare,
        factor_gnn.loss,
        _gnn,
        {"hidden": 16, "layers": 3},
        pairs=8,
        lr=3e-3,
    ),
    "dcdm": Kind(
        "dcdm",
        "U-Net search directions ≈ A⁻¹r, A-orthogonalised (DCDM, Kaneda et al. 2023)",
        lambda dim, **a: directions.DirectionNetwork(dim, **a),
        directions.prepare,
        directions.loss,
        _dcdm,
        {"width": 16, "levels": 4},
        pairs=6,
        lr=2e-3,
    ),
    "mg": Kind(
        "mg",
        "learned corrections to black-box prolongation stencils in the Galerkin V-cycle, plain CG",
        lambda dim, **a: ProlongationNetwork(dim, **a),
        learned_multigrid.prepare,
        learned_multigrid.loss,
        _mg,
        {"width": 32, "layers": 3, "base": "black-box"},
        pairs=8,
        lr=5e-3,
        training_device="cpu",
    ),
}


def kind_of(name: str) -> Kind:
    key = name.removeprefix("precond-")
    if key not in KINDS:
        raise PdesolveError(f"unknown learned preconditioner {name!r}: choose one of {', '.join(KINDS)}")
    return KINDS[key]


def solve_with(kind: Kind, model: nn.Module, system: GridSystem, tol: float = 1e-8, maxiter: int = 5000) -> CGResult:
    """Solve ``A x = 1`` (a unit source, whatever the problem's own right-hand side) with the learned
    preconditioner on the CPU in float64 (validation and tests)."""
    operator = SparseOperator(system.matrix)
    preconditioner = kind.preconditioner(model, operator, system.matrix, system.shape)
    b = torch.ones(system.size, dtype=torch.float64)
    if kind.name == "dcdm":
        return conjugate_directions(operator, b, preconditioner, tol=tol, maxiter=maxiter)
    return cg(operator, b, preconditioner, tol=tol, maxiter=maxiter)

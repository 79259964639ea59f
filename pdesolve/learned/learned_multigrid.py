"""The Galerkin V-cycle with learned prolongations: its hierarchy, and the training objective.

Every level's ``P`` comes from :class:`~pdesolve.learned.prolongation.ProlongationNetwork` applied to that
level's operator (by default a learned correction to Dendy's black-box interpolation, which the untrained network
gives exactly), coarse operators are ``Pᵀ A P``, and the cycle is :class:`pdesolve.linalg.multigrid.Multigrid`
(the same symmetric Chebyshev-smoothed V-cycle as geometric multigrid, so plain CG applies and the cost per
iteration equals geometric multigrid's on the same device). Training minimises an estimate of the spectral
radius of the V-cycle's error propagation ``E = I - V A`` on members of the family, ``log (||E^m Z|| / ||Z||)
/ m`` for random ``Z``, computed with dense matrices at the (small) training size; smoothers and coarse
solves are those of the inference cycle, held fixed with respect to the network's parameters.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from pdesolve.errors import NotApplicableError
from pdesolve.learned.prolongation import (
    ProlongationNetwork,
    coarsenable,
    learned_prolongation,
    prolongation_entries,
)
from pdesolve.learned.systems import GridSystem
from pdesolve.linalg.multigrid import Multigrid
from pdesolve.linalg.smoothers import make_smoother
from pdesolve.linalg.system import LinearOperator, SparseOperator

TRAIN_COARSE_SIZE = 16  # train on deep hierarchies so that every level's stencils are seen


class LearnedMultigrid:
    """The V-cycle preconditioner built from learned prolongations (``apply``, ``describe``)."""

    capturable = True
    flexible = False

    def __init__(self, cycle: Multigrid, inference_time: float) -> None:
        self.cycle, self.inference_time = cycle, inference_time

    def apply(self, r: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return self.cycle.apply(r, out)

    def describe(self) -> dict[str, Any]:
        return {"learned": "mg", "inference_time": self.inference_time, **self.cycle.describe()}


def learned_multigrid(
    model: ProlongationNetwork,
    operator: LinearOperator,
    matrix: sp.csr_matrix,
    shape: tuple[int, ...],
    smoother: str = "chebyshev",
    steps: int = 2,
    coarse_size: int = 256,
) -> LearnedMultigrid:
    """Hierarchy on the CPU (network passes and Galerkin products), cycle on ``operator``'s device."""
    model = model.cpu().eval()
    operators: list[LinearOperator] = [operator]
    prolongations: list[SparseOperator] = []
    current = sp.csr_matrix(matrix)
    inference = 0.0
    while current.shape[0] > coarse_size and coarsenable(shape):
        tick = time.perf_counter()
        P, shape = learned_prolongation(model, current, shape)
        inference += time.perf_counter() - tick
        current = (P.T @ current @ P).tocsr()
        prolongations.append(SparseOperator(P, operator.device, operator.dtype).compact())
        operators.append(SparseOperator(current, operator.device, operator.dtype).compact())
    if current.shape[0] > 8 * coarse_size:
        raise NotApplicableError(
            f"learned multigrid coarsens boxes with an odd number of unknowns per axis; it stops at {shape}"
        )
    coarse = operators.pop() if len(operators) > 1 else SparseOperator(current, operator.device, operator.dtype)
    cycle = Multigrid(operators, prolongations, coarse, smoother, steps)
    return LearnedMultigrid(cycle, inference)


@dataclass
class DenseLevel:
    """One level of the training hierarchy: ``A``, the smoother's matrix ``Mₛ`` and ``P`` (dense torch)."""

    A: torch.Tensor
    smoother: torch.Tensor
    P: torch.Tensor | None


def smoother_matrix(matrix: sp.csr_matrix, smoother: str, steps: int) -> torch.Tensor:
    """``Mₛ`` with ``smooth(b) = Mₛ b`` from zero: the inference smoother applied to the identity columns."""
    operator = SparseOperator(matrix, "cpu", torch.float64)
    return make_smoother(smoother, operator, steps).smooth(torch.eye(matrix.shape[0], dtype=torch.float64))


Prolongation = Callable[[sp.csr_matrix, tuple[int, ...]], tuple[torch.Tensor, tuple[int, ...]]]
"""``(A, box) -> (dense P, coarse box)``: how a training hierarchy interpolates, from each level's operator."""


def network_prolongation(model: ProlongationNetwork) -> Prolongation:
    """``P`` of ``model`` as a dense float64 matrix that carries the network's gradient."""

    def prolongation(matrix: sp.csr_matrix, shape: tuple[int, ...]) -> tuple[torch.Tensor, tuple[int, ...]]:
        rows, cols, weights, small = prolongation_entries(model, matrix, shape)
        P = torch.zeros(matrix.shape[0], int(np.prod(small)), dtype=torch.float64)
        return P.index_put((torch.as_tensor(rows), torch.as_tensor(cols)), weights), small

    return prolongation


def dense_hierarchy(
    prolongation: Prolongation, matrix: sp.csr_matrix, shape: tuple[int, ...], smoother: str, steps: int
) -> list[DenseLevel]:
    """Levels down to :data:`TRAIN_COARSE_SIZE` unknowns; ``P`` and the coarse ``A`` carry the gradient."""
    A = torch.as_tensor(matrix.toarray())
    levels: list[DenseLevel] = []
    while A.shape[0] > TRAIN_COARSE_SIZE and coarsenable(shape):
        fixed = sp.csr_matrix(A.detach().numpy())
        P, small = prolongation(fixed, shape)
        levels.append(DenseLevel(A, smoother_matrix(fixed, smoother, steps), P))
        A, shape = P.T @ A @ P, small
    levels.append(DenseLevel(A, torch.empty(0), None))
    return levels


def vcycle(levels: list[DenseLevel], b: torch.Tensor, index: int = 0) -> torch.Tensor:
    """The V-cycle of :class:`~pdesolve.linalg.multigrid.Multigrid` with dense matrices."""
    level = levels[index]
    if level.P is None:
        return torch.linalg.solve(level.A, b)
    x = level.smoother @ b
    x = x + level.P @ vcycle(levels, level.P.T @ (b - level.A @ x), index + 1)
    return x + level.smoother @ (b - level.A @ x)


@dataclass
class MultigridSample:
    """A member and the generator of its probes: every loss draws ``pairs`` new ones, so that training lowers
    the cycle's convergence factor rather than its action on a fixed handful of vectors (fixed probes are
    overfitted: on the contrast-1e4 family the loss fell while CG iterations on unseen members rose)."""

    system: GridSystem
    generator: torch.Generator
    pairs: int

    def probes(self) -> torch.Tensor:
        return torch.randn(self.system.size, self.pairs, dtype=torch.float64, generator=self.generator)


def prepare(system: GridSystem, pairs: int, rng: np.random.Generator, device: torch.device) -> MultigridSample:
    del device  # dense training runs on the CPU in float64
    return MultigridSample(system, torch.Generator().manual_seed(int(rng.integers(2**62))), pairs)


def convergence_estimate(levels: list[DenseLevel], probes: torch.Tensor, powers: int = 4) -> torch.Tensor:
    """``log (||E^m Z||_F / ||Z||_F) / m`` for ``E = I - V A``: an estimate of the V-cycle's log convergence
    factor from the probes ``Z`` (one column each)."""
    A = levels[0].A
    Z = probes / torch.linalg.norm(probes)
    total = torch.zeros((), dtype=torch.float64)
    for _ in range(powers):
        Z = Z - vcycle(levels, A @ Z)
        norm = torch.linalg.norm(Z)
        total = total + torch.log(norm)
        Z = Z / norm
    return total / powers


def loss(
    model: ProlongationNetwork, sample: MultigridSample, smoother: str = "chebyshev", steps: int = 2, powers: int = 4
) -> torch.Tensor:
    """The training objective: :func:`convergence_estimate` of the V-cycle with ``model``'s prolongations."""
    prolongation = network_prolongation(model)
    levels = dense_hierarchy(prolongation, sample.system.matrix, sample.system.shape, smoother, steps)
    return convergence_estimate(levels, sample.probes(), powers)

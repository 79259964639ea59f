"""The SPD systems of a problem family on a box grid: what learned preconditioners train and run on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from pdesolve.classical.assembly import assemble, box_grid
from pdesolve.errors import NotApplicableError
from pdesolve.linalg.preconditioners import box_shape
from pdesolve.linalg.system import spd_form
from pdesolve.problem import Problem


@dataclass
class GridSystem:
    """``matrix @ x = rhs`` (SPD, float64) whose unknowns fill the box ``shape`` in C order."""

    matrix: sp.csr_matrix
    rhs: np.ndarray
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return self.matrix.shape[0]


def grid_system(problem: Problem, n: int) -> GridSystem:
    """Assemble ``problem`` on ``n`` nodes per axis; refuses domains whose unknowns do not fill a box."""
    system = assemble(problem, box_grid(problem, n))
    matrix, rhs = spd_form(system.matrix, system.rhs)
    shape = box_shape(system.unknown)
    if shape is None:
        raise NotApplicableError("learned preconditioners need the unknowns to fill a box; this domain is not one")
    return GridSystem(matrix, rhs, shape)


def family_systems(problem: Problem, n: int, seeds: Iterable[int]) -> list[GridSystem]:
    """One system per seed: the family member ``problem.sample(seed)`` (the problem itself without a family)."""
    return [grid_system(problem.sample(seed), n) for seed in seeds]


def fingerprint(problem: Problem) -> str:
    """What identifies a family: the problem's name and its samplers (with their parameters)."""
    samplers = "" if problem.family is None else repr(problem.family.samplers)
    return f"{problem.name}:{samplers}"


def jacobi_scaled(matrix: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
    """``(D^-1/2 A D^-1/2, diag(A))``: the unit-diagonal matrix the networks see, and the scaling."""
    diagonal = matrix.diagonal()
    if np.any(diagonal <= 0):
        raise NotApplicableError("the matrix has non-positive diagonal entries: it is not SPD")
    scale = sp.diags(1.0 / np.sqrt(diagonal))
    return (scale @ matrix @ scale).tocsr(), diagonal

"""The registered ``cg`` solver: assemble a linear stationary problem, solve it by PCG in torch.

It lives in ``classical`` because it assembles with the finite-difference code (:mod:`pdesolve.classical.assembly`);
the solver machinery it drives (:mod:`pdesolve.linalg`) knows nothing of the families above it.

``pdesolve solve poisson2d --solver cg --set precond=mg --device cuda --set n=1024``
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.linalg import splu

from pdesolve.classical.assembly import LinearSystem, assemble, box_grid
from pdesolve.classical.fd import grid_domain_refusal
from pdesolve.classical.footprint import check_torch_cg
from pdesolve.errors import NotApplicableError, PdesolveError, ProblemError
from pdesolve.linalg.cg import ConjugateGradient
from pdesolve.linalg.preconditioners import box_shape, describe
from pdesolve.linalg.registry import GridLayout, Setup, help_text, resolve
from pdesolve.linalg.stencil import StencilOperator
from pdesolve.linalg.system import LinearOperator, SparseOperator, spd_form
from pdesolve.problem import Problem
from pdesolve.runtime import synchronize, torch_dtype
from pdesolve.solvers.base import Solver, option, register
from pdesolve.solvers.solution import GridSolution

DEFAULT_NODES = {1: 1025, 2: 129, 3: 33}
CHECK_NODES = {1: 33, 2: 17, 3: 9}  # the coarse grid on which not_applicable looks at the matrix


def device_operator(
    matrix: sp.csr_matrix, system: LinearSystem, matrix_free: bool, device: torch.device, dtype: torch.dtype
) -> LinearOperator:
    """The stored CSR matrix, or its matrix-free stencil when ``matrix_free`` (unknowns filling a box)."""
    if not matrix_free:
        return SparseOperator(matrix, device, dtype).compact()
    shape = box_shape(system.unknown)
    if shape is None:
        raise NotApplicableError("matrix_free needs the unknowns to fill a box; this domain is not one")
    return StencilOperator.from_matrix(matrix, shape, system.grid.periodic, device, dtype)


def positive_definite(matrix: sp.csr_matrix) -> bool:
    """Sylvester's criterion through unpivoted sparse LU (= LDLᵀ for a symmetric matrix): all pivots > 0."""
    try:
        factor = splu(matrix.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    except RuntimeError:  # an exactly zero pivot
        return False
    return bool(np.all(factor.U.diagonal() > 0))


@register
class CGSolver(Solver):
    name = "cg"

    @dataclass(frozen=True)
    class Options:
        n: int | None = option(None, "nodes per axis (None: the problem's default)")
        precond: str = option("mg", help_text())  # checked by the registry (names and files it loads)
        tol: float = option(1e-8, "true relative residual ‖b − Ax‖/‖b‖ to stop at", positive=True)
        maxiter: int = option(0, "iteration cap (0: max(1000, unknowns), at most 100000)")
        matrix_free: bool = option(
            False, "apply the operator as a stencil instead of a stored CSR matrix (unknowns filling a box)"
        )
        flexible: bool = option(False, "flexible (Polak–Ribière) CG, for variable or nonlinear preconditioners")
        smoother: str = option("chebyshev", "multigrid smoother: chebyshev | jacobi", choices=("chebyshev", "jacobi"))
        smoother_steps: int = option(
            2,
            "smoothing before and after each coarse correction: Chebyshev degree or Jacobi sweeps",
            positive=True,
        )
        amg_setup: str = option(
            "torch",
            "who builds the amg hierarchy: torch (on the device) | pyamg (on the host)",
            choices=("torch", "pyamg"),
        )
        check_every: int = option(0, "iterations between true-residual checks (0: 1 on the CPU, up to 32 on CUDA)")
        cuda_graph: bool = option(True, "replay one captured iteration as a CUDA graph (ignored on the CPU)")

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        if problem.is_evolution:
            return "an evolution problem; cg solves the linear system of a stationary problem"
        refusal = grid_domain_refusal(problem)
        if refusal:
            return refusal
        try:
            system = assemble(problem, box_grid(problem, CHECK_NODES.get(problem.dim, 9)))
            matrix, _ = spd_form(system.matrix, system.rhs)
        except (NotApplicableError, ProblemError) as error:
            return str(error)
        if not positive_definite(matrix):
            return "the matrix is not positive definite (a negative pivot in its LDLᵀ factors on a coarse grid)"
        return None

    def _nodes(self, problem: Problem) -> int:
        return int(self.from_problem("n", problem, DEFAULT_NODES.get(problem.dim, 33)))

    def solve(self, problem: Problem) -> GridSolution:
        self.check(problem)
        precond = self.config.precond
        entry = resolve(str(precond))
        device = torch.device(self.settings.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise PdesolveError("--device cuda: no CUDA device is available")
        dtype = torch_dtype(self.settings.dtype, "cg")
        check_torch_cg(self._nodes(problem), problem.dim, self.settings.device)
        start = time.perf_counter()
        grid = box_grid(problem, self._nodes(problem))
        system = assemble(problem, grid)
        matrix, rhs = spd_form(system.matrix, system.rhs)
        assembly_time = time.perf_counter() - start

        start = time.perf_counter()
        operator = device_operator(matrix, system, self.config.matrix_free, device, dtype)
        layout = GridLayout(grid.shape, system.unknown, grid.periodic)
        setup = Setup(
            operator,
            matrix,
            layout,
            self.config.smoother,
            self.config.smoother_steps,
            amg_setup=self.config.amg_setup,
            problem=problem,
        )
        preconditioner = entry.device(setup)  # a learned one's setup inference is timed here
        b = torch.as_tensor(rhs, device=device)
        synchronize(device)
        setup_time = time.perf_counter() - start

        start = time.perf_counter()
        solver = ConjugateGradient(
            operator,
            preconditioner,
            tol=self.config.tol,
            maxiter=self.config.maxiter or None,
            flexible=self.config.flexible or getattr(preconditioner, "flexible", False),
            check_every=self.config.check_every or None,
            cuda_graph=self.config.cuda_graph,
        )
        result = solver.solve(b)
        synchronize(device)
        solve_time = time.perf_counter() - start
        if not result.converged:
            warnings.warn(
                f"cg did not reach tol={self.config.tol:g}: true relative residual {result.residual:.3g} "
                f"after {result.iterations} iterations",
                stacklevel=2,
            )
        stats: dict[str, Any] = {
            **result.stats(),
            "unknowns": matrix.shape[0],
            "nonzeros": int(matrix.nnz),
            "precond": precond,
            "matrix_free": bool(self.config.matrix_free),
            "assembly_time": assembly_time,
            "setup_time": setup_time,
            "solve_time": solve_time,
            "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            **describe(preconditioner),
        }
        values = system.to_grid(result.x.cpu().numpy())
        return GridSolution(problem, grid, values, stats=stats)

"""``assemble_fem``: a symmetric positive definite system of the free degrees of freedom, second order (P1)."""

import numpy as np
import scipy.sparse.linalg as spla

from pdesolve.classical.fem import FiniteElement
from pdesolve.classical.fem_assembly import assemble_fem


def nodal_error(system, vector) -> float:
    values = system.to_dofs(vector)
    x = system.basis.doflocs
    exact = np.sin(np.pi * x[0]) * np.sin(np.pi * x[1])
    return np.abs(values - exact).max()


def test_system_is_spd_and_second_order(variable_coefficient):
    errors = []
    for refine in (0, 1):
        system = assemble_fem(variable_coefficient, order=1, n=9, refine=refine)
        assert system.matrix.shape == (len(system.free),) * 2 == (len(system.rhs),) * 2
        assert abs(system.matrix - system.matrix.T).max() < 1e-12
        x, info = spla.cg(system.matrix, system.rhs, rtol=1e-12, maxiter=2000)  # CG converges: SPD
        assert info == 0
        errors.append(nodal_error(system, x))
    assert 3.5 < errors[0] / errors[1] < 4.5


def test_the_fem_solver_solves_the_assembled_system(variable_coefficient):
    system = assemble_fem(variable_coefficient, order=2, n=9)
    direct = system.to_dofs(spla.spsolve(system.matrix.tocsc(), system.rhs))
    solution = FiniteElement(n=9, order=2).solve(variable_coefficient)
    assert solution.stats["unknowns"] == len(system.free)
    assert np.abs(solution.coefficients - direct).max() < 1e-10

"""The deep conjugate-direction loop and the DCDM loss, with stand-in direction maps of known quality."""

import numpy as np
import torch
from scipy.sparse.linalg import splu

from pdesolve.learned import directions
from pdesolve.learned.conjugate_directions import conjugate_directions
from pdesolve.learned.systems import family_systems
from pdesolve.linalg.cg import cg
from pdesolve.linalg.jacobi import Jacobi
from pdesolve.linalg.system import SparseOperator


class Exact:
    def __init__(self, matrix):
        self.lu = splu(matrix.tocsc())

    def apply(self, r):
        return torch.from_numpy(self.lu.solve(r.numpy()))


def test_exact_directions_converge_in_one_step_and_jacobi_directions_match_pcg(darcy):
    system = family_systems(darcy, 17, [1])[0]
    operator, b = SparseOperator(system.matrix), torch.ones(system.size, dtype=torch.float64)
    exact = conjugate_directions(operator, b, Exact(system.matrix))
    assert exact.converged and exact.iterations == 1
    jacobi = conjugate_directions(operator, b, Jacobi(operator), memory=2)
    assert jacobi.converged and jacobi.residual <= 1e-8
    assert abs(jacobi.iterations - cg(operator, b, Jacobi(operator)).iterations) <= 3


def test_dcdm_loss_is_zero_for_the_inverse_and_one_for_orthogonal_directions(darcy):
    system = family_systems(darcy, 9, [1])[0]
    sample = directions.prepare(system, 3, np.random.default_rng(0), torch.device("cpu"))
    dense_inverse = torch.linalg.inv(sample.matrix.to_dense())

    class Inverse(torch.nn.Module):
        def forward(self, r, stencils):
            return (dense_inverse @ r.reshape(r.shape[0], -1).T).T.reshape(r.shape)

    assert float(directions.loss(Inverse(), sample)) < 1e-4
    model = directions.DirectionNetwork(2, width=4, levels=2)
    value = directions.loss(model, sample)
    assert 0.0 <= float(value) <= 1.0

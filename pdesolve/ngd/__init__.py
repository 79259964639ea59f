"""The natural-gradient core shared by TENG, the PINN's Gauss–Newton and the hard-constraint layer.

- :mod:`pdesolve.ngd.system`: the :class:`LeastSquaresSystem` interface (``solve(damping) -> (δ, info)``, ``unit``)
  and :class:`LeastSquaresInfo` (residual, predicted decrease).
- :mod:`pdesolve.ngd.least_squares`: ``solve_least_squares(J, r, method, rcond, damping) -> (delta, info)``
  by truncated SVD (:class:`SVDSystem`), QR, CGLS or damped normal equations, and a streaming QR
  (``reduce_rows`` → :class:`ReducedSystem`) for Jacobians too large to hold.
- :mod:`pdesolve.ngd.gram`: :class:`GramSystem`, the damped normal equations by Cholesky (primal or kernel form,
  also accumulated from row blocks).
- :mod:`pdesolve.ngd.matrix_free`: :class:`MatrixFreeSystem`, CGLS on Jacobian–vector products (torch.func or
  double backward through a residual's graph).
- :mod:`pdesolve.ngd.driver`: :class:`DampedGaussNewton` (``init`` / ``step`` / ``terminate``) with damping
  policies (:class:`Nielsen`, :class:`TrustRegion`, :class:`Multiplicative`).
- :mod:`pdesolve.ngd.jacobian`: ``FlatModule`` (a module as a function of one flat parameter vector)
  and chunked Jacobians with torch.func (``jacobian``, ``jacobian_blocks``), and second directional
  derivatives for Levenberg–Marquardt's geodesic acceleration (``directional_derivatives``).
"""

from pdesolve.ngd.driver import DampedGaussNewton, Damping, DriverState, Multiplicative, Nielsen, Trial, TrustRegion
from pdesolve.ngd.gram import GramSystem
from pdesolve.ngd.jacobian import FlatModule, directional_derivatives, jacobian, jacobian_blocks, rows_per_chunk
from pdesolve.ngd.least_squares import (
    MatrixFree,
    ReducedSystem,
    SVDSystem,
    reduce_rows,
    solve_least_squares,
    solve_reduced,
)
from pdesolve.ngd.matrix_free import MatrixFreeSystem, function_operator, graph_operator
from pdesolve.ngd.system import LeastSquaresInfo, LeastSquaresSystem

__all__ = [
    "DampedGaussNewton",
    "Damping",
    "DriverState",
    "FlatModule",
    "GramSystem",
    "LeastSquaresInfo",
    "LeastSquaresSystem",
    "MatrixFree",
    "MatrixFreeSystem",
    "Multiplicative",
    "Nielsen",
    "ReducedSystem",
    "SVDSystem",
    "Trial",
    "TrustRegion",
    "directional_derivatives",
    "function_operator",
    "graph_operator",
    "jacobian",
    "jacobian_blocks",
    "reduce_rows",
    "rows_per_chunk",
    "solve_least_squares",
    "solve_reduced",
]

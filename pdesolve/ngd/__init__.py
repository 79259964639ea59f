"""The natural-gradient core shared by TENG and the PINN energy natural gradient.

- :mod:`pdesolve.ngd.least_squares`: ``solve_least_squares(J, r, method, rcond, damping) -> (delta, info)``
  by truncated SVD, QR, CGLS or damped normal equations (Cholesky, :class:`GramSystem`, also
  accumulated from row blocks), and a streaming QR (``reduce_rows``) for Jacobians too large to hold.
- :mod:`pdesolve.ngd.jacobian`: ``FlatModule`` (a module as a function of one flat parameter vector)
  and chunked Jacobians with torch.func (``jacobian``, ``jacobian_blocks``), and second directional
  derivatives for Levenberg–Marquardt's geodesic acceleration (``directional_derivatives``).
"""

from pdesolve.ngd.jacobian import FlatModule, directional_derivatives, jacobian, jacobian_blocks, rows_per_chunk
from pdesolve.ngd.least_squares import (
    GramSystem,
    LeastSquaresInfo,
    MatrixFree,
    ReducedSystem,
    SVDSystem,
    reduce_rows,
    solve_least_squares,
    solve_reduced,
)

__all__ = [
    "FlatModule",
    "GramSystem",
    "LeastSquaresInfo",
    "MatrixFree",
    "ReducedSystem",
    "SVDSystem",
    "directional_derivatives",
    "jacobian",
    "jacobian_blocks",
    "reduce_rows",
    "rows_per_chunk",
    "solve_least_squares",
    "solve_reduced",
]

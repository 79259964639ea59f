"""Hard-constraint layers: differentiable nonlinear least squares over basis functions, split into experts.

- :mod:`~pdesolve.constraints.experts`: a fixed uniform partition of the domain (space, optionally time);
- :mod:`~pdesolve.constraints.rows`, :mod:`~pdesolve.constraints.boundary`: which rows each expert owns;
- :mod:`~pdesolve.constraints.subdomains`: each expert's window of the grid (its subdomain plus a halo);
- :mod:`~pdesolve.constraints.grid_system`: the rows of a problem on a (space-time) grid, per expert window;
- :mod:`~pdesolve.constraints.gauss_newton`: batched Levenberg–Marquardt over all experts at once;
- :mod:`~pdesolve.constraints.implicit`: the implicit-function-theorem backward;
- :mod:`~pdesolve.constraints.distributed`: experts sharded over ranks;
- :mod:`~pdesolve.constraints.layer`: the layer for grid backbones (``GridHardConstraint``);
- :mod:`~pdesolve.constraints.points`: the layer for point backbones (an MLP of ``(x, t)``, ``PointHardConstraint``);
- :mod:`~pdesolve.constraints.training`: training FNO backbones with soft, hard or mixture-of-experts constraints.
"""

from pdesolve.constraints.experts import ExpertPartition
from pdesolve.constraints.gauss_newton import LMOptions, SingularSystemWarning, levenberg_marquardt
from pdesolve.constraints.grid_system import GridConstraintSystem
from pdesolve.constraints.layer import GridHardConstraint, constrained_weights

__all__ = [
    "ExpertPartition",
    "GridConstraintSystem",
    "GridHardConstraint",
    "LMOptions",
    "SingularSystemWarning",
    "constrained_weights",
    "levenberg_marquardt",
]

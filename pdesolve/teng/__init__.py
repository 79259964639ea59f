"""TENG: time-evolving natural gradient (Chen et al., ICML 2024) — network, fits, steppers, solver."""

from pdesolve.teng.network import TengNetwork
from pdesolve.teng.solution import TengSolution
from pdesolve.teng.solver import TengSolver
from pdesolve.teng.stepper import TengEuler, TengHeun

__all__ = ["TengEuler", "TengHeun", "TengNetwork", "TengSolution", "TengSolver"]

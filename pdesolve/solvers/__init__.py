"""Solver registry. Importing this package registers every solver family."""

from pdesolve.solvers.base import SOLVERS, Settings, Solver, register
from pdesolve.solvers.solution import GridSolution, Solution

__all__ = ["SOLVERS", "GridSolution", "Settings", "Solution", "Solver", "register"]

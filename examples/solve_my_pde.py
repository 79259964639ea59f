"""Solve ``examples/my_pde.py`` through the Python API and measure the error against its exact solution.

    python examples/solve_my_pde.py [solver]      # solver: fd (default), fem, pinn, ...

The same steps as ``pdesolve solve examples/my_pde.py --solver fd``: load the problem file, pick a
registered solver, solve, evaluate the solution anywhere.
"""

import sys
import time
from pathlib import Path

import numpy as np

from pdesolve.problem import load_problem
from pdesolve.solvers import SOLVERS, Settings
from pdesolve.solvers.available import load_all


def main(solver_name: str = "fd") -> float:
    problem = load_problem(str(Path(__file__).with_name("my_pde.py")))
    load_all()  # import every solver family so that each registers itself
    applicable = [name for name, cls in SOLVERS.items() if cls.not_applicable(problem) is None]
    print(f"{problem.name}: {problem.description}\napplicable solvers: {', '.join(applicable)}")

    solver = SOLVERS[solver_name](Settings(device="cpu", dtype="float64", seed=0))
    start = time.perf_counter()
    solution = solver.solve(problem)
    elapsed = time.perf_counter() - start

    points, reference = problem.reference_set()  # exact values at test points
    error = np.linalg.norm(solution(points) - reference) / np.linalg.norm(reference)
    print(f"{solver_name}: relative L2 error {error:.3e} in {elapsed:.2f} s")
    return error


if __name__ == "__main__":
    main(*sys.argv[1:2])

"""A-posteriori indicators of network runs, and compare on a user problem without any reference."""

from __future__ import annotations

import json

import numpy as np

from pdesolve.problem import Dirichlet, Disk, Neumann, Problem, exp, laplacian, pi, sin
from pdesolve.report.indicators import indicators
from pdesolve.solvers.solution import Solution

HEAT_DISK = '''
"""u_t = 0.1 Δu on the unit disk, u = 0 on the circle, u0 = (1 - r²) (1 + x/2): no exact solution."""
from pdesolve.problem import Dirichlet, Disk, Problem, laplacian

problem = Problem(
    name="heat_disk",
    domain=Disk((0.0, 0.0), 1.0),
    time=(0.0, 0.2),
    rhs=lambda u, x, p: 0.1 * laplacian(u),
    initial=lambda x, p: (1 - x.x**2 - x.y**2) * (1 + x.x / 2),
    boundary=Dirichlet(0.0),
    defaults={"n": 9},
)
'''


class Formula(Solution):
    """A solution given by a formula of (x, y, t)."""

    def __init__(self, problem, formula):
        super().__init__(problem)
        self.formula = formula

    def __call__(self, points):
        return self.formula(points[:, 0], points[:, 1], points[:, 2])


def heat_on_a_disk() -> Problem:
    """u_t = Δu + f with u = e^{-t} sin(x) sin(y/2) + 1; Neumann on the right half of the circle."""

    def exact(x, p):
        return exp(-x.t) * sin(x.x) * sin(x.y / 2) + 1

    def flux(x, p):  # ∂u/∂n with n = (x, y) on the unit circle
        return exp(-x.t) * (x.x * np.cos(x.x) * np.sin(x.y / 2) + x.y * np.sin(x.x) * np.cos(x.y / 2) / 2)

    return Problem(
        "heat_exact_disk",
        Disk((0.0, 0.0), 1.0),
        rhs=lambda u, x, p: laplacian(u) + 0.25 * exp(-x.t) * sin(x.x) * sin(x.y / 2),
        time=(0.0, 1.0),
        initial=lambda x, p: sin(x.x) * sin(x.y / 2) + 1,
        boundary=[Neumann(lambda x, p: flux(_numpy(x), p), on=lambda x: x.x > 0), Dirichlet(exact)],
        exact=exact,
    )


def _numpy(x):
    import torch

    from pdesolve.problem import Coords

    return Coords([v.detach().numpy() if torch.is_tensor(v) else v for v in x], t=x.t.detach().numpy())


def test_indicators_vanish_for_the_exact_solution_and_see_a_perturbation():
    problem = heat_on_a_disk()
    exact = Formula(problem, lambda x, y, t: np.exp(-t) * np.sin(x) * np.sin(y / 2) + 1)
    found = indicators(exact, problem)
    assert found["residual_rms"] < 1e-6 and found["boundary_max"] < 1e-6 and found["initial_max"] < 1e-12, found
    bump = Formula(problem, lambda x, y, t: np.exp(-t) * np.sin(x) * np.sin(y / 2) + 1 + 1e-3 * np.sin(pi * x) * t)
    perturbed = indicators(bump, problem)
    assert 1e-4 < perturbed["residual_rms"] < 1e-2 and perturbed["boundary_max"] > 1e-4, perturbed
    assert perturbed["initial_max"] < 1e-12


def test_compare_without_a_reference_measures_the_pinn_against_the_fem_run(cli, tmp_path):
    path = tmp_path / "heat_disk.py"
    path.write_text(HEAT_DISK)
    out = tmp_path / "cmp"
    result = cli(
        "compare",
        path,
        "--solvers",
        "classical,pinn",
        "--set",
        "pinn.preset=manual",
        "--set",
        "pinn.adam_steps=30",
        "--set",
        "pinn.lbfgs_steps=0",
        "--set",
        "pinn.width=8",
        "--set",
        "pinn.n_interior=200",
        "--set",
        "tol=1e-5",
        "--out",
        out,
    )
    assert result.code == 0, result.err
    metrics = json.loads((out / "metrics.json").read_text())
    runs = {(r["solver"], r["options"].get("refine", 0)): r for r in metrics["runs"]}
    assert set(runs) == {("fem_mol", 0), ("fem_mol", 1), ("pinn", 0)}
    assert metrics["reference"].startswith("finest classical run: classical (fem_mol)")
    assert runs[("fem_mol", 1)]["is_reference"] and runs[("fem_mol", 0)]["rel_l2"] < 5e-2
    pinn = runs[("pinn", 0)]
    print({k: pinn[k] for k in ("rel_l2", "residual_rms", "boundary_max", "initial_max")})
    assert 1e-4 < pinn["rel_l2"] < 0.5  # measured, against the FEM run
    # 30 Adam steps leave the equation unsolved; the hard constraints hold the conditions
    assert pinn["residual_rms"] > 1e-3 and pinn["boundary_max"] < 1e-10 and pinn["initial_max"] < 1e-10
    assert runs[("fem_mol", 0)]["residual_rms"] is None  # indicators are for network runs
    report = (out / "report.md").read_text()
    assert "No exact solution or data file: errors are measured against the finest classical run" in report
    assert report.index("No exact solution") < report.index("| solver |")
    assert "No exact solution" in result.out.splitlines()[0] and "residual" in result.out.splitlines()[1]

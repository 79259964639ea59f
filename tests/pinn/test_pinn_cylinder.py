"""The PINN on the DFG cylinder: points graded toward the cylinder (``points_near``), the line integral of the
traction that scores network solutions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import pdesolve.cli
from pdesolve.errors import PdesolveError, ProblemError
from pdesolve.pinn.model import build_model
from pdesolve.pinn.presets import preset_options
from pdesolve.pinn.sampling import Sampler
from pdesolve.pinn.solution import PinnSolution
from pdesolve.problem import load_problem
from pdesolve.problem.quantities import line_integral_force

CENTER, RADIUS = np.array([0.2, 0.2]), 0.05


def sampler(problem, n: int, **near) -> Sampler:
    return Sampler(problem, [], False, False, n, 64, 64, **near)


def wall_distance(points: np.ndarray) -> np.ndarray:
    return np.linalg.norm(points - CENTER, axis=1) - RADIUS


def test_graded_points_crowd_the_cylinder_and_stay_in_the_fluid():
    problem = load_problem("cylinder")
    graded = sampler(problem, 1000, near="cylinder", near_fraction=0.5).interior(1000, seed=0).numpy()
    uniform = sampler(problem, 1000).interior(1000, seed=0).numpy()
    assert graded.shape == uniform.shape == (1000, 2)
    assert problem.domain.inside(graded).all() and wall_distance(graded).min() > 0
    near, far = (int(np.sum(wall_distance(x) < 0.02)) for x in (graded, uniform))
    assert near >= 180 and far <= 20  # 0.43 of the graded half lies within 0.02 (d₀ = 0.005, D = 0.3)
    assert np.sum(wall_distance(graded[:125]) < 0.02) >= 15  # the warm-up's prefix (1/8) holds graded points too


def test_points_near_refuses_an_unknown_part_and_evolution_problems():
    with pytest.raises(ProblemError, match="no boundary part"):
        sampler(load_problem("cylinder"), 100, near="wing", near_fraction=0.5).interior(100, seed=0)
    with pytest.raises(PdesolveError, match="stationary 2D"):
        sampler(load_problem("cylinder_unsteady"), 100, near="cylinder", near_fraction=0.5)
    with pytest.raises(PdesolveError, match=r"\[0, 1\]"):
        sampler(load_problem("cylinder"), 100, near="cylinder", near_fraction=1.5)


def test_points_near_an_unknown_part_exits_2_through_the_command(tmp_path, capsys):
    argv = ["solve", "cylinder", "--solver", "pinn", "--out", str(tmp_path / "run"), "--set", "points_near=wing"]
    assert pdesolve.cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "wing" in err and len(err.splitlines()) == 1


def test_the_cylinder_redraws_its_points_under_the_ngd_preset_and_others_keep_it():
    own = preset_options("ngd", load_problem("cylinder"))
    assert own["ngd_refresh_every"] == 10 and own["width"] == 24  # the rest of the preset stays
    assert (own["ansatz"], own["depth"], own["n_interior"], own["ngd_steps"]) == ("channel", 4, 3600, 130)
    assert preset_options("ngd", load_problem("kovasznay"))["depth"] == 2
    assert preset_options("ngd", load_problem("kovasznay")).get("ngd_refresh_every", 0) == 0
    assert preset_options("manual", load_problem("cylinder")) == {}


class AnalyticFlow(nn.Module):
    """A smooth field around the cylinder, no-slip on it: u = (r² − R²)(1 + X), v = (r² − R²) Y², p = X + 2Y²
    (X, Y relative to the centre), as a model. Its traction integral is exact: with n the fluid's outward normal
    (into the disk), ∮ ∂u/∂n ds = −4πR², ∮ ∂v/∂n ds = −2πR⁴, ∮ p n ds = (−πR², 0)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones((), dtype=torch.float64))  # the solution reads its dtype off one

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        x, y = points[:, 0] - CENTER[0], points[:, 1] - CENTER[1]
        bubble = x**2 + y**2 - RADIUS**2
        return self.scale * torch.stack([bubble * (1 + x), bubble * y**2, x + 2 * y**2], dim=1)


class Sampled:
    """The same field seen only through its values (as a mesh solution is): the line integral differences it."""

    def __init__(self, problem) -> None:
        self.problem = problem

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return AnalyticFlow()(torch.as_tensor(points, dtype=torch.float64)).detach().numpy()


NU = 1e-3
EXACT = np.array([4 * math.pi * NU * RADIUS**2 - math.pi * RADIUS**2, 2 * math.pi * NU * RADIUS**4])


def test_line_integral_of_the_traction_by_autograd_is_exact_on_an_analytic_field():
    problem = load_problem("cylinder")
    solution = PinnSolution(problem, AnalyticFlow())
    assert line_integral_force(solution, "cylinder", NU) == pytest.approx(EXACT, rel=1e-5, abs=1e-18)  # 2e-6: the inset
    record = problem.quantities["C_D"].evaluate(solution)
    assert record["method"] == "line integral (autograd)"


def test_forces_of_a_hard_constrained_network_are_finite():
    """The distance function of the exact conditions has no derivative on the boundary itself (inf/inf)."""
    problem = load_problem("cylinder")
    solution = PinnSolution(problem, build_model(problem, width=8, depth=2, seed=1).double())
    record = problem.quantities["C_D"].evaluate(solution)
    assert math.isfinite(record["value"]) and record["method"] == "line integral (autograd)"


def test_line_integral_by_differences_converges_at_second_order_in_its_step():
    sampled = Sampled(load_problem("cylinder"))
    errors = [
        np.abs(line_integral_force(sampled, "cylinder", NU, step) - EXACT) / np.abs(EXACT)
        for step in (4e-4, 2e-4, 1e-4)
    ]
    assert errors[-1][0] < 1e-9 and errors[-1][1] < 1e-4  # the drag's terms are quadratic along n: exact
    assert errors[0][1] / errors[1][1] == pytest.approx(4, rel=0.05) and errors[1][1] / errors[2][1] == pytest.approx(
        4, rel=0.05
    )

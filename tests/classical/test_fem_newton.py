"""fem_newton: nonlinear stationary problems by finite elements and Newton (orders, quadratic contraction, refusals)."""

import math

import numpy as np
import pytest
import torch
from helpers import observed_order

from pdesolve.classical.fem_newton import FiniteElementNewton
from pdesolve.classical.fem_weak import linearise, torch_coords
from pdesolve.errors import DivergenceError, NotApplicableError
from pdesolve.problem import (
    Dirichlet,
    Neumann,
    Polygon,
    Problem,
    Rectangle,
    cos,
    d,
    div,
    dot,
    exp,
    grad,
    laplacian,
    log,
    pi,
    sin,
    sqrt,
)
from pdesolve.solvers.available import load_all
from pdesolve.solvers.base import SOLVERS

load_all()

LSHAPE = Polygon([(0, 0), (1, 0), (1, -1), (-1, -1), (-1, 1), (0, 1)])


def cubic_lshape() -> Problem:
    """-Δu + u³ = f on the L-shape with the smooth u = sin(πx) cos(πy) + x (no corner singularity)."""

    def exact(x, p):
        return sin(pi * x.x) * cos(pi * x.y) + x.x

    def residual(u, x, p):
        e = exact(x, p)
        return -laplacian(u) + u**3 - (2 * pi**2 * sin(pi * x.x) * cos(pi * x.y) + e**3)

    return Problem("cubic_lshape", LSHAPE, residual=residual, boundary=Dirichlet(exact), exact=exact)


def contraction(steps: list[float]) -> list[float]:
    """``‖δ_{k+1}‖ / ‖δ_k‖²`` over the iterations whose steps are above round-off."""
    return [b / a**2 for a, b in zip(steps, steps[1:]) if b > 1e-13]


def test_cubic_reaction_on_the_lshape_p2_order_3_and_quadratic_newton():
    problem = cubic_lshape()
    assert SOLVERS["classical"].target(problem) is FiniteElementNewton
    sizes, errors = [], []
    for n in (5, 9, 17):
        solution = FiniteElementNewton(n=n, order=2).solve(problem)
        sizes.append(2 / (n - 1))
        errors.append(solution.l2_error(problem.exact))
        ratios = contraction(solution.stats["newton_steps"])
        assert len(ratios) >= 2 and max(ratios) < 0.5, solution.stats["newton_steps"]
        assert solution.stats["newton_steps"][-1] < 1e-8
        print(f"cubic L-shape n={n}: L2 {errors[-1]:.3e}, Newton steps {solution.stats['newton_steps']}")
    print(f"cubic L-shape: L2 order {observed_order(sizes, errors):.2f}")
    assert observed_order(sizes, errors) > 2.9, errors
    assert errors[-1] < 2e-3, errors


def bratu_strip(lam: float) -> tuple[Problem, float]:
    """Bratu -Δu = λ e^u on [0,1]×[0,1/2], u = 0 at x = 0, 1 and ∂u/∂n = 0 at y = 0, 1/2: the 1D solution
    u = -2 log(cosh((x - 1/2) θ/2) / cosh(θ/4)), θ = √(2λ) cosh(θ/4) (lower branch), exactly."""
    theta = 1.0
    for _ in range(200):
        theta = math.sqrt(2 * lam) * math.cosh(theta / 4)

    def exact(x, p):
        return -2 * log(np.cosh((x.x - 0.5) * theta / 2) / math.cosh(theta / 4))

    problem = Problem(
        "bratu",
        Rectangle((0.0, 0.0), (1.0, 0.5)),
        residual=lambda u, x, p: -laplacian(u) - p.lam * exp(u),
        boundary=[Dirichlet(0.0, on=lambda x: (x.x < 1e-9) | (x.x > 1 - 1e-9)), Neumann(0.0)],
        params={"lam": lam},
        exact=exact,
    )
    return problem, theta


def test_bratu_on_a_strip_matches_the_closed_form_and_converges_quadratically():
    problem, _ = bratu_strip(2.0)
    errors = []
    for n in (9, 17):
        solution = FiniteElementNewton(n=n, order=2).solve(problem)
        errors.append(solution.l2_error(problem.exact))
        print(f"Bratu strip n={n}: L2 {errors[-1]:.3e}, Newton steps {solution.stats['newton_steps']}")
        assert max(contraction(solution.stats["newton_steps"])) < 1.0
    assert errors[1] < 2e-6 and errors[0] / errors[1] > 7


def test_p_laplacian_p3_order_3_from_a_degenerate_start():
    """-div(|∇u| ∇u) = f with u = sin(πx) sin(πy): the Jacobian vanishes at u = 0, a Laplacian starts Newton."""

    def forcing(x, p):
        xx, yy = x.x.clone().requires_grad_(True), x.y.clone().requires_grad_(True)
        e = torch.sin(pi * xx) * torch.sin(pi * yy)
        gx, gy = torch.autograd.grad(e.sum(), (xx, yy), create_graph=True)
        size = torch.sqrt(gx**2 + gy**2)
        flux = torch.autograd.grad((size * gx).sum(), xx, retain_graph=True)[0]
        flux = flux + torch.autograd.grad((size * gy).sum(), yy)[0]
        return -flux.detach()

    def residual(u, x, p):
        g = grad(u)
        return -div(sqrt(dot(g, g)) * g) - forcing(x, p)

    problem = Problem(
        "plaplace",
        Rectangle((0.0, 0.0), (1.0, 1.0)),
        residual=residual,
        boundary=Dirichlet(0.0),
        exact=lambda x, p: sin(pi * x.x) * sin(pi * x.y),
    )
    errors = [FiniteElementNewton(n=n).solve(problem).l2_error(problem.exact) for n in (9, 17)]
    print(f"p-Laplacian p=3: L2 {errors}, order {np.log2(errors[0] / errors[1]):.2f}")
    assert errors[0] / errors[1] > 7.5 and errors[1] < 1e-4, errors


def test_the_forms_read_off_a_residual():
    x = torch_coords(np.array([[0.2, 0.7], [0.4, 0.1]]), None)
    u, grads = np.array([0.5, -1.0]), [np.array([1.0, 2.0]), np.array([3.0, -1.0])]
    form = linearise(lambda u, x, p: -div((1 + u**2) * grad(u)) + u * d(u, "x") - x.x, u, grads, x, None)
    np.testing.assert_allclose(form.pointwise, u * grads[0] - np.array([0.2, 0.7]))
    np.testing.assert_allclose(form.flux[1], -(1 + u**2) * grads[1])
    np.testing.assert_allclose(form.d_pointwise[0], grads[0])  # ∂c/∂u
    np.testing.assert_allclose(form.d_flux[0][0], -2 * u * grads[0])  # ∂F_x/∂u
    np.testing.assert_allclose(form.d_flux[0][1], -(1 + u**2))  # ∂F_x/∂(∂_x u)


@pytest.mark.parametrize(
    ("residual", "message"),
    [
        (lambda u, x, p: d(laplacian(u), "x"), "differentiates a divergence term"),
        (lambda u, x, p: -x.x * laplacian(u), "variable coefficient"),
        (lambda u, x, p: laplacian(u) ** 2, "divergence term as a value"),
        (lambda u, x, p: d(u, "t"), "differentiates in 't'"),
        (lambda u, x, p: x.x + 1.0, "does not depend on u"),
    ],
)
def test_unreadable_residuals_are_refused_with_one_line(residual, message):
    problem = Problem("bad", Rectangle((0.0, 0.0), (1.0, 1.0)), residual=residual, boundary=Dirichlet(0.0))
    reason = FiniteElementNewton.not_applicable(problem)
    assert reason is not None and message in reason and "\n" not in reason
    with pytest.raises(NotApplicableError):
        FiniteElementNewton(n=5).solve(problem)


def test_linear_problems_stay_with_fem():
    problem = Problem(
        "linear",
        Rectangle((0.0, 0.0), (1.0, 1.0)),
        residual=lambda u, x, p: -laplacian(u) - 1.0,
        boundary=Dirichlet(0.0),
    )
    assert "linear: fem solves it" in FiniteElementNewton.not_applicable(problem)
    assert SOLVERS["classical"].target(problem).name == "fd"


def test_bratu_beyond_the_turning_point_fails_loudly():
    """No solution exists for λ > λ* ≈ 3.51 in 1D: Newton must say so, not return a wrong answer."""
    problem, _ = bratu_strip(1.0)
    with pytest.raises(DivergenceError, match="Newton"):
        FiniteElementNewton(n=9, maxiter=30).solve(problem.with_params(lam=5.0))


def test_a_nonlinear_problem_from_a_file_through_the_command(tmp_path, capsys):
    import json

    import pdesolve.cli

    path = tmp_path / "bratu_square.py"
    path.write_text(
        "from pdesolve.problem import Dirichlet, Rectangle, Problem, exp, laplacian\n"
        "problem = Problem(name='bratu_square', domain=Rectangle((0, 0), (1, 1)),\n"
        "    residual=lambda u, x, p: -laplacian(u) - 6.0 * exp(u), boundary=Dirichlet(0.0))\n"
    )
    code = pdesolve.cli.main(
        ["solve", str(path), "--solver", "classical", "--set", "n=9", "--out", str(tmp_path / "run")]
    )
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["solver"] == "fem_newton" and metrics["alias"] == "classical"
    assert metrics["stats"]["newton_steps"][-1] < 1e-9
    assert metrics["iterations"] >= 4  # nonlinear: several Newton iterations, reported in the table's column


def test_cubic_reaction_on_tetrahedra():
    """The same reading and assembly on P2 tetrahedra: -Δu + u³ = f on the unit cube."""
    from pdesolve.problem import Box

    def exact(x, p):
        return sin(pi * x.x) * sin(pi * x.y) * sin(pi * x.z)

    problem = Problem(
        "cubic3d",
        Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
        residual=lambda u, x, p: -laplacian(u) + u**3 - 3 * pi**2 * exact(x, p) - exact(x, p) ** 3,
        boundary=Dirichlet(0.0),
        exact=exact,
    )
    errors = [FiniteElementNewton(n=n).solve(problem).l2_error(exact) for n in (3, 5)]
    assert errors[0] / errors[1] > 7 and errors[1] < 1e-2, errors

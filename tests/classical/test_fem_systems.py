"""Finite elements for systems read off the problem: Taylor–Hood P2/P1 converges at order 3 in the
velocity (L2) and about 2 in the pressure on Kovasznay (Navier–Stokes, Newton) and on a manufactured
Stokes flow, Newton contracts quadratically from the Stokes start, do-nothing outflow reproduces
Poiseuille flow exactly, and vector P2 elasticity converges at order 3."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy

from pdesolve.classical.fem import FiniteElement
from pdesolve.errors import NotApplicableError
from pdesolve.problem import (
    Dirichlet,
    Gauge,
    Outflow,
    Problem,
    Rectangle,
    VectorField,
    convective,
    cos,
    d,
    div,
    exp,
    grad,
    laplacian,
    load_problem,
    sin,
    strain,
)
from pdesolve.report.metrics import Reference, solution_errors

X, Y = sympy.symbols("x y")
FUNCTIONS = {"sin": sin, "cos": cos, "exp": exp, "pi": math.pi}  # work on numpy, torch and fields


def lambdified(expression):
    """A sympy expression as ``f(x, p)`` of the problem layer's coordinates."""
    function = sympy.lambdify((X, Y), expression, modules=[FUNCTIONS])
    return lambda x, p: function(x.x, x.y) + 0 * x.x


def errors_by_unknown(problem, n):
    solution = FiniteElement(n=n).solve(problem)
    errors = solution_errors(solution, Reference.of(problem))
    return errors, solution.stats


def orders(problem, meshes=(9, 17)):
    (coarse, _), (fine, stats) = (errors_by_unknown(problem, n) for n in meshes)
    ratio = (meshes[1] - 1) / (meshes[0] - 1)
    rates = {
        name: math.log(coarse["per_unknown"][name]["rel_l2"] / fine["per_unknown"][name]["rel_l2"]) / math.log(ratio)
        for name in problem.unknowns
    }
    return rates, fine, stats


def test_kovasznay_taylor_hood_orders_and_newton_contraction():
    problem = load_problem("kovasznay")
    rates, fine, stats = orders(problem)
    assert rates["u"] > 2.8 and rates["v"] > 2.8, rates
    assert 1.7 < rates["p"] < 2.8, rates
    assert fine["rel_l2"] < 3e-3 and fine["per_unknown"]["p"]["rel_l2"] < 1e-2
    residuals = stats["newton_residuals"]
    assert stats["newton_steps"] <= 6 and residuals[-1] < 1e-12 * residuals[0] * 1e3
    # quadratic contraction once close: r_{k+1} <= C r_k^2 with a moderate C
    pairs = [(a, b) for a, b in zip(residuals, residuals[1:]) if a < 1e-2 and b > 1e-14]
    assert pairs and all(b <= 10 * a**2 for a, b in pairs), residuals


def manufactured_stokes(nu=0.5):
    """Divergence-free velocity from ψ = sin²(πx) sin²(πy) (zero on the square's boundary), p = cos πx cos πy."""
    psi = sympy.sin(sympy.pi * X) ** 2 * sympy.sin(sympy.pi * Y) ** 2
    u, v, p = sympy.diff(psi, Y), -sympy.diff(psi, X), sympy.cos(sympy.pi * X) * sympy.cos(sympy.pi * Y)
    forcing = [-nu * (sympy.diff(c, X, 2) + sympy.diff(c, Y, 2)) + sympy.diff(p, axis) for c, axis in ((u, X), (v, Y))]
    exact = {name: lambdified(e) for name, e in zip("uvp", (u, v, p))}
    f = [lambdified(e) for e in forcing]
    return Problem(
        name="stokes_mms",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        unknowns=("u", "v", "p"),
        residual=lambda U, x, q: (
            -nu * laplacian(U.u) + d(U.p, "x") - f[0](x, q),
            -nu * laplacian(U.v) + d(U.p, "y") - f[1](x, q),
            div(U.velocity),
        ),
        boundary=[Dirichlet({"u": 0.0, "v": 0.0}), Gauge("p")],  # mean zero: ∫ cos πx cos πy = 0
        exact=lambda x, q: {name: e(x, q) for name, e in exact.items()},
    )


def test_stokes_manufactured_solution_orders_with_a_mean_gauge():
    problem = manufactured_stokes()
    rates, fine, stats = orders(problem)
    assert rates["u"] > 2.8 and rates["v"] > 2.8, rates
    assert rates["p"] > 1.7, rates
    assert stats["newton_steps"] <= 1  # linear: the first (Stokes) solve is the solution
    assert stats["spaces"] == {"u": "P2", "v": "P2", "p": "P1"}


def test_a_point_gauge_fixes_the_pressure_there():
    problem = manufactured_stokes()
    problem = Problem(**{**vars(problem), "boundary": (problem.boundary[0], Gauge("p", value=1.0, at=(0.0, 0.0)))})
    solution = FiniteElement(n=9).solve(problem)
    assert abs(solution(np.array([[0.0, 0.0]]))[0, 2] - 1.0) < 1e-12


def test_do_nothing_outflow_gives_poiseuille_flow_exactly():
    """u = y(1 − y), p = 2ν(L − x) solves Stokes and Navier–Stokes with ν ∂u/∂n − p n = 0 at x = L."""
    nu, length = 0.1, 2.0
    problem = Problem(
        name="channel",
        domain=Rectangle((0.0, 0.0), (length, 1.0)),
        unknowns=("u", "v", "p"),
        residual=lambda U, x, p: (convective(U.velocity) + grad(U.p) - nu * laplacian(U.velocity), div(U.velocity)),
        boundary=[
            Outflow(on=lambda x: np.abs(x.x - length) < 1e-9),
            Dirichlet({"u": lambda x, p: x.y * (1 - x.y), "v": 0.0}),
        ],
        exact=lambda x, p: (x.y * (1 - x.y), 0 * x.x, 2 * nu * (length - x.x)),
    )
    solution = FiniteElement(n=7).solve(problem)
    errors = solution_errors(solution, Reference.of(problem))
    assert max(e["max_abs"] for e in errors["per_unknown"].values()) < 1e-10, errors


def manufactured_elasticity(mu=1.0, lam=2.0):
    u = sympy.sin(sympy.pi * X) * sympy.sin(sympy.pi * Y)
    v = X * Y * (1 - X) + sympy.exp(X) * Y**2 / 4
    divergence = sympy.diff(u, X) + sympy.diff(v, Y)

    def div_sigma(component, axis):  # (∇·σ)_i = μ Δw_i + (μ + λ) ∂_i (∇·w)
        return mu * (sympy.diff(component, X, 2) + sympy.diff(component, Y, 2)) + (mu + lam) * sympy.diff(
            divergence, axis
        )

    f = [lambdified(-div_sigma(u, X)), lambdified(-div_sigma(v, Y))]
    exact = {"u": lambdified(u), "v": lambdified(v)}
    return Problem(
        name="elasticity",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        unknowns=("u", "v"),
        residual=lambda U, x, p: (
            -(2 * mu * div(strain(U.velocity)) + lam * grad(div(U.velocity))) - VectorField([g(x, p) for g in f])
        ),
        boundary=Dirichlet({"u": exact["u"], "v": exact["v"]}),
        exact=lambda x, p: {name: e(x, p) for name, e in exact.items()},
    )


def test_linear_elasticity_vector_p2_order_three():
    rates, fine, stats = orders(manufactured_elasticity())
    assert rates["u"] > 2.8 and rates["v"] > 2.8, rates
    assert stats["spaces"] == {"u": "P2", "v": "P2"}


@pytest.mark.parametrize(
    ("residual", "words"),
    [
        (lambda U, x, p: (-laplacian(U.velocity) * U.u + grad(U.p), div(U.velocity)), "multiplies a second derivative"),
        (lambda U, x, p: (-laplacian(U.velocity) + grad(U.p), d(U.p, "x")), "differentiates 'p'"),
        (lambda U, x, p: (-div(U.u * grad(U.u)), -laplacian(U.v), div(U.velocity)), "differentiates a product"),
    ],
)
def test_forms_fem_cannot_take_are_refused_with_one_line(residual, words):
    problem = Problem(
        name="bad",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        unknowns=("u", "v", "p"),
        residual=residual,
        boundary=[Dirichlet({"u": 0.0, "v": 0.0}), Gauge("p")],
    )
    reason = FiniteElement.not_applicable(problem)
    assert reason is not None and words in reason and "\n" not in reason, reason
    with pytest.raises(NotApplicableError):
        FiniteElement().solve(problem)


def test_hydrostatic_balance_with_a_constant_body_force_is_exact():
    """The README's example: −Δw + ∇p = (0, 1), closed box, mean-zero p: w = 0, p = y − ½ (in P1 exactly)."""
    problem = Problem(
        name="hydrostatic",
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        unknowns=("u", "v", "p"),
        residual=lambda U, x, p: (-laplacian(U.velocity) + grad(U.p) - (0.0, 1.0), div(U.velocity)),
        boundary=[Dirichlet({"u": 0.0, "v": 0.0}), Gauge("p")],
        exact=lambda x, p: (0 * x.x, 0 * x.x, x.y - 0.5),
    )
    errors = solution_errors(FiniteElement(n=5).solve(problem), Reference.of(problem))
    assert max(e["max_abs"] for e in errors["per_unknown"].values()) < 1e-12, errors

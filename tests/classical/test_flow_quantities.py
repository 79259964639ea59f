"""Derived quantities of flows: the finite-element reaction forces of a driven Couette flow equal the wall
tractions known in closed form, pressure differences and profiles against a table measure what they
say, and the cavity's lid takes its velocity on the open top edge only (corners at rest)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from pdesolve.classical.fem import FiniteElement
from pdesolve.classical.fem_system import SystemAssembler
from pdesolve.errors import ProblemError
from pdesolve.problem import (
    Dirichlet,
    Drag,
    Lift,
    Outflow,
    PressureDifference,
    Problem,
    Profile,
    Rectangle,
    convective,
    div,
    grad,
    laplacian,
    load_problem,
)
from pdesolve.problem.quantities import line_integral_force
from pdesolve.report.quantities import measure_quantities

NU, LENGTH, HEIGHT, UMAX, LID, DRIVE = 0.1, 2.0, 1.0, 1.5, 0.7, 0.3
GRADIENT = 8 * NU * UMAX / HEIGHT**2  # −dp/dx of Poiseuille flow


def bottom(x):
    return np.abs(x.y) < 1e-9


def top(x):
    return np.abs(x.y - HEIGHT) < 1e-9


def flow(quantities, body=0.0, inflow=None):
    """A channel with do-nothing outflow at x = L, Dirichlet velocity elsewhere, body force ``body`` along x."""
    return Problem(
        name="channel",
        domain=Rectangle((0.0, 0.0), (LENGTH, HEIGHT)),
        unknowns=("u", "v", "p"),
        residual=lambda U, x, p: (
            convective(U.velocity) + grad(U.p) - p.nu * laplacian(U.velocity) - (body, 0.0),
            div(U.velocity),
        ),
        boundary=[Outflow(on=lambda x: np.abs(x.x - LENGTH) < 1e-9), Dirichlet({"u": inflow, "v": 0.0})],
        params={"nu": NU},
        quantities=quantities,
    )


def channel(quantities):
    """Poiseuille flow u = 4 Um y (H − y)/H², p = G (L − x)."""
    return flow(quantities, inflow=lambda x, p: 4 * UMAX * x.y * (HEIGHT - x.y) / HEIGHT**2)


def test_reaction_forces_on_the_walls_of_a_driven_couette_flow_are_the_exact_tractions():
    """Lid speed U at y = H, body force f along x, p = 0: u = U y/H + f y (H − y)/(2ν). The fluid pulls the
    bottom with ν u'(0) L = (ν U/H + f H/2) L, the lid with −ν u'(H) L = (f H/2 − ν U/H) L, and presses
    neither (p = 0); P2/P1 holds the flow exactly, so the reaction is exact to round-off."""

    def profile(x, p):
        return LID * x.y / HEIGHT + DRIVE * x.y * (HEIGHT - x.y) / (2 * NU)

    forces = {
        "bottom_drag": Drag(on=bottom, reference=(NU * LID / HEIGHT + DRIVE * HEIGHT / 2) * LENGTH),
        "top_drag": Drag(on=top, scale=2.0, reference=2 * (DRIVE * HEIGHT / 2 - NU * LID / HEIGHT) * LENGTH),
        "bottom_lift": Lift(on=bottom, reference=0.0),
        "top_lift": Lift(on=top, reference=0.0),
    }
    problem = flow(forces, body=DRIVE, inflow=profile)
    measured = measure_quantities(problem, FiniteElement(n=5).solve(problem))
    for label, record in measured.items():
        assert record["abs_error"] < 1e-12 * max(1.0, abs(record["reference"])), (label, record)
        assert record["method"].startswith("volume integral")


def test_pressure_difference_and_profile_against_a_table(tmp_path, monkeypatch):
    """Δp between two points is G Δx; a table of the exact profile deviates by 0, one shifted entry by its shift."""
    table = tmp_path / "profile.csv"
    y = np.linspace(0.0, 1.0, 9)
    u = 4 * UMAX * y * (HEIGHT - y) / HEIGHT**2
    u[3] += 0.01
    table.write_text("# test\nprofile,coordinate,value\n" + "".join(f"u,{a:.17g},{b:.17g}\n" for a, b in zip(y, u)))
    monkeypatch.setenv("PDESOLVE_DATA", str(tmp_path))
    problem = channel(
        {
            "dp": PressureDifference((0.5, 0.5), (1.5, 0.5), reference=GRADIENT),
            "u_profile": Profile(unknown="u", table="profile.csv", key="u", axis=1, fixed=(1.0,)),
            "missing": Profile(unknown="u", table="absent.csv", key="u"),
        }
    )
    measured = measure_quantities(problem, FiniteElement(n=5).solve(problem))
    assert measured["dp"]["abs_error"] < 1e-10
    assert measured["u_profile"]["max_abs_deviation"] == pytest.approx(0.01, abs=1e-10)
    assert "absent.csv not found" in measured["missing"]["unavailable"]


def test_a_problem_refuses_a_quantity_that_is_not_one():
    with pytest.raises(ProblemError, match="quantities\\['C_D'\\] must be a Drag"):
        channel({"C_D": 5.58})


def test_cavity_lid_moves_on_the_open_top_edge_and_the_corners_are_at_rest():
    assembler = SystemAssembler(load_problem("cavity"), 9, 0)
    basis, values = assembler.velocity_basis, assembler.split(assembler.start())[0]
    x, y = basis.doflocs
    top = np.abs(y - 1.0) < 1e-12
    corners = top & ((np.abs(x) < 1e-12) | (np.abs(x - 1.0) < 1e-12))
    assert np.all(values[corners] == 0.0) and corners.sum() == 2
    assert np.all(values[top & ~corners] == 1.0) and (top & ~corners).sum() == 2 * 8 - 1


def test_cavity_centrelines_against_ghia():
    """Re = 100 on a coarse mesh: the extremes of the converged solution (Marchi et al. 2009: v_min −0.25380,
    v_max 0.17957, u_min −0.21404) within 2e-3; Ghia's table itself lies 9e-3 from them at v_min."""
    problem = load_problem("cavity")
    solution = FiniteElement(n=17).solve(problem)
    line = np.linspace(0.0, 1.0, 401)
    v = solution(np.column_stack([line, np.full_like(line, 0.5)]))[:, 1]
    u = solution(np.column_stack([np.full_like(line, 0.5), line]))[:, 0]
    assert v.min() == pytest.approx(-0.25380, abs=2e-3) and v.max() == pytest.approx(0.17957, abs=2e-3)
    assert u.min() == pytest.approx(-0.21404, abs=2e-3)
    measured = measure_quantities(problem, solution)
    assert 3e-3 < measured["u_centreline"]["max_abs_deviation"] < 7e-3, measured
    assert 8e-3 < measured["v_centreline"]["max_abs_deviation"] < 1.1e-2, measured


def test_cylinder_forces_on_a_coarse_graded_mesh():
    """DFG 2D-1 on 23 nodes across and three refinements toward the cylinder: the reaction gives C_D and C_L
    near the benchmark; the line integral of the traction of the same solution agrees less closely."""
    problem = replace(load_problem("cylinder"), defaults={"n": 23, "refine_near": ("cylinder", 3)})
    solution = FiniteElement().solve(problem)
    measured = measure_quantities(problem, solution)
    assert measured["C_D"]["rel_error"] < 1e-3, measured
    assert measured["C_L"]["rel_error"] < 2e-2, measured
    assert measured["dp"]["rel_error"] < 2e-2, measured
    line = line_integral_force(solution, problem.quantities["C_D"].on, problem.params["nu"])
    coefficient = problem.quantities["C_D"].scale
    assert abs(coefficient * line[0] / measured["C_D"]["value"] - 1) < 5e-3


def test_line_integral_of_the_exact_couette_traction():
    """The line integral (one-sided differences, Gauss quadrature) is exact on the quadratic Couette flow."""
    problem = flow({}, body=DRIVE, inflow=lambda x, p: LID * x.y / HEIGHT + DRIVE * x.y * (HEIGHT - x.y) / (2 * NU))
    force = line_integral_force(FiniteElement(n=5).solve(problem), bottom, NU)
    assert force == pytest.approx([(NU * LID / HEIGHT + DRIVE * HEIGHT / 2) * LENGTH, 0.0], abs=1e-8)

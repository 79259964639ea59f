"""Corner singular functions (Hu, Jin & Zhou 2024): geometry, exact boundary values, harmonicity."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pdesolve.ngd.residual_jacobian import jacobian_function
from pdesolve.pinn.model import build_model
from pdesolve.pinn.singular import CornerEnrichment, reentrant_corners
from pdesolve.problem import Dirichlet, Polygon, Problem, laplacian

LSHAPE = [(0, 0), (1, 0), (1, -1), (-1, -1), (-1, 1), (0, 1)]


@pytest.mark.parametrize("vertices", [LSHAPE, LSHAPE[::-1]])
def test_the_l_shape_has_one_reentrant_corner_whatever_the_orientation(vertices):
    (corner,) = reentrant_corners(tuple(vertices))
    assert corner.vertex == (0.0, 0.0)
    assert corner.angle == pytest.approx(1.5 * math.pi)
    assert corner.radius == pytest.approx(0.9)
    assert reentrant_corners(((0, 0), (1, 0), (1, 1), (0, 1))) == []


def _enrichment() -> CornerEnrichment:
    enrichment = CornerEnrichment(reentrant_corners(tuple(LSHAPE))).double()
    with torch.no_grad():
        enrichment.gamma.fill_(1.0)
    return enrichment


def _smoothstep(t: torch.Tensor) -> torch.Tensor:
    return 10 * t**3 - 15 * t**4 + 6 * t**5


def test_the_singular_function_vanishes_on_the_boundary_and_is_r_to_two_thirds_at_the_corner():
    enrichment = _enrichment()
    boundary, _ = Polygon(LSHAPE).sample_boundary(800, seed=0)
    points = torch.as_tensor(np.vstack([boundary, LSHAPE]), dtype=torch.float64)
    assert float(enrichment(points).abs().max()) <= 1e-12
    r = torch.linspace(0.01, 0.95, 9, dtype=torch.float64)
    for angle in (math.pi, 1.25 * math.pi, 1.9 * math.pi):  # directions into the L: θ from the edge towards (0, 1)
        phi = angle - math.pi / 2
        near = torch.stack([r * math.cos(angle), r * math.sin(angle)], dim=1)
        expected = r ** (2 / 3) * math.sin(2 * phi / 3) * (1 - _smoothstep((r / 0.9).clamp(max=1.0)))
        assert torch.allclose(enrichment(near), expected, rtol=0, atol=1e-14)


def test_the_enriched_model_keeps_the_dirichlet_values_and_the_cut_off_leaves_no_singular_source():
    problem = Problem(
        name="lshape", domain=Polygon(LSHAPE), residual=lambda u, x, p: -laplacian(u) - 1.0, boundary=Dirichlet(0.0)
    )
    model = build_model(problem, width=8, depth=1, seed=0).double()
    assert model.enrichment is not None and build_model(problem, corner_enrichment=False).enrichment is None
    with torch.no_grad():
        model.enrichment.gamma.fill_(0.7)
    boundary, _ = problem.domain.sample_boundary(400, seed=1)
    assert float(model(torch.as_tensor(boundary)).abs().max()) <= 1e-12
    # s = r^{2/3} sin(2θ/3) is harmonic, so Δ(s η) = 2∇s·∇η + s Δη = O(r^{5/3}): no source blows up at the corner
    angles = torch.linspace(0.6 * math.pi, 1.95 * math.pi, 9, dtype=torch.float64)
    radii = torch.logspace(-4, math.log10(0.02), 5, dtype=torch.float64)
    grid_r, grid_a = torch.meshgrid(radii, angles, indexing="ij")
    points = torch.stack([(grid_r * grid_a.cos()).ravel(), (grid_r * grid_a.sin()).ravel()], dim=1)
    points.requires_grad_(True)
    s = _enrichment()(points)
    (gradient,) = torch.autograd.grad(s.sum(), points, create_graph=True)
    laplace = sum(torch.autograd.grad(gradient[:, k].sum(), points, retain_graph=True)[0][:, k] for k in range(2))
    assert float(laplace.abs().max()) <= 0.5
    assert float(laplace.reshape(5, 9)[0].abs().max()) <= 1e-4  # at r = 1e-4


def test_the_per_sample_jacobian_covers_the_stress_intensity_factor():
    problem = Problem(
        name="lshape", domain=Polygon(LSHAPE), residual=lambda u, x, p: -laplacian(u) - 1.0, boundary=Dirichlet(0.0)
    )
    model = build_model(problem, width=6, depth=1, seed=0).double()
    params = list(model.parameters())
    points = torch.as_tensor(problem.domain.sample_interior(40, seed=2))

    def residual() -> torch.Tensor:
        x = points.clone().requires_grad_(True)
        u = model(x)
        (gradient,) = torch.autograd.grad(u.sum(), x, create_graph=True)
        second = [torch.autograd.grad(gradient[:, k].sum(), x, create_graph=True)[0][:, k] for k in range(2)]
        return -(second[0] + second[1]) - 1.0

    fast = jacobian_function(model, params, residual, per_sample=True)()[1]
    slow = jacobian_function(model, params, residual, per_sample=False)()[1]
    assert torch.allclose(fast, slow, rtol=1e-10, atol=1e-10)
    assert float(fast[:, -1].abs().max()) > 0  # γ's column: the corner's singular function acts on the residual

"""Darcy flow with a high-contrast permeability: a ∈ {1e-4, 1} (contrast 1e4), the hard case for CG
preconditioners (cf. the learned-preconditioner literature, e.g. Li, Chen, Du & Matusik, ICML 2023).

-∇·(a ∇u) = 1 on (0, 1)², u = 0 on the boundary; a = 1 where ψ ≥ 0 and a = 1e-4 where ψ < 0, ψ the
Gaussian random field of ``darcy2d`` (covariance (-Δ + 9I)⁻², Neumann, drawn on a 421² grid).
``problem.sample(seed)`` draws a member; the plain problem is the member of seed 0. ``darcy2d_contrast100``
is the same problem at contrast 1e2 (:func:`contrast_problem`).
"""

from pdesolve.problem import Dirichlet, Family, GaussianRandomField, Problem, Rectangle, Thresholded, div, grad


def contrast_problem(name: str, decades: int) -> Problem:
    """The thresholded-GRF Darcy problem with ``a ∈ {10^-decades, 1}`` (contrast ``10^decades``)."""
    low = 10.0**-decades
    family = Family(
        a=Thresholded(
            GaussianRandomField((0.0, 0.0), (1.0, 1.0), 421, alpha=2.0, tau=3.0, boundary="neumann"), high=1.0, low=low
        )
    )
    return Problem(
        name=name,
        domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
        residual=lambda u, x, p: -div(p.a(x) * grad(u)) - 1.0,
        boundary=Dirichlet(0.0),
        params=family.draw(0),
        family=family,
        description=f"-∇·(a∇u) = 1 on (0,1)², u = 0; a ∈ {{1e-{decades}, 1}} from a thresholded GRF "
        f"(contrast 1e{decades})",
        defaults={"n": 85},
    )


problem = contrast_problem("darcy2d_contrast", 4)

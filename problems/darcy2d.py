"""Darcy flow with a piecewise-constant random permeability, the FNO benchmark (Li et al.,
"Fourier neural operator for parametric partial differential equations", ICLR 2021).

-∇·(a ∇u) = 1 on (0, 1)², u = 0 on the boundary. The coefficient is a = 12 where ψ ≥ 0 and a = 3
where ψ < 0, ψ a Gaussian random field with covariance (-Δ + 9I)⁻² under homogeneous Neumann
conditions (τ = 3, α = 2). As in the paper the field is drawn on a 421² grid; a solve on n nodes
with (n - 1) dividing 420 (the default n = 85, the paper's training resolution) samples it exactly
at its nodes. ``problem.sample(seed)`` draws a member of the family; the plain problem uses the
member of seed 0.
"""

from pdesolve.problem import Dirichlet, Family, GaussianRandomField, Problem, Rectangle, Thresholded, div, grad

family = Family(
    a=Thresholded(
        GaussianRandomField((0.0, 0.0), (1.0, 1.0), 421, alpha=2.0, tau=3.0, boundary="neumann"), high=12.0, low=3.0
    )
)

problem = Problem(
    name="darcy2d",
    domain=Rectangle((0.0, 0.0), (1.0, 1.0)),
    residual=lambda u, x, p: -div(p.a(x) * grad(u)) - 1.0,
    boundary=Dirichlet(0.0),
    params=family.draw(0),
    family=family,
    description="-∇·(a∇u) = 1 on (0,1)², u = 0; a ∈ {3, 12} from a thresholded GRF (FNO Darcy)",
    defaults={"n": 85},
)

"""Diffusion–sorption of a contaminant with Freundlich sorption, PDEBench's 1D benchmark (Takamoto et
al., "PDEBench: an extensive benchmark for scientific machine learning", NeurIPS 2022 Datasets and
Benchmarks; setup and numbers from ``pdebench/data_gen/configs/diff-sorp.yaml`` and
``src/sim_diff_sorp.py``). Also the 1D test case of Chalapathi, Du & Krishnapriyan (ICLR 2024).

u_t = D / R(u) u_xx on x ∈ (0, 1), t ∈ (0, 500], with the retardation factor
R(u) = 1 + (1 - φ)/φ ρ_s k n_f (u + 1e-6)^(n_f - 1), D = 5e-4, φ = 0.29, ρ_s = 2880, k = 3.5e-4,
n_f = 0.874. The 1e-6 keeps R finite at u = 0, as in PDEBench's generator and PINN.
Boundary: u(0, t) = 1 and, at x = 1, the Cauchy condition of PDEBench's finite-volume generator,
u(1, t) = -D u_x(1, t) (a Robin condition u + D ∂u/∂n = 0, applied there through a ghost cell). The
paper and PDEBench's PINN write u = +D u_x; that sign makes the problem ill-posed: it carries a mode
~exp((x - 1)/D) growing like exp(t / (R D)), which any grid with h < 1.5 D resolves and blows up
(the method of lines diverges at n = 2049 with it, and converges cleanly to n = 4097 with this sign).
Initial condition: a constant u0 ~ U(0, 0.2) per sample in PDEBench, the family here; the plain
problem is the member of seed 0 (u0 ≈ 0.127).

Solvers: the method of lines (``classical``: second order, self-convergence 7e-6 relative L2 between
n = 257 and 513) and the network solvers.
"""

from dataclasses import dataclass

from pdesolve.problem import Dirichlet, Family, Interval, Problem, Robin, d


@dataclass(frozen=True)
class Uniform:
    """A scalar drawn uniformly from [low, high)."""

    low: float
    high: float

    def sample(self, rng):
        return float(rng.uniform(self.low, self.high))


def retardation(u, p):
    return 1 + (1 - p.phi) / p.phi * p.rho_s * p.k * p.n_f * (u + 1e-6) ** (p.n_f - 1)


D = 5e-4
family = Family(u0=Uniform(0.0, 0.2))

problem = Problem(
    name="diffusion_sorption1d",
    domain=Interval(0.0, 1.0),
    time=(0.0, 500.0),
    rhs=lambda u, x, p: p.D / retardation(u, p) * d(u, "x", 2),
    initial=lambda x, p: 0 * x.x + p.u0,
    boundary=[Dirichlet(1.0, on=lambda x: x.x < 0.5), Robin(alpha=1.0, beta=D, value=0.0, on=lambda x: x.x > 0.5)],
    params={"D": D, "phi": 0.29, "rho_s": 2880.0, "k": 3.5e-4, "n_f": 0.874, **family.draw(0)},
    family=family,
    description="u_t = D/R(u) u_xx, Freundlich R(u); u(0)=1, u(1)=-D u_x(1); u0 constant ~ U(0, 0.2)",
    defaults={"n": 257, "dt": 0.5},
)

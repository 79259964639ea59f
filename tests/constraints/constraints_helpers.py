"""Small float64 problems and bases shared by the hard-constraint tests."""

from __future__ import annotations

import numpy as np
import torch

from pdesolve.problem import Dirichlet, Grid, Interval, Periodic, Problem, d


def poisson(f=lambda x: 6 * x.x) -> Problem:
    """-u'' = f on (0, 1), u = 0 at both ends (exact u = x - x³ for the default f)."""
    return Problem(
        "poisson1d_hc", Interval(0.0, 1.0), residual=lambda u, x, p: -d(u, "x", 2) - f(x), boundary=Dirichlet(0.0)
    )


def heat() -> Problem:
    """u_t = 0.1 u_xx, periodic on (0, 1), u(x, 0) = sin 2πx."""
    return Problem(
        "heat1d_hc",
        Interval(0.0, 1.0),
        rhs=lambda u, x, p: p.nu * d(u, "x", 2),
        time=(0.0, 0.5),
        initial=lambda x, p: np.sin(2 * np.pi * x.x),
        boundary=Periodic(),
        params={"nu": 0.1},
    )


def allen_cahn() -> Problem:
    """u_t = 0.01 u_xx + u - u³, periodic on (0, 1), u(x, 0) = sin 2πx."""
    return Problem(
        "allen_cahn1d_hc",
        Interval(0.0, 1.0),
        rhs=lambda u, x, p: 0.01 * d(u, "x", 2) + u - u**3,
        time=(0.0, 0.5),
        initial=lambda x, p: np.sin(2 * np.pi * x.x),
        boundary=Periodic(),
    )


def cubic_basis(grid: Grid, batch: int = 2, seed: int = 0) -> torch.Tensor:
    """Random mixtures of 1, x, x², x³, sin 3x, cos 5x: the span holds x - x³, which the stencil differentiates
    exactly."""
    x = torch.as_tensor(grid.axes[0], dtype=torch.float64)
    features = torch.stack([x**0, x, x**2, x**3, torch.sin(3 * x), torch.cos(5 * x)])
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 6, 6, generator=generator, dtype=torch.float64) @ features


def space_time_basis(grid: Grid, times: np.ndarray, nb: int, batch: int = 1, seed: int = 0) -> torch.Tensor:
    """Smooth random space-time functions (a few Fourier modes in x times low-order polynomials in t)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(grid.axes[0], dtype=torch.float64)
    t = torch.as_tensor(times / times[-1], dtype=torch.float64)
    modes = torch.stack([f(2 * np.pi * k * x) for k in range(3) for f in (torch.sin, torch.cos)])  # (6, nx)
    powers = torch.stack([t**j for j in range(3)])  # (3, nt)
    features = (powers[:, None, :, None] * modes[None, :, None, :]).reshape(18, len(times), len(x))
    mix = torch.randn(batch, nb, 18, generator=generator, dtype=torch.float64)
    return torch.einsum("bnf,ftx->bntx", mix, features)


# a periodic heat family (random amplitude) as a problem file, for `pdesolve dataset` / `train`
HEAT_FAMILY = """
from dataclasses import dataclass
import numpy as np
from pdesolve.problem import Family, Interval, Periodic, Problem, d, sin, pi


@dataclass(frozen=True)
class Amplitude:
    def sample(self, rng):
        return float(rng.uniform(0.5, 1.5))


problem = Problem(
    name="heat_family_hc",
    domain=Interval(0.0, 1.0),
    time=(0.0, 0.2),
    rhs=lambda u, x, p: 0.1 * d(u, "x", 2),
    initial=lambda x, p: p.a * sin(2 * pi * x.x),
    boundary=Periodic(),
    params={"a": 1.0},
    family=Family(a=Amplitude()),
)
"""

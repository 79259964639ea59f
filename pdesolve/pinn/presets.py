"""Named budgets of the ``pinn`` solver (``--set preset=NAME``): the options a preset fills in for a problem.

The user's own options always win over the preset's, key by key.

- ``ngd`` (the default): the damped Gauss–Newton natural gradient (Müller & Zeinhofer 2023) from the random
  start in float64, scaled to the problem: a small network on a few hundred to a few thousand points for
  stationary problems; for evolution problems RAD points (Wu et al. 2023) redrawn every 10 steps, and on
  periodic ones time marching through 10 windows with x embedded by 4 harmonics; evolution systems (one
  row per equation at each point) on 1000 points for 60 steps. These are the settings
  ``pdesolve compare`` runs; RESULTS.md has what they reach on the catalogue.
- ``manual``: nothing filled in; the defaults ``pdesolve list pinn`` lists (Adam → L-BFGS on a 3 × 32 network,
  the classic recipe of Raissi et al. 2019).
"""

from __future__ import annotations

from typing import Any

from pdesolve.errors import PdesolveError
from pdesolve.problem import Problem

PRESETS = ("ngd", "manual")

_GAUSS_NEWTON_ONLY = {"adam_steps": 0, "lbfgs_steps": 0}


def natural_gradient_budget(problem: Problem) -> dict[str, Any]:
    """The ``ngd`` preset for ``problem`` (by stationary / evolution / periodic evolution and dimension)."""
    if problem.is_evolution and any(problem.periodic_axes):
        return {
            **_GAUSS_NEWTON_ONLY,
            "width": 20,
            "depth": 3,
            "periodic_modes": 4,
            "time_windows": 10,
            "n_interior": 1000,
            "ngd_steps": 75,
            "ngd_refresh_every": 10,
            "rad": True,
            "rad_candidates": 4,
        }
    if problem.is_evolution and problem.is_system:  # one residual row per equation: fewer points, fewer steps
        return {
            **_GAUSS_NEWTON_ONLY,
            "width": 20,
            "depth": 3,
            "n_interior": 1000,
            "ngd_steps": 60,
            "ngd_refresh_every": 10,
            "rad": True,
        }
    if problem.is_evolution:
        return {
            **_GAUSS_NEWTON_ONLY,
            "width": 20,
            "depth": 3,
            "n_interior": 2000,
            "ngd_steps": 150,
            "ngd_refresh_every": 10,
            "rad": True,
        }
    n_interior = {1: 64, 2: 900}.get(problem.dim, 2000)
    return {**_GAUSS_NEWTON_ONLY, "width": 24, "depth": 2, "n_interior": n_interior, "ngd_steps": 100}


def preset_options(name: str, problem: Problem) -> dict[str, Any]:
    """The options preset ``name`` sets for ``problem``; one-line error for an unknown name."""
    if name == "ngd":
        return natural_gradient_budget(problem)
    if name == "manual":
        return {}
    raise PdesolveError(f"pinn: preset must be one of {', '.join(PRESETS)}, got {name!r}")

"""Gauss–Newton natural gradient with Levenberg–Marquardt damping for the PINN loss ``‖r(θ)‖²``.

For the squared-residual loss the energy natural gradient of Müller & Zeinhofer (2023, "Achieving high
accuracy with PINNs via energy natural gradient descent") is the Gauss–Newton step: solve
``J δ ≈ r`` in least squares with the Jacobian of every residual row (interior, boundary, initial)
with respect to the parameters, then a line search on ``θ − η δ``. For nonlinear PDEs it stays
Gauss–Newton (Jnini, Vella & Zeinhofer 2024, "Gauss–Newton natural gradient descent for
physics-informed computational fluid dynamics"), and far from the solution it needs damping.

Each step:

1. ``r, J`` at ``θ`` (solved in float64 whatever the model's dtype);
2. ``δ = argmin ‖J δ − r‖² + λ μ ‖δ‖²`` with ``μ = trace(JᵀJ)/P``, by :mod:`pdesolve.ngd`: a truncated
   SVD (``rcond`` cut-off, Tikhonov filter ``σ/(σ² + λμ)``) or the damped normal equations (Cholesky);
   both keep their factorisation, so a retry with a new damping costs one small solve;
3. a line search over ``η = 2^−k`` (the best, searched until the loss rises again, as in
   Müller & Zeinhofer); no decrease at all: raise ``λ ← λν``, ``ν ← 2ν`` and retry (Levenberg 1944,
   Marquardt 1963; Nielsen's ``ν``, Madsen, Nielsen & Tingleff 2004, §3.2);
4. the damping as a trust region: ``λ ← λ/10`` when ``η ≥ 1/2`` and the gain ratio
   ``ρ = (L(θ) − L(θ − ηδ)) / (‖r‖² − ‖r − ηJδ‖²) > 1/4``; ``λ ← 2λ`` when the search cut the step
   below ``η = 1/8``.

The iteration is :class:`~pdesolve.ngd.driver.DampedGaussNewton` with the :class:`~pdesolve.ngd.driver.TrustRegion`
policy. ``solver="cg"`` never forms ``J``: the step comes from conjugate gradients (CGLS) on products ``J v``,
``Jᵀw`` by double backward through the residual's graph (:mod:`pdesolve.ngd.matrix_free`; Jnini et al.'s
scalable form), to ``CG_TOL`` or ``CG_MAX_ITER`` iterations, and ``μ`` is Hutchinson's estimate.

``λ = 0`` (with the SVD) is the undamped energy natural gradient of Müller & Zeinhofer: best on
linear problems started near a solution (poisson2d: 1e-7), but on helmholtz2d and the L-shape its
steps along nearly singular directions are so long that the line search keeps ``η ≈ 1e-9`` (a stall);
``λ = 1e-3`` reaches 1e-2 there in 100 steps. A step that finds no decrease within ``max_tries``
dampings marks the stage ``stalled`` (converged to what the points and the precision resolve).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from pdesolve.ngd import GramSystem, SVDSystem
from pdesolve.ngd.driver import DampedGaussNewton, Damping, DriverState, Trial, TrustRegion
from pdesolve.ngd.matrix_free import MatrixFreeSystem, graph_operator
from pdesolve.ngd.residual_jacobian import residual_jacobian
from pdesolve.ngd.system import LeastSquaresInfo, LeastSquaresSystem

SOLVERS = ("auto", "svd", "cholesky", "cg")
MIN_DAMPING = 1e-12  # a positive λ stays above this (relative to μ): Cholesky squares the condition number
CG_TOL = 1e-10  # relative residual of the damped normal equations at which CGLS stops
CG_MAX_ITER = 500


class GaussNewtonStage:
    """Damped Gauss–Newton steps with a line search on ``r(θ)``; ``linearize() -> (r, J)``, ``evaluate() -> r``.

    ``evaluate`` must compute the same residual as ``linearize`` (with whatever weights the latter fixed)
    at the current parameters; by default ``linearize`` uses the generic autograd Jacobian of it.
    ``damping`` is the initial ``λ`` relative to ``μ`` (0: undamped until a step fails). ``solver``
    "auto" is the truncated SVD when undamped, the Cholesky factorisation (cheaper) otherwise; "cg" is
    matrix-free: products through the graph of ``residual()`` (default ``evaluate``; the residual that
    ``linearize`` differentiates), ``linearize`` unused.
    """

    name = "ngd"

    def __init__(
        self,
        params: list[torch.Tensor],
        evaluate: Callable[[], torch.Tensor],
        linearize: Callable[[], tuple[torch.Tensor, torch.Tensor]] | None = None,
        solver: str = "auto",
        rcond: float = 1e-6,
        damping: float = 1e-3,
        max_tries: int = 12,
        line_search: int = 30,
        residual: Callable[[], torch.Tensor] | None = None,
    ) -> None:
        if solver not in SOLVERS:
            raise ValueError(f"Gauss-Newton solver must be one of {SOLVERS}, got {solver!r}")
        self.params = params
        self.evaluate = evaluate
        self.linearize = linearize or self._generic_linearize
        self.residual = residual or evaluate
        solver = solver if solver != "auto" else ("svd" if damping == 0 else "cholesky")
        self.rcond = rcond
        damping = damping if damping == 0 and solver == "svd" else max(damping, MIN_DAMPING)
        builders = {"svd": self._svd_system, "cholesky": self._gram_system, "cg": self._matrix_free_system}
        self._system: Callable[[], tuple[LeastSquaresSystem, float]] = builders[solver]
        self.line_search, self.max_tries = line_search, max_tries
        self.state = DriverState(None, math.inf, Damping(damping))

    @property
    def stalled(self) -> bool:
        return self.state.stalled

    @property
    def damping(self) -> float:
        return self.state.damping.value

    @property
    def last_info(self) -> LeastSquaresInfo | None:
        return self.state.info

    @property
    def last_eta(self) -> float:
        return self.state.eta

    @property
    def last_ratio(self) -> float:
        return self.state.gain

    @property
    def tries(self) -> int:
        return self.state.tries

    def _generic_linearize(self) -> tuple[torch.Tensor, torch.Tensor]:
        r = self.evaluate()
        return r.detach(), residual_jacobian(r, self.params)

    def _flat(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self.params])

    def _assign(self, theta: torch.Tensor) -> None:
        with torch.no_grad():
            offset = 0
            for p in self.params:
                p.copy_(theta[offset : offset + p.numel()].view_as(p).to(p.dtype))
                offset += p.numel()

    def system_here(self) -> tuple[LeastSquaresSystem, float]:
        """The least-squares system at the current parameters (in float64) and the loss ``‖r‖²`` there."""
        return self._system()

    def _matrix_free_system(self) -> tuple[MatrixFreeSystem, float]:
        """``solver="cg"``: products with ``J`` through the residual's graph."""
        r = self.residual()
        r64 = r.detach().to(torch.float64)
        operator = graph_operator(r, self.params, torch.float64)
        return MatrixFreeSystem(operator, r64, CG_TOL, CG_MAX_ITER), float(r64.square().sum())

    def _linearized64(self) -> tuple[torch.Tensor, torch.Tensor]:
        r, J = self.linearize()
        return r.to(torch.float64), J.to(torch.float64)

    def _svd_system(self) -> tuple[SVDSystem, float]:
        """``solver="svd"``: the truncated SVD of ``J``."""
        r, J = self._linearized64()
        return SVDSystem.factor(J, r, rcond=self.rcond), float(r.square().sum())

    def _gram_system(self) -> tuple[GramSystem, float]:
        """``solver="cholesky"``: the damped normal equations."""
        r, J = self._linearized64()
        return GramSystem.factor(J, r), float(r.square().sum())

    def _loss_at(self, theta: torch.Tensor) -> float:
        self._assign(theta)
        value = float(self.evaluate().detach().square().sum())
        return value if math.isfinite(value) else math.inf

    def _line_search(self, theta: torch.Tensor, delta: torch.Tensor, loss: float) -> tuple[float, float]:
        """The best ``η = 2^−k`` along ``−δ`` (searched until the loss rises again) and its loss; η = 0: none."""
        best_loss, best_eta = loss, 0.0
        for k in range(self.line_search + 1):
            eta = 0.5**k
            trial = self._loss_at(theta - eta * delta)
            if trial < best_loss - 1e-14 * loss:
                best_loss, best_eta = trial, eta
            elif best_eta > 0:
                break
        return best_eta, best_loss

    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> float:
        """One accepted step (or ``stalled``); returns the loss ``‖r‖²`` after it."""
        theta = self._flat().to(torch.float64)
        system, loss = self.system_here()
        driver = DampedGaussNewton(_LineSearchStep(self, system, loss), TrustRegion(MIN_DAMPING), self.max_tries)
        state = self.state
        self.state = driver.step(DriverState(theta, loss, state.damping, state.iterations, state.solves))
        self._assign(self.state.point)
        return self.state.cost

    def state_dict(self) -> dict[str, Any]:
        damping = self.state.damping
        return {"damping": damping.value, "nu": damping.nu, "stalled": self.state.stalled}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        damping = Damping(state.get("damping", self.damping), state.get("nu", self.state.damping.nu))
        self.state = DriverState(None, math.inf, damping, stalled=state.get("stalled", False))


class _LineSearchStep:
    """The driver's problem for one step of the stage: the system built at θ, trial points by line search."""

    def __init__(self, stage: GaussNewtonStage, system: LeastSquaresSystem, loss: float) -> None:
        self.stage, self.system, self.loss = stage, system, loss

    def linearize(self, theta: torch.Tensor) -> LeastSquaresSystem:
        return self.system

    def propose(
        self, theta: torch.Tensor, system: LeastSquaresSystem, delta: torch.Tensor, info: Any, damping: float
    ) -> Trial | None:
        """The best point of the line search along ``−δ``; None when no ``η`` lowers the loss."""
        eta, trial = self.stage._line_search(theta, delta, self.loss)
        return Trial(theta - eta * delta, trial, eta) if eta > 0 else None

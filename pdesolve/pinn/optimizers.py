"""Training stages: Adam, then L-BFGS with a strong-Wolfe line search, then energy natural gradient.

Each stage has ``step(closure) -> loss`` where ``closure()`` returns the loss tensor (it does not call
``backward``), and ``state_dict``/``load_state_dict`` for checkpoints.

- Adam with exponential learning-rate decay ``lr · γ^(k / decay_steps)``.
- L-BFGS (``torch.optim.LBFGS``, strong Wolfe) one iteration per ``step``; the gradient and change
  tolerances are 0 so that it keeps improving after Adam until ``steps`` is reached (DeepXDE's
  defaults stop it after a few iterations); it stops early only once the loss stalls exactly.
- Energy natural gradient (Müller & Zeinhofer 2023, "Achieving high accuracy with PINNs via energy
  natural gradient descent"): the Gauss–Newton step ``δ = argmin ‖J δ − r‖`` on the stacked residual
  ``r`` (``‖r‖²`` = the loss), which for linear PDEs is the natural gradient of the energy inner product,
  then a line search over ``η ∈ {2^−k}``. The least squares go to :mod:`pdesolve.ngd` (truncated SVD).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from pdesolve.ngd import solve_least_squares

Closure = Callable[[], torch.Tensor]


class AdamStage:
    """Adam with learning rate ``lr · decay^(step / decay_steps)`` (jaxpi's schedule)."""

    name = "adam"

    def __init__(self, params: list[torch.Tensor], lr: float, decay: float = 0.9, decay_steps: int = 2000) -> None:
        self.optimizer = torch.optim.Adam(params, lr=lr)
        self.schedule = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda k: decay ** (k / decay_steps))

    def step(self, closure: Closure) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        loss = closure()
        loss.backward()
        self.optimizer.step()
        self.schedule.step()
        return float(loss.detach())

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "schedule": self.schedule.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])


class LbfgsStage:
    """One L-BFGS iteration (strong-Wolfe line search, ≤ ``max_eval`` loss evaluations) per ``step``.

    ``step`` returns the loss at the start of the iteration (what the optimiser evaluated anyway).
    """

    name = "lbfgs"

    def __init__(self, params: list[torch.Tensor], history_size: int = 100, max_eval: int = 25) -> None:
        self.optimizer = torch.optim.LBFGS(
            params,
            lr=1.0,
            max_iter=1,
            max_eval=max_eval,
            history_size=history_size,
            tolerance_grad=0.0,
            tolerance_change=0.0,
            line_search_fn="strong_wolfe",
        )
        self.unchanged = 0
        self.last = float("inf")

    def step(self, closure: Closure) -> float:
        def evaluate() -> torch.Tensor:
            self.optimizer.zero_grad(set_to_none=True)
            loss = closure()
            loss.backward()
            return loss

        loss = float(self.optimizer.step(evaluate).detach())  # the loss before this iteration
        self.unchanged = self.unchanged + 1 if loss >= self.last else 0
        self.last = min(self.last, loss)
        return loss

    @property
    def stalled(self) -> bool:
        """No decrease over 20 consecutive iterations: converged to rounding."""
        return self.unchanged >= 20

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "unchanged": self.unchanged, "last": self.last}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.unchanged, self.last = state["unchanged"], state["last"]


def residual_jacobian(r: torch.Tensor, params: list[torch.Tensor], chunk: int = 128) -> torch.Tensor:
    """``J = ∂r/∂θ`` (M, P) for a residual built with autograd input derivatives.

    Forward mode by the double-backward trick: ``g(w) = Jᵀw`` is linear in ``w``, so ``∂(g·e_j)/∂w`` is
    column ``j`` of ``J``; ``chunk`` columns at a time are batched with ``is_grads_batched``.
    """
    w = torch.zeros_like(r, requires_grad=True)
    grads = torch.autograd.grad(r, params, w, create_graph=True, allow_unused=True, materialize_grads=True)
    g = torch.cat([part.reshape(-1) for part in grads])
    n_params = g.numel()
    columns = []
    for start in range(0, n_params, chunk):
        size = min(chunk, n_params - start)
        basis = torch.zeros(size, n_params, dtype=g.dtype, device=g.device)
        index = torch.arange(size, device=g.device)
        basis[index, start + index] = 1
        (block,) = torch.autograd.grad(g, w, basis, is_grads_batched=True, retain_graph=True, allow_unused=True)
        columns.append(block if block is not None else torch.zeros(size, r.numel(), dtype=r.dtype, device=r.device))
    return torch.cat(columns).T


class NaturalGradientStage:
    """Energy natural gradient / Gauss–Newton on ``r(θ)`` with a grid line search (Müller & Zeinhofer 2023).

    The direction ``δ = J⁺r`` is the truncated-SVD least-squares solution: singular values of ``J``
    below ``rcond · σ_max`` are dropped, the analogue of the paper's ``lstsq`` on the Gram matrix
    ``JᵀJ`` (whose default cut-off, ``eps · P`` on eigenvalues, is about 1e-7 on singular values).
    Then ``θ ← θ − η δ`` with the best ``η = 2^−k`` (searched until the loss rises again). A step
    that finds no decrease marks the stage ``stalled``: the fit has reached what the cut-off resolves.

    Measured on poisson2d (soft boundary loss, [2, 32, 1] tanh, float64): ``rcond`` = 1e-6 reaches
    a relative L2 error of 6e-7 in 60 steps; Tikhonov damping ``1e-12 σ_max²`` instead of a cut-off
    crawls (7e-6 after 100 steps), and a cut-off of 1e-8 or below without damping makes no progress.
    """

    name = "ngd"

    def __init__(
        self,
        params: list[torch.Tensor],
        residual: Callable[[], torch.Tensor],
        rcond: float = 1e-6,
        line_search: int = 30,
    ) -> None:
        self.params = params
        self.residual = residual
        self.rcond, self.line_search = rcond, line_search
        self.stalled = False
        self.last_info, self.last_eta = None, math.nan

    def _flat(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self.params])

    def _assign(self, theta: torch.Tensor) -> None:
        with torch.no_grad():
            offset = 0
            for p in self.params:
                p.copy_(theta[offset : offset + p.numel()].view_as(p))
                offset += p.numel()

    def _loss(self) -> float:
        return float(self.residual().detach().square().sum())

    def step(self, closure: Closure | None = None) -> float:
        r = self.residual()
        loss = float(r.detach().square().sum())
        J = residual_jacobian(r, self.params)
        delta, self.last_info = solve_least_squares(J, r.detach(), "svd", rcond=self.rcond)
        theta = self._flat()
        best_loss, best_eta = loss, 0.0
        for k in range(self.line_search + 1):
            eta = 0.5**k
            self._assign(theta - eta * delta)
            trial = self._loss()
            if trial < best_loss - 1e-12 * loss:  # decreases at rounding level do not count
                best_loss, best_eta = trial, eta
            elif best_eta > 0:  # past the minimum along the ray
                break
        self._assign(theta - best_eta * delta)
        self.last_eta = best_eta
        self.stalled = best_eta == 0
        return best_loss

    def state_dict(self) -> dict[str, Any]:
        return {"stalled": self.stalled}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stalled = state.get("stalled", False)

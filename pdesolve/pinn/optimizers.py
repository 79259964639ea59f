"""Training stages: Adam, then L-BFGS with a strong-Wolfe line search (Gauss–Newton: :mod:`.gauss_newton`).

Each stage has ``step(closure) -> loss`` where ``closure()`` returns the loss tensor (it does not call
``backward``), and ``state_dict``/``load_state_dict`` for checkpoints.

- Adam with exponential learning-rate decay ``lr · γ^(k / decay_steps)``.
- L-BFGS (``torch.optim.LBFGS``, strong Wolfe) one iteration per ``step``; the gradient and change
  tolerances are 0 so that it keeps improving after Adam until ``steps`` is reached (DeepXDE's
  defaults stop it after a few iterations); it stops early only once the loss stalls exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

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

"""Time marching: sequential time windows, each trained from the previous window's end state.

Wight & Zhao (arXiv 2020; CiCP 2021, "Solving Allen–Cahn and Cahn–Hilliard equations using the adaptive physics informed
neural networks", §3.2) and Mattey & Ghosh (2022, "A novel sequential method to train physics informed
neural networks for Allen Cahn and Cahn Hilliard equations") split ``[t₀, t₁]`` into windows
``[t_k, t_{k+1}]`` and train one network per window; the initial condition of window ``k`` is the
previous network at ``t_k``. Here it is imposed exactly through the time factor of
:class:`~pdesolve.pinn.transforms.OutputTransform`, ``u_k = u_{k−1}(x, t_k) + τ_k N_k(x, t)`` with
``τ_k = (t − t_k)/(t_{k+1} − t_k)``, so consecutive windows join continuously (exactly at ``τ_k = 0``);
the first window keeps the problem's own initial condition (soft when ``u₀`` is not periodic). Each
window's network starts from the previous one's weights (transfer learning, Penwarden, Jagtap,
Zhe, Karniadakis & Kirby 2023, "A unified scalable framework for causal sweeping strategies for PINNs").
Within a window everything else applies unchanged: points (RAD), causal weights over the window's
time chunks (Wang, Sankaran & Perdikaris 2022), the Gauss–Newton steps; step budgets are per window.

A checkpoint holds the finished windows' weights besides the current window's trainer state, so that
``--resume`` continues in the window it stopped in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import nn

from pdesolve.errors import PdesolveError
from pdesolve.pinn.checkpoint import Checkpointer
from pdesolve.pinn.model import PinnModel
from pdesolve.pinn.trainer import Trainer
from pdesolve.problem import Coords, Problem


def window_edges(time: tuple[float, float], windows: int) -> list[float]:
    """``windows + 1`` equally spaced times from ``t₀`` to ``t₁`` (the ends exactly)."""
    t0, t1 = time
    return [t0 + (t1 - t0) * k / windows for k in range(windows)] + [t1]


class EndState:
    """``x ↦ model(x, t)`` at a fixed time: the initial condition of the next window (numpy or torch); a
    system's as a mapping of every unknown (the algebraic ones a starting guess)."""

    def __init__(self, model: nn.Module, t: float, dim: int, names: tuple[str, ...] | None = None) -> None:
        self.model, self.t, self.dim, self.names = model, t, dim, names

    def __call__(self, x: Coords, p: Any) -> Any:
        columns = [x[k] for k in range(self.dim)]
        if not isinstance(columns[0], torch.Tensor):  # numpy: the problem's shape check, plots
            parameter = next(self.model.parameters())
            points = torch.as_tensor(np.stack(columns, axis=1), dtype=parameter.dtype, device=parameter.device)
            with torch.no_grad():
                values = self(Coords(list(points.T)), p)
            if self.names is None:
                return values.double().cpu().numpy()
            return {name: column.double().cpu().numpy() for name, column in values.items()}
        like = columns[0]
        parameter = next(self.model.parameters())
        points = torch.stack(columns + [torch.full_like(like, self.t)], dim=1)
        values = self.model(points.to(device=parameter.device, dtype=parameter.dtype)).to(like)
        return values if self.names is None else {name: values[:, j] for j, name in enumerate(self.names)}


def window_problem(problem: Problem, start: float, end: float, previous: nn.Module | None) -> Problem:
    """The problem on ``[start, end]``, starting from ``previous`` at ``start`` (its own ``u₀`` if None)."""
    names = problem.unknowns if problem.is_system else None
    initial = problem.initial if previous is None else EndState(previous, start, problem.dim, names)
    return replace(problem, time=(start, end), initial=initial)


class WindowedModel(nn.Module):
    """``u(x, t)`` from the window that holds ``t`` (the last window beyond the trained ones)."""

    def __init__(self, edges: list[float]) -> None:
        super().__init__()
        self.edges = list(edges)
        self.windows = nn.ModuleList()

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        if len(self.windows) == 1 or len(points) == 0:
            return self.windows[0](points)
        inner = torch.tensor(self.edges[1 : len(self.windows)], dtype=points.dtype, device=points.device)
        index = torch.bucketize(points[:, -1].contiguous(), inner, right=True)
        out: torch.Tensor | None = None
        for k, window in enumerate(self.windows):
            mask = index == k
            if bool(mask.any()):
                values = window(points[mask]).to(points.dtype)
                if out is None:  # (N,), or (N, unknowns) for a system
                    out = torch.empty((len(points), *values.shape[1:]), dtype=points.dtype, device=points.device)
                out[mask] = values
        return out

    @property
    def exact_conditions(self) -> list[str]:
        later = ["window initial"] if len(self.windows) > 1 else []
        return self.windows[0].exact_conditions + later


class TimeMarcher:
    """Trains ``windows`` time windows in turn; ``.model`` and ``.run()`` as a :class:`Trainer`.

    ``make_model(problem)`` builds a window's (untrained) model, ``make_trainer(problem, model,
    checkpointer)`` its trainer; steps per stage, points and weights are per window.
    """

    def __init__(
        self,
        problem: Problem,
        windows: int,
        make_model: Callable[[Problem], PinnModel],
        make_trainer: Callable[[Problem, PinnModel, Checkpointer], Trainer],
        checkpointer: Checkpointer,
        seed: int = 0,
    ) -> None:
        self.problem, self.n_windows = problem, windows
        self.make_model, self.make_trainer = make_model, make_trainer
        self.checkpointer, self.seed = checkpointer, seed
        self.edges = window_edges(problem.time, windows)
        self.model = WindowedModel(self.edges)
        self.trainer: Trainer | None = None
        self.window_stats: list[dict[str, Any]] = []

    def _add_window(self) -> Trainer:
        """Build window ``len(self.model.windows)`` from the last one (weights copied) and its trainer."""
        k = len(self.model.windows)
        previous = self.model.windows[-1] if k else None
        sub = window_problem(self.problem, self.edges[k], self.edges[k + 1], previous)
        torch.manual_seed(self.seed + k)
        model = self.make_model(sub)
        if previous is not None:
            model.network.load_state_dict(previous.network.state_dict())
        self.model.windows.append(model)
        self.checkpointer.extra = self._finished_state(k)
        self.trainer = self.make_trainer(sub, model, self.checkpointer)
        self.trainer.label = f"pinn window {k + 1}/{self.n_windows}"
        return self.trainer

    def _finished_state(self, done: int) -> dict[str, Any]:
        """What a checkpoint needs besides the current window's trainer: the first ``done`` windows."""
        weights = {
            key: value.detach().clone()
            for key, value in self.model.state_dict().items()
            if int(key.split(".")[1]) < done
        }
        return {"windows_done": done, "finished": weights, "window_stats": list(self.window_stats)}

    def _finish_window(self) -> None:
        for parameter in self.model.windows[-1].parameters():
            parameter.requires_grad_(False)

    def run(self) -> dict[str, Any]:
        """Train the remaining windows in order; statistics summed over windows, per window in ``window_losses``."""
        stats: dict[str, Any] = {}
        while len(self.model.windows) < self.n_windows or self.trainer is not None:
            trainer = self.trainer or self._add_window()
            stats = trainer.run()
            self.window_stats.append({k: stats[k] for k in ("steps", "final_loss", "train_time_s")})
            self._finish_window()
            self.trainer = None
            if self.checkpointer.every and len(self.model.windows) < self.n_windows:
                self.checkpointer.extra = self._finished_state(len(self.model.windows))
                self.checkpointer.save({"global_step": None})
        return self._stats(stats)

    def _stats(self, last: dict[str, Any]) -> dict[str, Any]:
        steps: dict[str, int] = {}
        for window in self.window_stats:
            for name, n in window["steps"].items():
                steps[name] = steps.get(name, 0) + n
        return {
            **last,
            "steps": steps,
            "iterations": sum(steps.values()),
            "final_loss": max(w["final_loss"] for w in self.window_stats),
            "train_time_s": sum(w["train_time_s"] for w in self.window_stats),
            "time_windows": self.n_windows,
            "window_losses": [w["final_loss"] for w in self.window_stats],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Rebuild the finished windows from a checkpoint and resume the current one where it stopped."""
        if "windows_done" not in state:
            raise PdesolveError("--resume: the checkpoint is not from a time-marching run (time_windows > 1)")
        done = state["windows_done"]
        if done > self.n_windows:
            raise PdesolveError(f"--resume: the checkpoint has {done} windows, this run {self.n_windows}")
        self.window_stats = []
        for k in range(done):
            self._add_window()
            prefix = f"windows.{k}."
            weights = {key[len(prefix) :]: v for key, v in state["finished"].items() if key.startswith(prefix)}
            self.model.windows[k].load_state_dict(weights)
            self._finish_window()
        self.window_stats = list(state["window_stats"])
        self.trainer = None
        if "model" in state:  # saved inside window ``done``
            self._add_window().load_state_dict(state)

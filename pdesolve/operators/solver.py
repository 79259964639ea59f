"""The registered ``fno`` solver: a trained Fourier neural operator evaluated at any resolution.

``pdesolve solve darcy2d --solver fno --set model=PATH --set n=128`` samples the family member (the problem's
own parameters when it sets every family field, else ``problem.sample(seed)``), puts its inputs on an
``n``-node grid, and runs the model there (``n = 0``: the resolution it was trained at).

An autoregressive model (trained on trajectories) needs the member's first ``history`` levels: the classical
solver of its data computes the member's trajectory at the model's times, the model rolls out from its first
levels, and the relative L2 errors against that trajectory (over all predicted levels and at the final
time) go to the stats and to one line on stderr. The solution holds the predicted levels.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from pdesolve.errors import PdesolveError
from pdesolve.operators.model_file import check_model_problem, load_model
from pdesolve.operators.pairs import data_grid, input_channels
from pdesolve.operators.rollout import Rollout, rollout_errors
from pdesolve.operators.trajectories import solve_trajectories
from pdesolve.problem import Box, Problem
from pdesolve.runtime import synchronize
from pdesolve.solvers.base import Solver, option, register
from pdesolve.solvers.solution import GridSolution


def family_member(problem: Problem, seed: int) -> Problem:
    """``problem`` itself when its parameters already fix every family field, else its member ``seed``."""
    if problem.family is None or set(problem.family.samplers) <= set(problem.params):
        return problem
    return problem.sample(seed)


@register
class FNOSolver(Solver):
    name = "fno"

    @dataclass(frozen=True)
    class Options:
        model: str = option("", "the trained model (model.pt of `pdesolve train fno PROBLEM --data DIR`); required")
        n: int | None = option(None, "evaluation grid nodes per axis (None: the training resolution)")
        repeats: int = option(3, "timed inference passes after a warm-up (the best is reported)", positive=True)

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        if problem.family is None:
            return "it has no family of inputs (family=) to learn an operator over"
        if not isinstance(problem.domain, Box) or problem.dim > 3:
            return "an FNO needs a 1D-3D box-shaped domain"
        return None

    @classmethod
    def compare_variants(cls, problem: Problem) -> list[dict[str, Any]]:
        """None: a trained model is needed, so ``fno`` runs in ``compare`` only when named with ``--set model=``."""
        return []

    def solve(self, problem: Problem) -> GridSolution:
        self.check(problem)
        if not self.config.model:
            raise PdesolveError(
                "the fno solver needs --set model=PATH (train one with `pdesolve train fno PROBLEM --data DIR`)"
            )
        device = torch.device(self.settings.device)
        model, card = load_model(self.config.model, device, problem)
        check_model_problem(card, problem)
        if isinstance(model, Rollout):
            return self._rollout(problem, model, card, device)
        resolution = self.config.n or int(card["resolution"])
        if "constraint" in card and resolution != card["resolution"]:
            raise PdesolveError(
                f"a {card['constraint']}-constrained model evaluates on its training grid (n={card['resolution']}), "
                f"not n={resolution}: its constraint rows are built for that grid"
            )
        member = family_member(problem, self.settings.seed)
        grid = data_grid(problem, resolution)
        inputs = torch.as_tensor(input_channels(problem, member, grid)[None], dtype=torch.float32, device=device)
        values, seconds = _timed_inference(model, inputs, self.config.repeats)
        times = np.array([member.time[1]]) if member.is_evolution else None
        stats: dict[str, Any] = {
            "resolution": resolution,
            "trained_resolution": card["resolution"],
            "inference_seconds": seconds,
            "model": str(self.config.model),
            "parameters": card.get("parameters"),
            "card_test_error": card.get("test_error"),
        }
        values = values[0, 0].astype(float)
        return GridSolution(member, grid, values[None] if times is not None else values, times=times, stats=stats)

    def _rollout(self, problem: Problem, model: Rollout, card: dict[str, Any], device: torch.device) -> GridSolution:
        """The model's rollout from the classical trajectory's first levels, with its errors against the rest."""
        times, history = tuple(card["rollout"]["times"]), model.history
        resolution = self.config.n or int(card["resolution"])
        finer = card.get("solve_resolution") if resolution == card["resolution"] else None
        member = family_member(problem, self.settings.seed)
        start = time.perf_counter()
        reference = solve_trajectories([member], times, resolution, finer, card["classical_solver"], self.settings)
        classical_seconds = time.perf_counter() - start
        window = torch.as_tensor(reference[:, :history], dtype=torch.float32, device=device)
        values, seconds = _timed_inference(model, window, self.config.repeats)
        errors = rollout_errors(torch.as_tensor(values), torch.as_tensor(reference[:, history:]))
        print(
            f"fno rollout of {model.steps} steps from t = {times[history - 1]:g} to {times[-1]:g}: relative L2 "
            f"{errors['trajectory_relative_l2']:.3e} over the trajectory, {errors['final_relative_l2']:.3e} at the "
            f"final time ({card['classical_solver']} reference, {classical_seconds:.2f} s; model {seconds:.4f} s)",
            file=sys.stderr,
        )
        stats: dict[str, Any] = {
            **errors,
            "iterations": model.steps,
            "history": history,
            "resolution": resolution,
            "trained_resolution": card["resolution"],
            "inference_seconds": seconds,
            "classical_seconds": classical_seconds,
            "model": str(self.config.model),
            "parameters": card.get("parameters"),
            "card_test_error": card.get("test_error"),
        }
        member = replace(member, time=(member.time[0], times[-1]))
        grid = data_grid(problem, resolution)
        return GridSolution(member, grid, values[0].astype(float), times=np.array(times[history:]), stats=stats)


@torch.no_grad()
def _timed_inference(model: torch.nn.Module, inputs: torch.Tensor, repeats: int) -> tuple[np.ndarray, float]:
    """Model output and the best wall time of ``repeats`` forward passes after one warm-up."""
    output = model(inputs)
    best = float("inf")
    for _ in range(max(repeats, 1)):
        synchronize(inputs.device)
        start = time.perf_counter()
        output = model(inputs)
        synchronize(inputs.device)
        best = min(best, time.perf_counter() - start)
    return output.float().cpu().numpy(), best

"""The registered ``fno`` solver: a trained Fourier neural operator evaluated at any resolution.

``pdesolve solve darcy2d --solver fno --set model=PATH --set n=128`` samples the family member (the problem's
own parameters when it sets every family field, else ``problem.sample(seed)``), puts its inputs on an
``n``-node grid, and runs the model there (``n = 0``: the resolution it was trained at).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from pdesolve.errors import PdesolveError
from pdesolve.operators.model_file import check_model_problem, load_model
from pdesolve.operators.pairs import data_grid, input_channels
from pdesolve.problem import Box, Problem
from pdesolve.solvers.base import Solver, register
from pdesolve.solvers.solution import GridSolution


def family_member(problem: Problem, seed: int) -> Problem:
    """``problem`` itself when its parameters already fix every family field, else its member ``seed``."""
    if problem.family is None or set(problem.family.samplers) <= set(problem.params):
        return problem
    return problem.sample(seed)


@register
class FNOSolver(Solver):
    name = "fno"
    family = "operator"
    summary = "Fourier neural operator trained on classical solves of the problem's family (--set model=PATH)"
    options = {"model": "", "n": 0, "repeats": 3}

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
        if not self.config["model"]:
            raise PdesolveError("the fno solver needs --set model=PATH (train one with `pdesolve train PROBLEM`)")
        device = torch.device(self.settings.device)
        model, card = load_model(self.config["model"], device)
        check_model_problem(card, problem)
        resolution = self.config["n"] or int(card["resolution"])
        member = family_member(problem, self.settings.seed)
        grid = data_grid(problem, resolution)
        inputs = torch.as_tensor(input_channels(problem, member, grid)[None], dtype=torch.float32, device=device)
        values, seconds = _timed_inference(model, inputs, self.config["repeats"])
        times = np.array([member.time[1]]) if member.is_evolution else None
        stats: dict[str, Any] = {
            "resolution": resolution,
            "trained_resolution": card["resolution"],
            "inference_seconds": seconds,
            "model": str(self.config["model"]),
            "parameters": card.get("parameters"),
            "card_test_error": card.get("test_error"),
        }
        values = values[0, 0].astype(float)
        return GridSolution(member, grid, values[None] if times is not None else values, times=times, stats=stats)


@torch.no_grad()
def _timed_inference(model: torch.nn.Module, inputs: torch.Tensor, repeats: int) -> tuple[np.ndarray, float]:
    """Model output and the best wall time of ``repeats`` forward passes after one warm-up."""
    output = model(inputs)
    best = float("inf")
    for _ in range(max(repeats, 1)):
        if inputs.is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        output = model(inputs)
        if inputs.is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return output.float().cpu().numpy(), best

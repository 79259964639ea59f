"""The hard-constraint layer: basis functions in, a field that satisfies the PDE on collocation points out.

``u = Σᵢ ωᵢ bᵢ`` where, per expert, ω solves the nonlinear least-squares problem of the constraint rows
(Levenberg–Marquardt, :mod:`pdesolve.constraints.gauss_newton`) and carries gradients by the implicit function
theorem (:mod:`pdesolve.constraints.implicit`). With a process group the experts are shared out among the
ranks and gathered afterwards (:mod:`pdesolve.constraints.distributed`). One expert is the global hard
constraint (Négiar et al. 2023); several are the mixture of experts of Chalapathi, Du & Krishnapriyan (2024).

Example (an FNO with ``nb`` output channels on a space-time grid)::

    system = GridConstraintSystem(problem, grid, experts=4, times=times, points=20_000)
    layer = GridHardConstraint(system, LMOptions(ridge=1e-8))
    u = layer(fno(inputs), inputs)            # (batch, T, *grid)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from pdesolve.constraints.distributed import GatherExperts, expert_block, on_every_rank
from pdesolve.constraints.gauss_newton import LMOptions, LMResult, levenberg_marquardt
from pdesolve.constraints.grid_system import GridConstraintSystem
from pdesolve.constraints.implicit import implicit_solution
from pdesolve.runtime import rank_and_world


@dataclass(frozen=True)
class SolveReport:
    """What the last solve did: LM iterations (of the slowest problem), the share of converged experts, the
    largest row residual, and each expert's iterations (mean over the batch)."""

    iterations: int
    converged: float
    max_residual: float
    expert_iterations: list[float]

    @classmethod
    def of(cls, result: LMResult) -> SolveReport:
        steps = result.steps.reshape(-1, result.steps.shape[-1]).double().mean(0)
        return cls(
            result.iterations,
            float(result.converged.float().mean()),
            float(result.residual.abs().max()),
            steps.tolist(),
        )


def _on_active_experts(evaluate: Callable, system, omega: torch.Tensor, mask: torch.Tensor, subsets: dict):
    """``evaluate(system, ω)`` for the experts with a problem under ``mask`` (batch, K) only, scattered back
    into full-size outputs (zeros elsewhere); the experts' subsystems are kept in ``subsets``."""
    experts = mask.any(0)
    if bool(experts.all()):
        return evaluate(system, omega)
    keep = experts.nonzero()[:, 0]
    key = tuple(keep.tolist())
    if key not in subsets:
        subsets[key] = system.subset(list(key))
    out = evaluate(subsets[key], omega[:, keep])

    def scatter(value: torch.Tensor) -> torch.Tensor:
        full = value.new_zeros(value.shape[0], omega.shape[1], *value.shape[2:])
        full[:, keep] = value
        return full

    return tuple(scatter(v) for v in out) if isinstance(out, tuple) else scatter(out)


def constrained_weights(
    system,
    theta: list[torch.Tensor],
    rows: Callable[..., torch.Tensor],
    rows_and_jacobian: Callable[..., tuple[torch.Tensor, torch.Tensor]],
    batch: int,
    nb: int,
    options: LMOptions,
    group: dist.ProcessGroup | None = None,
    start: float = 0.0,
) -> tuple[torch.Tensor, LMResult]:
    """ω (batch, K, nb) of every expert, differentiable in ``theta``; ``rows(system, ω, *θ)`` evaluates
    the rows of a (sub)system. With ``group`` this rank solves its block of experts only. Each LM iteration
    evaluates only the experts with an unconverged sample (``system.subset``)."""
    rank, size = rank_and_world(group)
    local = system if size == 1 else system.subset(expert_block(system.experts, rank, size))
    like = theta[0]
    omega0 = torch.full((batch, local.rows.experts, nb), start, dtype=like.dtype, device=like.device)
    detached = [t.detach() for t in theta]
    subsets: dict = {}
    with torch.no_grad():
        result = levenberg_marquardt(
            lambda w, mask: _on_active_experts(
                lambda s, v: rows_and_jacobian(s, v, *detached), local, w, mask, subsets
            ),
            lambda w, mask: _on_active_experts(lambda s, v: rows(s, v, *detached), local, w, mask, subsets),
            omega0,
            options,
        )
    omega = implicit_solution(
        lambda w, *t: rows(local, w, *t),
        result.omega,
        result.jacobian,
        result.gauss_newton,
        options.ridge,
        theta,
        group,
    )
    if size > 1:
        omega = GatherExperts.apply(omega, system.experts, group)
    return omega, result


class GridHardConstraint(nn.Module):
    """Hard constraint for grid backbones: ``forward(basis (batch, nb, *field), inputs) -> u (batch, *field)``.

    After each call, :attr:`report` summarises the solve and :attr:`converged` (batch,) flags the samples whose
    experts all converged (on every rank): the implicit backward is the derivative of the solution only there.
    """

    def __init__(
        self,
        system: GridConstraintSystem,
        options: LMOptions = LMOptions(),
        group: dist.ProcessGroup | None = None,
        start: float = 0.0,
    ) -> None:
        super().__init__()
        self.system, self.options, self.group, self.start = system, options, group, start
        self.report: SolveReport | None = None
        self.converged: torch.Tensor | None = None

    def weights(self, basis: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        """The solved ω (batch, K, nb)."""
        omega, result = constrained_weights(
            self.system,
            [basis],
            lambda s, w, b: s.residual(w, b, inputs),
            lambda s, w, b: s.residual_and_jacobian(w, b, inputs),
            basis.shape[0],
            basis.shape[1] - self.system.trace_channels,
            self.options,
            self.group,
            self.start,
        )
        self.report = SolveReport.of(result)
        self.converged = on_every_rank(result.converged.all(-1), self.group)
        return omega

    def forward(self, basis: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        return self.system.assemble(self.weights(basis, inputs), basis)

"""Training an FNO backbone with soft, hard or mixture-of-experts hard constraints (Chalapathi et al. 2024).

The backbone is an FNO on the space-time grid of ``levels`` time levels over ``problem.time`` (space only for
stationary problems). Its input is the data set's input field (the initial condition, repeated over time);
its output is ``basis`` channels for ``constraint="hard"`` (one expert) and ``"moe"`` (``experts`` of them),
turned into the field by :class:`~pdesolve.constraints.layer.GridHardConstraint`, or one channel for
``"soft"``, where the same rows enter the loss as ``soft_weight`` times their relative residual
``‖r(u)‖ / ‖r(0)‖`` (per sample, mean over the batch; :meth:`ConstrainedOperator.relative_residual`). The
data loss is the relative L2 error on the observed time levels (the final level for ``pdesolve dataset``
pairs, every level for trajectories), weighted by ``data_weight``. With ``data_weight = 0`` the training is
physics-informed only, as in the paper's experiments (its diffusion–sorption and Navier–Stokes configurations
weigh the interior data loss 0 and the PDE, initial and boundary losses 1): every variant then minimises the
relative residual of the rows of its output, and the targets serve only to measure the error.

The loop is :class:`~pdesolve.training.loop.Trainer`'s. Two safeguards of the hard variants, its callbacks: a
sample whose Levenberg–Marquardt solve stopped unconverged (at the iteration cap) is left out of that step's
gradient (``skip_unconverged``: :class:`~pdesolve.training.callbacks.SkipUnconverged`), since the
implicit-function backward is the derivative of a converged solution only; and with ``keep_best``
(:class:`~pdesolve.training.callbacks.KeepBest`) the model ends with the parameters of the epoch of lowest
training loss, so that a late Adam spike does not decide the result (figures:
benchmarks/RESULTS.md, "Design choices of the constraint rows"). Under ``torchrun`` the experts are shared out
among the ranks; the batches are the same on every rank.

``pdesolve train constrained PROBLEM --data DIR --constraint moe --experts 4`` runs
:func:`~pdesolve.constraints.command.run_constrained_training`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from pdesolve.constraints.gauss_newton import LMOptions
from pdesolve.constraints.grid_system import GridConstraintSystem
from pdesolve.constraints.strategies import STRATEGIES, strategy_of
from pdesolve.io import checkpoint as checkpoints
from pdesolve.operators.fno import FNO
from pdesolve.problem import Grid, Problem
from pdesolve.runtime import rank_and_world, relative_l2
from pdesolve.training.callbacks import Checkpoint, Divergence, KeepBest, Progress, SkipUnconverged
from pdesolve.training.loop import Step, Trainer

CONSTRAINTS = tuple(STRATEGIES)
CHECKPOINT_KIND = "constrained-training"
OPTIMISER_OPTIONS = ("epochs", "batch_size", "lr", "weight_decay", "progress")  # free to change on resume


@dataclass(frozen=True)
class ConstraintConfig:
    """What to train: the constraint, experts (an int splits the first axis), basis functions, PDE rows per
    expert (``points``; None: every node), time levels, the θ and the form of the time rows
    (:class:`~pdesolve.constraints.grid_system.GridConstraintSystem`: ½ trapezoidal, 1 backward Euler; step
    form in units of u, or rate form), whether
    every expert takes all initial and boundary rows (``shared_conditions``, the paper's diffusion–sorption MoE;
    off: each expert its subdomain's), the ``overlap`` of the subdomains the other rows come from, whether the
    experts fit learned interface values (``interfaces``: one more backbone channel) and are blended by a partition
    of unity (``blend``, needs an overlap; :class:`~pdesolve.constraints.grid_system.GridConstraintSystem`), the LM
    ridge, the soft weight, and the optimiser.

    ``skip_unconverged`` and ``keep_best`` are the safeguards of the module's docstring. ``lm_iterations`` caps
    each solve; converged experts drop out of the iterations, so a high cap costs only where solves are hard; at
    20, single-constraint solves on diffusion–sorption stopped converging at some seeds, which froze training
    through ``skip_unconverged``.

    ``ridge`` weighs ``½ ridge ‖ω‖²``. The paper's code appends the rows ``1e-4 · ω`` to the residual, i.e.
    ``½ (1e-4)² ‖ω‖²``: hence 1e-8. A ridge of 1e-4 in this convention shrinks ω of basis functions of unit
    norm (entries ~ 1/√nodes) far off the rows' least-squares solution (figures for these settings:
    benchmarks/RESULTS.md, "Design choices of the constraint rows")."""

    constraint: str = "moe"
    experts: int | tuple[int, ...] = 4
    basis: int = 16
    points: int | None = 20_000
    levels: int = 11
    theta: float = 0.5
    time_rows: str = "step"
    shared_conditions: bool = False
    overlap: float = 0.0
    interfaces: bool = False
    blend: bool = False
    ridge: float = 1e-8
    lm_iterations: int = 60
    soft_weight: float = 1.0
    data_weight: float = 1.0
    skip_unconverged: bool = True
    keep_best: bool = True
    epochs: int = 100
    batch_size: int = 4
    lr: float = 1e-3
    weight_decay: float = 1e-4
    modes: int = 8
    width: int = 32
    layers: int = 4
    seed: int = 0
    progress: bool = False


@dataclass
class ConstraintData:
    """Inputs (N, channels, *grid), targets (N, observed levels, *grid) and the levels they sit on."""

    inputs: torch.Tensor
    targets: torch.Tensor
    observed: list[int]


@dataclass
class ConstrainedResult:
    """The trained model, the training loss and the samples with unconverged solves per epoch, the epoch whose
    parameters the model keeps, the test error and the training time."""

    model: torch.nn.Module
    train_loss: list[float] = field(default_factory=list)
    unconverged: list[int] = field(default_factory=list)
    kept_epoch: int = 0
    test_error: float = math.nan
    seconds: float = 0.0


class ConstrainedOperator(torch.nn.Module):
    """FNO backbone plus (for hard/moe) the constraint layer; ``forward(inputs) -> u`` on the whole grid."""

    def __init__(
        self,
        problem: Problem,
        grid: Grid,
        config: ConstraintConfig,
        group=None,
        channels: int = 1,
        input_names: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.strategy = strategy = strategy_of(config.constraint)
        self.problem, self.config = problem, config
        self.levels = config.levels if problem.is_evolution else 0
        times = np.linspace(*problem.time, self.levels) if problem.is_evolution else None
        self.system = GridConstraintSystem(
            problem,
            grid,
            strategy.experts(config),
            times,
            config.points,
            input_names,
            seed=config.seed,
            theta=config.theta,
            shared_conditions=config.shared_conditions,
            overlap=config.overlap,
            time_rows=config.time_rows,
            interfaces=config.interfaces and strategy.couples_experts(config),
            blend=config.blend and strategy.couples_experts(config),
        )
        dim = grid.dim + (1 if problem.is_evolution else 0)
        periodic = ((False,) if problem.is_evolution else ()) + tuple(grid.periodic)
        outputs = strategy.outputs(config, self.system)
        self.fno = FNO(dim, channels, outputs, config.modes, config.width, config.layers, periodic=periodic)
        options = LMOptions(ridge=config.ridge, max_iter=config.lm_iterations)
        self.layer = strategy.layer(self.system, options, group)

    def backbone(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.levels:
            inputs = inputs[:, :, None].expand(-1, -1, self.levels, *inputs.shape[2:])
        return self.fno(inputs)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        out = self.backbone(inputs)
        return out[:, 0] if self.layer is None else self.layer(out, inputs)

    def rows_norm(self, u: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        """``‖r(u)‖`` of the constraint rows per sample, for fields ``u`` (batch, *field)."""
        omega = torch.ones(u.shape[0], self.system.experts, 1, dtype=u.dtype, device=u.device)
        own_trace = u[:, None].expand(-1, 1 + self.system.trace_channels, *u.shape[1:])  # interface rows are 0
        return self.system.residual(omega, own_trace, inputs).flatten(1).norm(dim=1)

    def data_norm(self, inputs: torch.Tensor) -> torch.Tensor:
        """``‖r(0)‖`` per sample: the rows of the zero field, i.e. the initial, boundary and source data."""
        with torch.no_grad():
            zero = torch.zeros(len(inputs), *self.system.field_shape, dtype=inputs.dtype, device=inputs.device)
            return self.rows_norm(zero, inputs)

    def relative_residual(
        self, u: torch.Tensor, inputs: torch.Tensor, data_norm: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Relative residual of the constraint rows for fields ``u`` (batch, *field): ``‖r(u)‖ / ‖r(0)‖`` per
        sample (``data_norm``: :meth:`data_norm` of the inputs, computed here when not given). Dimensionless
        like the relative L2 data loss, so Adam's ε and the weight decay act alike whatever the units of ``u``
        and ``t`` (the raw ``mean(r²)`` of diffusion–sorption rows is ~1e-5, where a
        weight decay of 1e-4 outweighs it); not squared, so its gradient does not fade as the rows shrink
        (the paper's loss is likewise a sum of norms)."""
        reference = self.data_norm(inputs) if data_norm is None else data_norm
        return self.rows_norm(u, inputs) / reference.clamp_min(1e-12)


def evaluate(model: ConstrainedOperator, data: ConstraintData, batch_size: int) -> float:
    """Mean relative L2 error on the observed levels."""
    errors = []
    for start in range(0, len(data.inputs), batch_size):
        inputs = data.inputs[start : start + batch_size]
        u = model(inputs).detach()
        if model.levels:
            u = u[:, data.observed]
        errors.append(
            relative_l2(
                u.reshape(data.targets[start : start + batch_size].shape), data.targets[start : start + batch_size]
            )
        )
    return float(torch.cat(errors).mean())


def train_hard_constrained(
    problem: Problem,
    grid: Grid,
    train_data: ConstraintData,
    test_data: ConstraintData | None,
    config: ConstraintConfig,
    device: torch.device | str = "cpu",
    input_names: list[str] | None = None,
    checkpoint: Checkpoint | None = None,
) -> ConstrainedResult:
    """Train a constrained FNO (see the module docstring); returns the model, losses and the test error.
    ``checkpoint`` (:func:`checkpoint_of`) keeps the run and resumes it."""
    group = dist.group.WORLD if rank_and_world()[1] > 1 else None
    torch.manual_seed(config.seed)
    channels = train_data.inputs.shape[1]
    model = ConstrainedOperator(problem, grid, config, group, channels, input_names).to(device)
    inputs, targets = train_data.inputs.to(device), train_data.targets.to(device)
    with torch.no_grad():
        model.fno.input_mean.copy_(inputs.mean()), model.fno.input_std.copy_(inputs.std().clamp_min(1e-6))
        if model.strategy.fits_output_scale:  # output scale from the data, or from the inputs when none are seen
            scale = targets if config.data_weight else inputs
            model.fno.output_mean.copy_(scale.mean()), model.fno.output_std.copy_(scale.std().clamp_min(1e-6))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, config.epochs))
    generator = torch.Generator().manual_seed(config.seed)
    physics = model.strategy.physics_loss(config)
    if physics:  # ‖r(0)‖ depends on the inputs only: once per sample, not per step
        step = config.batch_size
        data_norms = torch.cat([model.data_norm(inputs[i : i + step]) for i in range(0, len(inputs), step)])

    def batches(epoch: int) -> Iterator[torch.Tensor]:
        order = torch.randperm(len(inputs), generator=generator).to(device)
        for first in range(0, len(inputs), config.batch_size):
            yield order[first : first + config.batch_size]

    def losses(batch: torch.Tensor) -> Step:
        u = model(inputs[batch])
        observed = u[:, train_data.observed] if model.levels else u
        value = config.data_weight * relative_l2(observed.reshape(targets[batch].shape), targets[batch])
        if physics:
            value = value + config.soft_weight * model.relative_residual(u, inputs[batch], data_norms[batch])
        converged = model.layer.converged if model.layer is not None else torch.ones_like(value, dtype=torch.bool)
        return Step(value, converged=converged)

    callbacks = [
        Divergence("the training loss", "lower --lr"),
        *([SkipUnconverged()] if config.skip_unconverged else []),
        *([KeepBest()] if config.keep_best else []),
        Progress(config.progress, f"train {config.constraint}"),
    ]
    trainer = Trainer(model, optimizer, schedule, callbacks, [generator], checkpoint=checkpoint)
    run = trainer.fit(config.epochs, batches, losses)
    kept = run.kept_epoch if run.kept_epoch is not None else max(run.epoch - 1, 0)
    result = ConstrainedResult(model, run.history.get("train_loss", []), run.history.get("unconverged", []), kept)
    result.seconds = run.seconds
    if test_data is not None:
        moved = ConstraintData(test_data.inputs.to(device), test_data.targets.to(device), test_data.observed)
        result.test_error = evaluate(model, moved, config.batch_size)
    return result


def checkpoint_of(
    path: Path,
    problem: Problem,
    config: ConstraintConfig,
    every: int,
    resume: bool = False,
    device: torch.device | str = "cpu",
) -> Checkpoint:
    """The training checkpoint at ``path``: it resumes only a run of ``problem`` with the same constraint and
    architecture (every option of ``config`` but the optimiser's and the epoch count)."""
    shaping = {key: value for key, value in asdict(config).items() if key not in OPTIMISER_OPTIONS}
    head = checkpoints.header(CHECKPOINT_KIND, problem, "fno-constrained", shaping)
    return Checkpoint(path, head, every, resume, rank_and_world()[0] == 0, device)

"""The registered ``pinn`` solver: physics-informed network training on any problem of the layer.

Defaults follow what works best in this project: the ``ngd`` preset (:mod:`pdesolve.pinn.presets`), the
damped Gauss–Newton natural gradient (:mod:`pdesolve.pinn.gauss_newton`) with a budget scaled to the
problem, hard constraints (exact Dirichlet, periodic and initial data) and Sobol points. Adam then L-BFGS,
gradient-norm weights, causal weights, Fourier features, RAR/RAD, several harmonics of periodic axes
(``periodic_modes``) and time marching (``time_windows``; :mod:`pdesolve.pinn.time_marching`) are options;
``preset=manual`` starts from the listed defaults instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from pdesolve.errors import PdesolveError
from pdesolve.io import checkpoint
from pdesolve.pinn.applicability import why_not_applicable
from pdesolve.pinn.checkpoint import KIND, Checkpointer, load_checkpoint
from pdesolve.pinn.gauss_newton import SOLVERS
from pdesolve.pinn.losses import CausalWeights, LossWeights, Objective
from pdesolve.pinn.model import ANSATZES, INPUT_SCALINGS, PinnModel, build_model
from pdesolve.pinn.networks import ACTIVATIONS, NETWORKS
from pdesolve.pinn.presets import PRESETS, preset_options
from pdesolve.pinn.sampling import SAMPLING, Sampler
from pdesolve.pinn.solution import PinnSolution
from pdesolve.pinn.time_marching import TimeMarcher
from pdesolve.pinn.trainer import Plan, Trainer
from pdesolve.problem import Gauge, Periodic, Problem
from pdesolve.solvers.base import Solver, option, register

DTYPES = {"float32": torch.float32, "float64": torch.float64}
CHECKPOINT = "checkpoint.pt"
# options a checkpoint must agree on with the run resuming from it: those that shape the network
SHAPING_OPTIONS = (
    "network",
    "width",
    "depth",
    "activation",
    "hard_constraints",
    "fourier_scale",
    "periodic_modes",
    "corner_enrichment",
    "time_windows",
    "ansatz",
    "input_scaling",
)


def default_points(problem: Problem) -> tuple[int, int, int]:
    """(interior, boundary, initial) points when the options say None, by the dimension of space(-time)."""
    dims = problem.dim + (1 if problem.is_evolution else 0)
    interior = {1: 256, 2: 2000, 3: 4000}.get(dims, 8000)
    return interior, 64 if dims == 1 else 256 * (dims - 1), 256


@register
class PinnSolver(Solver):
    name = "pinn"
    systems = True  # hard or soft conditions per unknown, one residual column per equation

    @dataclass(frozen=True)
    class Options:
        preset: str = option(
            "ngd",
            "ngd: damped Gauss–Newton natural gradient scaled to the problem (fills in the network, points "
            "and steps below unless set) | manual: the defaults listed here (Adam → L-BFGS)",
            choices=PRESETS,
        )
        network: str = option(
            "mlp", "mlp | fourier (random Fourier features) | gated (residual, gated layers)", choices=NETWORKS
        )
        width: int = option(32, "hidden units per layer", positive=True)
        depth: int = option(3, "hidden layers", positive=True)
        activation: str = option("tanh", "tanh | sin", choices=ACTIVATIONS)
        fourier_scale: float = option(1.0, "fourier: standard deviation of the random frequencies", positive=True)
        periodic_modes: int = option(
            1,
            "harmonics of the embedding of periodic axes (cos kx, sin kx for k = 1..periodic_modes)",
            positive=True,
        )
        hard_constraints: bool = option(
            True, "build the Dirichlet, periodic and initial conditions into the network where possible"
        )
        corner_enrichment: bool = option(
            True,
            "add corner singular functions: of re-entrant polygon corners (Hu, Jin & Zhou 2024); the Stokes flow "
            "of corners where the wall velocity jumps (the cavity's lid; Moffatt 1964)",
        )
        ansatz: str = option(
            "plain",
            "plain | stream (2D flow: the network gives a stream function, div w = 0 exactly; velocity "
            "conditions then soft) | channel (a box channel less disks: the stream function with the velocity "
            "conditions exact and the inflow's flux at every x)",
            choices=ANSATZES,
        )
        input_scaling: str = option(
            "box",
            "box (each space axis to [−1, 1]) | isotropic (one factor for all axes, about the box's centre)",
            choices=INPUT_SCALINGS,
        )
        n_interior: int | None = option(
            None, "interior collocation points (None: by dimension, 256 / 2000 / 4000 / 8000 in 1-4D space-time)"
        )
        n_boundary: int | None = option(
            None, "points on the boundary conditions that are not built in (None: by dimension)"
        )
        n_initial: int | None = option(None, "points on the initial condition when it is not built in (None: 256)")
        sampling: str = option(
            "sobol", "sobol | hammersley | pseudo (random) | uniform (grid)", choices=tuple(SAMPLING)
        )
        points_near: str = option(
            "", "a boundary part (e.g. cylinder) to grade interior points toward (stationary 2D; '': none)"
        )
        points_near_fraction: float = option(0.5, "points_near: the share of the interior points graded toward it")
        time_grading: float = option(
            1.0,
            "evolution: interior times t₀ + (t₁ − t₀) s^k, s evenly spread; k > 1 crowds them toward t₀ (an initial layer)",
        )
        resample_every: int = option(0, "redraw the points every this many Adam steps (0: fixed points)")
        rar: bool = option(
            False, "residual-based adaptive refinement: add points where the residual is largest (Lu et al. 2021)"
        )
        rad: bool = option(
            False,
            "residual-based adaptive distribution: redraw the points in proportion to the residual (Wu et al. 2023)",
        )
        rad_candidates: int = option(25, "RAD's candidate points per drawn point", positive=True)
        adam_steps: int = option(2000, "Adam steps (first stage)")
        lr: float = option(1e-3, "Adam's learning rate", positive=True)
        lbfgs_steps: int = option(500, "L-BFGS steps with a strong-Wolfe line search (second stage)")
        ngd_steps: int = option(0, "damped Gauss–Newton natural-gradient steps (third stage; Müller & Zeinhofer 2023)")
        ngd_rcond: float = option(1e-6, "Gauss–Newton: relative singular-value cut-off of the SVD solve", positive=True)
        ngd_solver: str = option(
            "auto",
            "Gauss–Newton least squares: svd | cholesky | auto | cg (matrix-free, CGLS on J v, Jᵀw)",
            choices=SOLVERS,
        )
        ngd_damping: float = option(
            1e-3,
            "Gauss–Newton: starting Levenberg–Marquardt damping λ (relative to trace(JᵀJ)/P; 0: undamped)",
        )
        ngd_refresh_every: int = option(
            0, "Gauss–Newton: redraw (rad) or grow (rar) the points every this many steps (0: never)"
        )
        ngd_warmup: int = option(
            0, "Gauss–Newton: the first this many steps on 1/8 of the interior points (cheap early steps; 0: none)"
        )
        loss_weights: str = option(
            "fixed",
            "fixed | adaptive (gradient-norm balancing of the loss terms in the Adam stage)",
            choices=("fixed", "adaptive"),
        )
        initial_weight: float = option(
            1.0, "factor on the initial-condition loss term where the condition is not built in", positive=True
        )
        causal: bool = option(
            False, "weight later times by how well earlier times are fitted (Wang, Sankaran & Perdikaris 2022)"
        )
        time_windows: int = option(
            1, "train evolution problems window by window in time, each starting from the last", positive=True
        )
        checkpoint_every: int = option(0, "steps between checkpoints (0: none; Ctrl-C saves one anyway)")
        checkpoint: str = option("", "checkpoint file (default: checkpoint.pt in the run folder)")
        resume: str = option("", "a checkpoint to continue from")

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        return why_not_applicable(problem)

    def _validate(self) -> None:
        """What the fields' choices and bounds do not say (those are checked when the options are given)."""
        if self.settings.dtype not in DTYPES:
            raise PdesolveError(f"pinn: dtype must be float32 or float64, got {self.settings.dtype!r}")
        if not self.config.ngd_rcond < 1:
            raise PdesolveError(f"pinn: ngd_rcond must lie in (0, 1), got {self.config.ngd_rcond}")
        if self.config.loss_weights == "adaptive" and self.config.adam_steps == 0:
            raise PdesolveError(
                "pinn: loss_weights=adaptive balances the Adam stage's gradients, and this run has no Adam steps"
                " (set adam_steps, or preset=manual)"
            )

    def checkpoint_path(self) -> Path | None:
        """``checkpoint``, else ``checkpoint.pt`` in the run folder (none outside a run folder)."""
        if self.config.checkpoint:
            return Path(self.config.checkpoint)
        return Path(self.settings.folder) / CHECKPOINT if self.settings.folder else None

    def checkpoint_header(self, problem: Problem) -> dict:
        """What this run's checkpoints are for: the problem and the options that shape the network."""
        shaping = {key: getattr(self.config, key) for key in SHAPING_OPTIONS} | {"dtype": self.settings.dtype}
        return checkpoint.header(KIND, problem, self.name, shaping)

    def build(self, problem: Problem, callback=None, callback_every: int = 0) -> Trainer | TimeMarcher:
        """The trainer with model, points and objective (resumed from ``resume`` when given); with
        ``time_windows`` > 1 on an evolution problem, a :class:`TimeMarcher` of one trainer per window
        (steps and points per window)."""
        self.check(problem)
        self.config = replace(self.Options(), **{**preset_options(self.config.preset, problem), **self.given})
        self._validate()
        c, s = self.config, self.settings
        torch.manual_seed(s.seed)
        head = self.checkpoint_header(problem)
        checkpointer = Checkpointer(self.checkpoint_path(), c.checkpoint_every, head)
        state = load_checkpoint(c.resume, torch.device(s.device), head) if c.resume else None
        if c.time_windows > 1 and problem.is_evolution:
            marcher = TimeMarcher(
                problem,
                c.time_windows,
                self._model,
                lambda sub, model, saver: self._trainer(sub, model, saver, callback, callback_every),
                checkpointer,
                s.seed,
            )
            if state is not None:
                marcher.load_state_dict(state)
            return marcher
        model = self._model(problem)
        if c.initial_weight != 1.0 and not (problem.is_evolution and "initial" not in model.exact_conditions):
            raise PdesolveError(
                "pinn: initial_weight weights the initial condition's loss term, and this run has none"
                " (the condition is built in, or the problem is stationary)"
            )
        trainer = self._trainer(problem, model, checkpointer, callback, callback_every)
        if state is not None:
            if "windows_done" in state:
                raise PdesolveError("--resume: the checkpoint is from a time-marching run; set time_windows")
            trainer.load_state_dict(state)
        return trainer

    def _model(self, problem: Problem) -> PinnModel:
        c = self.config
        model = build_model(
            problem,
            c.network,
            c.width,
            c.depth,
            c.activation,
            bool(c.hard_constraints),
            c.fourier_scale,
            c.periodic_modes,
            seed=self.settings.seed,
            corner_enrichment=bool(c.corner_enrichment),
            ansatz=c.ansatz,
            input_scaling=c.input_scaling,
        )
        return model.to(device=torch.device(self.settings.device), dtype=DTYPES[self.settings.dtype])

    def _trainer(
        self, problem: Problem, model: PinnModel, checkpointer: Checkpointer, callback=None, callback_every: int = 0
    ) -> Trainer:
        """Points, objective and plan for ``model`` on ``problem`` (one time window when marching)."""
        c, s = self.config, self.settings
        hard = bool(c.hard_constraints)
        exact = model.exact_dirichlet
        soft = [
            i
            for i, cond in enumerate(problem.boundary)
            if not isinstance(cond, (Periodic, Gauge)) and not any(cond is e for e in exact)
        ]
        defaults = default_points(problem)
        n_interior, n_boundary, n_initial = (
            self.from_problem(k, problem, d) for k, d in zip(("n_interior", "n_boundary", "n_initial"), defaults)
        )
        sampler = Sampler(
            problem,
            soft_conditions=soft,
            soft_initial=problem.is_evolution and not model.transform.initial,
            soft_periodic=any(problem.periodic_axes) and not hard,
            n_interior=n_interior,
            n_boundary=n_boundary,
            n_initial=n_initial,
            method=c.sampling,
            dtype=DTYPES[s.dtype],
            device=torch.device(s.device),
            near=c.points_near,
            near_fraction=c.points_near_fraction,
            time_grading=c.time_grading,
        )
        causal = CausalWeights(problem.time) if c.causal and problem.is_evolution else None
        weights = LossWeights(c.loss_weights == "adaptive", factors={"initial": c.initial_weight})
        objective = Objective(model, problem, weights, causal)
        refresh = c.resample_every or (max(1, c.adam_steps // 10) if c.rar else 0)
        plan = Plan(
            adam_steps=c.adam_steps,
            lr=c.lr,
            lbfgs_steps=c.lbfgs_steps,
            ngd_steps=c.ngd_steps,
            ngd_rcond=c.ngd_rcond,
            ngd_solver=c.ngd_solver,
            ngd_damping=c.ngd_damping,
            ngd_refresh_every=c.ngd_refresh_every,
            ngd_warmup=c.ngd_warmup,
            refresh_every=refresh,
            resample=c.resample_every > 0,
            rar=c.rar,
            rad=c.rad,
            rad_candidates=int(c.rad_candidates),
            seed=s.seed,
        )
        return Trainer(objective, sampler, plan, checkpointer, s.progress, callback, callback_every)

    def solve(self, problem: Problem) -> PinnSolution:
        trainer = self.build(problem)
        stats = trainer.run()
        stats["exact_conditions"] = trainer.model.exact_conditions
        return PinnSolution(problem, trainer.model, stats)

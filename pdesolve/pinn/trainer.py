"""The training loop: stages in order (Adam → L-BFGS → Gauss–Newton), point refresh, checkpoints.

During Adam the training points may be redrawn every ``refresh_every`` steps (``resample``) and/or grown
by RAR; L-BFGS keeps the last set fixed (its curvature memory assumes one loss). The Gauss–Newton stage
may redraw/grow them every ``ngd_refresh_every`` steps: each of its steps builds its model afresh. Its first
``ngd_warmup`` steps see only the first ``1/WARMUP_FRACTION`` of the interior points (a Sobol prefix or a RAD draw's
first picks, so still spread over the domain): far from the solution a step on fewer rows goes nearly as far, at
a fraction of the cost of forming and solving the Gauss–Newton system.
A loss that turns non-finite or grows by orders of magnitude over its start
(:class:`~pdesolve.divergence.DivergenceMonitor`) stops training with
:class:`~pdesolve.errors.DivergenceError` and leaves the last good checkpoint in place; Ctrl-C saves a
checkpoint first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from pdesolve.divergence import DivergenceMonitor
from pdesolve.errors import DivergenceError
from pdesolve.io.interrupts import deferred
from pdesolve.memory_guard import require
from pdesolve.ngd.residual_jacobian import jacobian_function
from pdesolve.pinn.checkpoint import Checkpointer
from pdesolve.pinn.gauss_newton import GaussNewtonStage
from pdesolve.pinn.losses import Objective, pde_residual, pointwise, soft_gauges
from pdesolve.pinn.optimizers import AdamStage, LbfgsStage
from pdesolve.pinn.sampling import PointSet, Sampler, rad_select, rar_select
from pdesolve.report.progress import progress_bar

RESIDUAL_CHUNK = 20_000  # candidate points per residual evaluation (memory)
WARMUP_FRACTION = 8  # the Gauss–Newton warm-up steps see 1/8 of the interior points


@dataclass(frozen=True)
class Plan:
    """Steps per stage and the point schedule."""

    adam_steps: int = 2000
    lr: float = 1e-3
    lbfgs_steps: int = 500
    ngd_steps: int = 0
    ngd_rcond: float = 1e-6
    ngd_solver: str = "auto"
    ngd_damping: float = 1e-3
    ngd_refresh_every: int = 0
    ngd_warmup: int = 0
    refresh_every: int = 0
    resample: bool = False
    rar: bool = False
    rad: bool = False
    # RAD draws its points from a dense candidate set (Wu et al. 2023): with only 4 candidates per point the
    # draw without replacement takes nearly every candidate in a thin front and caps its density there
    # (burgers1d, 4 × 24, 4000 points, seed 2: errors 5.7e-5–1.6e-4 over steps 200–230 with 4, 5.4e-5–1.0e-4
    # over steps 210–260 with 25; seed 3 still 1.0–2.5e-4 with 25, 4.0e-5 on 8000 points); a sparse set keeps
    # the draw closer to uniform (allen_cahn1d, 10 windows of 1000 points: 2.6e-4 with 4, 7.0e-4 with 25)
    rad_candidates: int = 25
    seed: int = 0

    @property
    def stages(self) -> list[tuple[str, int]]:
        return [
            (name, n) for name, n in (("adam", self.adam_steps), ("lbfgs", self.lbfgs_steps), ("ngd", self.ngd_steps))
        ]


class Trainer:
    """Trains ``objective.model``; ``callback(trainer)`` runs every ``callback_every`` steps, off the clock."""

    def __init__(
        self,
        objective: Objective,
        sampler: Sampler,
        plan: Plan,
        checkpointer: Checkpointer | None = None,
        progress: bool = False,
        callback: Callable[[Trainer], None] | None = None,
        callback_every: int = 0,
    ) -> None:
        self.objective, self.sampler, self.plan = objective, sampler, plan
        self.model = objective.model
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.checkpointer = checkpointer
        self.progress = progress
        self.label = "pinn"  # the progress bar's name (time marching adds the window)
        self.callback, self.callback_every = callback, callback_every
        self.base: PointSet = sampler.draw(plan.seed)
        self.added = self.base.interior[:0]
        self.stage_index = 0
        self.step = 0
        self.global_step = 0
        self.history: list[float] = []
        self.steps_done: dict[str, int] = {}
        self.elapsed = 0.0
        self._stage_state: dict[str, Any] | None = None
        self.monitor = DivergenceMonitor("the loss", "")

    # --- points ------------------------------------------------------------------------------
    @property
    def warming_up(self) -> bool:
        """Whether the current step is one of the Gauss–Newton stage's cheap first steps."""
        stages = self.plan.stages
        in_ngd = self.stage_index < len(stages) and stages[self.stage_index][0] == "ngd"
        return in_ngd and self.step < self.plan.ngd_warmup

    @property
    def points(self) -> PointSet:
        """The points of the current step (during the warm-up, its share of the interior)."""
        return self._point_set(self.warming_up)

    def _point_set(self, warm: bool) -> PointSet:
        interior = self.base.interior
        if warm:
            interior = interior[: max(1, len(interior) // WARMUP_FRACTION)]
        if not len(self.added) and interior is self.base.interior:
            return self.base
        return PointSet(torch.cat([interior, self.added]), self.base.boundary, self.base.initial, self.base.periodic)

    def _refresh(self, round_: int, resample: bool) -> None:
        """Redraw (resample; by RAD when asked) and/or add the largest-residual candidates (RAR)."""
        if resample:
            self.base = self.sampler.draw(self.plan.seed + round_, method="pseudo")
        if resample and self.plan.rad:
            n = self.sampler.n_interior
            candidates = self.sampler.interior(
                self.plan.rad_candidates * n, self.plan.seed + 7_919 * round_, method="pseudo"
            )
            residual = torch.cat(
                [
                    pointwise(pde_residual(self.model, self.objective.problem, chunk).detach())
                    for chunk in candidates.split(RESIDUAL_CHUNK)
                ]
            )
            self.base.interior = rad_select(candidates, residual, n, self.plan.seed + round_)
        if self.plan.rar:
            k = max(1, self.sampler.n_interior // 10)
            candidates = self.sampler.interior(10 * k, self.plan.seed + 100_003 * round_, method="pseudo")
            residual = pointwise(pde_residual(self.model, self.objective.problem, candidates))
            self.added = torch.cat([self.added, rar_select(candidates, residual, k)])

    # --- stages ------------------------------------------------------------------------------
    def _make_stage(self, name: str):
        if name == "adam":
            return AdamStage(self.params, self.plan.lr)
        if name == "lbfgs":
            return LbfgsStage(self.params)
        objective = self.objective
        rows = int(objective.residual_vector(self._point_set(False), refresh=False).numel())  # after the warm-up
        columns = sum(p.numel() for p in self.params)
        dense = self.plan.ngd_solver != "cg"  # matrix-free: two gradients' memory, no N × P Jacobian
        require(
            8 * (3 * rows * columns + 2 * columns**2) if dense else 8 * 4 * (rows + columns),
            f"the Gauss–Newton stage's dense Jacobian ({rows} residuals × {columns} parameters)",
            "fewer points (n_interior) or a smaller network (width, depth)",
            str(self.params[0].device),
        )
        mean_gauge = any(c.at is None for c in soft_gauges(self.model, objective.problem))
        residual = lambda: objective.residual_vector(self.points)  # noqa: E731 - refreshes the weights it fixes
        linearize = jacobian_function(
            self.model,
            self.params,
            residual,
            per_sample=not self.base.periodic and not mean_gauge,  # soft periodic rows pair points, a mean all
        )
        return GaussNewtonStage(
            self.params,
            lambda: objective.residual_vector(self.points, refresh=False),
            linearize,
            solver=self.plan.ngd_solver,
            rcond=self.plan.ngd_rcond,
            damping=self.plan.ngd_damping,
            residual=residual,
        )

    def _closure(self, adaptive: bool) -> Callable[[], torch.Tensor]:
        def closure() -> torch.Tensor:
            terms = self.objective.terms(self.points)
            if adaptive:
                self.objective.weights.update(terms, self.params)
            return self.objective.weighted(terms)

        return closure

    def loss_terms(self) -> dict[str, float]:
        return {name: float(term.detach()) for name, term in self.objective.terms(self.points).items()}

    def loss(self) -> float:
        return float(self.objective.weighted(self.objective.terms(self.points)).detach())

    # --- checkpoints -------------------------------------------------------------------------
    def state_dict(self, stage: Any) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "stage_index": self.stage_index,
            "step": self.step,
            "global_step": self.global_step,
            "stage_state": None if stage is None else stage.state_dict(),
            "weights": self.objective.weights.state_dict(),
            "base": dict(vars(self.base)),  # plain data: checkpoints load with weights_only
            "added": self.added,
            "history": list(self.history),
            "steps_done": dict(self.steps_done),
            "elapsed": self.elapsed,
            "torch_rng": torch.get_rng_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.stage_index, self.step, self.global_step = state["stage_index"], state["step"], state["global_step"]
        self._stage_state = state["stage_state"]
        self.objective.weights.load_state_dict(state["weights"])
        self.base, self.added = PointSet(**state["base"]), state["added"]
        self.history, self.steps_done = list(state["history"]), dict(state["steps_done"])
        self.elapsed = state["elapsed"]
        torch.set_rng_state(state["torch_rng"])

    def _save(self, stage: Any) -> None:
        if not all(bool(torch.isfinite(p).all()) for p in self.params):
            self._diverged("the network's parameters became NaN/inf")
        self._check(self.loss())
        self.checkpointer.save(self.state_dict(stage))

    def _where(self) -> str:
        name = self.plan.stages[self.stage_index][0]
        return f"step {self.step} of {name} (global step {self.global_step})"

    def _check(self, loss: float) -> None:
        """Stop on a loss that is NaN/inf or orders of magnitude above the first one."""
        reason = self.monitor.reason(loss, self._where())
        if reason is not None:
            self._diverged(reason)

    def _diverged(self, reason: str) -> None:
        checkpointer = self.checkpointer
        if checkpointer is not None and checkpointer.saved_step is not None:
            kept = f"last good checkpoint: {checkpointer.path} (step {checkpointer.saved_step})"
        elif checkpointer is not None and checkpointer.every > 0:
            kept = f"no checkpoint was written yet (the first was due at step {checkpointer.every})"
        else:
            kept = "no checkpoint was written (set checkpoint_every)"
        raise DivergenceError(f"PINN training diverged: {reason}; lower lr; {kept}")

    # --- the loop ----------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Train through every stage; returns the statistics."""
        stage = None
        if self.history:  # resumed: the growth is measured from the first loss of the whole run
            self.monitor = DivergenceMonitor("the loss", "", start=self.history[0])
        try:
            for index, (name, steps) in enumerate(self.plan.stages):
                if index < self.stage_index or steps <= 0:
                    continue
                self.stage_index = index
                stage = self._make_stage(name)
                if self._stage_state is not None:
                    stage.load_state_dict(self._stage_state)
                    self._stage_state = None
                self._run_stage(stage, name, steps)
                self.steps_done[name] = self.step
                self.stage_index, self.step, stage = index + 1, 0, None
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM (pdesolve.cli): keep the state reached
            if self.checkpointer is not None:
                self.checkpointer.save(self.state_dict(stage))
            raise
        steps = {name: self.steps_done.get(name, 0) for name, _ in self.plan.stages}
        return {
            "steps": steps,
            "iterations": sum(steps.values()),
            "final_loss": self.loss(),
            "loss_terms": self.loss_terms(),
            "train_time_s": self.elapsed,
            "n_interior": int(len(self.points.interior)),
        }

    def _run_stage(self, stage: Any, name: str, steps: int) -> None:
        closure = self._closure(adaptive=name == "adam")
        bar = progress_bar(self.progress, total=steps, initial=self.step, desc=f"{self.label} {name}", leave=False)
        clock = time.perf_counter()
        while self.step < steps:
            with deferred():  # a step is whole or not made: Ctrl-C/SIGTERM checkpoints a step boundary
                every = {"adam": self.plan.refresh_every, "ngd": self.plan.ngd_refresh_every}.get(name, 0)
                if every and self.step and self.step % every == 0:
                    ngd = name == "ngd"
                    self._refresh(self.step // every + (10_000 if ngd else 0), self.plan.resample or ngd)
                loss = stage.step(closure)
                self._check(loss)
                self.history.append(loss)
                self.step += 1
                self.global_step += 1
            bar.update()
            bar.set_postfix(loss=f"{loss:.3e}", refresh=False)
            if self.checkpointer is not None and self.checkpointer.due(self.global_step):
                self._save(stage)
            if self.callback is not None and self.callback_every and self.global_step % self.callback_every == 0:
                self.elapsed += time.perf_counter() - clock
                self.callback(self)
                clock = time.perf_counter()
            if getattr(stage, "stalled", False):
                break
        self.elapsed += time.perf_counter() - clock
        bar.close()

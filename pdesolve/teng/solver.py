"""The ``teng`` solver: time-evolving natural gradient for ``u_t = rhs(u, x, p)``.

Chen, Zhou et al., "TENG: Time-Evolving Natural Gradient for Solving PDEs With Deep Neural Nets
Toward Machine Precision" (ICML 2024, arXiv 2404.10771). The network (:mod:`pdesolve.teng.network`)
satisfies periodic and Dirichlet conditions by construction; it is fitted to ``u_0`` (Adam, then
Gauss–Newton, on coarser grids first: :mod:`pdesolve.teng.levels`), then each time step fits it to the
target of an explicit scheme (:mod:`pdesolve.teng.stepper`) by Gauss–Newton iterations (:mod:`pdesolve.teng.fit`).
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import torch

from pdesolve.errors import DivergenceError, PdesolveError, ProblemError
from pdesolve.io import checkpoint
from pdesolve.memory_guard import require
from pdesolve.ngd import FlatModule, rows_per_chunk
from pdesolve.problem import Coords, Dirichlet, Problem
from pdesolve.problem.conditions import evaluate_value
from pdesolve.problem.domains import Box
from pdesolve.report.progress import progress_bar
from pdesolve.solvers.base import Solver, option, register
from pdesolve.teng.checkpoint import KIND, SHAPING_OPTIONS, RunState, load_checkpoint, save_checkpoint
from pdesolve.teng.fit import FitInfo, FitOptions, GaussNewtonFit, fit_initial
from pdesolve.teng.levels import LevelTracker, level_sizes
from pdesolve.teng.model import SampledModel
from pdesolve.teng.network import TengNetwork
from pdesolve.teng.solution import TengSolution
from pdesolve.teng.stepper import SCHEMES, make_stepper

DEFAULT_POINTS = {1: 1024, 2: 65536, 3: 32768}
DEFAULT_STEPS = 100
CHECKPOINT = "checkpoint.pt"
LSTSQ_METHODS = ("cholesky", "svd", "qr", "cg")
# the options a step's fit reads, under the same names in FitOptions
FIT_OPTIONS = (
    "iterations",
    "tol",
    "lstsq",
    "damping",
    "param_subset",
    "param_subset_later",
    "jacobian",
    "svd_driver",
    "geodesic",
    "mu",
)


@register
class TengSolver(Solver):
    name: ClassVar[str] = "teng"

    @dataclass(frozen=True)
    class Options:
        scheme: str = option("heun", "euler (TENG-Euler) | heun (TENG-Heun, second order)", choices=SCHEMES)
        dt: float | None = option(None, "time step (None: the problem's default, else (t1 - t0) / 100)")
        n_points: int | None = option(
            None, "sample points (None: the problem's default, else 1024 / 65536 / 32768 in 1D / 2D / 3D)"
        )
        resample: bool = option(False, "new uniform random points every step instead of the fixed grid")
        width: int = option(40, "hidden units per layer of the network", positive=True)
        depth: int = option(5, "hidden layers", positive=True)
        iterations: int = option(7, "least-squares iterations of an Euler step and of Heun's predictor", positive=True)
        corrector_iterations: int = option(5, "least-squares iterations of Heun's corrector", positive=True)
        tol: float = option(1e-12, "stop a step's fit early at ‖r‖/‖target‖ ≤ tol")
        miss_factor: float = option(1e6, "warn when a step's fit ends above miss_factor × tol (0: never)")
        stop_on_miss: bool = option(
            False, "stop with an error instead of warning when a step's fit misses miss_factor × tol"
        )
        lstsq: str = option(
            "cholesky", "least squares: cholesky (damped normal equations) | svd | qr | cg", choices=LSTSQ_METHODS
        )
        rcond: float = option(
            1e-11, "svd: relative singular-value cut-off (≈ eps · N of the paper's lstsq at 65,536 points)"
        )
        damping: float = option(0.0, "fixed damping added to the adaptive Levenberg–Marquardt one")
        mu: float = option(1e-10, "start of the adaptive damping of a step's fit (relative to the scaled Gram matrix)")
        geodesic: float = option(
            0.0, "geodesic acceleration in the steps' fits (cholesky): ‖a‖ ≤ geodesic ‖δ‖ (0: off)"
        )
        svd_driver: str | None = option(
            None, "CUDA only: gesvd | gesvdj | gesvda (None: torch's choice)", choices=("gesvd", "gesvdj", "gesvda")
        )
        param_subset: int = option(1536, "parameters in a fit's first solve, drawn at random (0: all)")
        param_subset_later: int = option(1024, "parameters in a fit's later solves (0: all)")
        jacobian: str = option(
            "structured",
            "structured (closed form, TENG network) | rev | fwd (torch.func)",
            choices=("structured", "rev", "fwd"),
        )
        memory_gb: float = option(2.0, "bound on one block of Jacobian rows, in GB", positive=True)
        init_adam_steps: int = option(500, "Adam steps before the least-squares fit of u_0")
        init_lr: float = option(1e-2, "their learning rate", positive=True)
        init_iterations: int = option(200, "Levenberg–Marquardt iterations of the fit of u_0")
        init_tol: float = option(
            5e-9,
            "stop the fit of u_0 at ‖r‖/‖u_0‖ ≤ init_tol (default: far below the error a run of steps keeps)",
        )
        init_points: int = option(
            1024,
            "fit u_0 on grids of this many points, √2 times as many, … while they fit the sample points, then on those"
            " (0: the sample points only)",
        )
        init_param_subset: int = option(0, "parameters in each iteration of the fit of u_0 (0: all)")
        init_lstsq: str = option(
            "cholesky",
            "the fit of u_0's first, non-monotone phase: cholesky | svd (interpolates small problems)",
            choices=("cholesky", "svd"),
        )
        init_geodesic: float = option(1.5, "geodesic acceleration of the fit of u_0 (0: off)")
        init_mu: float = option(1e-3, "start of its adaptive damping")
        checkpoint_every: int = option(0, "steps between checkpoints (0: none)")
        checkpoint_path: str = option("", "checkpoint file (default: checkpoint.pt in the run folder)")
        resume: str = option("", "a checkpoint to continue from")

    @classmethod
    def not_applicable(cls, problem: Problem) -> str | None:
        if not problem.is_evolution:
            return "TENG solves evolution problems u_t = rhs(u, x, p)"
        if not isinstance(problem.domain, Box):
            return "TENG needs a box-shaped domain"
        if not problem.only_dirichlet:
            return "TENG builds only periodic and Dirichlet conditions into its network"
        dirichlet = problem.conditions(Dirichlet)
        if not problem.is_fully_periodic:
            if len(dirichlet) != 1 or dirichlet[0].on is not None:
                return "non-periodic axes need exactly one Dirichlet condition covering their boundary"
        return None

    # --- building blocks ---------------------------------------------------------------------
    def _lift(self, problem: Problem):
        """The Dirichlet value as a function of points (None when zero or fully periodic)."""
        dirichlet = problem.conditions(Dirichlet)
        if problem.is_fully_periodic or not dirichlet:
            return None
        value = dirichlet[0].value
        if not callable(value) and float(value) == 0.0:
            return None
        params = problem.p

        def lift(x: torch.Tensor) -> torch.Tensor:
            return torch.as_tensor(evaluate_value(value, Coords(list(x.unbind(1))), params), dtype=x.dtype)

        return lift

    def _points(self, problem: Problem, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """A uniform grid of about ``n`` points (interior on Dirichlet axes), or ``n`` random points."""
        lower, upper = problem.domain.bounds
        dtype, device = getattr(torch, self.settings.dtype), self.settings.device
        if generator is not None:
            unit = torch.rand(n, problem.dim, generator=generator, dtype=dtype)
            return (torch.as_tensor(lower, dtype=dtype) + unit * torch.as_tensor(upper - lower, dtype=dtype)).to(device)
        per_axis = max(2, round(n ** (1 / problem.dim)))
        axes = []
        for lo, hi, periodic in zip(lower, upper, problem.periodic_axes):
            grid = torch.linspace(lo, hi, per_axis + (1 if periodic else 2), dtype=dtype)
            axes.append(grid[:-1] if periodic else grid[1:-1])
        mesh = torch.meshgrid(*axes, indexing="ij")
        return torch.stack([c.reshape(-1) for c in mesh], dim=1).to(device)

    def _time_grid(self, problem: Problem) -> tuple[float, int]:
        t0, t1 = problem.time
        dt = self.from_problem("dt", problem, (t1 - t0) / DEFAULT_STEPS)
        steps = max(1, math.ceil((t1 - t0) / dt - 1e-9))
        return (t1 - t0) / steps, steps

    def _targets(self, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        """``u_0`` at the points, a problem's failure reported as such."""
        try:
            return self._initial_values(problem, points)
        except Exception as error:
            raise ProblemError(f"problem {problem.name!r}: initial(x, p) fails on torch points: {error}") from None

    def _initial_values(self, problem: Problem, points: torch.Tensor) -> torch.Tensor:
        t0 = torch.full_like(points[:, 0], problem.time[0])
        values = problem.initial(Coords(list(points.unbind(1)), t=t0), problem.p)
        return torch.broadcast_to(torch.as_tensor(values, dtype=points.dtype, device=points.device), t0.shape)

    # --- the run -----------------------------------------------------------------------------
    def solve(self, problem: Problem) -> TengSolution:
        self.check(problem)
        cfg = self.config
        dtype, device = getattr(torch, self.settings.dtype), torch.device(self.settings.device)
        lower, upper = problem.domain.bounds
        network = TengNetwork(lower, upper, problem.periodic_axes, cfg.width, cfg.depth, self._lift(problem))
        network.reset_parameters(self.settings.seed).to(device=device, dtype=dtype)
        fn = FlatModule(network)
        n_points = int(self.from_problem("n_points", problem, DEFAULT_POINTS[problem.dim]))
        generator = torch.Generator().manual_seed(self.settings.seed)
        require(
            2 * cfg.memory_gb * 2**30,
            f"TENG's Jacobian blocks (memory_gb={cfg.memory_gb:g}, twice for the Gram matrix and work arrays)",
            "a lower memory_gb",
            self.settings.device,
        )
        chunk = rows_per_chunk(fn.n_params, cfg.memory_gb * 2**30, torch.finfo(dtype).bits // 8, minimum=16)
        model = SampledModel(fn, problem, self._points(problem, n_points, None), chunk)
        fit_options = FitOptions(
            **{key: getattr(cfg, key) for key in FIT_OPTIONS},
            rcond=cfg.rcond or None,  # 0: eps · max(N, m)
        )
        fitter = GaussNewtonFit(model, fit_options, generator)
        dt, steps = self._time_grid(problem)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        shaping = {k: getattr(cfg, k) for k in SHAPING_OPTIONS if k != "n_points"} | {"n_points": n_points}
        head = checkpoint.header(KIND, problem, self.name, shaping | {"dtype": self.settings.dtype})
        path = cfg.checkpoint_path or (str(Path(self.settings.folder) / CHECKPOINT) if self.settings.folder else "")

        progress = progress_bar(self.settings.progress, total=steps, desc="teng: fitting u0")
        if cfg.resume:
            state = load_checkpoint(cfg.resume, head, device)
            if not math.isclose(state.dt, dt, rel_tol=1e-12):
                raise PdesolveError(f"checkpoint {cfg.resume} was made with dt = {state.dt:g}, not {dt:g}")
            generator.set_state(state.generator_state)
        else:
            state = self._initial_state(problem, fitter, dt, shaping)
        stepper = make_stepper(cfg.scheme, fitter, cfg.iterations, cfg.corrector_iterations)
        first = state.step
        try:
            self._march(problem, state, stepper, model, generator, steps, path, head, progress)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM (pdesolve.cli): keep the steps made
            if path:
                save_checkpoint(path, head, state)
            raise
        finally:
            progress.close()
        summary = self._summary(state, fn, model)
        summary["phase_seconds"] = {  # this run's share of the wall time (a resumed run fits nothing)
            "initial_fit": 0.0 if cfg.resume else state.stats["init_seconds"],
            "steps": sum(state.stats["step_seconds"][first:]),
        }
        return TengSolution(problem, fn, state.times, torch.stack(state.thetas), summary, chunk)

    def _march(
        self, problem, state: RunState, stepper, model, generator, steps: int, path: str, head: dict, progress
    ) -> None:
        """Time steps from ``state.step`` to ``steps``; a checkpoint every ``checkpoint_every`` steps."""
        cfg, device = self.config, torch.device(self.settings.device)
        n_points, dt, stats, t0 = state.options["n_points"], state.dt, state.stats, problem.time[0]
        progress.set_description("teng: steps", refresh=False)
        progress.set_postfix_str(
            f"initial fit {stats['init_seconds']:.1f} s, rel. residual {stats['init_residual']:.1e}", refresh=False
        )
        progress.update(state.step)
        for k in range(state.step, steps):
            if cfg.resample:
                model.points = self._points(problem, n_points, generator)
            start = time.perf_counter()
            theta, info = stepper.step(state.theta, t0 + k * dt, dt)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            stats["step_seconds"].append(time.perf_counter() - start)
            stats["step_residual"].append(info.residual)
            stats["step_solves"].append(info.solves)
            if not bool(torch.isfinite(theta).all()):
                raise DivergenceError(
                    f"TENG produced non-finite parameters at step {k + 1} (t = {t0 + (k + 1) * dt:g})"
                )
            self._check_fit(info.residual, k + 1, t0 + (k + 1) * dt, stats)
            state.thetas.append(theta)
            state.times.append(t0 + (k + 1) * dt)
            state.step = k + 1
            state.generator_state = generator.get_state()  # as it was after the last whole step
            every = cfg.checkpoint_every
            if path and every and (state.step % every == 0 or state.step == steps):
                save_checkpoint(path, head, state)
            progress.update()

    def _check_fit(self, residual: float, step: int, t: float, stats: dict[str, Any]) -> None:
        """A step whose fit ends above ``miss_factor × tol`` is not the scheme's step: warn once (its count
        goes to the statistics) or, with ``stop_on_miss``, stop before the next checkpoint."""
        cfg = self.config
        bound = cfg.miss_factor * cfg.tol
        if bound <= 0 or residual <= bound:
            return
        message = (
            f"TENG step {step} (t = {t:g}): the fit to the step's target ended at ‖r‖/‖target‖ = {residual:.2g}, "
            f"above miss_factor × tol = {bound:.2g}; lower dt, raise iterations or the network's width"
        )
        if cfg.stop_on_miss:
            saved = checkpoint.last_saved.get("path")
            kept = f"; last checkpoint: {saved}" if saved else ""
            raise DivergenceError(message + kept)
        stats["steps_missing_tol"] = stats.get("steps_missing_tol", 0) + 1
        if stats["steps_missing_tol"] == 1:
            warnings.warn(message + " (further misses are counted in steps_missing_tol)", stacklevel=2)

    def _initial_state(self, problem: Problem, fitter: GaussNewtonFit, dt: float, shaping: dict) -> RunState:
        cfg = self.config
        model = fitter.model
        start = time.perf_counter()
        subset = cfg.init_param_subset
        options = replace(
            fitter.options,
            tol=cfg.init_tol,
            param_subset=subset,
            param_subset_later=subset,
            geodesic=cfg.init_geodesic,
            mu=cfg.init_mu,
        )
        target = self._targets(problem, model.points)
        tracker = LevelTracker(model.values, target, cfg.init_tol)
        theta, info, levels = model.fn.theta0, None, []
        for n in level_sizes(cfg.init_points, model.n_points):  # coarse grids while they fit the sample points
            level = model
            if n < model.n_points:
                level = SampledModel(model.fn, problem, self._points(problem, n, None), model.chunk_size)
            values = target if level is model else self._targets(problem, level.points)
            until = None if level is model else tracker
            tracker.start_level()
            began = time.perf_counter()
            if info is None:
                first = GaussNewtonFit(level, options, fitter.generator)
                args = (cfg.init_adam_steps, cfg.init_lr, cfg.init_iterations, cfg.init_lstsq)
                theta, part = fit_initial(first, theta, values, *args, until=until)
                info = part
            else:  # from the damping the coarser fit reached
                carried = options.mu if info.damping is None else info.damping
                finer = GaussNewtonFit(level, replace(options, mu=carried), fitter.generator)
                theta, part = finer.fit(theta, values, cfg.init_iterations, until=until)
                info = FitInfo(info.residuals[:-1] + part.residuals[1:], info.solves + part.solves, part.damping)
            levels.append((level.n_points, part.iterations, time.perf_counter() - began))
            if tracker.reached:
                break
        stats = {
            "init_residual": tracker.residual(theta),  # at the sample points, wherever the fit ended
            "init_iterations": info.iterations,
            "init_levels": levels,  # (points, iterations, seconds) of each grid the fit ran on
            "init_seconds": time.perf_counter() - start,
            "step_seconds": [],
            "step_residual": [],
            "step_solves": [],
        }
        return RunState(0, dt, [problem.time[0]], [theta], fitter.generator.get_state(), shaping, stats)

    def _summary(self, state: RunState, fn: FlatModule, model: SampledModel) -> dict[str, Any]:
        stats = dict(state.stats)
        seconds = stats["step_seconds"]
        stats.update(
            n_params=fn.n_params,
            n_points=model.n_points,
            steps=state.step,
            dt=state.dt,
            scheme=self.config.scheme,
            seconds_per_step=sum(seconds) / len(seconds) if seconds else 0.0,
            max_step_residual=max(stats["step_residual"], default=0.0),
        )
        device = torch.device(self.settings.device)
        if device.type == "cuda":
            stats["peak_cuda_bytes"] = int(torch.cuda.max_memory_allocated(device))
        return stats

"""Fitting the network to target values at the sample points: Levenberg–Marquardt on parameter subsets.

One iteration (Chen et al., "TENG", ICML 2024, Sec. 3): the residual ``r = target - u_θ(X)``, the
Jacobian ``J = ∂u_θ(X)/∂θ_S`` on a random subset ``S`` of the parameters (all of them when the
subset size is 0), the step ``δ = argmin ‖J δ - r‖² + λ‖δ‖²`` and ``θ_S ← θ_S + δ``. Unlike the
paper's plain Gauss–Newton iteration (λ = 0, truncated SVD), the damping λ adapts (Nielsen 1999):
a step that does not lower the residual is solved again with more damping, a step that fits the
linear model well lowers it — :class:`~pdesolve.ngd.driver.DampedGaussNewton` with the
:class:`~pdesolve.ngd.driver.Nielsen` policy, on a :class:`SubsetSystem` per iteration. With ``lstsq="cholesky"`` the step comes from the damped normal
equations with Marquardt's column scaling, and ``geodesic > 0`` adds the geodesic acceleration of
Transtrum & Sethna (arXiv 1201.5885): ``a = -(JᵀJ + λ)⁻¹ Jᵀ u''[δ, δ]``, step ``δ + a/2``, taken only
when ``‖a‖ ≤ geodesic · ‖δ‖``. It follows the curved valleys of network fits and is what takes the
fit of ``u_0`` to ≈ 1e-8 instead of stalling near 1e-5.

For the TENG network the Jacobian columns come in closed form (:mod:`pdesolve.teng.structured`), and the
sweep at a trial point also gives the values there, so an accepted step costs no extra pass. A step on
all parameters at fewer points than parameters solves the kernel form ``δ = S²Jᵀ(JS²Jᵀ + λ)⁻¹ r``, its
matrix assembled layer by layer from the factors. Rows
come in memory-bounded blocks when ``N × |S|`` exceeds the model's chunk (normal equations or a
streaming QR accumulated block by block).

:func:`fit_initial` fits ``u_0`` from scratch: a short Adam warm start, then the same iteration.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import torch

from pdesolve.ngd import (
    DampedGaussNewton,
    GramSystem,
    LeastSquaresInfo,
    Nielsen,
    ReducedSystem,
    SVDSystem,
    Trial,
    reduce_rows,
)
from pdesolve.ngd.system import LeastSquaresSystem
from pdesolve.teng.model import SampledModel
from pdesolve.teng.structured import JacobianFactors

GROWTH = 1e3
PATIENCE = 8
FREE_ITERATIONS = 15
MAX_TRIES = 12
MU_MIN = 1e-15


@dataclass(frozen=True)
class FitOptions:
    """Options of one fit: ``tol`` is on ``‖r‖ / ‖target‖`` (0: run every iteration); ``damping`` is a
    fixed absolute damping added to the adaptive one, ``mu`` the adaptive one's start (relative)."""

    iterations: int = 7
    tol: float = 0.0
    lstsq: str = "cholesky"
    rcond: float | None = None
    damping: float = 0.0
    param_subset: int = 1536  # parameters in the first solve (0: all)
    param_subset_later: int = 1024  # in the later solves
    jacobian: str = "structured"
    svd_driver: str | None = None
    geodesic: float = 0.0
    mu: float = 1e-8


class NormalEquations:
    """``lstsq="cholesky"``: the damped normal equations with Marquardt's column scaling, accumulated block by
    block; they admit the kernel form and the geodesic acceleration."""

    gram = True

    def block(self, J: torch.Tensor, r: torch.Tensor, opts: FitOptions) -> LeastSquaresSystem:
        return GramSystem.factor(J, r, scale_columns=True)

    def blocks(self, pairs: Iterable, opts: FitOptions, rmatvec: Callable | None) -> LeastSquaresSystem:
        return GramSystem.accumulate(pairs, scale_columns=True, rmatvec=rmatvec)


class TruncatedSVD:
    """``lstsq="svd"``: the truncated SVD of the rows, or of their streaming QR factor when they come in blocks."""

    gram = False

    def block(self, J: torch.Tensor, r: torch.Tensor, opts: FitOptions) -> LeastSquaresSystem:
        return SVDSystem.factor(J, r, opts.svd_driver, opts.rcond)

    def blocks(self, pairs: Iterable, opts: FitOptions, rmatvec: Callable | None) -> LeastSquaresSystem:
        return SVDSystem.factor_reduced(reduce_rows(pairs), opts.svd_driver, opts.rcond)


@dataclass(frozen=True)
class ReducedSolve:
    """``lstsq="qr"`` or ``"cg"``: that solve of :mod:`pdesolve.ngd` on the rows, or on their streaming QR factor."""

    method: str
    gram = False

    def block(self, J: torch.Tensor, r: torch.Tensor, opts: FitOptions) -> LeastSquaresSystem:
        return ReducedSystem.of(J, r, self.method, opts.rcond)

    def blocks(self, pairs: Iterable, opts: FitOptions, rmatvec: Callable | None) -> LeastSquaresSystem:
        return replace(reduce_rows(pairs), method=self.method, rcond=opts.rcond)


LSTSQ: dict[str, NormalEquations | TruncatedSVD | ReducedSolve] = {
    "cholesky": NormalEquations(),
    "svd": TruncatedSVD(),
    "qr": ReducedSolve("qr"),
    "cg": ReducedSolve("cg"),
}


@dataclass
class FitInfo:
    """Relative residuals ``‖r‖/‖target‖``: the start, after each accepted step, and the best last;
    ``solves`` counts least-squares solves (rejected steps included); ``damping`` is the adaptive damping
    (relative) at the end, where a continued fit may start."""

    residuals: list[float] = field(default_factory=list)
    solves: int = 0
    damping: float | None = None

    @property
    def iterations(self) -> int:
        return max(0, len(self.residuals) - 2)

    @property
    def final(self) -> float:
        return self.residuals[-1]


@dataclass
class Point:
    """Parameters with their residual and, for the TENG network, the Jacobian factors there."""

    theta: torch.Tensor
    r: torch.Tensor
    cost: float  # ‖r‖²
    factors: JacobianFactors | None


@dataclass(frozen=True)
class SubsetSystem:
    """A least-squares system on the parameter subset ``columns`` (None: all) whose steps are full length
    (zero off the subset)."""

    system: LeastSquaresSystem
    columns: torch.Tensor | None
    n_params: int

    @property
    def unit(self) -> float:
        return self.system.unit

    def solve(self, damping: float, r: torch.Tensor | None = None) -> tuple[torch.Tensor, LeastSquaresInfo]:
        """The step for the kept residual, or (a :class:`GramSystem`) for another right-hand side ``r``."""
        delta, info = self.system.solve(damping) if r is None else self.system.solve(damping, r)
        if self.columns is None:
            return delta, info
        full = torch.zeros(self.n_params, dtype=delta.dtype, device=delta.device)
        return full.index_copy_(0, self.columns, delta), info


class GaussNewtonFit:
    """``fit(θ, target)``: Levenberg–Marquardt on random parameter subsets (Nielsen's damping update).

    The random subsets come from ``generator`` (on the CPU, so runs repeat across devices).
    """

    def __init__(self, model: SampledModel, options: FitOptions, generator: torch.Generator) -> None:
        if options.jacobian == "structured" and not model.structured:
            options = replace(options, jacobian="rev")
        self.model = model
        self.options = options
        self.generator = generator
        self.lstsq = LSTSQ[options.lstsq]
        self.structured = options.jacobian == "structured"  # the Jacobian factors come with the values

    def columns(self, size: int, n_params: int, device: torch.device) -> torch.Tensor | None:
        """A sorted random subset of ``size`` parameter indices (None: all of them)."""
        if size <= 0 or size >= n_params:
            return None
        chosen = torch.randperm(n_params, generator=self.generator)[:size]
        return chosen.sort().values.to(device)

    def evaluate(self, theta: torch.Tensor, target: torch.Tensor) -> Point:
        """Residual at ``θ`` (with the Jacobian factors when they are available: same sweep)."""
        if self.structured:
            factors = self.model.factors(theta)
            values = factors.values
        else:
            factors, values = None, self.model.values(theta)
        r = target - values
        return Point(theta, r, float(r.square().sum()), factors)

    def gradient(self, theta: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The gradient ``-2 Jᵀr / N`` of ``mean((u_θ - target)²)`` by reverse mode (cheaper than the factors)."""
        theta = theta.detach().requires_grad_(True)
        loss = sum(
            (self.model.fn(theta, chunk) - t).square().sum()
            for chunk, t in zip(self.model.chunks(), torch.split(target, self.model.chunk_size))
        )
        return torch.autograd.grad(loss / len(target), theta)[0]

    def _blocks(self, point: Point, columns: torch.Tensor | None):
        """Row blocks of ``J[:, columns]`` of at most the model's chunk size."""
        if point.factors is None:
            yield from self.model.jacobian_blocks(point.theta, columns, self.options.jacobian)
            return
        size = self.model.chunk_size
        for start in range(0, self.model.n_points, size):
            yield point.factors.rows(start, start + size).columns(columns)

    def linearize(self, point: Point, size: int) -> SubsetSystem:
        """The system on a random subset of ``size`` parameters: one block, or accumulated block by block."""
        opts = self.options
        n_params = point.theta.numel()
        columns = self.columns(size, n_params, point.theta.device)
        width = n_params if columns is None else len(columns)
        factors = point.factors
        lstsq = self.lstsq
        if lstsq.gram and columns is None and factors is not None and self.model.n_points < width:
            kernel, scale = factors.kernel()  # all columns, fewer points than parameters: N × N in O(N² width)
            return SubsetSystem(GramSystem.from_kernel(kernel, scale, point.r, factors.rmatvec), None, n_params)
        blocks = self._blocks(point, columns)
        if self.model.n_points <= self.model.chunk_size:
            return SubsetSystem(lstsq.block(next(blocks), point.r, opts), columns, n_params)
        pairs = zip(blocks, torch.split(point.r, self.model.chunk_size))  # one block held at a time
        rmatvec = None if point.factors is None else (lambda w: point.factors.rmatvec(w, columns))
        return SubsetSystem(lstsq.blocks(pairs, opts, rmatvec), columns, n_params)

    def accelerate(
        self, point: Point, system: SubsetSystem, delta: torch.Tensor, damping: float
    ) -> torch.Tensor | None:
        """The geodesic correction ``a/2`` of step ``δ``, or None when ``‖a‖ > geodesic · ‖δ‖``."""
        _, second = self.model.directional(point.theta, delta)
        acceleration, _ = system.solve(damping, -second)
        if float(torch.linalg.vector_norm(acceleration)) > self.options.geodesic * float(
            torch.linalg.vector_norm(delta)
        ):
            return None
        return acceleration / 2

    def fit(
        self,
        theta: torch.Tensor,
        target: torch.Tensor,
        iterations: int | None = None,
        growth: float = 1.0,
        patience: int = 0,
        until: Callable[[torch.Tensor, float], bool] | None = None,
    ) -> tuple[torch.Tensor, FitInfo]:
        """Up to ``iterations`` steps from ``θ``; returns the best θ seen and a :class:`FitInfo`.

        A step is accepted when its residual is below ``growth ×`` the best so far (``growth = 1``:
        monotone) and below that of ``u = 0``. The fit stops at ``tol``, after ``patience``
        iterations without a new best (``patience > 0``), when no damping within ``MAX_TRIES``
        doublings gives an acceptable step, or when ``until(θ, relative residual)`` of a new best is true.
        """
        opts = self.options
        iterations = opts.iterations if iterations is None else iterations
        here = self.evaluate(theta.detach(), target)
        norm_sq = max(float(target.square().sum()), 1e-300)
        info = FitInfo([math.sqrt(here.cost / norm_sq)])
        problem = _FitProblem(self, target, norm_sq, growth, opts.param_subset)
        atol = opts.tol**2 * norm_sq
        driver = DampedGaussNewton(problem, Nielsen(MU_MIN), MAX_TRIES, opts.damping, iterations, atol)
        state = driver.init(here, here.cost, opts.mu)
        best, stalled = here, 0
        while not (driver.terminate(state) or best.cost <= atol):
            problem.best_cost = best.cost
            state = driver.step(state)
            problem.size = opts.param_subset_later
            if state.stalled:
                break  # no acceptable step even with strong damping
            here = state.point
            info.residuals.append(math.sqrt(here.cost / norm_sq))
            if here.cost < best.cost:
                best, stalled = here, 0
                if until is not None and until(best.theta, info.residuals[-1]):
                    break
            else:
                stalled += 1
                if patience and stalled >= patience:
                    break
        info.solves, info.damping = state.solves, state.damping.value
        info.residuals.append(math.sqrt(best.cost / norm_sq))
        return best.theta, info


class _FitProblem:
    """The driver's problem of one fit: systems on random subsets, trial points ``θ + δ (+ a/2)`` accepted
    below ``growth ×`` the best residual and below that of ``u = 0``."""

    def __init__(self, fitter: GaussNewtonFit, target: torch.Tensor, norm_sq: float, growth: float, size: int) -> None:
        self.fitter, self.target, self.norm_sq, self.growth, self.size = fitter, target, norm_sq, growth, size
        self.best_cost = math.inf
        opts = fitter.options
        self.geodesic = opts.geodesic > 0 and fitter.lstsq.gram

    def linearize(self, point: Point) -> SubsetSystem:
        return self.fitter.linearize(point, self.size)

    def propose(
        self, point: Point, system: SubsetSystem, delta: torch.Tensor, info: LeastSquaresInfo, damping: float
    ) -> Trial | None:
        correction = self.fitter.accelerate(point, system, delta, damping) if self.geodesic else 0.0
        if correction is None:
            return None
        trial = self.fitter.evaluate(point.theta + delta + correction, self.target)
        if trial.cost < min(self.growth**2 * self.best_cost, self.norm_sq):
            return Trial(trial, trial.cost)
        return None


def adam_warm_start(fitter: GaussNewtonFit, theta: torch.Tensor, target: torch.Tensor, steps: int, lr: float):
    """``steps`` Adam iterations (Kingma & Ba, ICLR 2015) on ``mean((u_θ - target)²)``, the rate decaying
    exponentially to ``lr/100`` (written out: ``torch.optim`` would import its compiler on first use)."""
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    decay = 0.01 ** (1 / max(steps, 1))
    theta = theta.detach().clone()
    m, v = torch.zeros_like(theta), torch.zeros_like(theta)
    for k in range(1, steps + 1):
        gradient = fitter.gradient(theta, target)
        m.lerp_(gradient, 1 - beta1)
        v.mul_(beta2).addcmul_(gradient, gradient, value=1 - beta2)
        rate = lr * decay ** (k - 1) / (1 - beta1**k)
        theta.addcdiv_(m, (v / (1 - beta2**k)).sqrt_().add_(eps), value=-rate)
    return theta


def fit_output_layer(fitter: GaussNewtonFit, theta: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The TENG network's output layer (its last parameters) by linear least squares on the hidden features:
    ``u`` is linear in them, so one truncated-SVD solve gives their best values for the other parameters."""
    model = fitter.model
    if not model.structured:
        return theta
    factors = model.factors(theta)  # whatever Jacobian the fit itself uses (``jacobian=rev`` too)
    output = model.fn.module.output
    columns = torch.arange(theta.numel() - output.weight.numel() - output.bias.numel(), theta.numel())
    columns = columns.to(theta.device)
    delta, _ = SVDSystem.factor(factors.columns(columns), target - factors.values).solve(0.0)
    return theta.index_add(0, columns, delta)


def fit_initial(
    fitter: GaussNewtonFit,
    theta: torch.Tensor,
    target: torch.Tensor,
    adam_steps: int,
    lr: float,
    iterations: int,
    lstsq: str = "cholesky",
    until: Callable[[torch.Tensor, float], bool] | None = None,
) -> tuple[torch.Tensor, FitInfo]:
    """Fit ``u_0``: Adam warm start, the output layer by linear least squares, then Gauss–Newton until the
    fitter's ``tol``, ``iterations`` or ``until`` (of the monotone phase, see :meth:`GaussNewtonFit.fit`).

    Far from the solution Gauss–Newton is not monotone (it may first raise the residual, then
    converge fast), so steps up to ``GROWTH`` times the best residual are accepted at first, undamped
    and solved by ``lstsq`` (truncated SVD: it resolves directions that the normal equations'
    damping must drop; this finds interpolants of small problems in a few steps). After ``PATIENCE``
    iterations without a new best, or ``FREE_ITERATIONS`` in all, the fit goes on from the best
    parameters with the fitter's monotone, adaptively damped (and accelerated) steps.
    """
    theta = fit_output_layer(fitter, adam_warm_start(fitter, theta, target, adam_steps, lr), target)
    free = GaussNewtonFit(fitter.model, replace(fitter.options, lstsq=lstsq, mu=0.0), fitter.generator)
    theta, info = free.fit(theta, target, min(iterations, FREE_ITERATIONS), growth=GROWTH, patience=PATIENCE)
    remaining = iterations - info.iterations
    if info.final > fitter.options.tol and remaining > 0:
        theta, monotone = fitter.fit(theta, target, remaining, until=until)
        info = FitInfo(info.residuals[:-1] + monotone.residuals, info.solves + monotone.solves, monotone.damping)
    return theta, info

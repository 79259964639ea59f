"""How much can a learned V-cycle component gain over black-box multigrid? An upper bound by per-member optimisation.

The learned multigrid of ``pdesolve.learned`` (after Greenfeld et al., ICML 2019) predicts prolongations; the
classical ``mg`` is Dendy's black-box multigrid (J. Comput. Phys. 48, 1982). A network predicting ``P`` or
smoother weights for a family member cannot do better than those quantities optimised freely for that member,
so this script optimises them per member and reports the V-cycle's convergence factor ρ and the PCG iterations.
Every hierarchy is the learned multigrid's dense training hierarchy (Galerkin coarse operators down to 16
unknowns, Chebyshev(2) smoothing, exact coarsest solve) and ρ its training loss, exponentiated:

- ``linear``: the learned-mg network untrained on its ``linear`` basis (exactly linear interpolation);
- ``black-box``: Dendy's operator-dependent interpolation at every level (the untrained network on its
  ``black-box`` basis, the learned-mg default);
- ``free-P``: black-box, then every nonzero of every ``P`` optimised for this member (Adam on ρ's estimate);
- ``jacobi-weights-<s>``: black-box, the finest smoother replaced by ``s`` sweeps of Jacobi with one optimised
  weight per node (``s`` = 2 matches Chebyshev(2)'s cost).

ρ is measured on probes other than the optimised ones; PCG solves ``A x = 1`` to a true relative residual of
1e-8 with the dense V-cycle as the preconditioner. One JSON file (``--out``)::

    OMP_NUM_THREADS=1 python benchmarks/learned_mg_headroom.py --out headroom.json   # about 6 minutes
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import scipy.sparse as sp
import torch

from pdesolve.io.run_folder import write_json
from pdesolve.learned.learned_multigrid import (
    DenseLevel,
    Prolongation,
    convergence_estimate,
    dense_hierarchy,
    network_prolongation,
    vcycle,
)
from pdesolve.learned.prolongation import ProlongationNetwork, coarse_shape
from pdesolve.learned.systems import GridSystem, family_systems
from pdesolve.linalg.cg import cg
from pdesolve.linalg.system import SparseOperator
from pdesolve.problem import load_problem

SMOOTHER, STEPS = "chebyshev", 2  # the inference cycle's smoother


class FreeProlongation:
    """Every level's ``P`` as free parameters on the black-box pattern, starting from black-box values; levels
    are told apart by their number of unknowns."""

    def __init__(self, system: GridSystem, start: Prolongation) -> None:
        self.entries: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        for level in dense_hierarchy(start, system.matrix, system.shape, SMOOTHER, STEPS)[:-1]:
            pattern = level.P.nonzero(as_tuple=True)
            self.entries[level.A.shape[0]] = (
                torch.stack(pattern),
                level.P[pattern].detach().clone().requires_grad_(True),
            )

    def parameters(self) -> list[torch.Tensor]:
        return [values for _, values in self.entries.values()]

    def __call__(self, matrix: sp.csr_matrix, shape: tuple[int, ...]) -> tuple[torch.Tensor, tuple[int, ...]]:
        pattern, values = self.entries[matrix.shape[0]]
        small = coarse_shape(shape)
        P = torch.zeros(matrix.shape[0], int(np.prod(small)), dtype=torch.float64)
        return P.index_put(tuple(pattern), values), small


def weighted_jacobi(A: torch.Tensor, weights: torch.Tensor, sweeps: int) -> torch.Tensor:
    """``Mₛ`` of ``sweeps`` steps of ``x ← x + W D⁻¹ (b - A x)`` from zero: symmetric for a diagonal ``W``."""
    scaled = weights / torch.diagonal(A)
    M = torch.diag(scaled)
    for _ in range(sweeps - 1):
        M = M + scaled[:, None] * (torch.eye(A.shape[0], dtype=A.dtype) - A @ M)
    return M


def optimise(loss: Callable[[], torch.Tensor], parameters: list[torch.Tensor], steps: int, lr: float) -> list[float]:
    optimizer = torch.optim.Adam(parameters, lr=lr)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
        history.append(float(value.detach()))
    return history


class DenseVCycle:
    """The dense V-cycle as a CG preconditioner."""

    capturable = False
    flexible = False

    def __init__(self, levels: list[DenseLevel]) -> None:
        self.levels = [
            replace(
                level,
                A=level.A.detach(),
                smoother=level.smoother.detach(),
                P=None if level.P is None else level.P.detach(),
            )
            for level in levels
        ]

    def apply(self, r: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        z = vcycle(self.levels, r[:, None] if r.dim() == 1 else r).reshape(r.shape)
        return z if out is None else out.copy_(z)


def evaluate(levels: list[DenseLevel], system: GridSystem, probes: torch.Tensor, powers: int) -> dict:
    with torch.no_grad():
        rho = float(torch.exp(convergence_estimate(levels, probes, powers)))
    result = cg(SparseOperator(system.matrix), torch.ones(system.size, dtype=torch.float64), DenseVCycle(levels))
    return {"rho": rho, "pcg_iterations": result.iterations, "converged": result.converged}


def headroom(system: GridSystem, args: argparse.Namespace, rng: np.random.Generator) -> dict:
    """ρ and PCG iterations of every variant of the module docstring for one member."""
    train = torch.as_tensor(rng.standard_normal((system.size, args.probes)))
    test = torch.as_tensor(rng.standard_normal((system.size, args.probes)))

    def hierarchy(prolongation: Prolongation) -> list[DenseLevel]:
        return dense_hierarchy(prolongation, system.matrix, system.shape, SMOOTHER, STEPS)

    out = {}

    def record(name: str, levels: list[DenseLevel], started: float, history: list[float] | None = None) -> None:
        out[name] = evaluate(levels, system, test, args.powers) | {"seconds": time.perf_counter() - started}
        if history:
            out[name] |= {"loss_first": history[0], "loss_last": history[-1]}
        print(f"  {name:22s} rho {out[name]['rho']:.3f}, PCG {out[name]['pcg_iterations']} iterations", flush=True)

    dim = len(system.shape)
    black_box = network_prolongation(ProlongationNetwork(dim, base="black-box"))  # untrained: exactly Dendy's
    started = time.perf_counter()
    record("linear", hierarchy(network_prolongation(ProlongationNetwork(dim))), started)
    started = time.perf_counter()
    record("black-box", hierarchy(black_box), started)

    started = time.perf_counter()
    free = FreeProlongation(system, black_box)
    history = optimise(lambda: convergence_estimate(hierarchy(free), train, args.powers), free.parameters(),
                       args.steps, args.lr)  # fmt: skip
    record("free-P", hierarchy(free), started, history)

    with torch.no_grad():  # fixed: only the smoother weights are optimised
        base = hierarchy(black_box)
    for sweeps in args.sweeps:
        started = time.perf_counter()
        weights = torch.full((system.size,), 2.0 / 3.0, dtype=torch.float64, requires_grad=True)

        def smoothed(weights: torch.Tensor = weights, sweeps: int = sweeps) -> list[DenseLevel]:
            first = replace(base[0], smoother=weighted_jacobi(base[0].A, weights, sweeps))
            return [first, *base[1:]]

        history = optimise(lambda: convergence_estimate(smoothed(), train, args.powers), [weights],
                           args.steps, args.smoother_lr)  # fmt: skip
        record(f"jacobi-weights-{sweeps}", smoothed(), started, history)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", default="darcy2d_contrast")
    parser.add_argument("--nodes", type=int, default=33, help="grid nodes per axis (33: 31² = 961 unknowns)")
    parser.add_argument("--seeds", default="0,1", help="family members")
    parser.add_argument("--steps", type=int, default=150, help="Adam steps of every optimisation")
    parser.add_argument("--lr", type=float, default=3e-4, help="Adam's rate for the free prolongations")
    parser.add_argument("--smoother-lr", type=float, default=1e-2, help="Adam's rate for the smoother weights")
    parser.add_argument("--sweeps", default="2,3", help="Jacobi sweeps of the optimised smoothers")
    parser.add_argument(
        "--probes", type=int, default=64, help="random probes of ρ's estimate (optimised; as many to test)"
    )
    parser.add_argument("--powers", type=int, default=4, help="powers of E in ρ's estimate (the training loss's)")
    parser.add_argument("--out", help="JSON file")
    args = parser.parse_args()
    args.sweeps = [int(s) for s in args.sweeps.split(",")]
    problem = load_problem(args.problem)
    report = {"problem": args.problem, "nodes": args.nodes, "platform": platform.platform(), "torch": torch.__version__,
              "settings": {k: v for k, v in vars(args).items() if k != "out"}, "members": {}}  # fmt: skip
    for seed in (int(s) for s in args.seeds.split(",")):
        (system,) = family_systems(problem, args.nodes, [seed])
        print(f"{args.problem} member {seed}: {system.size} unknowns", flush=True)
        report["members"][str(seed)] = headroom(system, args, np.random.default_rng(seed))
    if args.out:
        write_json(args.out, report)
    print(json.dumps(report["members"], indent=2))


if __name__ == "__main__":
    main()

"""Sparse SPD solves to a true relative residual of 1e-8: torch PCG (CPU/CUDA) against scipy and PyAMG.

Systems: 2D 5-point and 3D 7-point Poisson (-Δu = 1, u = 0 on the boundary of the unit box) and
2D Darcy -∇·(a∇u) = 1 with a thresholded Gaussian random field ``a ∈ {1e-4, 1}`` (contrast 1e4,
drawn once on a 256² grid so the geometry is the same at every size). Every method reports
iterations, setup and solve time and the true relative residual ||b - Ax|| / ||b|| in float64.
CUDA timings synchronise and follow a warm-up solve (which captures the CUDA graph); a CUDA setup is
timed twice and the second one reported (``setup_time_cold`` keeps the first, which compiles the triton
kernel variants that its coarse levels' row widths need); a CUDA solve stops after about --time-limit
seconds of iterations (reported as not converged).

    python benchmarks/linear.py --quick --out linear_quick.json          # CPU, under a minute
    python benchmarks/linear.py --device cuda --sizes 1M,16M --out linear_h100.json
    python benchmarks/linear.py --device cpu --sizes 1M --preconds amg,amg-pyamg --matrix-free "" --peers ""
"""

from __future__ import annotations

import argparse
import itertools
import platform
import time
from typing import Any

import numpy as np
import pyamg
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch
from timing import timed

from pdesolve.io.run_folder import write_json
from pdesolve.linalg.cg import ConjugateGradient
from pdesolve.linalg.host import IncompleteCholesky
from pdesolve.linalg.preconditioners import GridLayout, make_preconditioner
from pdesolve.linalg.stencil import StencilOperator
from pdesolve.linalg.system import SparseOperator
from pdesolve.problem import Coords, GaussianRandomField, Thresholded

# interior unknowns per axis for each size label and dimension
SIZES = {
    "quick": {2: 63, 3: 23},
    "warm-up": {2: 64, 3: 32},
    "64k": {2: 256, 3: 40},
    "1M": {2: 1024, 3: 100},
    "16M": {2: 4096, 3: 256},
}
CASES = {"poisson2d": 2, "poisson3d": 3, "darcy2d": 2}


def faces_of(case: str, m: int) -> list[Any]:
    """Diffusion coefficients on the faces of the ``m^d`` interior nodes (arithmetic means of nodal values)."""
    dim = CASES[case]
    if case != "darcy2d":
        return [1.0] * dim
    field = Thresholded(GaussianRandomField((0.0, 0.0), (1.0, 1.0), 256, boundary="neumann"), high=1.0, low=1e-4)
    axis = np.linspace(0.0, 1.0, m + 2)
    x, y = np.meshgrid(axis, axis, indexing="ij")
    a = field.sample(np.random.default_rng(0))(Coords([x, y]))
    return [0.5 * (a[:-1, 1:-1] + a[1:, 1:-1]), 0.5 * (a[1:-1, :-1] + a[1:-1, 1:])]


def true_residual(A: sp.csr_matrix, x: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(b - A @ x) / np.linalg.norm(b))


def torch_run(
    precond: str,
    matrix_free: bool,
    case: str,
    faces: list[Any],
    A: sp.csr_matrix,
    b: np.ndarray,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Setup (operator and preconditioner on the device) and a timed solve after a warm-up solve.

    ``A`` (stored) and ``faces`` (matrix-free) are the system as assembled on the host: not part of the setup."""
    device, dim = torch.device(args.device), CASES[case]
    m = round(A.shape[0] ** (1 / dim))
    dtype = torch.float32 if args.dtype == "float32" else torch.float64
    h = 1.0 / (m + 1)
    layout = GridLayout((m + 2,) * dim, np.pad(np.ones((m,) * dim, dtype=bool), 1), (False,) * dim)

    def setup() -> tuple[Any, Any]:
        if matrix_free:
            operator = StencilOperator.from_faces(faces, [h] * dim, (m,) * dim, device, dtype)
        else:
            operator = SparseOperator(A, device, dtype).compact()
        kind, _, setup = precond.partition("-")  # amg-pyamg: PyAMG's hierarchy cycled on the device
        preconditioner = make_preconditioner(
            kind, operator, A, layout, args.smoother, args.smoother_steps, amg_setup=setup or "torch"
        )
        return operator, preconditioner

    (operator, M), setup_time = timed(setup, device)
    cold_setup = setup_time
    if device.type == "cuda":  # the first setup at this size compiles kernel variants (coarse-level widths)
        (operator, M), setup_time = timed(setup, device)
    rhs = torch.as_tensor(b, device=device, dtype=dtype)
    maxiter = args.maxiter
    if device.type == "cuda":  # compile the kernels, then bound the iterations by --time-limit
        probe = ConjugateGradient(operator, M, tol=args.tol, maxiter=20, cuda_graph=False)
        probe.solve(rhs)
        short, seconds = timed(lambda: probe.solve(rhs), device)
        maxiter = min(maxiter, max(20, int(args.time_limit * short.iterations / seconds)))
    solver = ConjugateGradient(operator, M, tol=args.tol, maxiter=maxiter, cuda_graph=not args.no_cuda_graph)
    result, first = timed(lambda: solver.solve(rhs), device)  # captures the CUDA graph, reused below
    times = [first]
    for _ in range(args.repeat if first < 1.0 and device.type == "cuda" else 0):
        result, seconds = timed(lambda: solver.solve(rhs), device)
        times.append(seconds)
    solve_time = min(times)
    return {
        "method": f"torch-cg+{precond}" + ("-matrix-free" if matrix_free else ""),
        "device": describe_device(device),
        "dtype": args.dtype,
        "iterations": result.iterations,
        "setup_time": setup_time,
        "setup_time_cold": cold_setup,
        "solve_time": solve_time,
        "time_per_iteration": solve_time / max(result.iterations, 1),
        "residual": true_residual(A, result.x.cpu().numpy(), b),
        "converged": result.converged,
        "levels": getattr(M, "sizes", None),
    }


def scipy_cg(name: str, A: sp.csr_matrix, b: np.ndarray, args: argparse.Namespace) -> dict[str, Any]:
    """scipy CG with a Jacobi or IC(0) preconditioner, or PyAMG smoothed aggregation with CG acceleration."""
    start = time.perf_counter()
    if name == "pyamg-sa":
        hierarchy = pyamg.smoothed_aggregation_solver(A, symmetry="symmetric")
        setup_time = time.perf_counter() - start
        residuals: list[float] = []
        start = time.perf_counter()
        x = hierarchy.solve(b, tol=args.tol, accel="cg", maxiter=args.maxiter, residuals=residuals)
        iterations = len(residuals) - 1
    else:
        if name == "scipy-cg+jacobi":
            inverse = 1.0 / A.diagonal()
            M = spla.LinearOperator(A.shape, matvec=lambda r: inverse * r)
        else:  # incomplete Cholesky, the symmetric ILU(0) (SuperLU's ILUTP is not symmetric: CG stalls)
            M = spla.LinearOperator(A.shape, matvec=IncompleteCholesky(A).apply)
        setup_time = time.perf_counter() - start
        count = [0]

        def callback(_: np.ndarray) -> None:
            count[0] += 1

        start = time.perf_counter()
        x, _ = spla.cg(A, b, rtol=args.tol, maxiter=args.maxiter, M=M, callback=callback)
        iterations = count[0]
    solve_time = time.perf_counter() - start
    residual = true_residual(A, x, b)
    return {
        "method": name,
        "device": f"cpu ({platform.processor() or platform.machine()})",
        "dtype": "float64",
        "iterations": iterations,
        "setup_time": setup_time,
        "solve_time": solve_time,
        "time_per_iteration": solve_time / max(iterations, 1),
        "residual": residual,
        "converged": residual <= args.tol,
    }


def describe_device(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small systems on the CPU (< 1 minute)")
    parser.add_argument("--sizes", default="1M", help="comma list of: quick, 64k, 1M, 16M")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument(
        "--preconds",
        default="jacobi,mg,amg,amg-pyamg",
        help="amg: SA hierarchy built in torch on the device; amg-pyamg: PyAMG's, built on the host; "
        "also: none, ic0 (factor and solves on the CPU)",
    )
    parser.add_argument("--matrix-free", default="jacobi,mg", help="preconditioners also run matrix-free")
    parser.add_argument("--peers", default="pyamg-sa", help="also: scipy-cg+jacobi, scipy-cg+ic0 (minutes at 1M)")
    parser.add_argument(
        "--peer-max-unknowns", type=int, default=1_100_000, help="CPU peers, amg-pyamg, ic0 above: skipped"
    )
    parser.add_argument("--tol", type=float, default=1e-8)
    parser.add_argument("--maxiter", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoother", default="chebyshev")
    parser.add_argument("--smoother-steps", type=int, default=2)
    parser.add_argument("--no-cuda-graph", action="store_true", help="iterate with eager kernels on CUDA")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds; caps a CUDA solve's iterations")
    parser.add_argument("--out", default="linear.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.device, args.repeat = "quick", "cpu", 1
    split = [s for s in args.preconds.split(",") if s]
    report: dict[str, Any] = {
        "benchmark": "linear",
        "tol": args.tol,
        "device": describe_device(torch.device(args.device)),
        "cpu": platform.processor() or platform.machine(),
        "versions": {"torch": torch.__version__, "scipy": scipy.__version__, "pyamg": pyamg.__version__},
        "options": vars(args),
        "results": [],
    }
    if args.device.startswith("cuda"):  # process start-up (CUDA context, libraries, kernel compiles) is not setup:
        # small systems whose sizes are and are not multiples of 16 compile every kernel variant first
        for case, label in itertools.product(args.cases.split(","), ("quick", "warm-up")):
            m = SIZES[label][CASES[case]]
            faces = faces_of(case, m)
            A = StencilOperator.from_faces(faces, [1.0 / (m + 1)] * CASES[case], (m,) * CASES[case]).to_csr()
            for precond in split:
                for matrix_free in {False, precond in args.matrix_free.split(",")}:
                    torch_run(precond, matrix_free, case, faces, A, np.ones(A.shape[0]), args)
    for size in args.sizes.split(","):
        for case in args.cases.split(","):
            m = SIZES[size][CASES[case]]
            h = 1.0 / (m + 1)
            faces = faces_of(case, m)
            A = StencilOperator.from_faces(faces, [h] * CASES[case], (m,) * CASES[case]).to_csr()
            b = np.ones(A.shape[0])
            small = A.shape[0] <= args.peer_max_unknowns
            runs: list[tuple[str, bool]] = []  # (torch preconditioner or CPU peer, matrix-free)
            for precond in split:
                if precond in ("ic0", "amg-pyamg") and not small:
                    continue
                runs.append((precond, False))
                if precond in args.matrix_free.split(","):
                    runs.append((precond, True))
            runs += [(peer, False) for peer in args.peers.split(",") if peer and small]
            for label, matrix_free in runs:
                entry = {"case": case, "size": size, "unknowns": A.shape[0], "nonzeros": int(A.nnz)}
                try:
                    if label in split:
                        entry.update(torch_run(label, matrix_free, case, faces, A, b, args))
                    else:
                        entry.update(scipy_cg(label, A, b, args))
                except Exception as error:  # one failing method must not lose the others' figures
                    entry.update({"method": label, "error": f"{type(error).__name__}: {error}"})
                report["results"].append(entry)
                print(
                    f"{case:10s} {A.shape[0]:>9d} {entry['method']:32s} it={entry.get('iterations', '-'):>6} "
                    f"setup={entry.get('setup_time', float('nan')):8.3f}s "
                    f"solve={entry.get('solve_time', float('nan')):8.3f}s "
                    f"res={entry.get('residual', float('nan')):.2e} {entry.get('error', '')}",
                    flush=True,
                )
                write_json(args.out, report)


if __name__ == "__main__":
    main()

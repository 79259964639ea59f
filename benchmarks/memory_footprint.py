"""Peak memory of classical solves per node, against the estimates of :mod:`pdesolve.classical.footprint`.

Each solve runs in a fresh process (so that memory freed by earlier solves does not hide the peak), measured
by :class:`pdesolve.report.memory.PeakMemory` (peak resident-set increase, CPU):

    python benchmarks/memory_footprint.py
"""

from __future__ import annotations

import json
import subprocess
import sys

CASES = [  # (problem, solver, options, estimate expression in terms of n and dim)
    ("poisson3d", "fd", {"n": 41, "linsolve": "cg", "precond": "jacobi"}, "fd_bytes(41, 3, 'cg')"),
    ("poisson3d", "fd", {"n": 41, "linsolve": "direct"}, "fd_bytes(41, 3, 'direct')"),
    ("poisson2d", "fd", {"n": 301}, "fd_bytes(301, 2, 'direct')"),
    ("poisson3d", "fem", {"n": 31}, "fem_bytes(31, 3, 1, 0, 'cg')"),
    ("poisson2d", "fem", {"n": 201}, "fem_bytes(201, 2, 1, 0, 'direct')"),
    ("poisson2d", "fem", {"n": 201, "order": 2}, "fem_bytes(201, 2, 2, 0, 'direct')"),
    ("heat2d", "spectral", {"n": 256}, "256**2 * 8 * (50 + SPECTRAL_WORK_ARRAYS)"),
    ("heat2d", "mol", {"n": 64, "outputs": 5}, "64**2 * (MOL_BYTES_PER_NODE + 8 * 5)"),
]

CHILD = """
import json, sys
from pdesolve.classical.footprint import *
from pdesolve.problem import load_problem
from pdesolve.report.memory import PeakMemory
from pdesolve.solvers.available import load_all
from pdesolve.solvers.base import SOLVERS, Settings
load_all()
name, solver, options, estimate = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
problem = load_problem(name)
with PeakMemory() as peak:
    SOLVERS[solver](Settings(), **options).solve(problem)
print(json.dumps({"measured": peak.cpu_bytes, "estimated": eval(estimate)}))
"""


def main() -> None:
    print(f"{'problem':<10} {'solver':<9} {'options':<48} {'measured MB':>12} {'estimate MB':>12} {'ratio':>6}")
    for problem, solver, options, estimate in CASES:
        output = subprocess.run(
            [sys.executable, "-c", CHILD, problem, solver, json.dumps(options), estimate],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        measured, estimated = figures["measured"] / 2**20, figures["estimated"] / 2**20
        text = json.dumps(options)
        print(f"{problem:<10} {solver:<9} {text:<48} {measured:12.1f} {estimated:12.1f} {estimated / measured:6.2f}")


if __name__ == "__main__":
    main()

"""Experts sharded over two gloo ranks give the same weights, field and gradients as one process
(to the solver tolerance: the batched factorisations see differently shaped batches), for the hard partition
and for blended experts with interface rows (whose gradients reach the interface values' channel too), on grids
and at points."""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from pdesolve.constraints import GridConstraintSystem, GridHardConstraint
from pdesolve.constraints.distributed import expert_block, free_local_port
from pdesolve.constraints.points import PointConstraintSystem, PointHardConstraint
from pdesolve.problem import Grid

EXPERTS = 3  # an odd count: rank 0 solves two experts, rank 1 one


def _run(group_world: bool) -> dict[str, torch.Tensor]:
    sys.path.insert(0, os.path.dirname(__file__))
    from constraints_helpers import heat, space_time_basis

    grid, times = Grid((0.0,), (1.0,), (12,), periodic=(True,)), np.linspace(0.0, 0.5, 5)
    inputs = torch.sin(2 * np.pi * torch.as_tensor(grid.axes[0]))[None, None].expand(2, 1, -1)
    results = {}
    for name, settings in {"partition": {}, "blended": {"interfaces": True, "overlap": 0.5, "blend": True}}.items():
        system = GridConstraintSystem(heat(), grid, experts=EXPERTS, times=times, **settings)
        basis = space_time_basis(grid, times, nb=4 + system.trace_channels, batch=2).requires_grad_()
        layer = GridHardConstraint(system, group=dist.group.WORLD if group_world else None)
        omega = layer.weights(basis, inputs)
        u = system.assemble(omega, basis)
        (u.square().sum() + omega.square().sum()).backward()
        found = {"omega": omega.detach(), "u": u.detach(), "grad": basis.grad, "converged": layer.converged.double()}
        results |= {f"{name} {key}": value for key, value in found.items()}

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 5)).double()
    system = PointConstraintSystem(heat(), net, experts=EXPERTS, points=6, boundary_points=3, overlap=0.5,
                                   interfaces=True, blend=True)  # fmt: skip
    layer = PointHardConstraint(system, group=dist.group.WORLD if group_world else None)
    u = layer(torch.rand(7, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 0.5)
    u.square().sum().backward()
    results |= {"points u": u.detach(), "points grad": net[2].weight.grad}
    return results


def _worker(rank: int, port: int, folder: str) -> None:
    warnings.filterwarnings("ignore", message="Sparse")
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        torch.save(_run(True), os.path.join(folder, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def test_expert_blocks_cover_all_experts_once():
    blocks = [expert_block(7, r, 3) for r in range(3)]
    assert [list(b) for b in blocks] == [[0, 1, 2], [3, 4], [5, 6]]


def test_two_gloo_ranks_equal_one_process(tmp_path):
    single = _run(False)
    assert single["blended grad"][:, -1].abs().max() > 1e-6  # the interface values get gradients
    mp.spawn(_worker, args=(free_local_port(), str(tmp_path)), nprocs=2, join=True)
    for rank in (0, 1):
        sharded = torch.load(tmp_path / f"rank{rank}.pt", weights_only=True)
        for name, value in single.items():
            torch.testing.assert_close(sharded[name], value, rtol=1e-8, atol=1e-8, msg=name)

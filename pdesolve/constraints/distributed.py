"""Experts sharded over the ranks of a ``torch.distributed`` process group.

Each rank solves a contiguous block of experts; :class:`GatherExperts` assembles every expert's weights on
every rank (``all_gather``). The computation after the layer is assumed replicated on all ranks (same
batch, same loss), so the backward of the gather keeps each rank's own block of the (identical) incoming
gradient, and :func:`sum_over_ranks` adds up the parameter gradients that each rank's experts contribute.
"""

from __future__ import annotations

import socket

import torch
import torch.distributed as dist

from pdesolve.runtime import rank_and_world


def free_local_port() -> int:
    """A free TCP port on 127.0.0.1 for the rendezvous of processes started on this machine (tests, benchmarks)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expert_block(experts: int, rank: int, size: int) -> range:
    """The experts rank ``rank`` of ``size`` solves: blocks as equal as possible, in order."""
    per, extra = divmod(experts, size)
    start = rank * per + min(rank, extra)
    return range(start, start + per + (1 if rank < extra else 0))


class GatherExperts(torch.autograd.Function):
    """``(batch, K_local, nb)`` on each rank -> ``(batch, K, nb)`` everywhere; backward slices."""

    @staticmethod
    def forward(ctx, local: torch.Tensor, experts: int, group: dist.ProcessGroup | None) -> torch.Tensor:
        rank, size = rank_and_world(group)
        blocks = [expert_block(experts, r, size) for r in range(size)]
        width = max(len(b) for b in blocks)
        padded = local.new_zeros(local.shape[0], width, *local.shape[2:])
        padded[:, : local.shape[1]] = local
        gathered = [torch.empty_like(padded) for _ in range(size)]
        dist.all_gather(gathered, padded.contiguous(), group=group)
        ctx.block = blocks[rank]
        return torch.cat([g[:, : len(b)] for g, b in zip(gathered, blocks)], dim=1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad[:, ctx.block.start : ctx.block.stop].contiguous(), None, None


def sum_over_ranks(tensors: list[torch.Tensor], group: dist.ProcessGroup | None) -> None:
    """In-place sum of each tensor over the ranks (no-op on one process)."""
    if rank_and_world(group)[1] == 1:
        return
    for tensor in tensors:
        dist.all_reduce(tensor, group=group)


def on_every_rank(flags: torch.Tensor, group: dist.ProcessGroup | None) -> torch.Tensor:
    """Boolean ``flags`` that hold on every rank (a logical and over the ranks; no-op on one process)."""
    if rank_and_world(group)[1] == 1:
        return flags
    flags = flags.to(torch.int32)
    dist.all_reduce(flags, op=dist.ReduceOp.MIN, group=group)
    return flags.bool()

"""Which constraint rows each expert owns: equal-length index lists, padded with zero-weight rows.

A constraint system evaluates all its candidate rows at once (PDE residual, initial and boundary
residuals, concatenated in that order). :func:`expert_rows` gives each expert the indices of the rows
located in its subdomain: PDE rows are sampled (``points`` per expert, without replacement), initial and
boundary rows are all kept; kinds flagged ``shared`` go to every expert whole (the global initial and
boundary rows of the diffusion–sorption MoE of Chalapathi, Du & Krishnapriyan 2024); with ``overlap`` the
others come from overlapping subdomains (:meth:`~pdesolve.constraints.experts.ExpertPartition.members`).
Experts own different numbers of rows (only the outer experts touch the boundary), so each list is padded to a
common length with rows of weight zero; every expert then has an ``M × nb`` least-squares system and all experts
solve as one batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pdesolve.constraints.experts import ExpertPartition


@dataclass(frozen=True)
class ExpertRows:
    """``index[k]`` rows of expert ``k`` (into the concatenated candidates) and their ``weight``s."""

    index: torch.Tensor  # (K, M) int64
    weight: torch.Tensor  # (K, M) float

    @property
    def experts(self) -> int:
        return int(self.index.shape[0])

    @property
    def per_expert(self) -> int:
        return int(self.index.shape[1])

    def subset(self, experts: list[int] | range) -> ExpertRows:
        keep = torch.as_tensor(list(experts), dtype=torch.int64, device=self.index.device)
        return ExpertRows(self.index[keep], self.weight[keep])

    def to(self, device: torch.device | str, dtype: torch.dtype) -> ExpertRows:
        return ExpertRows(self.index.to(device), self.weight.to(device=device, dtype=dtype))


def expert_rows(
    partition: ExpertPartition,
    locations: list[np.ndarray],
    sampled: list[bool],
    points: int | None,
    weights: list[float],
    seed: int = 0,
    shared: list[bool] | None = None,
    overlap: float = 0.0,
) -> ExpertRows:
    """Rows per expert from candidate ``locations`` (one (R_i, d) array per kind of row).

    Kinds flagged in ``sampled`` keep at most ``points`` rows per expert (all when None); ``weights`` scale
    each kind (e.g. to balance boundary rows against PDE rows); kinds flagged in ``shared`` belong to every
    expert, the others to the experts whose subdomain, widened by ``overlap``, holds them.
    """
    shared = shared or [False] * len(locations)
    rng = np.random.default_rng(seed)
    offsets = np.cumsum([0] + [len(loc) for loc in locations])
    lists: list[tuple[np.ndarray, np.ndarray]] = []
    for k in range(partition.count):
        index, weight = [], []
        for kind, where in enumerate(locations):
            if shared[kind] or not len(where):
                mine = np.arange(len(where))
            else:
                mine = np.flatnonzero(partition.members(where, k, overlap))
            if sampled[kind] and points is not None and len(mine) > points:
                mine = np.sort(rng.choice(mine, size=points, replace=False))
            index.append(mine + offsets[kind])
            weight.append(np.full(len(mine), weights[kind]))
        lists.append((np.concatenate(index), np.concatenate(weight)))
    length = max(1, max(len(i) for i, _ in lists))
    index = np.zeros((partition.count, length), dtype=np.int64)
    weight = np.zeros((partition.count, length))
    for k, (i, w) in enumerate(lists):
        index[k, : len(i)], weight[k, : len(w)] = i, w
    return ExpertRows(torch.as_tensor(index), torch.as_tensor(weight))

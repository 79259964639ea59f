"""The Jacobian of the TENG network in closed form: every column is a product of two per-point factors.

For a dense layer ``z = h Wᵀ + b`` the derivative of the output at one point is
``∂u/∂W_ij = δ_i h_j`` and ``∂u/∂b_i = δ_i`` with ``δ = ∂u/∂z`` (backpropagation written out); the
embedding units ``a cos(ω x + φ) + c`` give ``δ cos(·)``, ``-δ a sin(·)`` and ``δ``. So one forward and
one backward sweep over the points give two small factor matrices ``L`` (N, ~8 width) and
``R`` (N, ~6 width), and any set of columns is ``J[:, S] = L[:, ℓ(S)] * R[:, ρ(S)]``: the cost is
``O(N |S|)``, against ``O(N P)`` (plus a P-wide backward per point) for per-point autograd. The sweep
also yields the network values ``u_θ(X)`` at no extra cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from pdesolve.teng.network import TengNetwork


@dataclass(frozen=True)
class JacobianFactors:
    """``J[:, j] = left[:, left_index[j]] * right[:, right_index[j]]``; ``values`` = ``u_θ(X)``."""

    left: torch.Tensor
    right: torch.Tensor
    left_index: torch.Tensor
    right_index: torch.Tensor
    values: torch.Tensor

    def _indices(self, columns: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The (left, right) factor indices of ``columns`` (all columns when None)."""
        if columns is None:
            return self.left_index, self.right_index
        return self.left_index[columns], self.right_index[columns]

    def columns(self, columns: torch.Tensor | None = None) -> torch.Tensor:
        """``J[:, columns]`` (all columns when None)."""
        li, ri = self._indices(columns)
        return self.left[:, li] * self.right[:, ri]

    def rmatvec(self, w: torch.Tensor, columns: torch.Tensor | None = None) -> torch.Tensor:
        """``J[:, columns]ᵀ w`` through the small matrix ``leftᵀ diag(w) right`` (one GEMM)."""
        li, ri = self._indices(columns)
        return (self.left.mT @ (self.right * w[:, None]))[li, ri]

    def rows(self, start: int, stop: int) -> JacobianFactors:
        """The factors of points ``start:stop``."""
        sl = slice(start, stop)
        return JacobianFactors(self.left[sl], self.right[sl], self.left_index, self.right_index, self.values[sl])


def factor_indices(network: TengNetwork, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """For every entry of the flat parameter vector (``named_parameters`` order) its left and right factor column.

    Left columns: the embedding's three factors (``a``, ``φ``, ``c``; ``F`` each), then ``δ`` of every dense
    layer and of the output. Right columns: a column of ones, then the embedding features ``h_0`` and the
    activations of every dense layer.
    """
    emb = network.embedding
    features = emb.a.numel()
    widths = [layer.out_features for layer in network.hidden]
    left_start = [3 * features + sum(widths[:k]) for k in range(len(widths) + 1)]  # δ of hidden k; last: output
    right_start = [1 + features + sum(widths[:k]) for k in range(len(widths))]  # h_k feeding layer k+1
    right_start = [1, *right_start]  # h_0 starts at 1
    left, right = [], []
    base = torch.arange(features)
    for k in range(3):  # a, phi, c: left factor column per entry, right factor the ones column
        left.append(k * features + base)
        right.append(torch.zeros(features, dtype=torch.long))
    layers = [*network.hidden, network.output]
    for k, layer in enumerate(layers):
        out, inp = layer.out_features, layer.in_features
        rows = left_start[k] + torch.arange(out)
        left += [rows.repeat_interleave(inp), rows]
        right += [(right_start[k] + torch.arange(inp)).repeat(out), torch.zeros(out, dtype=torch.long)]
    return torch.cat(left).to(device), torch.cat(right).to(device)


def jacobian_factors(
    network: TengNetwork, params: dict[str, torch.Tensor], x: torch.Tensor, indices: tuple[torch.Tensor, torch.Tensor]
) -> JacobianFactors:
    """Forward and backward sweep of ``network`` (parameters ``params`` by name) at points ``x`` (N, d)."""
    emb = network.embedding
    a, phi, c = params["embedding.a"], params["embedding.phi"], params["embedding.c"]
    scaled = (x - emb.lower) / emb.length
    angle = 2 * math.pi * scaled[:, None, :] + phi
    cos, sin = torch.cos(angle), torch.sin(angle)
    affine = (2 * scaled - 1)[:, None, :].expand_as(angle)
    periodic = emb.periodic
    n = x.shape[0]
    z0 = (torch.where(periodic, a * cos, affine * a) + c).reshape(n, -1)
    activations = [torch.tanh(z0)]
    layers = len(network.hidden)
    for k in range(layers):
        w, b = params[f"hidden.{k}.weight"], params[f"hidden.{k}.bias"]
        activations.append(torch.tanh(torch.addmm(b, activations[-1], w.mT)))
    w_out, b_out = params["output.weight"], params["output.bias"]
    values = torch.addmm(b_out, activations[-1], w_out.mT)[:, 0]
    scale = network.distance_factor(x) if network.dirichlet else torch.ones_like(values)
    if network.dirichlet:
        values = scale * values
        lifted = values if network.lift is None else values + network.lift(x)
    else:
        lifted = values
    # backward: δ_out = D(x); δ_k = (δ_{k+1} W_{k+1}) (1 - h_k²)
    deltas = [scale[:, None]]
    upstream = scale[:, None] * w_out
    for k in reversed(range(layers)):
        delta = upstream * (1 - activations[k + 1].square())
        deltas.append(delta)
        upstream = delta @ params[f"hidden.{k}.weight"]
    delta0 = (upstream * (1 - activations[0].square())).reshape(angle.shape)
    zero = torch.zeros_like(delta0)
    emb_left = [
        torch.where(periodic, delta0 * cos, delta0 * affine),
        torch.where(periodic, -delta0 * a * sin, zero),
        delta0,
    ]
    left = torch.cat([f.reshape(n, -1) for f in emb_left] + deltas[:0:-1] + deltas[:1], dim=1)
    right = torch.cat([torch.ones_like(values)[:, None], *activations], dim=1)
    return JacobianFactors(left, right, indices[0], indices[1], lifted)

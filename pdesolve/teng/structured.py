"""The Jacobian of the TENG network in closed form: every column is a product of two per-point factors.

For a dense layer ``z = h Wᵀ + b`` the derivative of the output at one point is
``∂u/∂W_ij = δ_i h_j`` and ``∂u/∂b_i = δ_i`` with ``δ = ∂u/∂z`` (backpropagation written out); the
embedding units ``a cos(ω x + φ) + c`` give ``δ cos(·)``, ``-δ a sin(·)`` and ``δ``. So one forward and
one backward sweep over the points give two small factor matrices ``L`` (N, ~8 width) and
``R`` (N, ~6 width), and any set of columns is ``J[:, S] = L[:, ℓ(S)] * R[:, ρ(S)]``: the cost is
``O(N |S|)``, against ``O(N P)`` (plus a P-wide backward per point) for per-point autograd. The sweep
also yields the network values ``u_θ(X)`` at no extra cost.

The columns of one layer are all products of its left columns ``A`` with its right columns ``B`` (a
Khatri–Rao product), so the kernel matrix ``J Jᵀ = Σ_layers (L_A L_Aᵀ) ∘ (R_B R_Bᵀ)`` costs
``O(N² · width)`` per layer instead of ``O(N² P)`` (the neural-tangent-kernel identity of Novak et
al., "Fast finite width neural tangent kernel", ICML 2022).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from pdesolve.ngd.gram import column_scale
from pdesolve.teng.network import TengNetwork

KERNEL_TILE = 256  # rows of the kernel matrix built at a time


@dataclass(frozen=True)
class JacobianFactors:
    """``J[:, j] = left[:, left_index[j]] * right[:, right_index[j]]``; ``values`` = ``u_θ(X)``;
    ``blocks``: (left columns, right columns) pairs whose products are exactly the columns of ``J``."""

    left: torch.Tensor
    right: torch.Tensor
    left_index: torch.Tensor
    right_index: torch.Tensor
    values: torch.Tensor
    blocks: tuple[tuple[torch.Tensor, torch.Tensor], ...] = ()

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
        return JacobianFactors(
            self.left[sl], self.right[sl], self.left_index, self.right_index, self.values[sl], self.blocks
        )

    def kernel(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(J S² Jᵀ, s)``: the kernel matrix (N, N) of the columns scaled by ``s_j = a_ℓ(j) b_ρ(j)`` with
        ``a = 1/‖left_ℓ‖``, ``b = √N/‖right_ρ‖`` (a product form of Marquardt's ``1/‖J_j‖`` that keeps the
        Khatri–Rao structure: exact for independent factors).

        Blocks with one factor column on a side (the embedding, the output layer) are plain columns of ``J``
        and enter through one product ``M Mᵀ``; every other block adds ``(L Lᵀ) ∘ (R Rᵀ)``. The matrix is
        built in strips of ``KERNEL_TILE`` rows, lower triangle only, then mirrored: every product of a strip
        stays in cache instead of streaming an ``N × N`` temporary per block.
        """
        if not self.blocks:
            raise ValueError("these factors carry no block layout")
        a = column_scale(self.left.square().sum(0))
        b = column_scale(self.right.square().sum(0)) * self.left.shape[0] ** 0.5
        left, right = self.left * a, self.right * b
        columns, pairs = [], []
        for rows, cols in self.blocks:
            if len(rows) == 1 or len(cols) == 1:
                columns.append(left[:, rows] * right[:, cols])
            else:
                pairs.append((left[:, rows], right[:, cols]))
        plain = torch.cat(columns, dim=1)
        n = left.shape[0]
        K = torch.empty(n, n, dtype=left.dtype, device=left.device)
        for start in range(0, n, KERNEL_TILE):
            stop = min(n, start + KERNEL_TILE)
            strip = K[start:stop, :stop]
            torch.matmul(plain[start:stop], plain[:stop].mT, out=strip)
            for L, R in pairs:
                strip.addcmul_(L[start:stop] @ L[:stop].mT, R[start:stop] @ R[:stop].mT)
            K[:start, start:stop] = strip[:, :start].mT
        return K, a[self.left_index] * b[self.right_index]


Indices = tuple[torch.Tensor, torch.Tensor, tuple[tuple[torch.Tensor, torch.Tensor], ...]]


def factor_indices(network: TengNetwork, device: torch.device) -> Indices:
    """For every entry of the flat parameter vector (``named_parameters`` order) its left and right factor
    column, and the blocks (left columns, right columns) of the embedding and of every layer.

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
    ones = torch.zeros(1, dtype=torch.long)
    blocks = [(torch.arange(3 * features), ones)]  # a, phi, c: left factor column per entry, right: ones
    for k in range(3):
        left.append(k * features + base)
        right.append(torch.zeros(features, dtype=torch.long))
    layers = [*network.hidden, network.output]
    for k, layer in enumerate(layers):
        out, inp = layer.out_features, layer.in_features
        rows = left_start[k] + torch.arange(out)
        inputs = right_start[k] + torch.arange(inp)
        left += [rows.repeat_interleave(inp), rows]
        right += [inputs.repeat(out), torch.zeros(out, dtype=torch.long)]
        blocks.append((rows, torch.cat([ones, inputs])))  # weights and bias
    on = tuple((rows.to(device), cols.to(device)) for rows, cols in blocks)
    return torch.cat(left).to(device), torch.cat(right).to(device), on


def jacobian_factors(
    network: TengNetwork, params: dict[str, torch.Tensor], x: torch.Tensor, indices: Indices
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
    return JacobianFactors(left, right, *indices[:2], lifted, indices[2])


def second_directional(
    network: TengNetwork, params: dict[str, torch.Tensor], v: dict[str, torch.Tensor], x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(J v, ∂²u/∂θ² [v, v])`` at points ``x`` (without the lift) by forward-mode sweeps of order two,
    written out: a dense layer ``z = h Wᵀ + b`` along ``V`` gives ``ż = ḣ Wᵀ + h Vᵀ + ḃ``,
    ``z̈ = ḧ Wᵀ + 2 ḣ Vᵀ``; ``tanh`` gives ``ḣ = (1 - h²) ż``, ``ḧ = (1 - h²)(z̈ - 2 h ż²)``."""
    emb = network.embedding
    a, phi = params["embedding.a"], params["embedding.phi"]
    da, dphi, dc = v["embedding.a"], v["embedding.phi"], v["embedding.c"]
    scaled = (x - emb.lower) / emb.length
    angle = 2 * math.pi * scaled[:, None, :] + phi
    cos, sin = torch.cos(angle), torch.sin(angle)
    affine = (2 * scaled - 1)[:, None, :]
    periodic = emb.periodic
    n = x.shape[0]
    z = torch.where(periodic, a * cos, affine * a) + params["embedding.c"]
    dz = torch.where(periodic, da * cos - a * sin * dphi, affine * da) + dc
    ddz = torch.where(periodic, -2 * da * sin * dphi - a * cos * dphi.square(), torch.zeros_like(z))
    z, dz, ddz = z.reshape(n, -1), dz.reshape(n, -1), ddz.reshape(n, -1)
    names = [f"hidden.{k}" for k in range(len(network.hidden))] + ["output"]
    for name in names:
        h = torch.tanh(z)
        slope = 1 - h.square()
        dh, ddh = slope * dz, slope * (ddz - 2 * h * dz.square())
        w, dw = params[f"{name}.weight"], v[f"{name}.weight"]
        z = torch.addmm(params[f"{name}.bias"], h, w.mT)
        dz = torch.addmm(v[f"{name}.bias"], dh, w.mT).addmm_(h, dw.mT)
        ddz = (ddh @ w.mT).addmm_(dh, dw.mT, alpha=2)
    scale = network.distance_factor(x) if network.dirichlet else torch.ones_like(z[:, 0])
    return scale * dz[:, 0], scale * ddz[:, 0]

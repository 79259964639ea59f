"""Jacobians ``J = ∂r/∂θ`` of residuals built with autograd input derivatives (PINN residuals).

A PINN residual such as ``u_t + u u_x − ν u_xx`` is computed with ``torch.autograd.grad(...,
create_graph=True)``, which torch.func transforms cannot trace. Two ways to get its Jacobian:

- :func:`residual_jacobian`, generic: forward mode by the double-backward trick (``g(w) = Jᵀw`` is
  linear in ``w``, so ``∂(g·e_j)/∂w`` is column ``j``), ``chunk`` columns per batched backward. It costs
  one pass over all points per parameter, ``O(N P²)``: minutes for a few thousand parameters.
- :class:`PerSampleJacobian`, for networks whose trainable parameters all sit in ``nn.Linear`` layers:
  every layer call ``y = W h + b`` gets a zero per-point perturbation ``y_i += ΔW_i h_i + Δb_i``, so that
  ``∂(Σ_i r_i)/∂ΔW_i = ∂r_i/∂W`` whenever residual ``i`` depends on point ``i`` of one network call
  only. One backward of ``Σ r`` then yields every row, ``O(N P)`` (the per-sample-gradient trick of
  Goodfellow 2015, "Efficient per-example gradient computations", carried through input derivatives).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn


def residual_jacobian(r: torch.Tensor, params: list[torch.Tensor], chunk: int = 64) -> torch.Tensor:
    """``J = ∂r/∂θ`` (M, P) for any residual graph, by batched double backward (``chunk`` columns at once)."""
    w = torch.zeros_like(r, requires_grad=True)
    grads = torch.autograd.grad(r, params, w, create_graph=True, allow_unused=True, materialize_grads=True)
    g = torch.cat([part.reshape(-1) for part in grads])
    n_params = g.numel()
    columns = []
    for start in range(0, n_params, chunk):
        size = min(chunk, n_params - start)
        basis = torch.zeros(size, n_params, dtype=g.dtype, device=g.device)
        index = torch.arange(size, device=g.device)
        basis[index, start + index] = 1
        (block,) = torch.autograd.grad(g, w, basis, is_grads_batched=True, retain_graph=True, allow_unused=True)
        columns.append(block if block is not None else torch.zeros(size, r.numel(), dtype=r.dtype, device=r.device))
    return torch.cat(columns).T


class PerSampleJacobian:
    """Rows of ``∂r/∂θ`` for residuals of a module made of ``nn.Linear`` layers, in one backward pass.

    Usage::

        tracker = PerSampleJacobian(model, params)
        with tracker.recording():
            r = residual()           # any number of model calls, each point's residual its own row
        J = tracker.jacobian(r)      # (len(r), P), columns in the order of ``params``

    The rows of ``r`` must be the points of the recorded calls, in call order, each depending on its own
    point only (PDE, boundary and initial residuals; not soft periodicity, which pairs two points).
    """

    def __init__(self, module: nn.Module, params: list[torch.Tensor]) -> None:
        self.layers = [m for m in module.modules() if isinstance(m, nn.Linear)]
        self.params = params
        self._calls: list[tuple[nn.Linear, torch.Tensor, torch.Tensor | None]] = []

    @staticmethod
    def applies(module: nn.Module, params: list[torch.Tensor]) -> bool:
        """Whether every trainable parameter is the weight or bias of a ``nn.Linear`` layer."""
        owned = {id(p) for m in module.modules() if isinstance(m, nn.Linear) for p in m.parameters(recurse=False)}
        return all(id(p) in owned for p in params)

    def _hook(self, layer: nn.Linear, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor:
        h = inputs[0]
        if h.dim() != 2:
            raise ValueError("PerSampleJacobian expects (N, features) inputs to every linear layer")
        d_weight = torch.zeros(h.shape[0], *layer.weight.shape, dtype=h.dtype, device=h.device, requires_grad=True)
        d_bias = None
        out = output + torch.einsum("noi,ni->no", d_weight, h)
        if layer.bias is not None:
            d_bias = torch.zeros_like(output, requires_grad=True)
            out = out + d_bias
        self._calls.append((layer, d_weight, d_bias))
        return out

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Perturb every linear-layer call made inside the block (and forget earlier ones)."""
        self._calls = []
        handles = [layer.register_forward_hook(self._hook) for layer in self.layers]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def jacobian(self, r: torch.Tensor) -> torch.Tensor:
        """``J`` (len(r), P) from the calls recorded while ``r`` was computed."""
        leaves = [t for _, d_weight, d_bias in self._calls for t in (d_weight, d_bias) if t is not None]
        grads = iter(torch.autograd.grad(r.sum(), leaves, allow_unused=True, materialize_grads=True))
        rows: dict[int, list[torch.Tensor]] = {id(p): [] for p in self.params}
        for layer, _, d_bias in self._calls:  # calls per layer appear in point order
            weight_rows = next(grads).flatten(1)
            rows.get(id(layer.weight), []).append(weight_rows)
            if d_bias is not None:
                bias_rows = next(grads)
                rows.get(id(layer.bias), []).append(bias_rows)
        blocks = [torch.cat(rows[id(p)]) for p in self.params]
        n_rows = {len(block) for block in blocks}
        if n_rows != {r.numel()}:
            raise ValueError(f"recorded {sorted(n_rows)} points for {r.numel()} residual rows")
        return torch.cat(blocks, dim=1)


def jacobian_function(
    module: nn.Module, params: list[torch.Tensor], residual: Callable[[], torch.Tensor], per_sample: bool = True
) -> Callable[[], tuple[torch.Tensor, torch.Tensor]]:
    """``() -> (r, J)``: the per-sample route when it applies (and ``per_sample``), else the generic one."""
    if per_sample and PerSampleJacobian.applies(module, params):
        tracker = PerSampleJacobian(module, params)

        def fast() -> tuple[torch.Tensor, torch.Tensor]:
            with tracker.recording():
                r = residual()
            return r.detach(), tracker.jacobian(r)

        return fast

    def generic() -> tuple[torch.Tensor, torch.Tensor]:
        r = residual()
        return r.detach(), residual_jacobian(r, params)

    return generic

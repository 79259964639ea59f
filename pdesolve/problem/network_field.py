"""Fields given by a differentiable function at sample points, differentiated by autograd.

A PINN (or any network solver) builds one coordinate tensor per axis with ``requires_grad``,
evaluates its network on them and wraps the output; ``d(u, "x")`` is then
``torch.autograd.grad`` with ``create_graph=True`` so that losses can be trained through it.
"""

from __future__ import annotations

from typing import Any

import torch

from pdesolve.problem.coords import SPACE_NAMES
from pdesolve.problem.field import Field, VectorField


class NetworkField(Field):
    """Values of shape (N,) at N points; ``coords`` maps axis names ("x", "y", "z", "t") to (N,) tensors."""

    def __init__(self, values: torch.Tensor, coords: dict[str, torch.Tensor]) -> None:
        self.values = values
        self.coords = coords

    def with_values(self, values: Any) -> NetworkField:
        if not torch.is_tensor(values):
            values = torch.as_tensor(values, dtype=self.values.dtype, device=self.values.device)
        return NetworkField(values, self.coords)

    @property
    def space_names(self) -> tuple[str, ...]:
        return tuple(name for name in SPACE_NAMES if name in self.coords)

    def derivative(self, axis: str, order: int = 1) -> NetworkField:
        if axis not in self.coords:
            raise ValueError(f"no coordinate {axis!r}; the field has {sorted(self.coords)}")
        values = self.values
        for _ in range(order):
            if not values.requires_grad:  # constant in the coordinates
                values = torch.zeros_like(values)
                break
            (values,) = torch.autograd.grad(
                values, self.coords[axis], torch.ones_like(values), create_graph=True, allow_unused=True
            )
            if values is None:
                values = torch.zeros_like(self.values)
        return NetworkField(values, self.coords)

    def gradient(self) -> VectorField:
        return VectorField([self.derivative(name) for name in self.space_names])

    def divergence_of(self, vector: VectorField) -> NetworkField:
        total = None
        for name, component in zip(self.space_names, vector.components):
            term = component.derivative(name)
            total = term if total is None else total + term
        return total

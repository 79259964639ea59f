"""Each expert's own block of a grid: its subdomain plus the halo its difference stencils reach.

Chalapathi, Du & Krishnapriyan (ICLR 2024) get their speed-up from experts that work on their own
subdomain only. :class:`Windows` cuts, for every expert, a window of ``W_0 × W_1 × …`` nodes out of the
(time ×) space grid: the nodes its rows sit on, ``halo`` more on each side of every space axis (the reach
of the second-order stencils: one cell for ``u_xx``, two for a one-sided ``∂u/∂n`` or a repeated ``d``),
wrapped around periodic axes and shifted inwards at non-periodic ends, all padded to a common width so
that the experts stack into one tensor ``(batch, K, channels, *window)``. A window that would cover a whole
axis is that axis (periodic if it was). Differences on a window are those of a finite-difference
:class:`~pdesolve.problem.Grid` of the window's shape and spacing, so rows at least ``halo`` cells from a
window's cut edge equal the whole-grid ones, and rows at a true boundary see its one-sided stencils.

Spectral grids are differentiated by second-order finite differences on the windows (an FFT needs the
whole periodic axis). The one global operator of the catalogue, ``inverse_laplacian``, is linear, so for
``u = Σᵢ ωᵢ bᵢ`` it is ``Σᵢ ωᵢ Δ⁻¹bᵢ``: the basis functions are inverted once on the whole spectral grid
and :class:`BlockField` carries that combination (through negation and scalar factors) to where the
residual asks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Number

import numpy as np
import torch

from pdesolve.errors import NotApplicableError
from pdesolve.problem import Grid, GridField


def axis_windows(needed: list[np.ndarray], n: int, periodic: bool) -> tuple[np.ndarray, bool]:
    """Window indices (cells, W) along one axis of ``n`` nodes covering each cell's ``needed`` indices
    (which may run past the ends of a periodic axis), and whether the windows are the periodic axis itself."""
    lo = np.array([int(v.min()) if len(v) else 0 for v in needed])
    hi = np.array([int(v.max()) if len(v) else 0 for v in needed])
    width = int((hi - lo).max()) + 1
    if width >= n:
        return np.tile(np.arange(n), (len(needed), 1)), periodic
    start = np.mod(lo, n) if periodic else np.clip(lo, 0, n - width)
    return np.mod(start[:, None] + np.arange(width), n), False


@dataclass(frozen=True)
class Windows:
    """Per expert and field axis (time first for evolution problems) the global indices ``index[a]`` (K, W_a)
    of its window, and ``grid``: the finite-difference grid of one window's space axes."""

    index: tuple[np.ndarray, ...]
    grid: Grid

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(i.shape[1] for i in self.index)

    def subset(self, experts: np.ndarray) -> Windows:
        return Windows(tuple(i[experts] for i in self.index), self.grid)

    def gather(self, values: torch.Tensor, index: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """``values`` (batch, c, *field) -> (batch, K, c, *window), one indexing op for all experts;
        ``index`` are the tensors of :attr:`index` on the device."""
        axes = len(index)
        shaped = [i.reshape(i.shape[0], *[-1 if b == a else 1 for b in range(axes)]) for a, i in enumerate(index)]
        return values[(slice(None), slice(None), *shaped)].movedim(2, 1)


def window_grid(grid: Grid, widths: tuple[int, ...], periodic: tuple[bool, ...]) -> Grid:
    """A finite-difference grid with the spacing of ``grid`` and ``widths`` nodes (whole periodic axes stay so)."""
    upper = tuple(h * (w if p else w - 1) for h, w, p in zip(grid.spacing, widths, periodic))
    return Grid((0.0,) * grid.dim, upper, widths, periodic)


class BlockField(GridField):
    """A field on the experts' windows; ``potential()`` gives ``Δ⁻¹`` of it (from the whole grid) when known."""

    def __init__(self, values: torch.Tensor, grid: Grid, potential: Callable[[], torch.Tensor] | None = None):
        super().__init__(values, grid)
        self.potential = potential

    def _scaled(self, factor: float) -> BlockField:
        potential = self.potential
        return BlockField(factor * self.values, self.grid, None if potential is None else lambda: factor * potential())

    def __neg__(self) -> GridField:
        return self._scaled(-1.0)

    def __mul__(self, other):
        return self._scaled(float(other)) if isinstance(other, Number) else super().__mul__(other)

    def __rmul__(self, other):
        return self._scaled(float(other)) if isinstance(other, Number) else super().__rmul__(other)

    def inverse_laplacian(self) -> GridField:
        if self.potential is None:
            raise NotApplicableError(
                "a hard constraint on subdomains takes inverse_laplacian of the unknown (times a constant) only, "
                "on a periodic spectral grid"
            )
        return GridField(self.potential(), self.grid)

"""The Fourier neural operator in 1D, 2D and 3D (Li et al. 2021, "Fourier Neural Operator for Parametric PDEs").

``u = Q(σ(W_L + K_L) ... σ(W_1 + K_1) P(a, x))``: a pointwise lift ``P`` of the inputs and coordinates to
``width`` channels, ``layers`` Fourier layers each adding a pointwise linear map ``W`` to the global
convolution ``K v = F⁻¹(R · F v)`` that keeps the lowest ``modes`` frequencies per axis (eq. 4 of the paper),
GELU between layers, and a two-layer pointwise projection ``Q``. Non-periodic axes are zero-padded (as in the
authors' Darcy code) to a period of a fixed multiple of their length, so the same weights serve any resolution.
Inputs and outputs are normalised by per-channel means and standard deviations stored with the model.
The spectral weights start complex Glorot-normal (:class:`SpectralConv`), not as in the authors' code.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional

_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


def _pointwise(dim: int, inputs: int, outputs: int) -> nn.Module:
    return _CONV[dim](inputs, outputs, kernel_size=1)


class SpectralConv(nn.Module):
    """``K v = F⁻¹(R · F v)`` on the lowest ``modes[k]`` frequencies of each axis (both signs but on the last).

    Weights are stored as real tensors (…, 2) so every optimiser and DDP's all-reduce see plain floats.
    The FFTs run in float32 even under bf16 autocast.

    Initialisation: complex Glorot-normal (Glorot & Bengio 2010), ``E|R|² = 2 / (in + out)`` per mode, as
    neuraloperator's ``SpectralConv`` (``init_std="auto"``, Kossaifi et al. 2024). Li et al.'s original code
    draws ``rand / (in · out)``, which starts every Fourier layer near zero (a gain of ~0.5 / out per mode).
    Same data and loop, test relative L2 with that init -> this one: the rollout Navier–Stokes of
    ``benchmarks/operators.py --quick``, seeds 0, 1, 2: 4.9, 3.5, 4.9e-2 -> 4.1, 3.1, 4.0e-2 (neuraloperator's
    FNO: 3.5, 4.0, 3.8e-2; given Li et al.'s init, seed 0: 3.5e-2 -> 3.9e-2); Burgers s = 256 (200 train,
    modes 16, width 64, 30 epochs, cosine): within the seed-to-seed spread (5.3, 3.8e-3 -> 3.9, 4.3e-3).
    """

    def __init__(self, in_channels: int, out_channels: int, modes: tuple[int, ...]) -> None:
        super().__init__()
        self.modes = tuple(modes)
        shape = (in_channels, out_channels, *[2 * m for m in modes[:-1]], modes[-1], 2)
        part_std = (1 / (in_channels + out_channels)) ** 0.5  # real and imaginary parts each
        self.weight = nn.Parameter(torch.randn(shape) * part_std)

    def _kept(self, sizes: tuple[int, ...], device: torch.device) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Per axis, the kept frequency indices of the spectrum and of the weight."""
        frequencies, weights = [], []
        for axis, (n, m) in enumerate(zip(sizes, self.modes)):
            if axis == len(sizes) - 1:  # rfft axis: non-negative frequencies only
                kept = min(m, n // 2 + 1)
                index = torch.arange(kept, device=device)
                frequencies.append(index)
                weights.append(index)
            else:
                kept = min(m, n // 2)
                low = torch.arange(kept, device=device)
                frequencies.append(torch.cat([low, n - kept + low]))
                weights.append(torch.cat([low, 2 * m - kept + low]))
        return frequencies, weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(2, x.ndim))
        sizes = x.shape[2:]
        with torch.autocast(x.device.type, enabled=False):
            spectrum = torch.fft.rfftn(x.float(), dim=dims)
            frequencies, weight_index = self._kept(spectrum.shape[2:], x.device)
            weight = torch.view_as_complex(self.weight)
            for axis, (f, w) in enumerate(zip(frequencies, weight_index)):
                spectrum = spectrum.index_select(2 + axis, f)
                weight = weight.index_select(2 + axis, w)
            mixed = torch.einsum("bi...,io...->bo...", spectrum, weight)
            full = torch.zeros(
                (x.shape[0], weight.shape[1], *sizes[:-1], sizes[-1] // 2 + 1), dtype=mixed.dtype, device=x.device
            )
            full[(slice(None), slice(None), *torch.meshgrid(*frequencies, indexing="ij"))] = mixed
            return torch.fft.irfftn(full, s=sizes, dim=dims)


class FNO(nn.Module):
    """Fourier neural operator on ``(batch, in_channels, *grid)`` inputs, ``(batch, out_channels, *grid)`` outputs.

    ``periodic`` says per axis whether the data are periodic (no padding; nodes leave out the right end).
    """

    def __init__(
        self,
        dim: int,
        in_channels: int,
        out_channels: int = 1,
        modes: int = 12,
        width: int = 32,
        layers: int = 4,
        projection: int = 128,
        padding: float = 0.1,
        periodic: tuple[bool, ...] | None = None,
    ) -> None:
        super().__init__()
        if dim not in _CONV:
            raise ValueError(f"an FNO is 1D, 2D or 3D, not {dim}D")
        periodic = tuple(periodic) if periodic is not None else (False,) * dim
        self.config: dict[str, Any] = dict(
            dim=dim,
            in_channels=in_channels,
            out_channels=out_channels,
            modes=modes,
            width=width,
            layers=layers,
            projection=projection,
            padding=padding,
            periodic=periodic,
        )
        self.dim, self.periodic, self.padding = dim, periodic, padding
        self.lift = _pointwise(dim, in_channels + dim + sum(periodic), width)
        self.spectral = nn.ModuleList(SpectralConv(width, width, (modes,) * dim) for _ in range(layers))
        self.pointwise = nn.ModuleList(_pointwise(dim, width, width) for _ in range(layers))
        self.project = nn.Sequential(
            _pointwise(dim, width, projection), nn.GELU(), _pointwise(dim, projection, out_channels)
        )
        for name, channels in (("input", in_channels), ("output", out_channels)):
            self.register_buffer(f"{name}_mean", torch.zeros(channels))
            self.register_buffer(f"{name}_std", torch.ones(channels))

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FNO:
        return cls(**config)

    @torch.no_grad()
    def set_normalization(self, inputs: torch.Tensor, outputs: torch.Tensor) -> None:
        """Per-channel mean and standard deviation of training inputs and outputs (batch, channels, *grid)."""
        for name, data in (("input", inputs), ("output", outputs)):
            dims = [0, *range(2, data.ndim)]
            getattr(self, f"{name}_mean").copy_(data.mean(dim=dims))
            getattr(self, f"{name}_std").copy_(data.std(dim=dims).clamp_min(1e-12))

    def _expand(self, stats: torch.Tensor) -> torch.Tensor:
        return stats.reshape(1, -1, *([1] * self.dim))

    def _coordinates(self, x: torch.Tensor) -> torch.Tensor:
        """Position channels: ``x`` in [0, 1] on a non-periodic axis, ``(cos 2πx, sin 2πx)`` on a periodic one
        (smooth across the period, so its Fourier coefficients do not depend on the resolution)."""
        sizes = x.shape[2:]
        mesh = torch.meshgrid(*[torch.arange(n, device=x.device, dtype=x.dtype) for n in sizes], indexing="ij")
        channels = []
        for index, n, per in zip(mesh, sizes, self.periodic):
            if per:
                channels += [torch.cos(2 * torch.pi * index / n), torch.sin(2 * torch.pi * index / n)]
            else:
                channels.append(index / (n - 1))
        stacked = torch.stack(channels)
        return stacked.expand(x.shape[0], *stacked.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sizes = x.shape[2:]
        x = (x - self._expand(self.input_mean)) / self._expand(self.input_std)
        x = self.lift(torch.cat([x, self._coordinates(x)], dim=1))
        pads = [0 if per else padding_nodes(n, self.padding) for n, per in zip(sizes, self.periodic)]
        if any(pads):
            x = functional.pad(x, [p for pad in reversed(pads) for p in (0, pad)])
        for k, (spectral, pointwise) in enumerate(zip(self.spectral, self.pointwise)):
            x = spectral(x).to(x.dtype) + pointwise(x)
            if k < len(self.spectral) - 1:
                x = functional.gelu(x)
        if any(pads):
            x = x[(slice(None), slice(None), *[slice(0, n) for n in sizes])]
        x = self.project(x)
        return x * self._expand(self.output_std) + self._expand(self.output_mean)


def padding_nodes(n: int, fraction: float) -> int:
    """Zeros appended to a non-periodic axis of ``n`` nodes (spacing ``h = L / (n - 1)``) so that the padded
    period ``(n + pad) h`` is ``(1 + fraction) L`` at every resolution: the Fourier modes, and so the learned
    weights, then mean the same frequencies on every grid."""
    return max(round((1 + fraction) * (n - 1)) - n, 0)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

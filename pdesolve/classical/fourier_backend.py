"""Real FFTs and arrays on numpy (CPU, ``scipy.fft``: faster than ``numpy.fft`` at these sizes) or torch (any
device), so one spectral stepper serves both."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.fft
import torch


class FourierBackend:
    """Arrays of one kind (numpy, or torch on ``device``) and their real FFTs over the last ``dim`` axes."""

    def __init__(self, use_torch: bool, device: str = "cpu", dtype: str = "float64") -> None:
        self.use_torch = use_torch
        self.device = torch.device(device) if use_torch else None
        double = dtype == "float64"
        if use_torch:
            self.real, self.complex = getattr(torch, dtype), torch.complex128 if double else torch.complex64
        else:
            self.real, self.complex = np.dtype(dtype), np.complex128 if double else np.complex64

    @classmethod
    def for_settings(cls, choice: str, device: str, dtype: str) -> FourierBackend:
        """``choice`` is numpy, torch, or auto (torch on accelerators, numpy on the CPU)."""
        use_torch = choice == "torch" or (choice == "auto" and device != "cpu")
        return cls(use_torch, device, dtype)

    def real_array(self, values: Any) -> Any:
        if self.use_torch:
            return torch.as_tensor(values, dtype=self.real, device=self.device)
        return np.asarray(values, dtype=self.real)

    def complex_array(self, values: Any) -> Any:
        if self.use_torch:
            return torch.as_tensor(values, dtype=self.complex, device=self.device)
        return np.asarray(values, dtype=self.complex)

    def complex_zeros(self, shape: tuple[int, ...]) -> Any:
        if self.use_torch:
            return torch.zeros(shape, dtype=self.complex, device=self.device)
        return np.zeros(shape, dtype=self.complex)

    def index(self, positions: np.ndarray) -> Any:
        """Integer positions usable to index arrays of this backend."""
        return torch.as_tensor(positions, device=self.device) if self.use_torch else positions

    def rfftn(self, values: Any, dim: int) -> Any:
        axes = tuple(range(-dim, 0))
        if self.use_torch:
            return torch.fft.rfftn(values, dim=axes)
        return scipy.fft.rfftn(values, axes=axes).astype(self.complex, copy=False)

    def irfftn(self, values: Any, shape: tuple[int, ...]) -> Any:
        axes = tuple(range(-len(shape), 0))
        if self.use_torch:
            return torch.fft.irfftn(values, s=shape, dim=axes)
        return scipy.fft.irfftn(values, s=shape, axes=axes).astype(self.real, copy=False)

    def all_finite(self, values: Any) -> bool:
        if self.use_torch:
            return bool(torch.isfinite(values).all())
        return bool(np.isfinite(values).all())

    def to_numpy(self, values: Any) -> np.ndarray:
        if self.use_torch:
            return values.detach().cpu().numpy()
        return np.asarray(values)

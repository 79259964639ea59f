"""A small U-Net for 2D or 3D grids of any size (average pooling down, interpolation up, skip sums)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

CONV = {2: nn.Conv2d, 3: nn.Conv3d}


def block(dim: int, inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(
        CONV[dim](inputs, outputs, 3, padding=1), nn.GELU(), CONV[dim](outputs, outputs, 3, padding=1), nn.GELU()
    )


class UNet(nn.Module):
    """``levels`` resolutions of ``width`` channels; input ``(batch, channels, *grid)``, one output channel."""

    def __init__(self, dim: int, channels: int, width: int = 16, levels: int = 4) -> None:
        super().__init__()
        self.dim = dim
        self.down = nn.ModuleList([block(dim, channels if k == 0 else width, width) for k in range(levels)])
        self.up = nn.ModuleList([block(dim, width, width) for _ in range(levels - 1)])
        self.out = CONV[dim](width, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = functional.avg_pool2d if self.dim == 2 else functional.avg_pool3d
        skips = []
        for k, layer in enumerate(self.down):
            if k:
                x = pool(x, 2, ceil_mode=True)
            x = layer(x)
            skips.append(x)
        for layer, skip in zip(self.up, reversed(skips[:-1])):
            x = layer(functional.interpolate(x, size=skip.shape[2:], mode="nearest") + skip)
        return self.out(x)

"""Networks for physics-informed training: plain MLP, random Fourier features, modified (gated) MLP.

- MLP with tanh or sine activations, Glorot-initialised.
- Random Fourier features (Tancik et al. 2020; Wang, Wang & Perdikaris 2021): ``γ(x) = [cos 2πBx, sin 2πBx]``
  with a fixed Gaussian ``B`` in front of the MLP, against the spectral bias of plain networks.
- Modified MLP (Wang, Teng & Perdikaris 2021, "Understanding and mitigating gradient pathologies"):
  two encoders ``U, V`` gate every hidden layer, ``H ← (1 − Z) ⊙ U + Z ⊙ V``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

NETWORKS = ("mlp", "fourier", "gated")
ACTIVATIONS = ("tanh", "sin")


class Sine(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


def activation_module(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
    return nn.Tanh() if name == "tanh" else Sine()


def _linear(n_in: int, n_out: int) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    nn.init.xavier_normal_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def _squeeze(output: torch.Tensor) -> torch.Tensor:
    """A scalar network's output as shape (N,); several outputs (a system's unknowns) stay (N, k)."""
    return output.squeeze(-1) if output.shape[-1] == 1 else output


class MLP(nn.Module):
    """``depth`` hidden layers of ``width`` units, ``n_out`` outputs (one: shape (N,))."""

    def __init__(self, n_in: int, width: int, depth: int, activation: str = "tanh", n_out: int = 1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for k in range(depth):
            layers += [_linear(n_in if k == 0 else width, width), activation_module(activation)]
        layers.append(_linear(width if depth else n_in, n_out))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _squeeze(self.body(x))


class FourierFeatures(nn.Module):
    """``[cos 2πBx, sin 2πBx]`` with a fixed ``B ~ N(0, scale²)`` of shape (n_in, n_features)."""

    def __init__(self, n_in: int, n_features: int, scale: float, generator: torch.Generator) -> None:
        super().__init__()
        self.register_buffer("B", torch.randn(n_in, n_features, generator=generator) * scale)

    @property
    def n_out(self) -> int:
        return 2 * self.B.shape[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = 2 * math.pi * x @ self.B.to(x.dtype)
        return torch.cat([torch.cos(z), torch.sin(z)], dim=-1)


class FourierMLP(nn.Module):
    """Random Fourier features followed by an MLP."""

    def __init__(
        self,
        n_in: int,
        width: int,
        depth: int,
        activation: str,
        scale: float,
        generator: torch.Generator,
        n_out: int = 1,
    ):
        super().__init__()
        self.features = FourierFeatures(n_in, width // 2, scale, generator)
        self.mlp = MLP(self.features.n_out, width, depth, activation, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.features(x))


class ModifiedMLP(nn.Module):
    """Gated MLP: ``U = σ(W_u x)``, ``V = σ(W_v x)``, ``H_{k+1} = (1 − Z_k) U + Z_k V`` with ``Z_k = σ(W_k H_k)``."""

    def __init__(self, n_in: int, width: int, depth: int, activation: str = "tanh", n_out: int = 1) -> None:
        super().__init__()
        self.encode_u = _linear(n_in, width)
        self.encode_v = _linear(n_in, width)
        self.hidden = nn.ModuleList([_linear(n_in if k == 0 else width, width) for k in range(depth)])
        self.out = _linear(width, n_out)
        self.act = activation_module(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u, v = self.act(self.encode_u(x)), self.act(self.encode_v(x))
        h = x
        for layer in self.hidden:
            z = self.act(layer(h))
            h = (1 - z) * u + z * v
        return _squeeze(self.out(h))


def build_network(
    kind: str,
    n_in: int,
    width: int,
    depth: int,
    activation: str = "tanh",
    fourier_scale: float = 1.0,
    generator: torch.Generator | None = None,
    n_out: int = 1,
) -> nn.Module:
    """A network of the given kind on ``n_in`` (already embedded) inputs with ``n_out`` outputs."""
    if kind == "mlp":
        return MLP(n_in, width, depth, activation, n_out)
    if kind == "fourier":
        return FourierMLP(n_in, width, depth, activation, fourier_scale, generator or torch.Generator(), n_out)
    if kind == "gated":
        return ModifiedMLP(n_in, width, depth, activation, n_out)
    raise ValueError(f"network must be one of {NETWORKS}, got {kind!r}")

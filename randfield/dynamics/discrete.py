"""Automatic discrete differentiation (Matsubara, Ishikawa & Yaguchi, NeurIPS 2020).

A discrete gradient of a scalar H is a map dgradH(u, v) with

    (a) H(u) - H(v) = <dgradH(u, v), u - v>      (discrete chain rule),
    (b) dgradH(u, u) = grad H(u)                  (consistency),

and here also (c) dgradH(u, v) = dgradH(v, u). For a network built from the modules below,
every layer f satisfies f(a) - f(b) = L_f(a, b) (a - b) with a linear "chord" operator L_f:
linear layers and convolutions are their own chord; an elementwise phi has the diagonal chord
of divided differences (phi(a) - phi(b)) / (a - b) (midpoint derivative where a ~ b); a square
has chord (a + b). Composing the chords telescopes, H(u) - H(v) = L_H (u - v), so
dgradH(u, v) = L_H^T 1 satisfies (a) to rounding, and (b), (c) because every chord does.

Implementation: one forward pass runs both branches stacked; then L_H^T 1 is one backward
sweep of the chords' adjoints (`chord_adjoint`, by default the vector-Jacobian product of the
linear `chord`). Everything is plain torch, so it is differentiable in the parameters (training
with create_graph) and composes with torch.func (the Newton solver's jacrev/vmap).

A new layer type is one subclass of `DiscreteModule` with `forward` and `chord` (and, for
speed, `chord_adjoint`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..activations import get_activation

Tensor = torch.Tensor


class DiscreteModule(nn.Module):
    """A layer f with a chord operator: f(a) - f(b) = chord(a - b; a, b)."""

    def chord(self, x: Tensor, a: Tensor, b: Tensor) -> Tensor:
        """Apply the linear chord operator L_f(a, b) to x (x, a, b: this layer's input shape)."""
        raise NotImplementedError(f"{type(self).__name__} must define chord(x, a, b)")

    def chord_adjoint(self, y: Tensor, a: Tensor, b: Tensor) -> Tensor:
        """Apply L_f(a, b)^T to y (this layer's output shape). Default: the vector-Jacobian product
        of the linear map x -> chord(x, a, b); layers override it with the explicit transpose."""
        _, vjp = torch.func.vjp(lambda x: self.chord(x, a, b), torch.zeros_like(a))
        return vjp(y)[0]


class Linear(nn.Linear, DiscreteModule):
    def chord(self, x, a, b):
        return F.linear(x, self.weight)

    def chord_adjoint(self, y, a, b):
        return y @ self.weight


class _ConvChord:
    def chord(self, x, a, b):
        return self._conv_forward(x, self.weight, None)


class Conv1d(_ConvChord, nn.Conv1d, DiscreteModule):
    """Conv1d; use padding_mode="circular" for periodic domains."""


class Conv2d(_ConvChord, nn.Conv2d, DiscreteModule):
    """Conv2d; use padding_mode="circular" for periodic domains."""


SLOPES = ("exact", "published")
# DGNet's threshold below which its code takes phi'((a + b) / 2) instead of the divided difference
_PUBLISHED_EPS = {torch.float32: 1e-6, torch.float64: 1e-12}


class Elementwise(DiscreteModule):
    """phi applied elementwise; `activation` is any registered name or an `Activation`.

    slope: "exact" (default) takes the activation's chord slope, free of cancellation;
    "published" computes it as DGNet's code does (dgnet/modules.py), (phi(a) - phi(b)) / (a - b)
    in the working precision with phi'((a + b) / 2) where |a - b| <= 1e-6 (float32) or 1e-12
    (float64). Its cancellation error ~eps / |a - b| is part of what the published float32 runs
    trained with; the option exists to reproduce them (see figures/README.md, rounding spread).
    """

    def __init__(self, activation="tanh", slope: str = "exact"):
        super().__init__()
        if slope not in SLOPES:
            raise ValueError(f"slope must be one of {SLOPES}, got {slope!r}")
        self.activation = get_activation(activation) if isinstance(activation, str) else activation
        self.slope = slope

    def forward(self, x):
        return self.activation.phi(x)

    def _slope(self, a, b):
        if self.slope == "exact":
            return self.activation.divided_difference(a, b)
        diff = a - b
        far = diff.abs() > _PUBLISHED_EPS.get(diff.dtype, 1e-6)
        quotient = (self.activation.phi(a) - self.activation.phi(b)) / torch.where(far, diff, torch.ones_like(diff))
        return torch.where(far, quotient, self.activation.dphi((a + b) / 2))

    def chord(self, x, a, b):
        return self._slope(a, b) * x

    def chord_adjoint(self, y, a, b):
        return self._slope(a, b) * y

    def extra_repr(self) -> str:
        return self.activation.name + ("" if self.slope == "exact" else f", slope={self.slope}")


class Square(DiscreteModule):
    """x^2 elementwise; chord (a + b), the averaged product rule of DGNet's Pow2."""

    def forward(self, x):
        return x * x

    def chord(self, x, a, b):
        return (a + b) * x

    def chord_adjoint(self, y, a, b):
        return (a + b) * y


class Scale(DiscreteModule):
    """Multiplication by a fixed constant (e.g. the 1/2 of a kinetic energy or a grid spacing)."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = float(factor)

    def forward(self, x):
        return self.factor * x

    def chord(self, x, a, b):
        return self.factor * x

    def chord_adjoint(self, y, a, b):
        return self.factor * y


class AddChannel(DiscreteModule):
    """(batch, *grid) -> (batch, 1, *grid): a linear reshape, its own chord."""

    def forward(self, x):
        return x.unsqueeze(1)

    def chord(self, x, a, b):
        return x.unsqueeze(1)

    def chord_adjoint(self, y, a, b):
        return y.squeeze(1)


class Sum(DiscreteModule):
    """Sum over every axis but the batch axis: a global energy H of shape (batch, 1)."""

    def forward(self, x):
        return x.flatten(1).sum(1, keepdim=True)

    def chord(self, x, a, b):
        return x.flatten(1).sum(1, keepdim=True)

    def chord_adjoint(self, y, a, b):
        return y.reshape(-1, *[1] * (a.dim() - 1)).expand_as(a)


class DiscreteSequential(nn.Sequential):
    """A chain of `DiscreteModule`s computing a scalar energy per sample, with its discrete gradient."""

    def __init__(self, *layers: DiscreteModule):
        for layer in layers:
            if not isinstance(layer, DiscreteModule):
                raise TypeError(
                    f"every layer needs a chord (a DiscreteModule); got {type(layer).__name__}. "
                    "Use randfield.dynamics.discrete.{Linear, Conv1d, Conv2d, Elementwise, Square, Scale, Sum}"
                )
        super().__init__(*layers)

    def discrete_gradient(self, u: Tensor, v: Tensor) -> Tensor:
        """dgradH(u, v), same shape as u; see the module docstring for its properties."""
        if u.shape != v.shape:
            raise ValueError(f"u and v must have the same shape, got {tuple(u.shape)} and {tuple(v.shape)}")
        n = u.shape[0]
        inputs, h = [], torch.cat([u, v])
        for layer in self:
            inputs.append((h[:n], h[n:]))
            h = layer(h)
        y = torch.ones_like(h[:n])  # L_H^T 1: the backward sweep of the chords
        for layer, (a, b) in zip(reversed(self), reversed(inputs)):
            y = layer.chord_adjoint(y, a, b)
        return y

    def gradient(self, u: Tensor) -> Tensor:
        """grad H(u) by automatic differentiation (torch.func, so it composes with vmap/jacrev)."""
        return torch.func.grad(lambda x: self(x).sum())(u)


def energy_mlp(
    dim: int, hidden: int = 200, layers: int = 2, activation="tanh", slope: str = "exact"
) -> DiscreteSequential:
    """The HNN/DGNet energy network: dim -> hidden (x layers, activation) -> 1 (no output bias),
    orthogonally initialised as in Greydanus et al.'s code; `slope` as in `Elementwise`."""
    mods: list[DiscreteModule] = []
    width = dim
    for _ in range(layers):
        mods += [Linear(width, hidden), Elementwise(activation, slope)]
        width = hidden
    mods.append(Linear(width, 1, bias=False))
    net = DiscreteSequential(*mods)
    for m in net:
        if isinstance(m, Linear):
            nn.init.orthogonal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net


def energy_conv(ndim: int, hidden: int = 200, activation="tanh", slope: str = "exact") -> DiscreteSequential:
    """DGNet's PDE energy network on a periodic grid (batch, *grid) -> (batch, 1): conv k = 3 with
    circular padding, tanh, 1 x 1 conv, tanh, 1 x 1 conv to one channel (no bias), global sum;
    `slope` as in `Elementwise`."""
    conv = {1: Conv1d, 2: Conv2d}[ndim]
    net = DiscreteSequential(
        AddChannel(),
        conv(1, hidden, 3, padding=1, padding_mode="circular"),
        Elementwise(activation, slope),
        conv(hidden, hidden, 1),
        Elementwise(activation, slope),
        conv(hidden, 1, 1, bias=False),
        Sum(),
    )
    for m in net:
        if isinstance(m, (Conv1d, Conv2d)):
            nn.init.orthogonal_(m.weight.flatten(1))
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net

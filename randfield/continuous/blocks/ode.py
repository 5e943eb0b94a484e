"""ODE-Net block: x(T) of dx/dt = f(x) from x(0) = x by an adaptive (or fixed-step) solver, with any
gradient mode of `randfield.continuous.odeint` (default: the adjoint, O(1) memory in the steps).
`stats` holds the last solve's NFE forward/backward and steps."""

from __future__ import annotations

from torch import nn

from ..solve import odeint
from .base import register_block


class ModuleField:
    """An `nn.Module` f(x) seen as a `System` (vector_field = f)."""

    def __init__(self, f: nn.Module):
        self.f = f

    def vector_field(self, u):
        return self.f(u)


@register_block
class ODEBlock(nn.Module):
    name = "ode"

    def __init__(self, f: nn.Module, T: float = 1.0, method: str = "dopri5", gradient: str = "adjoint", **options):
        super().__init__()
        if not T > 0:
            raise ValueError(f"T (integration time) must be > 0, got {T!r}")
        self.f, self.T, self.method, self.gradient, self.options = f, float(T), method, gradient, options
        self.stats = None

    def forward(self, x):
        params = tuple(p for p in self.f.parameters() if p.requires_grad)
        ys, self.stats = odeint(
            ModuleField(self.f), x, [0.0, self.T], self.method, gradient=self.gradient, params=params,
            return_stats=True, **self.options,
        )  # fmt: skip
        return ys[-1]

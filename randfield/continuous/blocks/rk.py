"""RK-Net block: `steps` classic RK4 steps of dx/dt = f(x) over [0, T], back-propagated (memory O(steps))."""

from __future__ import annotations

from torch import nn

from ...dynamics.integrators import get_integrator
from .base import register_block
from .ode import ModuleField


@register_block
class RKBlock(nn.Module):
    name = "rk"

    def __init__(self, f: nn.Module, T: float = 1.0, steps: int = 1, method: str = "rk4"):
        super().__init__()
        if int(steps) != steps or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        self.f, self.T, self.steps = f, float(T), int(steps)
        self.integrator = get_integrator(method)

    def forward(self, x):
        field, h = ModuleField(self.f), self.T / self.steps
        for _ in range(self.steps):
            x = self.integrator.step(field, x, h)
        return x

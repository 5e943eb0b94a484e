"""ResNet block x + h f(x): one forward-Euler step of dx/dt = f(x) (the seed's ResNet-as-Euler view)."""

from __future__ import annotations

from torch import nn

from .base import register_block


@register_block
class ResBlock(nn.Module):
    name = "res"

    def __init__(self, f: nn.Module, h: float = 1.0):
        super().__init__()
        self.f, self.h = f, float(h)

    def forward(self, x):
        return x + self.h * self.f(x)

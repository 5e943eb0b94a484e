"""RevNet block (Gomez et al. 2017): additive coupling of the two halves of the channel axis,

    y1 = x1 + F(x2),   y2 = x2 + G(y1);   inverse: x2 = y2 - G(y1),  x1 = y1 - F(x2),

a leapfrog-like (symplectic) step that is inverted exactly. With memory_saving=True the backward pass
rebuilds the inputs from the outputs and recomputes F and G there, so no activation inside the block is
kept (the block saves only its output)."""

from __future__ import annotations

import torch
from torch import nn

from .base import register_block


def _coupling(f, g, x, dim):
    x1, x2 = x.chunk(2, dim)
    y1 = x1 + f(x2)
    return torch.cat([y1, x2 + g(y1)], dim)


class _Reversible(torch.autograd.Function):
    @staticmethod
    def forward(ctx, block, x, *params):
        with torch.no_grad():
            y = _coupling(block.f, block.g, x, block.dim)
        ctx.block = block
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        block = ctx.block
        with torch.no_grad():
            x = block.inverse(y)
        params = tuple(p for p in block.parameters() if p.requires_grad)
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            out = _coupling(block.f, block.g, x, block.dim)
            grads = torch.autograd.grad(out, (x, *params), grad_y, allow_unused=True)
        return (None, *(torch.zeros_like(p) if g is None else g for g, p in zip(grads, (x, *params))))


@register_block
class RevBlock(nn.Module):
    name = "rev"

    def __init__(self, f: nn.Module, g: nn.Module, dim: int = 1, memory_saving: bool = True):
        super().__init__()
        self.f, self.g, self.dim, self.memory_saving = f, g, int(dim), bool(memory_saving)

    def forward(self, x):
        if x.shape[self.dim] % 2:
            raise ValueError(f"RevBlock splits axis {self.dim} in halves; its size {x.shape[self.dim]} is odd")
        if self.memory_saving and torch.is_grad_enabled():
            return _Reversible.apply(self, x, *(p for p in self.parameters() if p.requires_grad))
        return _coupling(self.f, self.g, x, self.dim)

    def inverse(self, y):
        y1, y2 = y.chunk(2, self.dim)
        x2 = y2 - self.g(y1)
        return torch.cat([y1 - self.f(x2), x2], self.dim)

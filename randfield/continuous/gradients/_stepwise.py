"""Shared by the step-wise exact modes: a vector-Jacobian product through one function evaluation."""

from __future__ import annotations

import torch

from .base import zeros_like_all


def vjp(fn, u, cotangent, params):
    """(d fn/du)^T cotangent and (d fn/dparams)^T cotangent at u, from one graph freed at once."""
    with torch.enable_grad():
        u = u.detach().requires_grad_(True)
        out = fn(u)
        grads = torch.autograd.grad(out, (u, *params), cotangent, allow_unused=True)
    grads = zeros_like_all(grads, (u, *params))
    return grads[0], grads[1:]


def add(acc, new):
    return [a + b for a, b in zip(acc, new)]

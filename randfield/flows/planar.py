"""Planar normalising flows (Rezende & Mohamed 2015): K layers z <- z + u h(w^T z + b), h = tanh, with
log|det| = log|1 + u^T h'(w^T z + b) w| and u re-parameterised so that w^T u >= -1 (invertible)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.functional import softplus


class PlanarFlow(nn.Module):
    def __init__(self, dim: int, n_layers: int):
        super().__init__()
        if int(n_layers) != n_layers or n_layers < 1:
            raise ValueError(f"n_layers (K) must be a positive integer, got {n_layers!r}")
        if int(dim) != dim or dim < 1:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        self.dim = int(dim)
        self.u = nn.Parameter(0.01 * torch.randn(n_layers, dim))
        self.w = nn.Parameter(0.01 * torch.randn(n_layers, dim))
        self.b = nn.Parameter(torch.zeros(n_layers))

    def _u_hat(self, k):
        u, w = self.u[k], self.w[k]
        wu = w @ u
        return u + (-1 + softplus(wu) - wu) * w / (w @ w + 1e-12)

    def forward(self, z):
        """(f_K o ... o f_1)(z) and sum_k log|det df_k/dz|."""
        logdet = z.new_zeros(z.shape[0])
        for k in range(self.u.shape[0]):
            u, w, b = self._u_hat(k), self.w[k], self.b[k]
            a = z @ w + b
            logdet = logdet + torch.log(torch.abs(1 + (1 - torch.tanh(a) ** 2) * (w @ u)) + 1e-12)
            z = z + u * torch.tanh(a)[:, None]
        return z, logdet

    def sample(self, n: int, *, generator=None, return_log_prob: bool = False, dtype=None, device=None):
        z0 = torch.randn(int(n), self.dim, generator=generator, dtype=dtype or self.u.dtype, device=device)
        x, logdet = self(z0)
        log_q = -0.5 * (z0 * z0).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi) - logdet
        return (x, log_q) if return_log_prob else x

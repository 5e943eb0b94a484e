"""Monte-Carlo of the diagonal NTK across random networks at finite width (`randfield.finite_width`).

Theta(x, x) = |grad_theta f(x)|^2 for a scalar output in NTK parameterisation (standard-normal weights
scaled by sigma_w / sqrt(fan_in), the parameterisation of `DenseNetwork`, no biases: sigma_b^2 = 0),
one gradient per network by `torch.func.grad`, vmapped over networks drawn together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import grad, vmap

from ..expectations import second_moment
from .empirical import random_nets

_CHUNK_BYTES = 2**27


@dataclass(frozen=True)
class NTKDiagonal:
    """theta: (S,) Theta(x, x) of S independent networks, in units of the infinite-width value."""

    theta: np.ndarray

    def relative_variance(self) -> tuple[float, float]:
        """(Var / E^2, its standard error by the delta method on the first two sample moments)."""
        t = self.theta
        s = len(t)
        m1, m2 = t.mean(), (t * t).mean()
        ratio = m2 / m1**2 - 1
        g = np.array([-2 * m2 / m1**3, 1 / m1**2])  # d ratio / d (m1, m2)
        cov = np.cov(np.stack([t, t * t]), ddof=1) / s
        return float(ratio), float(np.sqrt(g @ cov @ g))


def ntk_diagonal(
    activation,
    sigma_w2: float,
    depth: int,
    width: int,
    *,
    n_networks: int = 1000,
    d: int | None = None,
    seed: int = 0,
    device=None,
    dtype: str = "float64",
) -> NTKDiagonal:
    """Theta(x, x) of S networks with `depth` hidden layers of `width` units at one input of |x|^2 = d
    (d = width by default), divided by the infinite-width NTK (depth + 1) sigma_w^2 chi^depth, chi =
    sigma_w^2 E[phi(z)^2] (homogeneous phi, no biases)."""
    act, sw, _, depth, width, s, device, tdtype, gen = random_nets(
        activation, sigma_w2, 0.0, depth, width, n_networks, seed, device, dtype
    )
    d = width if d is None else int(d)
    dims = [d] + [width] * depth + [1]

    def output(weights, x):
        h = x
        for layer, w in enumerate(weights):
            if layer:
                h = act.phi(h)
            h = (math.sqrt(sw / w.shape[1])) * (w @ h)
        return h[0]

    per_net = 8 * 2 * sum(i * o for i, o in zip(dims[:-1], dims[1:]))
    chunk = max(1, min(s, _CHUNK_BYTES // per_net))
    x = torch.ones(d, dtype=tdtype, device=device)  # |x|^2 = d; any direction (rotation invariance)
    out = []
    for start in range(0, s, chunk):
        b = min(chunk, s - start)
        weights = tuple(
            torch.randn(b, o, i, generator=gen, device=device, dtype=tdtype) for i, o in zip(dims[:-1], dims[1:])
        )
        grads = vmap(grad(output), in_dims=(0, None))(weights, x)
        out.append(sum((g * g).sum((1, 2)) for g in grads).cpu())
    chi = sw * float(second_moment(act, 1.0))
    theta_inf = (depth + 1) * sw * chi**depth  # each of the L + 1 terms: sigma_w^2 |x|^2 / d chi^L
    return NTKDiagonal(torch.cat(out).numpy() / theta_inf)

"""Monte-Carlo of random nets with dropout (`randfield.dropout`): two inputs, a fresh Bernoulli mask
for each input's pass at every layer, layers drawn by the engine's Gram sampler."""

from __future__ import annotations

import math

import numpy as np
import torch

from .empirical import random_nets
from .engine import _gram_product, great_circle_inputs


def dropout_correlations(
    activation,
    sigma_w2: float,
    sigma_b2: float,
    rho: float,
    depth: int,
    width: int,
    *,
    n_networks: int = 32,
    d: int = 64,
    q_input: float = 1.0,
    c_input: float = 0.5,
    seed: int = 0,
    device=None,
    dtype: str = "float64",
) -> tuple[np.ndarray, np.ndarray]:
    """(q, c), each (S, depth): the first input's |h^l|^2 / N and the two inputs' correlation per layer."""
    from ..dropout import _keep

    rho = _keep(rho)
    act, sw, sb, depth, width, s, device, tdtype, gen = random_nets(
        activation, sigma_w2, sigma_b2, depth, width, n_networks, seed, device, dtype
    )
    x = torch.as_tensor(great_circle_inputs(2, d, q_input, c_input), device=device, dtype=tdtype).expand(s, 2, d)

    def layer(rows, fan_in):
        bias = torch.randn(s, 1, width, generator=gen, device=device, dtype=tdtype) * math.sqrt(sb)
        return _gram_product(rows.contiguous(), width, gen, math.sqrt(sw / fan_in)) + bias

    h = layer(x, d)
    q, c = np.zeros((s, depth)), np.zeros((s, depth))
    for k in range(depth):
        qq = (h * h).mean(-1)
        q[:, k] = qq[:, 0].cpu().numpy()
        c[:, k] = ((h[:, 0] * h[:, 1]).mean(-1) / torch.sqrt(qq[:, 0] * qq[:, 1])).cpu().numpy()
        keep = torch.rand(h.shape, generator=gen, device=device, dtype=tdtype) < rho  # a mask per input
        h = layer(act.phi(h) * keep / rho, width)
    return q, c

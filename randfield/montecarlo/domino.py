"""Monte-Carlo of Jacobian products J_l = B^l ... B^1 of random nets (the domino theorem, `randfield.domino`).

Forward-mode: probes v ride along with the pre-activations, v <- W diag(phi'(h)) v, in the same
product with the layer's weights as phi(h) (the Gram sampler of the engine: rows times fresh
i.i.d. weights are exactly Gaussian with the rows' Gram matrix, so no N x N matrix is formed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .._validation import check_positive_int
from .empirical import random_nets
from .engine import _gram_product


@dataclass(frozen=True)
class JacobianProducts:
    """log_ratio: (S, P, depth) log |J_l v|^2 / |v|^2 for P probes in each of S networks;
    cosine: (S, depth) cosine between the images of the first two probes (orthonormal at the input)."""

    log_ratio: np.ndarray
    cosine: np.ndarray


def jacobian_products(
    activation,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    width: int,
    *,
    n_networks: int = 32,
    n_probes: int = 2,
    d: int = 64,
    q_input: float = 1.0,
    seed: int = 0,
    device=None,
    dtype: str = "float64",
) -> JacobianProducts:
    """Simulate S networks h^1 = W^1 x + b^1, h^{l+1} = W^{l+1} phi(h^l) + b^{l+1} (W ~ N(0, sigma_w^2/fan_in),
    b ~ N(0, sigma_b^2)) at one input with |x|^2 / d = q_input, carrying n_probes >= 2 orthonormal
    probes through B^l = W^{l+1} diag(phi'(h^l)); probes are renormalised every layer and their log
    norms accumulated, so any depth stays finite."""
    act, sw, sb, depth, width, s, device, tdtype, gen = random_nets(
        activation, sigma_w2, sigma_b2, depth, width, n_networks, seed, device, dtype
    )
    p = check_positive_int(n_probes, "n_probes")
    if p < 2:
        raise ValueError(f"n_probes must be >= 2 (the cosine needs a pair), got {p}")
    if p > width:
        raise ValueError(f"n_probes must be <= width = {width} to be orthonormal, got {p}")

    def randn(*shape):
        return torch.randn(*shape, generator=gen, device=device, dtype=tdtype)

    x = randn(s, 1, d)
    x = x * (math.sqrt(q_input * d) / x.norm(dim=-1, keepdim=True))
    h = _gram_product(x, width, gen, math.sqrt(sw / d)) + math.sqrt(sb) * randn(s, 1, width)
    v, _ = torch.linalg.qr(randn(s, width, p))  # orthonormal probes, (S, N, P)
    v = v.transpose(1, 2).contiguous()
    log_ratio, cosine = np.zeros((s, p, depth)), np.zeros((s, depth))
    total = torch.zeros(s, p, device=device, dtype=tdtype)
    for layer in range(depth):
        phi, dphi, _ = act.derivatives(h)
        out = _gram_product(torch.cat([phi, dphi * v], 1), width, gen, math.sqrt(sw / width))
        h, v = out[:, :1] + math.sqrt(sb) * randn(s, 1, width), out[:, 1:]
        norm2 = (v * v).sum(-1)
        total += torch.log(norm2)
        log_ratio[:, :, layer] = total.cpu().numpy()
        cosine[:, layer] = ((v[:, 0] * v[:, 1]).sum(-1) / torch.sqrt(norm2[:, 0] * norm2[:, 1])).cpu().numpy()
        v = v / torch.sqrt(norm2).unsqueeze(-1)
    return JacobianProducts(log_ratio, cosine)

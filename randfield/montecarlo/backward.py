"""Monte-Carlo of back-propagated gradient norms in random nets (`randfield.backward`).

The weights of a layer are drawn from a generator whose state is kept, and drawn again from that
state for the backward pass: memory O(S N depth) for the activations instead of O(S N^2 depth) for
the weights, and the backward pass uses exactly the forward weights (which is the point: gradient
independence is an assumption to be tested, not built in).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .empirical import random_nets


@dataclass(frozen=True)
class GradientNorms:
    """delta: (S, depth) |dL/dh^l|^2 / N; weight_gradient: (S, depth) |dL/dW^l|_F^2 / (N fan_in)."""

    delta: np.ndarray
    weight_gradient: np.ndarray


def gradient_norms(
    activation,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    width: int,
    *,
    n_networks: int = 32,
    d: int = 64,
    q_input: float = 1.0,
    seed: int = 0,
    device=None,
    dtype: str = "float64",
) -> GradientNorms:
    """S random nets (see `randfield.backward`) at one input with |x|^2 / d = q_input, loss <g, h^L>
    with g ~ N(0, I): per-layer mean squares of the activation and weight gradients."""
    act, sw, sb, depth, width, s, device, tdtype, gen = random_nets(
        activation, sigma_w2, sigma_b2, depth, width, n_networks, seed, device, dtype
    )

    def weights(fan_in):
        return torch.randn(s, width, fan_in, generator=gen, device=device, dtype=tdtype) * math.sqrt(sw / fan_in)

    x = torch.randn(s, d, generator=gen, device=device, dtype=tdtype)
    a = x * (math.sqrt(q_input * d) / x.norm(dim=-1, keepdim=True))
    inputs, pre, states = [], [], []
    for _ in range(depth):
        states.append(gen.get_state())
        w = weights(a.shape[-1])
        h = torch.einsum("sij,sj->si", w, a) + math.sqrt(sb) * torch.randn(
            s, width, generator=gen, device=device, dtype=tdtype
        )
        inputs.append(a)
        pre.append(h)
        a = act.phi(h)
    delta = torch.randn(s, width, generator=gen, device=device, dtype=tdtype)  # dL/dh^L = g
    out_delta, out_weight = np.zeros((s, depth)), np.zeros((s, depth))
    for layer in range(depth - 1, -1, -1):
        d2 = (delta * delta).mean(-1)
        out_delta[:, layer] = d2.cpu().numpy()
        # |delta a^T|_F^2 / (N fan_in) = mean(delta^2) mean(a^2): the outer product's norm, no matrix
        out_weight[:, layer] = (d2 * (inputs[layer] ** 2).mean(-1)).cpu().numpy()
        if layer:
            gen.set_state(states[layer])  # this layer's forward weights, drawn again
            delta = act.dphi(pre[layer - 1]) * torch.einsum("sij,si->sj", weights(inputs[layer].shape[-1]), delta)
    return GradientNorms(out_delta, out_weight)

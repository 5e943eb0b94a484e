"""Singular values of the input-output Jacobian of random networks (dynamical isometry).

Pennington, Schoenholz & Ganguli 2017: for J = prod_l D_l W_l (D_l = diag phi'(h^l)), the mean
squared singular value is prod_l chi_1(q^l); isometry (all singular values near 1) needs
chi_1 = 1 *and* a narrow spectrum, which Gaussian weights cannot give (linear nets at
chi_1 = 1: squared singular values with Fuss–Catalan moments, variance = depth) and
orthogonal weights can (linear: exactly 1).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .._validation import check_positive_int, check_variance
from ..activations import get_activation
from .empirical import default_device
from .engine import WEIGHTS, _weights


def jacobian_singular_values(
    activation: str,
    sigma_w2: float,
    sigma_b2: float,
    *,
    width: int,
    depth: int,
    n_networks: int,
    weights: str = "gaussian",
    q_input: float = 1.0,
    seed: int = 0,
    device=None,
    dtype=torch.float64,
) -> np.ndarray:
    """Singular values of dh^{depth+1}/dh^1 for square width x width layers, one input with q^1 = q_input.

    h^1 ~ N(0, q_input) per unit (the input layer's output); then `depth` layers
    h^{l+1} = (sigma_w/sqrt(N)) W phi(h^l) + sigma_b b, and J = prod_l (sigma_w/sqrt(N)) W_l D_l.

    Returns:
        (n_networks, width) array of singular values.
    """
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")
    act = get_activation(activation)
    sw, sb = (
        math.sqrt(float(check_variance(sigma_w2, "sigma_w2"))),
        math.sqrt(float(check_variance(sigma_b2, "sigma_b2"))),
    )
    n, s = check_positive_int(width, "width"), check_positive_int(n_networks, "n_networks")
    depth = check_positive_int(depth, "depth")
    device = torch.device(device) if device is not None else default_device()
    gen = torch.Generator(device=device).manual_seed(seed)
    h = math.sqrt(float(check_variance(q_input, "q_input", positive=True))) * torch.randn(
        s, 1, n, generator=gen, device=device, dtype=dtype
    )
    jac = torch.eye(n, device=device, dtype=dtype).expand(s, n, n).clone()  # row convention: dh_out = dh_in @ J
    for _ in range(depth):
        w = _weights(gen, s, n, n, weights, device, dtype) * (sw / math.sqrt(n))
        jac = (jac * act.dphi(h)) @ w  # J <- J D W (rows: input directions)
        h = act.phi(h) @ w + sb * torch.randn(s, 1, n, generator=gen, device=device, dtype=dtype)
    return torch.linalg.svdvals(jac).cpu().numpy()

"""Backward mean field: the second moments of back-propagated gradients (Schoenholz et al. 2017, §3).

Network h^1 = W^1 x + b^1, h^{l+1} = W^{l+1} phi(h^l) + b^{l+1} (W ~ N(0, sigma_w^2 / fan_in),
b ~ N(0, sigma_b^2)), l = 1..L, and a loss whose gradient at the output has i.i.d. entries of second
moment qt^L (a random linear read-out; scale-free, so qt^L = 1). Back-propagation
delta^l = phi'(h^l) * (W^{l+1})^T delta^{l+1} gives, under the gradient-independence assumption
(exact at infinite width, Yang 2019),

    qt^l = E[(delta^l_i)^2] = chi_1(q^l) qt^{l+1},    chi_1(q) = sigma_w^2 E[phi'(sqrt(q) z)^2]

(Schoenholz et al. Eq. 11 with the layer's own q^l, not only q*), and the weight gradients
dL/dW^l_ij = delta^l_i a^{l-1}_j (a^0 = x, a^l = phi(h^l)) have mean square

    E[(dL/dW^l_ij)^2] = qt^l E[(a^{l-1}_j)^2] = qt^l (q^l - sigma_b^2) / sigma_w^2

(the length map read backwards). At the fixed point they change by chi_1 per layer: the gradient
depth scale xi_grad = -1 / log chi_1(q*) (Schoenholz et al. Eq. 12): gradients vanish over
~xi_grad layers in the ordered phase (chi_1 < 1, xi_grad > 0) and explode in the chaotic phase
(xi_grad < 0: they grow by e per |xi_grad| layers); at the edge of chaos they neither vanish nor
explode. tests/test_backward.py checks both against `randfield.montecarlo.gradient_norms`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_variance
from .activations import get_activation
from .gaussian import DEFAULT_ORDER
from .maps import chi1, length_fixed_point, length_propagation


@dataclass(frozen=True)
class GradientStatistics:
    """Per layer l = 1..depth (arrays of shape (depth,)).

    Attributes:
        q: forward variance q^l of h^l.
        chi1: chi_1(q^l).
        delta: qt^l, the gradient second moment at h^l, relative to the output's (qt^L = 1).
        weight_gradient: mean square of an entry of dL/dW^l, in the same units.
    """

    q: np.ndarray
    chi1: np.ndarray
    delta: np.ndarray
    weight_gradient: np.ndarray


def gradient_statistics(
    activation, sigma_w2: float, sigma_b2: float, depth: int, *, q_input: float = 1.0, order: int = DEFAULT_ORDER
) -> GradientStatistics:
    """Forward q^l by the length map from q^1 = sigma_w^2 q_input + sigma_b^2 (inputs |x|^2 / d = q_input),
    then the backward recursion qt^l = chi_1(q^l) qt^{l+1} from qt^L = 1."""
    act = get_activation(activation)
    sw = float(check_variance(sigma_w2, "sigma_w2", positive=True))
    sb = float(check_variance(sigma_b2, "sigma_b2"))
    q = length_propagation(act, sw, sb, depth, q_input=q_input, order=order)
    c = np.asarray(chi1(act, sw, sb, q=q, order=order), dtype=np.float64)
    # qt^l = prod_{k = l..L-1} chi_1(q^k): the output layer's own phi' never enters
    delta = np.append(np.cumprod(c[-2::-1])[::-1], 1.0) if depth > 1 else np.ones(1)
    return GradientStatistics(q, c, delta, delta * (q - sb) / sw)


def gradient_depth_scale(activation, sigma_w2: float, sigma_b2: float, *, order: int = DEFAULT_ORDER) -> float:
    """xi_grad = -1 / log chi_1(q*) (Schoenholz et al. 2017, Eq. 12): > 0, gradients vanish over it
    (ordered); < 0, they grow by e every |xi_grad| layers (chaotic); inf at the edge of chaos."""
    q = length_fixed_point(activation, sigma_w2, sigma_b2, order=order)
    log_chi = float(np.log(chi1(activation, sigma_w2, sigma_b2, q=q, order=order)))
    return float("inf") if log_chi == 0 else -1.0 / log_chi

"""Finite-width 1/n corrections to the length map: fluctuations of the empirical q across networks.

A width-n random net h^1 = W^1 x + b^1, h^{l+1} = W^{l+1} phi(h^l) + b^{l+1} (W ~ N(0, sigma_w^2 / fan_in),
b ~ N(0, sigma_b^2)) at one input. Given layer l, the units of layer l + 1 are i.i.d. N(0, K^{l+1}) with
the *random* variance K^{l+1} = sigma_w^2 (1/n) sum_j phi(h^l_j)^2 + sigma_b^2, and the empirical length
qhat^l = |h^l|^2 / n is K^l chi^2_n / n. Expanding around the mean-field q^l (the length map) with
m(q) = E[phi(sqrt(q) z)^2] and v(q) = Var[phi(sqrt(q) z)^2] = E[phi^4] - m^2:

    V^{l+1}  = sigma_w^4 [v(q^l) + m'(q^l)^2 V^l],          V^1 = 0,    (V^l = n Var[K^l])
    mu^{l+1} = sigma_w^2 [m'(q^l) mu^l + m''(q^l) V^l / 2], mu^1 = 0,   (mu^l = n (E[K^l] - q^l))

so that, to leading order in 1/n,

    n Var[qhat^l] = 2 (q^l)^2 + V^l,        E[qhat^l] = q^l + mu^l / n.

V is the single-input four-point vertex of Roberts, Yaida & Hanin, "The Principles of Deep Learning
Theory" (2022), ch. 4-5, whose recursion V^{l+1} = chi_par^2 V^l + C_W^2 (<phi^4> - <phi^2>^2) is the
first line with chi_par = sigma_w^2 m'(q) (the length map's slope) and C_W = sigma_w^2. m' is the
length-map slope E[phi'^2 + phi phi''] (Stein's lemma); m'' is its central difference with step
`step` q (relative error ~ step^2: 1e-8 at the default), which only enters the 1/n mean correction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import expectations as ex
from ._validation import check_positive_int, check_variance
from .activations import get_activation
from .gaussian import DEFAULT_ORDER, gaussian_expectation
from .maps import length_propagation


@dataclass(frozen=True)
class LengthFluctuations:
    """Per layer l = 1..depth: q (mean field), vertex V^l = n Var[K^l], mu^l = n (E[qhat^l] - q^l), and
    n_var = n Var[qhat^l] = 2 q^2 + V (all to leading order in 1/n)."""

    q: np.ndarray
    vertex: np.ndarray
    mean_shift: np.ndarray

    @property
    def n_var(self) -> np.ndarray:
        return 2 * self.q**2 + self.vertex

    def mean(self, width: int) -> np.ndarray:
        """E[qhat^l] at width n, q^l + mu^l / n."""
        return self.q + self.mean_shift / check_positive_int(width, "width")


def length_fluctuations(
    activation,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    *,
    q_input: float = 1.0,
    order: int = DEFAULT_ORDER,
    step: float = 1e-4,
) -> LengthFluctuations:
    """The 1/n statistics of qhat^l for inputs of |x|^2 / d = q_input (see the module docstring)."""
    act = get_activation(activation)
    sw, sb = float(check_variance(sigma_w2, "sigma_w2")), float(check_variance(sigma_b2, "sigma_b2"))
    q = length_propagation(act, sw, sb, depth, q_input=q_input, order=order)
    m, slope, _ = ex.moments_1d(act, q, order=order)  # E[phi^2] and its slope from one rule
    curvature = (
        ex.second_moment_slope(act, q * (1 + step), order=order)
        - ex.second_moment_slope(act, q * (1 - step), order=order)
    ) / (2 * step * q)
    v = gaussian_expectation(lambda x: act.phi(x) ** 4, q, kinks=act.kinks, order=order) - m**2
    vertex, shift = np.zeros(depth), np.zeros(depth)
    for layer in range(depth - 1):
        vertex[layer + 1] = sw**2 * (v[layer] + slope[layer] ** 2 * vertex[layer])
        shift[layer + 1] = sw * (slope[layer] * shift[layer] + curvature[layer] * vertex[layer] / 2)
    return LengthFluctuations(q, vertex, shift)

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


@dataclass(frozen=True)
class NTKFluctuations:
    """Var[Theta(x, x)] / E[Theta(x, x)]^2 of the diagonal NTK at finite width (see `ntk_fluctuations`).

    Attributes:
        leading: the 1/n theory, exact to first order in 1/n at fixed depth.
        resummed: the product of independent layer factors, an exp(c L / n)-type continuation.
        forward, backward, cross: n Var[r], n Var[s], n Cov[r, s] of one layer's forward and backward
            gain (the per-layer constants: 5, 5, 1 for ReLU; 2, 2, 0 for linear nets).
    """

    depth: int
    width: int
    leading: float
    resummed: float
    forward: float
    backward: float
    cross: float


def ntk_fluctuations(
    activation, sigma_w2: float, depth: int, width: int, *, sigma_b2: float = 0.0, order: int = DEFAULT_ORDER
) -> NTKFluctuations:
    """Relative variance of the diagonal NTK of a width-n net with `depth` = L hidden layers at
    sigma_b^2 = 0, for a positively homogeneous phi (ReLU, leaky ReLU, linear).

    NTK parameterisation (`randfield.montecarlo.DenseNetwork`): Theta(x, x) = sum_{l=1}^{L+1}
    (sigma_w^2 / n_{l-1}) |delta^l|^2 |a^{l-1}|^2, a^0 = x, delta^{L+1} = 1. For homogeneous phi and no
    biases, |a^l|^2 = |a^{l-1}|^2 chi r_l exactly, with i.i.d. gains r_l = (1/n) sum_i phi(z_i)^2 / E[phi^2]
    (z_i i.i.d. N(0, 1)), and |delta^l|^2 = |delta^{l+1}|^2 chi s_l with s_l = (1/n) sum_i phi'(z_i)^2 xi_i^2
    / E[phi'^2] (xi_i N(0, 1), independent of the forward pass up to terms of order 1/n in s_l whose
    covariances are o(1/n)). The only coupling is unit by unit through z_i in layer l (the mask, for
    ReLU). So every term of Theta has mean chi^L Theta_0, and with r = 1 + eps, s = 1 + eta,

        Theta / E Theta - 1 = (1/(L+1)) sum_{k=1}^{L} [(L + 1 - k) eps_k + k eta_k] + O(1/n),
        n Var[Theta] / E[Theta]^2 = (1/(L+1)^2) sum_k [(L+1-k)^2 v_r + k^2 v_s + 2 k (L+1-k) v_rs],

    v_r = E[phi^4]/E[phi^2]^2 - 1, v_s = 3 E[phi'^4]/E[phi'^2]^2 - 1, v_rs = E[phi^2 phi'^2]/(E[phi^2] E[phi'^2]) - 1
    (ReLU: 5, 5, 1, so n Var/E^2 = L (11 L + 7) / (3 (L + 1)) -> 11 L / 3). The resummed value multiplies
    the layer factors' exact second moments instead of adding their variances,
    E[Theta^2] / E[Theta]^2 = (1/(L+1)^2) sum_{l,m} (1 + v_r/n)^{min(l,m)-1} (1 + v_s/n)^{L+1-max(l,m)}
    (1 + v_rs/n)^{|l-m|}, which grows like exp(c L / n): the regime of Hanin & Nica, "Finite depth and
    width corrections to the neural tangent kernel" (ICLR 2020), who prove E[Theta^2]/E[Theta]^2 ~ exp(5 L/n)
    up to constants for ReLU. Where L/n is not small the NTK of one network is far from its mean and the
    infinite-width kernel describes no single network.
    """
    act = get_activation(activation)
    if not act.positively_homogeneous:
        raise ValueError(
            f"activation: the NTK fluctuation theory needs a positively homogeneous phi (relu, leaky_relu, linear), "
            f"got {act.name}"
        )
    check_variance(sigma_w2, "sigma_w2", positive=True)  # the ratio does not depend on it (homogeneity)
    if float(check_variance(sigma_b2, "sigma_b2")) != 0.0:
        raise ValueError(f"sigma_b2: the NTK fluctuation theory holds without biases (sigma_b2 = 0), got {sigma_b2!r}")
    depth, n = check_positive_int(depth, "depth"), check_positive_int(width, "width")

    def moment(f):
        return float(gaussian_expectation(f, 1.0, kinks=act.kinks, order=order))

    m2, m4 = moment(lambda x: act.phi(x) ** 2), moment(lambda x: act.phi(x) ** 4)
    d2, d4 = moment(lambda x: act.dphi(x) ** 2), moment(lambda x: act.dphi(x) ** 4)
    md = moment(lambda x: act.phi(x) ** 2 * act.dphi(x) ** 2)
    vr, vs, vrs = m4 / m2**2 - 1, 3 * d4 / d2**2 - 1, md / (m2 * d2) - 1
    terms = depth + 1
    k = np.arange(1, terms, dtype=np.float64)
    leading = float(np.sum((terms - k) ** 2 * vr + k**2 * vs + 2 * k * (terms - k) * vrs) / terms**2 / n)
    # sum over pairs by their gap g = |l - m|: sum_{l=1}^{N-g} x^{l-1} y^{N-l-g}, in logs (any L/n)
    lx, ly, lc = np.log1p(vr / n), np.log1p(vs / n), np.log1p(vrs / n)
    gap = np.arange(terms)
    j = np.arange(terms)
    logs = []
    for g in gap:  # O(L^2) terms summed with logaddexp; L <= MAX_DEPTH keeps this to ~1e8 flops
        m = terms - g
        logs.append(np.logaddexp.reduce(j[:m] * lx + (m - 1 - j[:m]) * ly) + g * lc + (np.log(2.0) if g else 0.0))
    resummed = float(np.expm1(np.logaddexp.reduce(np.array(logs)) - 2 * np.log(terms)))
    return NTKFluctuations(depth, n, leading, resummed, vr, vs, vrs)

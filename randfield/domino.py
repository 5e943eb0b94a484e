"""The domino theorem: products of layer Jacobians of a wide random net are conformal.

Amari's seed (004): with B^l = dh^{l+1}/dh^l = W^{l+1} diag(phi'(h^l)) the layer Jacobian,
sum_i B_{i'i} B_{i''i} -> chi_1^l delta_{i'i''} by the law of large numbers, so the product
J_L = B^L ... B^1 satisfies J_L^T J_L ~ (prod_l chi_1^l) I: the metric stays conformal and its
factors multiply like dominoes. This module gives that factor and the finite-width spread around it.

For a probe v independent of the network, rho_l = |B^l u|^2 / |u|^2 (u the probe carried to layer l)
is, given the pre-activations, sigma_w^2 (|D u|^2 / |u|^2) (chi^2_N / N) with D = diag(phi'(h^l)).
The delta method over the N units, at the layer's variance q^l, gives with kappa_l =
Var[phi'^2] / E[phi'^2]^2 (second and fourth moments of phi'):

    E[log rho_l]   = log chi_1^l - (1 + 3 kappa_l / 2) / N + O(N^-2),
    Var[log rho_l] = (2 + 3 kappa_l) / N + O(N^-2),

the 2/N from the chi-square of the fresh weights, kappa_l / N from the empirical mean of phi'^2
over the units and 2 kappa_l / N from the probe's weighting of them. So log |J_L v|^2 / |v|^2 has
mean sum_l [log chi_1^l - (1 + 3 kappa_l / 2) / N] and a variance that grows like L / N: the
infinite-width conformal factor prod chi_1 describes a network of depth L only while L / N is small.
The variance of the sum is *not* the sum of the per-layer variances: consecutive increments are
correlated at O(1) (the probe's image and the next layer's pre-activations share the weights;
measured lag-1 correlation 0.05-0.07 for tanh), which adds ~30 % at depth 30 for every width, so
`log_var_independent` is a lower bound and N Var[log] at fixed depth is what is width-independent.
Two orthogonal probes stay orthogonal to the same order: after the first layer the cosine of their
images has mean 0 and variance (1 + kappa_1) / N (the sample correlation of N pairs, 1/N, plus the
reweighting by phi'^2 of the products u_j w_j, whose sum is zero for orthogonal u, w: kappa_1 / N).
Deeper, N E[cos^2] grows more slowly than the sum of (1 + kappa_l) / N over layers and is the same
for N = 128 and 2048 within 3 standard errors at depth 20 (about 25 % lower at N = 64, depth 40,
where the cosine's bound |cos| <= 1 starts to matter).
tests/test_domino.py checks all of this against `randfield.montecarlo.jacobian_products`. The
Jacobian spectra of `randfield.spectra` (Pennington et al. 2017) are the full distribution of
J_L^T J_L's eigenvalues; this is its first moment per layer and the fluctuation of one direction.
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
class DominoTheory:
    """Per layer l = 1..depth of J_l = B^l ... B^1 (arrays of shape (depth,)).

    Attributes:
        q: variance q^l of the pre-activations whose phi' enters B^l.
        chi1: chi_1^l = sigma_w^2 E[phi'(sqrt(q^l) z)^2].
        kappa: Var[phi'^2] / E[phi'^2]^2 at q^l.
        product: prod_{k <= l} chi_1^k, the conformal factor of J_l^T J_l at infinite width.
        log_mean: mean of log |J_l v|^2 / |v|^2 at width `width`, to O(1/N) per layer.
        increment_var: variance of the layer's increment log rho_l, (2 + 3 kappa_l) / N.
        log_var_independent: its cumulative sum, the variance of log |J_l v|^2 / |v|^2 if the
            increments were independent (a lower bound; see the module docstring).
        first_cosine_var: variance of the cosine between the images of two orthogonal probes after
            the first layer, (1 + kappa_1) / N.
    """

    q: np.ndarray
    chi1: np.ndarray
    kappa: np.ndarray
    width: int

    @property
    def product(self) -> np.ndarray:
        return np.cumprod(self.chi1)

    @property
    def log_mean(self) -> np.ndarray:
        return np.cumsum(np.log(self.chi1) - (1 + 1.5 * self.kappa) / self.width)

    @property
    def increment_var(self) -> np.ndarray:
        return (2 + 3 * self.kappa) / self.width

    @property
    def log_var_independent(self) -> np.ndarray:
        return np.cumsum(self.increment_var)

    @property
    def first_cosine_var(self) -> float:
        return float((1 + self.kappa[0]) / self.width)


def domino(
    activation,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    width: int,
    *,
    q_input: float = 1.0,
    order: int = DEFAULT_ORDER,
) -> DominoTheory:
    """The domino statistics of a depth-`depth`, width-`width` net with inputs of |x|^2 / d = q_input
    (h^1 = W^1 x + b^1, so q^1 = sigma_w^2 q_input + sigma_b^2, then the length map)."""
    act = get_activation(activation)
    sw = float(check_variance(sigma_w2, "sigma_w2"))
    sb = float(check_variance(sigma_b2, "sigma_b2"))
    width = check_positive_int(width, "width")
    q = length_propagation(act, sw, sb, depth, q_input=q_input, order=order)
    m2 = ex.derivative_second_moment(act, q, order=order)
    m4 = gaussian_expectation(lambda x: act.dphi(x) ** 4, q, kinks=act.kinks, order=order)
    return DominoTheory(q, sw * m2, m4 / m2**2 - 1, width)

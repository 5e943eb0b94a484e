"""Fisher information of random deep nets: the universal statistics of Karakida, Akaho & Amari.

R. Karakida, S. Akaho, S. Amari, "Universal statistics of Fisher information in deep neural networks:
mean field approach", AISTATS 2019 (arXiv 1806.01316), Theorem 1; and "Pathological spectra of the
Fisher information metric and its variants in deep neural networks", Neural Computation 2021
(arXiv 1910.05992), for the NTK.

Network (standard parameterisation, the paper's): u^l = W^l h^{l-1} + b^l, h^l = phi(u^l), l = 1..L-1
hidden layers of width M_l = alpha_l M, h^0 = x of width M_0 = alpha_0 M, and C linear outputs
f = W^L h^{L-1} + b^L; W^l_ij ~ N(0, sigma_w^2 / M_{l-1}), b^l_i ~ N(0, sigma_b^2). `depth` below is the
number L - 1 of hidden layers. Inputs x_t, t = 1..T, are i.i.d. N(0, q_input I) (the paper: q_input = 1).
The empirical FIM of the squared loss is F = (1/T) sum_t sum_k grad f_k(x_t) grad f_k(x_t)^T (P x P).

Its non-zero eigenvalues are those of the (T C) x (T C) Gram matrix G / T, G = J J^T, and a weight
gradient of a dense layer is an outer product, df_k(t)/dW^l = delta^l_k(t) h^{l-1}(t)^T with
delta^l_k = df_k / du^l, so

    G_{(t,k),(t',k')} = sum_l [delta^l_k(t) . delta^l_k'(t')] [h^{l-1}(t) . h^{l-1}(t')] + (bias terms).

In the mean field the two dot products concentrate on order parameters (Karakida et al., Eqs. 8-11):
forward  qh^l_1 = |h^l(t)|^2 / M_l and qh^l_2 = h^l(t) . h^l(t') / M_l (t != t') -- the length and
covariance maps read after the activation (qh^0_1 = q_input, qh^0_2 = 0 for independent inputs);
backward qt^l_1 = |delta^l_k(t)|^2 and qt^l_2 = delta^l_k(t) . delta^l_k(t'), summed over units, from
qt^L = 1 by qt^l_1 = sigma_w^2 E[phi'(u)^2] qt^{l+1}_1 = chi_1(q^l) qt^{l+1}_1 and
qt^l_2 = sigma_w^2 E[phi'(u) phi'(u')] qt^{l+1}_2 (the chi_1 recursion of `randfield.backward` and its
correlation analogue, the NTK's derivative kernel); outputs k != k' decouple (their delta's are
orthogonal to O(1/sqrt M)). Bias terms are O(1) against the weights' O(M). Hence G ~ alpha M
[(kappa_1 - kappa_2) I_T + kappa_2 1 1^T] (x) I_C with

    kappa_1 = sum_{l=1}^{L} (alpha_{l-1} / alpha) qh^{l-1}_1 qt^l_1,
    kappa_2 = sum_{l=1}^{L} (alpha_{l-1} / alpha) qh^{l-1}_2 qt^l_2,   alpha = sum_{l=1}^{L-1} alpha_l alpha_{l-1},

P ~ alpha M^2 weights, and the FIM's eigenvalue statistics (Theorem 1) follow:

    mean            m_lambda = tr F / P       = kappa_1 C / M,
    second moment   s_lambda = tr F^2 / P     = alpha C ((T - 1)/T kappa_2^2 + kappa_1^2 / T),
    largest         lambda_max                = alpha M ((T - 1)/T kappa_2 + kappa_1 / T).

m_lambda = O(1/M) but lambda_max = O(M): almost every direction is flat and C directions are steep. Near a
global minimum F is the Hessian of the loss (1/2T) sum |f - y|^2, so gradient descent converges only for
learning rates eta < 2 / lambda_max (Karakida et al., §4.1). The NTK Theta = J J^T / M has the same two
eigenvalues: alpha (kappa_1 + (T - 1) kappa_2) (C of them, growing with T) and the bulk
alpha (kappa_1 - kappa_2) (C (T - 1) of them) -- the follow-up paper's pathology of the NTK.

tests/test_fisher.py checks every statistic against `randfield.montecarlo.fisher` (torch.func Jacobians
of random nets) within 3 standard errors plus the O(1/M) trend, and the Gram structure against an
explicit P x P FIM at small width.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import expectations as ex
from ._validation import check_positive_int, check_variance
from .activations import get_activation
from .gaussian import DEFAULT_ORDER
from .maps import propagate_covariance


@dataclass(frozen=True)
class FisherOrderParameters:
    """The order parameters of Karakida et al. (2019) for hidden layers 1..L-1 and the input.

    Attributes:
        q: pre-activation variance q^l of u^l, l = 1..L-1 (shape (L-1,)).
        q_hat1, q_hat2: forward qh^l_1, qh^l_2 of h^l, l = 0..L-1 (shape (L,), h^0 = x).
        q_tilde1, q_tilde2: backward qt^l_1, qt^l_2 of delta^l, l = 1..L (shape (L,), qt^L = 1).
        alpha_input: M_0 / M.
    """

    q: np.ndarray
    q_hat1: np.ndarray
    q_hat2: np.ndarray
    q_tilde1: np.ndarray
    q_tilde2: np.ndarray
    alpha_input: float

    @property
    def alpha(self) -> float:
        """P / M^2 to leading order: alpha_0 for the first layer plus 1 per further hidden layer."""
        return self.alpha_input + len(self.q) - 1

    def _kappa(self, q_hat, q_tilde) -> float:
        ratios = np.ones(len(q_hat))
        ratios[0] = self.alpha_input  # alpha_{l-1} of W^1 is the input's
        return float(np.sum(ratios * q_hat * q_tilde) / self.alpha)

    @property
    def kappa1(self) -> float:
        """kappa_1 = sum_l (alpha_{l-1}/alpha) qh^{l-1}_1 qt^l_1: the FIM's diagonal, G_tt / (alpha M)."""
        return self._kappa(self.q_hat1, self.q_tilde1)

    @property
    def kappa2(self) -> float:
        """kappa_2 = sum_l (alpha_{l-1}/alpha) qh^{l-1}_2 qt^l_2: G_tt' / (alpha M) for inputs t != t'."""
        return self._kappa(self.q_hat2, self.q_tilde2)


@dataclass(frozen=True)
class FisherStatistics:
    """Theorem 1 of Karakida et al. (2019) at width M, C outputs, T inputs, and the NTK's two eigenvalues."""

    order_parameters: FisherOrderParameters
    width: int
    n_outputs: int
    n_inputs: int

    @property
    def kappa1(self) -> float:
        return self.order_parameters.kappa1

    @property
    def kappa2(self) -> float:
        return self.order_parameters.kappa2

    @property
    def alpha(self) -> float:
        return self.order_parameters.alpha

    @property
    def mean(self) -> float:
        """m_lambda = kappa_1 C / M."""
        return self.kappa1 * self.n_outputs / self.width

    @property
    def second_moment(self) -> float:
        """s_lambda = alpha C ((T - 1)/T kappa_2^2 + kappa_1^2 / T)."""
        t = self.n_inputs
        return self.alpha * self.n_outputs * ((t - 1) / t * self.kappa2**2 + self.kappa1**2 / t)

    @property
    def max(self) -> float:
        """lambda_max = alpha M ((T - 1)/T kappa_2 + kappa_1 / T)."""
        t = self.n_inputs
        return self.alpha * self.width * ((t - 1) / t * self.kappa2 + self.kappa1 / t)

    @property
    def learning_rate_bound(self) -> float:
        """eta_c = 2 / lambda_max: gradient descent on the squared loss diverges above it."""
        return 2.0 / self.max

    @property
    def ntk_max(self) -> float:
        """The NTK J J^T / M's largest eigenvalue alpha (kappa_1 + (T - 1) kappa_2), C-fold."""
        return self.alpha * (self.kappa1 + (self.n_inputs - 1) * self.kappa2)

    @property
    def ntk_bulk(self) -> float:
        """The NTK's other eigenvalue alpha (kappa_1 - kappa_2), C (T - 1)-fold."""
        return self.alpha * (self.kappa1 - self.kappa2)


def fisher_order_parameters(
    activation,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    *,
    alpha_input: float = 1.0,
    q_input: float = 1.0,
    c_input: float = 0.0,
    order: int = DEFAULT_ORDER,
) -> FisherOrderParameters:
    """Forward and backward order parameters of a net with `depth` hidden layers (L = depth + 1).

    Inputs have |x|^2 / M_0 = q_input and pairwise correlation c_input (0: independent Gaussian inputs,
    the paper's setting); alpha_input = M_0 / M.
    """
    act = get_activation(activation)
    sw = float(check_variance(sigma_w2, "sigma_w2", positive=True))
    sb = float(check_variance(sigma_b2, "sigma_b2"))
    depth = check_positive_int(depth, "depth")
    q0 = float(check_variance(q_input, "q_input", positive=True))
    if not -1.0 <= c_input <= 1.0:
        raise ValueError(f"c_input must lie in [-1, 1], got {c_input!r}")
    if not np.isfinite(alpha_input) or alpha_input <= 0:
        raise ValueError(f"alpha_input (input width / M) must be positive, got {alpha_input!r}")
    q1 = sw * q0 + sb
    prop = propagate_covariance(act, sw, sb, depth, q1, q1, sw * c_input * q0 + sb, order=order)
    q, q12 = prop.q1, prop.q12
    q_hat1 = np.concatenate([[q0], ex.second_moment(act, q, order=order)])
    q_hat2 = np.concatenate([[c_input * q0], ex.covariance(act, q, q, q12, order=order)])
    chi1 = sw * ex.derivative_second_moment(act, q, order=order)
    chi12 = sw * ex.derivative_covariance(act, q, q, q12, order=order)
    # qt^l = prod_{k=l}^{L-1} chi(q^k): layer l's delta carries phi'(u^l) and every phi' above it
    q_tilde1 = np.append(np.cumprod(chi1[::-1])[::-1], 1.0)
    q_tilde2 = np.append(np.cumprod(chi12[::-1])[::-1], 1.0)
    return FisherOrderParameters(q, q_hat1, q_hat2, q_tilde1, q_tilde2, float(alpha_input))


def fisher_statistics(
    activation,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    width: int,
    *,
    n_outputs: int = 1,
    n_inputs: int = 1,
    alpha_input: float = 1.0,
    q_input: float = 1.0,
    c_input: float = 0.0,
    order: int = DEFAULT_ORDER,
) -> FisherStatistics:
    """m_lambda, s_lambda, lambda_max (Karakida et al. 2019, Theorem 1) of the empirical FIM over
    T = n_inputs inputs of a width-M net with `depth` hidden layers and C = n_outputs outputs."""
    op = fisher_order_parameters(
        activation, sigma_w2, sigma_b2, depth, alpha_input=alpha_input, q_input=q_input, c_input=c_input, order=order
    )
    return FisherStatistics(
        op,
        check_positive_int(width, "width"),
        check_positive_int(n_outputs, "n_outputs"),
        check_positive_int(n_inputs, "n_inputs"),
    )

"""Singular-value density of the input-output Jacobian by free probability.

Pennington, Schoenholz & Ganguli 2017: for J = D_L W_L ... D_1 W_1 with N x N weights (Gaussian,
entries N(0, sigma_w^2/N), or sigma_w times a Haar orthogonal matrix) and D_l = diag(phi'(h_l)),
h_l ~ N(0, q*) (the network at its fixed point), the squared singular values of J have S-transform

    S_{JJ^T}(z) = (S_{W^T W}(z) S_{D^2}(z))^L,
    S_{W^T W}(z) = 1 / (sigma_w^2 (1 + z))  (Gaussian),   1 / sigma_w^2  (orthogonal),

with S_X(z) = (1 + z)/z * chi_X(z), chi_X the inverse of psi_X(u) = sum_k m_k(X) u^k.
For D^2 with d = phi'(h)^2, psi_D(u) = E[u d / (1 - u d)]. Writing z = psi_D(u), the moment
function z = psi_J(1/x) of JJ^T at the spectral point x solves one equation in u:

    Gaussian:   psi/(1 + psi) * (u / (sigma_w^2 psi))^L = 1/x,
    orthogonal: psi/(1 + psi) * ((1 + psi) u / (sigma_w^2 psi))^L = 1/x,       psi = psi_D(u),

and the density is rho(lambda) = -Im G(lambda + i0)/pi with G(x) = (1 + psi_J(1/x))/x. The
equation is solved by Newton's method on u, continued from large x (where psi_J ~ chi_1^L / x and
psi_D ~ E[d] u, so u ~ chi_1^L / (x E[d])) down the spectral axis slightly above the real line.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_positive_int, check_variance
from .activations import Activation, get_activation
from .gaussian import DEFAULT_ORDER, gauss_rule
from .maps import length_fixed_point


class SpectralDensity(NamedTuple):
    """Density of squared singular values lambda of the Jacobian (integrates to the mass on (0, inf))."""

    lam: np.ndarray
    density: np.ndarray
    mean: float  # chi_1^L, the first moment
    variance: float  # mean^2 L (s_W + s_D): exact second cumulant of the free product


def _setup(activation, sigma_w2, sigma_b2, depth, weights, q, order):
    act = get_activation(activation)
    sw = float(check_variance(sigma_w2, "sigma_w2", positive=True))
    depth = check_positive_int(depth, "depth")
    if weights not in ("gaussian", "orthogonal"):
        raise ValueError(f"weights must be 'gaussian' or 'orthogonal', got {weights!r}")
    q = float(length_fixed_point(act, sw, sigma_b2)) if q is None else float(check_variance(q, "q"))
    x, w = gauss_rule(0.0, np.sqrt(q), act.kinks, order)
    d = act.dphi(x) ** 2  # the law of D^2 as a quadrature rule: values d with weights w
    mean_d = float((w * d).sum())
    mean = (sw * mean_d) ** depth
    # Normalised variances add under free multiplicative convolution:
    # var/mean^2 of JJ^T = L (s_W + s_D), s_W = 1 (Gaussian) or 0 (orthogonal), s_D = E[d^2]/E[d]^2 - 1.
    s_d = float((w * d * d).sum()) / mean_d**2 - 1
    rel_sd = float(np.sqrt(depth * ((1.0 if weights == "gaussian" else 0.0) + s_d)))
    return act, sw, depth, weights, w, d, mean_d, mean, rel_sd


def jacobian_moments(
    activation: str | Activation,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    *,
    weights: str = "gaussian",
    q: float | None = None,
    order: int = 2 * DEFAULT_ORDER,
) -> tuple[float, float]:
    """Exact mean and variance of the squared singular values of JJ^T (Gaussian or orthogonal weights):
    mean = chi_1^L, variance = mean^2 L (s_W + s_D) with s_W = 1 (Gaussian) or 0 (orthogonal) and
    s_D = E[phi'^4]/E[phi'^2]^2 - 1 (Pennington et al. 2017). Orthogonal weights remove s_W: that is
    dynamical isometry when s_D is small (small q*)."""
    *_, mean, rel_sd = _setup(activation, sigma_w2, sigma_b2, depth, weights, q, order)
    return mean, mean**2 * rel_sd**2


def jacobian_spectrum(
    activation: str | Activation,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    *,
    weights: str = "gaussian",
    q: float | None = None,
    lam: np.ndarray | None = None,
    eps: float = 1e-8,
    order: int = 2 * DEFAULT_ORDER,
) -> SpectralDensity:
    """Free-probability density of the squared singular values of an L-layer network's Jacobian
    (Gaussian weights; for orthogonal weights use `jacobian_moments`).

    Args:
        q: pre-activation variance (default q*, the fixed point).
        lam: points at which to evaluate the density (default: 600 log-spaced points covering the support).
        eps: distance above the real axis at which the Stieltjes transform is evaluated (relative to lambda).
    """
    if weights == "orthogonal":
        raise NotImplementedError(
            "the density for orthogonal weights is not available yet (its narrow band defeats the branch "
            "continuation); jacobian_moments gives its exact mean and variance"
        )
    setup = _setup(activation, sigma_w2, sigma_b2, depth, weights, q, order)
    act, sw, depth, weights, w, d, mean_d, mean, rel_sd = setup

    def psi_d(u):
        t = u[:, None] * d
        return (w * t / (1 - t)).sum(1), (w * d / (1 - t) ** 2).sum(1)

    def residual(u, inv_x):
        p, dp = psi_d(u)
        if weights == "gaussian":
            base, dbase = u / (sw * p), (p - u * dp) / (sw * p * p)
        else:
            base, dbase = (1 + p) * u / (sw * p), (dp * u + (1 + p) * p - (1 + p) * u * dp) / (sw * p * p)
        f = p / (1 + p) * base**depth - inv_x
        df = dp / (1 + p) ** 2 * base**depth + p / (1 + p) * depth * base ** (depth - 1) * dbase
        return f, df

    if lam is None:
        if rel_sd < 0.3:  # a narrow band around the mean: resolve it linearly
            lam = mean * (1 + np.linspace(-10 * rel_sd, 10 * rel_sd, 2001))
            lam = lam[lam > 0]
        else:
            top = mean * (1 + 10 * rel_sd) ** 2 * (depth + 1) ** 1.0
            lam = np.geomspace(top, top * 1e-14, 1500)
    lam = np.asarray(lam, dtype=np.float64)
    order_idx = np.argsort(-lam)  # continue from large lambda downwards
    dens = np.empty_like(lam)

    def newton(u, xz):
        for _ in range(100):
            f, df = residual(u, 1.0 / xz)
            step = f / df
            u = u - step
            if abs(step[0]) <= 1e-13 * abs(u[0]):
                break
        return u

    # Continue along lambda at a comfortable distance eps_path above the real axis (the physical
    # branch acquires its imaginary part smoothly there), then, at each lambda, follow the root
    # down to the requested eps by a homotopy in eps.
    eps_path = max(eps, 1e-3)
    ladder = np.geomspace(eps_path, eps, max(2, int(round(np.log10(eps_path / eps))) + 1))
    u_path = np.array([mean / (lam[order_idx[0]] * mean_d)], dtype=complex)  # u ~ chi_1^L / (x E[d])
    for i in order_idx:
        u_path = newton(u_path, lam[i] * (1 + 1j * eps_path))
        u = u_path
        for e in ladder[1:]:
            u = newton(u, lam[i] * (1 + 1j * e))
        xz = lam[i] * (1 + 1j * ladder[-1])
        p, _ = psi_d(u)
        dens[i] = max(-((1 + p[0]) / xz).imag / np.pi, 0.0)
    return SpectralDensity(lam, dens, mean, mean**2 * rel_sd**2)

"""Gaussian expectations of an activation: the only place where closed forms and quadrature meet.

Conventions: z ~ N(0, 1); (u1, u2) ~ N(0, [[q1, q12], [q12, q2]]). Closed forms (ReLU family,
erf, linear, sin) are used automatically; every other activation goes through the composite
Gauss–Legendre rules of `randfield.gaussian`, whose accuracy is geometric in `order`.

Accuracy at the default order (tests/test_expectations.py):
* smooth phi, 1-D moments: relative error < 1e-12 against 30-digit mpmath, q in [1e-4, 100];
* kinked phi (ELU, SELU, hard tanh): the same 1e-12 in 1-D, since kinks are panel
  boundaries; 2-D covariances within 1e-11 of scipy's adaptive dblquad, and consistent
  with the c -> 1 expansion E[phi^2] - q (1 - c) E[phi'^2] to O((1 - c)^{3/2}) down to 1 - c = 1e-12;
* ReLU-type closed forms are reproduced by the 2-D rule to 1e-13 including |c| = 1.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_variance
from .activations import Activation, get_activation
from .gaussian import DEFAULT_ORDER, bivariate_gaussian_expectation, gauss_rule, gaussian_expectation

ActivationLike = str | Activation


def second_moment(activation: ActivationLike, q, *, order: int = DEFAULT_ORDER) -> np.ndarray:
    """E[phi(sqrt(q) z)^2]: the length map without the affine part."""
    act = get_activation(activation)
    q = check_variance(q, "q")
    if act.closed_form is not None:
        return act.closed_form.covariance(q, q, q)
    return gaussian_expectation(lambda x: act.phi(x) ** 2, q, kinks=act.kinks, order=order)


def derivative_second_moment(activation: ActivationLike, q, *, order: int = DEFAULT_ORDER) -> np.ndarray:
    """E[phi'(sqrt(q) z)^2]: chi_1 / sigma_w^2."""
    act = get_activation(activation)
    q = check_variance(q, "q")
    if act.closed_form is not None:
        return act.closed_form.derivative_covariance(q, q, q)
    return gaussian_expectation(lambda x: act.dphi(x) ** 2, q, kinks=act.kinks, order=order)


def second_moment_slope(activation: ActivationLike, q, *, order: int = DEFAULT_ORDER) -> np.ndarray:
    """d/dq E[phi(sqrt(q) z)^2] = E[phi'^2 + phi phi''] (Stein's lemma), the length-map slope / sigma_w^2.

    For kinked phi the delta functions in phi'' are avoided by the equivalent first-order
    form E[phi(x) phi'(x) z] / sqrt(q), x = sqrt(q) z; at q = 0 that form is taken at
    q = 1e-200, i.e. its one-sided limit.
    """
    act = get_activation(activation)
    q = check_variance(q, "q")
    if act.closed_form is not None:
        return act.closed_form.second_moment_slope(q)
    if act.smooth:
        return gaussian_expectation(lambda x: act.dphi(x) ** 2 + act.phi(x) * act.d2phi(x), q, order=order)
    q = np.maximum(q, 1e-200)
    return gaussian_expectation(lambda x: act.phi(x) * act.dphi(x) * x, q, kinks=act.kinks, order=order) / q


def second_derivative_second_moment(activation: ActivationLike, q, *, order: int = DEFAULT_ORDER) -> np.ndarray:
    """E[phi''(sqrt(q) z)^2]: chi_2 / sigma_w^2 (Poole et al. 2016). Needs a smooth phi."""
    act = get_activation(activation)
    q = check_variance(q, "q")
    if not act.smooth:
        raise ValueError(f"E[phi''^2] diverges for {act.name}: phi'' has delta functions at {act.kinks}")
    return gaussian_expectation(lambda x: act.d2phi(x) ** 2, q, order=order)


def moments_1d(
    activation: ActivationLike, q, *, order: int = DEFAULT_ORDER
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(E[phi^2], d/dq E[phi^2], E[phi'^2]) at q from one quadrature rule and one joint
    evaluation of (phi, phi', phi''): the same values as `second_moment`,
    `second_moment_slope` and `derivative_second_moment`, at about a third of the cost."""
    act = get_activation(activation)
    q = check_variance(q, "q")
    if act.closed_form is not None:
        cf = act.closed_form
        return cf.covariance(q, q, q), cf.second_moment_slope(q), cf.derivative_covariance(q, q, q)
    qq = q if act.smooth else np.maximum(q, 1e-200)
    x, w = gauss_rule(0.0, np.sqrt(qq), act.kinks, order)
    phi, dphi, d2phi = act.derivatives(x)
    slope_integrand = dphi * dphi + phi * d2phi if act.smooth else phi * dphi * x / qq[..., None]
    return tuple(np.einsum("...n,...n->...", w, f) for f in (phi * phi, slope_integrand, dphi * dphi))


def _check_covariance(q1, q2, q12):
    q1, q2 = check_variance(q1, "q1"), check_variance(q2, "q2")
    q12 = np.asarray(q12, np.float64)
    if not np.all(np.isfinite(q12)):
        raise ValueError(f"q12 must be finite, got {q12!r}")
    if np.any(q12 * q12 > q1 * q2 * (1 + 1e-12)):
        raise ValueError("q12 must satisfy q12^2 <= q1 q2 (a covariance matrix is positive semi-definite)")
    return q1, q2, q12


def covariance(activation: ActivationLike, q1, q2, q12, *, order: int = DEFAULT_ORDER) -> np.ndarray:
    """E[phi(u1) phi(u2)], (u1, u2) ~ N(0, [[q1, q12], [q12, q2]]); vectorised."""
    act = get_activation(activation)
    q1, q2, q12 = _check_covariance(q1, q2, q12)
    if act.closed_form is not None:
        return act.closed_form.covariance(q1, q2, q12)
    return bivariate_gaussian_expectation(
        act.phi, act.phi, q1, q2, q12, kinks1=act.kinks, kinks2=act.kinks, order=order
    )


def derivative_covariance(activation: ActivationLike, q1, q2, q12, *, order: int = DEFAULT_ORDER) -> np.ndarray:
    """E[phi'(u1) phi'(u2)] = d/dq12 E[phi(u1) phi(u2)] (Price's theorem); the NTK factor and chi_c / sigma_w^2."""
    act = get_activation(activation)
    q1, q2, q12 = _check_covariance(q1, q2, q12)
    if act.closed_form is not None:
        return act.closed_form.derivative_covariance(q1, q2, q12)
    return bivariate_gaussian_expectation(
        act.dphi, act.dphi, q1, q2, q12, kinks1=act.kinks, kinks2=act.kinks, order=order
    )

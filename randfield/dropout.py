"""Dropout mean field (Schoenholz et al. 2017, §4): the maps of a random net whose activations are
dropped with keep probability rho and rescaled by 1/rho, h^{l+1} = W (phi(h^l) * m / rho) + b,
m_i ~ Bernoulli(rho), a fresh mask for every input's forward pass.

E[m_i^2 / rho^2] = 1/rho but E[m_i m'_i / rho^2] = 1 for two independent masks, so the length map
gains 1/rho and the covariance map does not (their Eqs. 14-15):

    q'   = sigma_w^2 E[phi(sqrt(q) z)^2] / rho + sigma_b^2,
    q12' = sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2,      c' = q12' / q'.

At c = 1 the map gives c' = 1 - sigma_w^2 E[phi^2] (1/rho - 1) / q* < 1: two inputs, however
close, decorrelate, c* = 1 is no longer a fixed point for any rho < 1, and the depth scale
xi_c = -1 / log chi_c, chi_c = sigma_w^2 E[phi'(u1) phi'(u2)] at (q*, c*) (Eq. 16), stays finite
everywhere: there is no edge of chaos to initialise at, and the trainable depth ~6 xi_c is bounded.
The length map with dropout is the plain one with sigma_w^2 / rho, so q* comes from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from . import expectations as ex
from ._validation import as_float_array, check_correlation, check_positive_int, check_variance
from .activations import get_activation
from .gaussian import DEFAULT_ORDER
from .maps import length_fixed_point


def _keep(rho) -> float:
    rho = float(as_float_array(rho, "rho"))
    if not 0 < rho <= 1:
        raise ValueError(f"rho (the keep probability) must lie in (0, 1], got {rho}")
    return rho


def dropout_fixed_length(activation, sigma_w2, sigma_b2, rho, *, order: int = DEFAULT_ORDER) -> float:
    """q* of the dropout length map: the plain map's fixed point with sigma_w^2 / rho."""
    rho = _keep(rho)
    return float(
        length_fixed_point(activation, float(check_variance(sigma_w2, "sigma_w2")) / rho, sigma_b2, order=order)
    )


def dropout_correlation_map(c, activation, sigma_w2, sigma_b2, rho, *, order: int = DEFAULT_ORDER) -> np.ndarray:
    """c' at q* for two inputs of correlation c (Schoenholz et al. 2017, Eq. 15 over Eq. 14)."""
    act = get_activation(activation)
    sw, sb = float(check_variance(sigma_w2, "sigma_w2")), float(check_variance(sigma_b2, "sigma_b2"))
    q = dropout_fixed_length(act, sw, sb, rho, order=order)
    c = check_correlation(c)
    return (sw * ex.covariance(act, q, q, c * q, order=order) + sb) / q


@dataclass(frozen=True)
class DropoutFixedPoint:
    """q*, c* and chi_c = sigma_w^2 E[phi'(u1) phi'(u2)] at them; xi_c = -1 / log chi_c."""

    q: float
    c: float
    chi_c: float

    @property
    def xi_c(self) -> float:
        return float("inf") if self.chi_c >= 1 else -1.0 / float(np.log(self.chi_c))


def dropout_fixed_point(activation, sigma_w2, sigma_b2, rho, *, order: int = DEFAULT_ORDER) -> DropoutFixedPoint:
    """The correlation fixed point c* < 1 of the dropout c-map (found in [0, 1]: c'(0) >= 0 since
    E[phi]^2 >= 0, and c'(1) < 1 for rho < 1) and its depth scale."""
    act = get_activation(activation)
    sw, sb = float(check_variance(sigma_w2, "sigma_w2", positive=True)), float(check_variance(sigma_b2, "sigma_b2"))
    rho = _keep(rho)
    q = dropout_fixed_length(act, sw, sb, rho, order=order)

    def excess(c):
        return float((sw * ex.covariance(act, q, q, c * q, order=order) + sb) / q) - c

    if rho == 1.0:
        raise ValueError("rho = 1 is no dropout: use randfield.correlation_fixed_point and depth_scales")
    c_star = 0.0 if excess(0.0) <= 0 else brentq(excess, 0.0, 1.0, xtol=1e-15, rtol=1e-15)
    chi_c = sw * float(ex.derivative_covariance(act, q, q, c_star * q, order=order))
    return DropoutFixedPoint(q, float(c_star), chi_c)


def dropout_propagate(
    activation, sigma_w2, sigma_b2, rho, depth: int, *, q_input: float = 1.0, c_input: float = 0.5, order=DEFAULT_ORDER
) -> tuple[np.ndarray, np.ndarray]:
    """(q^l, c^l), l = 1..depth, for two inputs of |x|^2 / d = q_input at correlation c_input: the
    first layer sees the inputs (no dropout on them), every later layer dropped activations."""
    act = get_activation(activation)
    sw, sb = float(check_variance(sigma_w2, "sigma_w2")), float(check_variance(sigma_b2, "sigma_b2"))
    rho, depth = _keep(rho), check_positive_int(depth, "depth")
    q = sw * float(check_variance(q_input, "q_input", positive=True)) + sb
    q12 = sw * q_input * float(check_correlation(c_input, "c_input")) + sb
    qs, cs = np.empty(depth), np.empty(depth)
    for layer in range(depth):
        qs[layer], cs[layer] = q, q12 / q
        if layer + 1 == depth:
            break
        q, q12 = (
            sw * float(ex.second_moment(act, q, order=order)) / rho + sb,
            sw * float(ex.covariance(act, q, q, q12, order=order)) + sb,
        )
    return qs, cs

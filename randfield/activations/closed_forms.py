"""Closed-form Gaussian kernels of activations.

For (u1, u2) ~ N(0, [[q1, q12], [q12, q2]]) a closed form supplies

* ``covariance(q1, q2, q12)``            = E[phi(u1) phi(u2)]
* ``derivative_covariance(q1, q2, q12)`` = E[phi'(u1) phi'(u2)]
* ``second_moment_slope(q)``             = d/dq E[phi(sqrt(q) z)^2]

all vectorised over broadcastable arrays. theory/verify_closed_forms.py derives each one
symbolically or checks it against independent quadrature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _angle(q1, q2, q12):
    """theta = arccos(rho) and sqrt(q1 q2 - q12^2), accurate as |rho| -> 1."""
    norm = np.sqrt(q1 * q2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.clip(np.where(norm > 0, q12 / np.where(norm > 0, norm, 1.0), 1.0), -1.0, 1.0)
    sin = np.sqrt((1.0 - rho) * (1.0 + rho))
    return np.arctan2(sin, rho), norm * sin


@dataclass(frozen=True)
class PiecewiseLinearKernel:
    """phi(x) = slope_neg * x for x < 0, slope_pos * x for x > 0 (ReLU, leaky ReLU, linear).

    Arc-cosine kernel (Cho & Saul 2009), in the (a, b) form of neural-tangents' ABRelu:
    E[phi phi] = (a - b)^2/(2 pi) sqrt(q1 q2 - q12^2) + [(a^2 + b^2)/2 - (a - b)^2 theta/(2 pi)] q12,
    E[phi' phi'] = (a^2 + b^2)/2 - (a - b)^2 theta / (2 pi), theta = arccos(q12 / sqrt(q1 q2)).
    """

    slope_neg: float
    slope_pos: float

    def covariance(self, q1, q2, q12):
        a, b = self.slope_neg, self.slope_pos
        theta, det_sqrt = _angle(q1, q2, q12)
        return (a - b) ** 2 / (2 * np.pi) * det_sqrt + ((a * a + b * b) / 2 - (a - b) ** 2 * theta / (2 * np.pi)) * q12

    def derivative_covariance(self, q1, q2, q12):
        a, b = self.slope_neg, self.slope_pos
        theta, _ = _angle(q1, q2, q12)
        return (a * a + b * b) / 2 - (a - b) ** 2 * theta / (2 * np.pi)

    def second_moment_slope(self, q):
        return np.full_like(np.asarray(q, np.float64), (self.slope_neg**2 + self.slope_pos**2) / 2)


@dataclass(frozen=True)
class ErfKernel:
    """phi(x) = erf(x): Williams (1997) arcsine kernel.

    E[phi phi] = (2/pi) arcsin(2 q12 / sqrt((1 + 2 q1)(1 + 2 q2))),
    E[phi' phi'] = (4/pi) / sqrt((1 + 2 q1)(1 + 2 q2) - 4 q12^2).
    """

    def covariance(self, q1, q2, q12):
        return 2 / np.pi * np.arcsin(2 * q12 / np.sqrt((1 + 2 * q1) * (1 + 2 * q2)))

    def derivative_covariance(self, q1, q2, q12):
        return 4 / np.pi / np.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4 * q12 * q12)

    def second_moment_slope(self, q):
        q = np.asarray(q, np.float64)
        return 4 / np.pi / ((1 + 2 * q) * np.sqrt(1 + 4 * q))


@dataclass(frozen=True)
class SinKernel:
    """phi(x) = sin(x): E[sin u1 sin u2] = exp(-(q1 + q2)/2) sinh(q12),
    E[cos u1 cos u2] = exp(-(q1 + q2)/2) cosh(q12)."""

    def covariance(self, q1, q2, q12):
        return np.exp(-(q1 + q2) / 2) * np.sinh(q12)

    def derivative_covariance(self, q1, q2, q12):
        return np.exp(-(q1 + q2) / 2) * np.cosh(q12)

    def second_moment_slope(self, q):
        return np.exp(-2 * np.asarray(q, np.float64))

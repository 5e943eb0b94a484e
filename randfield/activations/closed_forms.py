"""Closed-form Gaussian kernels of activations.

For (u1, u2) ~ N(0, [[q1, q12], [q12, q2]]) a closed form supplies

* ``covariance(q1, q2, q12)``            = E[phi(u1) phi(u2)]
* ``derivative_covariance(q1, q2, q12)`` = E[phi'(u1) phi'(u2)]
* ``second_moment_slope(q)``             = d/dq E[phi(sqrt(q) z)^2]
* ``covariances(q1, q2, q12)``           = both of the first two, sharing their common terms

all vectorised over broadcastable arrays; `kernel_matrices` evaluates `covariances` on an n1 x n2
matrix in row blocks that stay in cache (the kernels' hot path). theory/verify_closed_forms.py derives each one
symbolically or checks it against independent quadrature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._parallel import BLOCK, for_each_row_block


def _angle(q1, q2, q12):
    """theta = arccos(rho) and sqrt(q1 q2 - q12^2), rho = q12 / sqrt(q1 q2).

    rho is exactly 1 on the diagonal (q1 = q2 = q12: sqrt(q^2) = q in IEEE arithmetic), so the
    kernel of an input with itself takes the c = 1 branch exactly, never arccos(1 - eps) ~ sqrt(2 eps).
    rho = 1 is also taken where the variances vanish (both units are constant there)."""
    norm = np.sqrt(q1 * q2)
    rho = np.empty(np.broadcast_shapes(np.shape(q12), np.shape(norm)))
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(q12, norm, out=rho)
    if not np.all(q1 > 0) or not np.all(q2 > 0):  # checked on the variance vectors, not per entry
        rho[~(norm > 0)] = 1.0
    np.clip(rho, -1.0, 1.0, out=rho)
    theta = np.arccos(rho)
    sin = np.subtract(
        1.0, rho, out=np.empty_like(rho)
    )  # sqrt((1 - rho)(1 + rho)): no cancellation as rho -> 1 (np.sin is 6x slower)
    rho += 1.0
    sin *= rho
    np.sqrt(sin, out=sin)
    sin *= norm
    return theta, sin


def kernel_matrices(closed_form, var1: np.ndarray, var2: np.ndarray, cov: np.ndarray, ntk: np.ndarray | None = None):
    """`closed_form.covariances` of every pair: var1 (n1,), var2 (n2,), cov (n1, n2) -> two (n1, n2):
    E[phi phi] and E[phi' phi'], or ntk * E[phi' phi'] when `ntk` (n1, n2) is given.

    Works in cache-sized row blocks on every core (`randfield._parallel`): the hot path of the kernels."""
    both = getattr(closed_form, "covariances", None)
    if both is None:  # a user's closed form with the two kernels only

        def both(q1, q2, q12):
            return closed_form.covariance(q1, q2, q12), closed_form.derivative_covariance(q1, q2, q12)

    v2 = var2[None, :]
    if cov.size <= BLOCK:  # one block (also every row block of a fused Serial): no copies
        out_cov, out_dcov = both(var1[:, None], v2, cov)
        if ntk is not None:
            out_dcov = np.multiply(out_dcov, ntk, out=out_dcov if out_dcov.shape == ntk.shape else None)
        return out_cov, out_dcov
    out_cov, out_dcov = np.empty_like(cov), np.empty_like(cov)

    def block(rows):
        out_cov[rows], out_dcov[rows] = both(var1[rows, None], v2, cov[rows])
        if ntk is not None:
            out_dcov[rows] *= ntk[rows]

    for_each_row_block(block, *cov.shape)
    return out_cov, out_dcov


@dataclass(frozen=True)
class PiecewiseLinearKernel:
    """phi(x) = slope_neg * x for x < 0, slope_pos * x for x > 0 (ReLU, leaky ReLU, linear).

    Arc-cosine kernel (Cho & Saul 2009), in the (a, b) form of neural-tangents' ABRelu:
    E[phi phi] = (a - b)^2/(2 pi) sqrt(q1 q2 - q12^2) + [(a^2 + b^2)/2 - (a - b)^2 theta/(2 pi)] q12,
    E[phi' phi'] = (a^2 + b^2)/2 - (a - b)^2 theta / (2 pi), theta = arccos(q12 / sqrt(q1 q2)).
    """

    slope_neg: float
    slope_pos: float

    def covariances(self, q1, q2, q12):
        a, b = self.slope_neg, self.slope_pos
        q1, q2, q12 = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (q1, q2, q12)))
        theta, det_sqrt = _angle(q1, q2, q12)
        theta = np.asarray(theta)
        # E[phi' phi'] = (a^2 + b^2)/2 - (a - b)^2 theta / (2 pi), in place on theta
        theta *= -((a - b) ** 2) / (2 * np.pi)
        theta += (a * a + b * b) / 2
        det_sqrt *= (a - b) ** 2 / (2 * np.pi)
        cov = np.multiply(theta, q12)
        cov += det_sqrt
        return cov, theta

    def covariance(self, q1, q2, q12):
        return self.covariances(q1, q2, q12)[0]

    def derivative_covariance(self, q1, q2, q12):
        return self.covariances(q1, q2, q12)[1]

    def second_moment_slope(self, q):
        return np.full_like(np.asarray(q, np.float64), (self.slope_neg**2 + self.slope_pos**2) / 2)


@dataclass(frozen=True)
class ErfKernel:
    """phi(x) = erf(x): Williams (1997) arcsine kernel.

    E[phi phi] = (2/pi) arcsin(2 q12 / sqrt((1 + 2 q1)(1 + 2 q2))),
    E[phi' phi'] = (4/pi) / sqrt((1 + 2 q1)(1 + 2 q2) - 4 q12^2).
    """

    def covariances(self, q1, q2, q12):
        q1, q2, q12 = (np.asarray(v, np.float64) for v in (q1, q2, q12))
        # r = 2 / sqrt((1 + 2 q1)(1 + 2 q2)): an outer product of two vectors on kernel matrices
        shape = np.broadcast_shapes(q1.shape, q2.shape, q12.shape)
        r = np.multiply(2 / np.sqrt(1 + 2 * q1), 1 / np.sqrt(1 + 2 * q2), out=np.empty(shape))
        u = np.multiply(q12, r, out=np.empty(shape))  # 2 q12 / sqrt((1 + 2 q1)(1 + 2 q2)), |u| < 1
        cov = np.arcsin(u)
        cov *= 2 / np.pi
        np.multiply(u, u, out=u)
        np.subtract(1.0, u, out=u)
        np.sqrt(u, out=u)
        r *= 2 / np.pi
        np.divide(r, u, out=u)  # (4/pi) / sqrt((1 + 2 q1)(1 + 2 q2) - 4 q12^2)
        return cov, u

    def covariance(self, q1, q2, q12):
        return self.covariances(q1, q2, q12)[0]

    def derivative_covariance(self, q1, q2, q12):
        return self.covariances(q1, q2, q12)[1]

    def second_moment_slope(self, q):
        q = np.asarray(q, np.float64)
        return 4 / np.pi / ((1 + 2 * q) * np.sqrt(1 + 4 * q))


@dataclass(frozen=True)
class SinKernel:
    """phi(x) = sin(x): E[sin u1 sin u2] = exp(-(q1 + q2)/2) sinh(q12),
    E[cos u1 cos u2] = exp(-(q1 + q2)/2) cosh(q12)."""

    def covariances(self, q1, q2, q12):
        return self.covariance(q1, q2, q12), self.derivative_covariance(q1, q2, q12)

    def covariance(self, q1, q2, q12):
        return np.exp(-(q1 + q2) / 2) * np.sinh(q12)

    def derivative_covariance(self, q1, q2, q12):
        return np.exp(-(q1 + q2) / 2) * np.cosh(q12)

    def second_moment_slope(self, q):
        return np.exp(-2 * np.asarray(q, np.float64))

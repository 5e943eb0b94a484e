"""Independent references for the tests: 30-digit mpmath quadrature and scipy's adaptive QUADPACK."""

from __future__ import annotations

import mpmath as mp
import numpy as np
from scipy import integrate

MP_FUNCS = {
    "tanh": mp.tanh,
    "erf": mp.erf,
    "sin": mp.sin,
    "linear": lambda x: x,
    "relu": lambda x: max(x, 0),
    "gelu": lambda x: x * mp.ncdf(x),
    "sigmoid": lambda x: 1 / (1 + mp.exp(-x)),
    "softplus": lambda x: mp.log1p(mp.exp(x)) if x < 30 else x + mp.log1p(mp.exp(-x)),
    "silu": lambda x: x / (1 + mp.exp(-x)),
    "elu": lambda x: x if x > 0 else mp.expm1(x),
    "selu": lambda x: (
        mp.mpf("1.0507009873554804934193349852946")
        * (x if x > 0 else mp.mpf("1.6732632423543772848170429916717") * mp.expm1(x))
    ),
    "hard_tanh": lambda x: min(max(x, -1), 1),
}
MP_DERIVS = {
    "tanh": lambda x: 1 - mp.tanh(x) ** 2,
    "gelu": lambda x: mp.ncdf(x) + x * mp.npdf(x),
    "sigmoid": lambda x: mp.exp(-x) / (1 + mp.exp(-x)) ** 2,
    "softplus": lambda x: 1 / (1 + mp.exp(-x)),
    "silu": lambda x: (1 + mp.exp(-x) + x * mp.exp(-x)) / (1 + mp.exp(-x)) ** 2,
    "elu": lambda x: 1 if x > 0 else mp.exp(x),
    "hard_tanh": lambda x: 1 if -1 < x < 1 else 0,
}
KINKS = {"relu": [0], "elu": [0], "selu": [0], "hard_tanh": [-1, 1]}


def mp_gauss_1d(f, q, kinks=(), dps: int = 30):
    """E[f(sqrt(q) z)] by mpmath tanh-sinh quadrature, split at kinks and around the Gaussian bulk."""
    with mp.workdps(dps):
        q = mp.mpf(q)
        s = mp.sqrt(q)
        pts = {mp.mpf(0), mp.mpf(-3), mp.mpf(3)} | {mp.mpf(k) / s for k in kinks}
        pts |= {mp.mpf(a) / s for a in (-4, -1, 1, 4) if abs(a / s) < 40}
        pts = [-mp.inf] + sorted(pts) + [mp.inf]
        return mp.quad(lambda z: f(s * z) * mp.exp(-z * z / 2), pts) / mp.sqrt(2 * mp.pi)


def quadpack_gauss_2d(f1, f2, q1, q2, q12):
    """E[f1(u1) f2(u2)] by scipy dblquad (adaptive, ~1e-13) in Cholesky coordinates."""
    s1, s2 = np.sqrt(q1), np.sqrt(q2)
    rho = q12 / (s1 * s2)
    sc = s2 * np.sqrt(1 - rho * rho)

    def integrand(z2, z1):
        return f1(s1 * z1) * f2(rho * s2 * z1 + sc * z2) * np.exp(-(z1 * z1 + z2 * z2) / 2) / (2 * np.pi)

    val, _ = integrate.dblquad(integrand, -10, 10, -10, 10, epsabs=1e-14, epsrel=1e-13)
    return val

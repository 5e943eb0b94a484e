"""Singular-value density of the input-output Jacobian by free probability.

Pennington, Schoenholz & Ganguli 2017: for J = D_L W_L ... D_1 W_1 with N x N weights (Gaussian,
entries N(0, sigma_w^2/N), or sigma_w times a Haar orthogonal matrix) and D_l = diag(phi'(h_l)),
h_l ~ N(0, q*) (the network at its fixed point), the squared singular values of J have S-transform

    S_{JJ^T}(z) = (S_{W^T W}(z) S_{D^2}(z))^L,
    S_{W^T W}(z) = 1 / (sigma_w^2 (1 + z))  (Gaussian),   1 / sigma_w^2  (orthogonal),

with S_X(z) = (1 + z)/z * chi_X(z), chi_X the inverse of psi_X(u) = sum_k m_k(X) u^k.
For D^2 with d = phi'(h)^2, psi_D(u) = E[u d / (1 - u d)]. Writing p = psi_D(u), the spectral
point x at which psi_J(1/x) = p is explicit in u:

    Gaussian:    x(u) = (1 + p)/p * (sigma_w^2 p / u)^L,
    orthogonal:  x(u) = (1 + p)/p * (sigma_w^2 p / ((1 + p) u))^L,

and the density is rho(x) = -Im G(x + i0)/pi with G(x) = (1 + p)/x.

Numerical method (no smoothing parameter). On the real u axis below the cut of psi_D, x(u)
decreases from +inf; its first stationary point u_e is the upper edge of the spectrum, x_max =
x(u_e). Below x_max the root u(x) leaves the real axis as u_e +- i sqrt(2 (log x_max - log x) /
F''(u_e)) with F = log x(u); the branch with Im psi_D < 0 is the physical one. We then continue
that root down the *real* x axis by predictor-corrector Newton on F(u) = log x (step halving on
any doubt), so the density is evaluated exactly on the axis. Where the root approaches the cut
of psi_D (1/u in the range of d), psi_D is evaluated on a complex contour deformed away from the
poles of its integrand (see `_DerivativeLaw`), so it stays accurate there. Far in the lower tail,
where the density has fallen below `tail` times its maximum, the continuation may stop and the
density is reported as 0 below `lower_cutoff`.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

from ._validation import as_float_array, check_positive_int, check_variance
from .activations import Activation, get_activation
from .activations._ops import NumpyOps
from .gaussian import DEFAULT_ORDER, gauss_rule
from .maps import length_fixed_point


class SpectralDensity(NamedTuple):
    """The law of the squared singular values lambda of the Jacobian (eigenvalues of JJ^T).

    `density` is the continuous part at `lam`; `point_masses` holds atoms as (location, mass)
    pairs: ReLU's inactive units give an atom at 0; a linear network with orthogonal weights is
    one atom at chi_1^L. `mean` and `variance` are exact (free cumulants), whatever the grid.
    """

    lam: np.ndarray
    density: np.ndarray
    mean: float  # chi_1^L, the first moment
    variance: float  # mean^2 L (s_W + s_D): exact second cumulant of the free product
    point_masses: tuple[tuple[float, float], ...] = ()
    upper_edge: float = math.nan  # largest point of the support
    lower_cutoff: float = 0.0  # below it the density was < tail * max and is reported as 0

    def cdf(self, x) -> np.ndarray:
        """P(lambda <= x) from the density (trapezoid in log lambda) and the atoms.

        The continuous mass below the smallest grid point (Gaussian weights: rho ~ lambda^(-L/(L+1))
        near 0) is not resolved by the grid; it is assigned to that point, so that cdf -> 1.
        """
        from scipy.integrate import cumulative_trapezoid

        x = np.asarray(x, dtype=np.float64)
        order = np.argsort(self.lam)
        lam, rho = self.lam[order], self.density[order]
        pos = lam > 0
        lam, rho = lam[pos], rho[pos]
        cum = cumulative_trapezoid(rho * lam, np.log(lam), initial=0.0)
        atoms = sum(m for _, m in self.point_masses)
        cum += 1.0 - atoms - cum[-1]  # the unresolved mass below lam[0]
        out = np.interp(x, lam, cum, left=0.0, right=cum[-1])
        for loc, mass in self.point_masses:
            out = out + mass * (x >= loc)
        return out

    def ks_distance(self, samples, resolution: float = 1e-10) -> float:
        """Kolmogorov-Smirnov distance sup_x |F_n(x) - F(x)| between simulated squared singular values
        and this law, over x >= resolution * max(samples): below that, products of float64 matrices
        cannot resolve singular values (ReLU's exact zeros come out as 1e-30...), and the grid's
        unresolved mass near 0 sits at its smallest point. Samples within 1e-9 (relative) of an
        atom count as on it."""
        lam = as_float_array(samples, "samples").ravel()
        for loc, _ in self.point_masses:  # rounding puts samples of an atom at loc (1 +- 1e-15)
            lam = np.where(np.abs(lam - loc) <= 1e-9 * abs(loc), loc, lam)
        lam = np.sort(lam)
        n = lam.size
        if n == 0:
            raise ValueError("samples must not be empty")
        floor = max(resolution * lam[-1], float(np.min(self.lam[self.lam > 0])) if np.any(self.lam > 0) else 0.0)
        values, counts = np.unique(lam[lam >= floor], return_counts=True)
        below_floor = np.searchsorted(lam, floor)
        empirical = (below_floor + np.cumsum(counts)) / n  # F_n(x) at each distinct sample
        empirical_left = empirical - counts / n  # F_n(x-)
        model = self.cdf(values)
        model_left = model - sum(m * (values == loc) for loc, m in self.point_masses)  # F(x-)
        at_floor = abs(
            below_floor / n - float(self.cdf(floor)) + sum(m for loc, m in self.point_masses if loc == floor)
        )
        gaps = np.concatenate([np.abs(empirical - model), np.abs(empirical_left - model_left), [at_floor]])
        return float(gaps.max())


class _DerivativeLaw:
    """The law of d = phi'(h)^2, h ~ N(0, q), as a quadrature rule, and psi_D(u) = E[u d / (1 - u d)].

    psi_D has a cut where 1/u lies in the range of d; near it the integrand has poles close to
    the real h axis and a real quadrature rule fails. For analytic phi' we integrate instead along
    h + i s eps(h), with eps ~ -d'(h) (smoothed by a central difference so that its derivative is
    exact) and s = sign(Im 1/u): then Im d(h + i s eps) ~ -s eps d' has the opposite sign to
    Im(1/u) - the poles stay on the far side of the contour, and the integrand is bounded. Cauchy's
    theorem makes the value the same as on the real axis wherever both are accurate (tested).
    """

    def __init__(self, act: Activation, q: float, order: int):
        h, w = gauss_rule(0.0, math.sqrt(q), act.kinks, order)
        d = act.dphi(h) ** 2
        self.atom = float(w[d == 0].sum())  # P(phi'(h) = 0): ReLU's inactive units
        keep = d > 0
        h, w, d = h[keep], w[keep], d[keep]
        self.dmax = float(d.max())
        self.mean = float((w * d).sum())
        self.rel_var = max(float((w * d * d).sum()) / self.mean**2 - 1, 0.0)  # s_D
        self.contours = {}
        deform = _contour(act, h, q)
        self.deformed = deform is not None
        for s in (1.0, -1.0):
            if deform is None:
                self.contours[s] = (w.astype(complex), d.astype(complex))
            else:
                eps, deps = s * deform[0], s * deform[1]
                z = h + 1j * eps
                weight = w * np.exp(-(z * z - h * h) / (2 * q)) * (1 + 1j * deps)
                self.contours[s] = (weight, act.dphi_impl(z, NumpyOps) ** 2)

    def psi(self, u):
        """psi_D(u) and its first two derivatives, for complex u (array)."""
        u = np.asarray(u, dtype=complex)
        s = 1.0 if np.all(u.imag <= 0) else -1.0  # sign of Im(1/u); scalar u in practice
        weight, d = self.contours[s]
        r = 1.0 / (1.0 - u[..., None] * d)
        wd = weight * d
        p = (wd * u[..., None] * r).sum(-1)
        p1 = (wd * r * r).sum(-1)
        p2 = (2 * wd * d * r**3).sum(-1)
        return p, p1, p2


def _contour(act: Activation, h: np.ndarray, q: float, delta: float = 0.05):
    """The deformation eps(h) and eps'(h) for analytic phi' (None when phi' is not analytic)."""
    if act.kinks:
        return None
    dphi = lambda z: act.dphi_impl(z, NumpyOps)  # noqa: E731
    d2phi = lambda z: act.d2phi_impl(z, NumpyOps)  # noqa: E731
    x0, step = np.array([0.37, -1.3]), 1e-5
    try:  # analytic continuation check: phi'(x + i s) = phi'(x) + i s phi''(x) + O(s^2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
            ok = np.allclose(dphi(x0 + 1j * step), dphi(x0) + 1j * step * d2phi(x0), rtol=0, atol=1e-8)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        return None
    d = lambda x: dphi(x) ** 2  # noqa: E731
    dd = lambda x: 2 * dphi(x) * d2phi(x)  # noqa: E731
    g = -(d(h + delta) - d(h - delta)) / (2 * delta)
    dg = -(dd(h + delta) - dd(h - delta)) / (2 * delta)
    top = np.abs(g).max()
    if not np.isfinite(top) or top == 0:
        return None
    amp = 0.5 * min(math.sqrt(q), 1.0) / top  # well inside tanh's poles (i pi/2) and the Gaussian's scale
    return amp * g.real, amp * dg.real


def _setup(activation, sigma_w2, sigma_b2, depth, weights, q, order):
    act = get_activation(activation)
    sw = float(check_variance(sigma_w2, "sigma_w2", positive=True))
    depth = check_positive_int(depth, "depth")
    if weights not in ("gaussian", "orthogonal"):
        raise ValueError(f"weights must be 'gaussian' or 'orthogonal', got {weights!r}")
    q = float(length_fixed_point(act, sw, sigma_b2)) if q is None else float(check_variance(q, "q", positive=True))
    law = _DerivativeLaw(act, q, check_positive_int(order, "order"))
    mean = (sw * law.mean) ** depth
    # Normalised variances add under free multiplicative convolution:
    # var/mean^2 of JJ^T = L (s_W + s_D), s_W = 1 (Gaussian) or 0 (orthogonal), s_D = E[d^2]/E[d]^2 - 1.
    rel_sd = float(np.sqrt(depth * ((1.0 if weights == "gaussian" else 0.0) + law.rel_var)))
    return act, sw, depth, law, mean, rel_sd


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
    order: int = 8 * DEFAULT_ORDER,
    tail: float = 1e-8,
) -> SpectralDensity:
    """Free-probability density of the squared singular values of an L-layer network's Jacobian,
    for Gaussian or orthogonal weights (Pennington, Schoenholz & Ganguli 2017, eqs. 8-13).

    Args:
        q: pre-activation variance (default q*, the fixed point).
        lam: points at which to evaluate the density (default: ~2000 points resolving the upper
            edge, the bulk and, log-spaced, the region near 0).
        order: Gauss-Legendre nodes per panel of the law of phi'(h)^2.
        tail: the continuation may stop where the density is below `tail` x its maximum (the
            exponentially small lower tail); the density is then 0 below `lower_cutoff`.

    Raises:
        RuntimeError: if the continuation fails where the density is not negligible.
    """
    act, sw, depth, law, mean, rel_sd = _setup(activation, sigma_w2, sigma_b2, depth, weights, q, order)
    variance = mean**2 * rel_sd**2
    atoms = ((0.0, law.atom),) if law.atom > 0 else ()
    if weights == "orthogonal" and law.rel_var < 1e-14:  # phi' constant: J = const x orthogonal
        lam = np.array([mean]) if lam is None else as_float_array(lam, "lam")
        return SpectralDensity(lam, np.zeros_like(lam), mean, variance, atoms + ((mean, 1.0 - law.atom),), mean)

    if weights == "orthogonal" and depth == 1:
        # J J^T = sigma_w^2 D^2: the law of d itself, evaluated at u = sigma_w^2 / x on the cut
        if not law.deformed:
            raise NotImplementedError(
                f"depth 1 with orthogonal weights needs an analytic phi' ({act.name} has kinks or no complex form)"
            )
        top = sw * law.dmax
        lam = _default_grid(top) if lam is None else as_float_array(lam, "lam")
        inside = (lam > 0) & (lam < top)
        p = law.psi(sw / lam[inside] + 0j)[0]  # boundary value from Im u < 0, the physical side
        density = np.zeros_like(lam)
        density[inside] = np.maximum(-((1 + p) / lam[inside]).imag / np.pi, 0.0)
        return SpectralDensity(lam, density, mean, variance, atoms, top)

    a = _log_1p_coefficient(depth, weights)

    def log_x(u):
        """F(u) = log x(u), F', F'', psi_D(u), and the size of F's terms (for a rounding-level test)."""
        p, p1, p2 = law.psi(u)
        terms = spectral_log_x_terms(p, u, depth, sw, weights)
        f1 = a * p1 / (1 + p) + (depth - 1) * p1 / p - depth / u
        f2 = a * (p2 / (1 + p) - (p1 / (1 + p)) ** 2) + (depth - 1) * (p2 / p - (p1 / p) ** 2) + depth / u**2
        return sum(terms), f1, f2, p, sum(abs(t) for t in terms)

    u_edge, log_top, f2_edge = _upper_edge(log_x, law.dmax)
    top = math.exp(log_top)
    band = (max(mean * (1 - 8 * rel_sd), 0.0), top) if rel_sd < 0.5 else None
    lam = _default_grid(top, band) if lam is None else as_float_array(lam, "lam")
    density, cutoff = _continue_density(log_x, u_edge, log_top, f2_edge, lam, tail)
    return SpectralDensity(lam, density, mean, variance, atoms, top, cutoff)


def _default_grid(top: float, band: tuple[float, float] | None = None) -> np.ndarray:
    """Points below the upper edge `top`: dense near it (rho ~ sqrt(top - x)), log-spaced down to
    1e-14 top (where Gaussian-weight densities diverge), and linear over `band` (a narrow bulk)."""
    k = np.arange(1, 1000) / 1000
    parts = [top * (1 - k**2), top * np.geomspace(1e-14, 1e-3, 300)]
    if band is not None:
        parts.append(np.linspace(*band, 1000)[1:-1])
    lam = np.unique(np.concatenate(parts))
    return lam[lam > 0]


def _log_1p_coefficient(depth: int, weights: str) -> float:
    return 1.0 if weights == "gaussian" else 1.0 - depth


def spectral_log_x_terms(p, u, depth: int, sigma_w2: float, weights: str) -> tuple:
    """The terms of log x(u), the spectral point where psi_J(1/x) = p = psi_D(u) (module docstring):
    chi_J(p) = p/(1 + p) (S_W(p) S_D(p))^L = 1/x with S_D(p) = (1 + p) u / p gives
    log x = a log(1 + p) + (L - 1) log p - L log u + L log sigma_w^2, a = 1 (Gaussian), 1 - L (orthogonal).
    Derived symbolically in theory/verify_closed_forms.py (check 9)."""
    a = _log_1p_coefficient(depth, weights)
    return a * np.log(1 + p), (depth - 1) * np.log(p), -depth * np.log(u), depth * math.log(sigma_w2)


def _upper_edge(log_x, dmax: float):
    """The first stationary point u_e of F = log x(u) on (0, 1/max d): the upper spectral edge."""
    from scipy.optimize import brentq

    us = np.geomspace(1e-12, 1 - 1e-10, 4000) / dmax
    f1 = log_x(us)[1].real
    change = np.nonzero(np.sign(f1[1:]) != np.sign(f1[:-1]))[0]
    if not change.size:
        raise RuntimeError("the spectrum's upper edge was not found (x(u) has no stationary point below the cut)")
    k = change[0]
    u_e = brentq(lambda u: log_x(np.array(u))[1].real, us[k], us[k + 1], xtol=1e-15 * us[k], rtol=1e-15)
    f, _, f2, _, _ = log_x(np.array(u_e))
    return u_e, float(f.real), float(f2.real)


def _newton(log_x, u, target, max_iter=10):
    for _ in range(max_iter):
        f, f1, _, _, size = log_x(u)
        res = f - target
        res = res.real + 1j * ((res.imag + np.pi) % (2 * np.pi) - np.pi)  # x(u) = x: F is defined mod 2 pi i
        step = res / f1
        u = u - step
        if abs(step) <= 1e-13 * abs(u) or abs(res) <= 1e-14 * size:
            return u, True
    return u, False


def _continue_density(log_x, u_edge, log_top, f2_edge, lam, tail):
    """Follow the physical root u(x) from the upper edge down the real x axis through every lam."""
    density = np.zeros_like(lam)
    order = np.argsort(-lam)
    u, cur, peak, cutoff = None, log_top, 0.0, 0.0
    for n, i in enumerate(order):
        if lam[i] <= 0:
            continue
        target = math.log(lam[i])
        if target >= log_top - 1e-12:
            continue  # above the support (or on its edge, where rho = 0)
        if u is None:  # leave the edge on the physical branch (Im psi_D < 0, i.e. Im u < 0)
            start = min(log_top - target, 1e-6)
            u, cur = np.array(u_edge - 1j * math.sqrt(2 * start / f2_edge)), log_top - start
        while cur > target + 1e-12:  # closer than that, u(x) moves by less than the solve's rounding
            h = min(cur - target, 0.05)
            while True:
                guess = u - h / log_x(u)[1]
                new, ok = _newton(log_x, guess, cur - h)
                if ok and abs(new - guess) <= 0.2 * abs(guess - u) + 1e-9 * abs(u):
                    break
                h /= 2
                if h < 1e-14:
                    last = density[order[n - 1]] if n else 0.0
                    if last <= tail * peak:  # lost in the exponentially small lower tail: stop here
                        return density, math.exp(cur)
                    raise RuntimeError(f"the density's continuation failed at lambda = {math.exp(cur):.6g}")
            u, cur = new, cur - h
        p = log_x(u)[3]
        density[i] = max(-((1 + p) / lam[i]).imag / np.pi, 0.0)
        peak = max(peak, density[i])
    return density, cutoff

"""Mean-field maps of wide random networks and their fixed points.

Network (Poole et al. 2016; Schoenholz et al. 2017): W^l_ij ~ N(0, sigma_w^2 / N_{l-1}),
b^l_i ~ N(0, sigma_b^2), h^{l+1} = W^{l+1} phi(h^l) + b^{l+1}, input layer h^1 = W^1 x + b^1
with x in R^d. In the infinite-width limit the pre-activations of two inputs are jointly
Gaussian with

* length map        q^{l+1}   = sigma_w^2 E[phi(sqrt(q^l) z)^2] + sigma_b^2,
* covariance map    q12^{l+1} = sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2,
  (u1, u2) ~ N(0, [[q1^l, q12^l], [q12^l, q2^l]]), and correlation c = q12 / sqrt(q1 q2),
* chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2], the slope of the correlation map at c = 1 and the
  mean squared singular value of one layer's Jacobian (the conformal factor of the metric),
* depth scales xi_q^{-1} = -log(sigma_w^2 E[phi'^2 + phi phi'']) at q*, and
  xi_c^{-1} = -log(chi_c), chi_c = sigma_w^2 E[phi'(u1) phi'(u2)] at (q*, c*)
  (Schoenholz et al. 2017, eqs. 6–9).

Every function takes the activation as a name or an `Activation` and broadcasts over its
array arguments; results are float64 numpy arrays (0-d for scalar input).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import expectations as ex
from ._solve import bracketed_newton
from ._validation import as_float_array, check_correlation, check_positive_int, check_variance
from .activations import Activation, get_activation
from .gaussian import DEFAULT_ORDER, gaussian_expectation

ActivationLike = str | Activation

Q_MAX = 1e12
"""Above this q the length map is declared unbounded (no finite fixed point reachable)."""


class NoFixedPointError(ValueError):
    """The length map has no finite fixed point: q grows without bound."""


def _variances(sigma_w2, sigma_b2):
    return check_variance(sigma_w2, "sigma_w2"), check_variance(sigma_b2, "sigma_b2")


def length_map(q, activation: ActivationLike, sigma_w2, sigma_b2, *, order: int = DEFAULT_ORDER) -> np.ndarray:
    """q^{l+1} = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2 (Poole et al. 2016, eq. 3)."""
    sw, sb = _variances(sigma_w2, sigma_b2)
    return sw * ex.second_moment(activation, check_variance(q, "q"), order=order) + sb


def length_map_slope(
    q, activation: ActivationLike, sigma_w2, sigma_b2=0.0, *, order: int = DEFAULT_ORDER
) -> np.ndarray:
    """d q^{l+1} / d q^l = sigma_w^2 E[phi'^2 + phi phi''] (= chi_1 + sigma_w^2 E[phi phi''])."""
    sw, _ = _variances(sigma_w2, sigma_b2)
    return sw * ex.second_moment_slope(activation, check_variance(q, "q"), order=order)


def covariance_map(
    q1, q2, q12, activation: ActivationLike, sigma_w2, sigma_b2, *, order: int = DEFAULT_ORDER
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One layer of the two-input map (q1, q2, q12) -> (q1', q2', q12') for inputs of any lengths."""
    sw, sb = _variances(sigma_w2, sigma_b2)
    act = get_activation(activation)
    return (
        sw * ex.second_moment(act, q1, order=order) + sb,
        sw * ex.second_moment(act, q2, order=order) + sb,
        sw * ex.covariance(act, q1, q2, q12, order=order) + sb,
    )


def _fixed_length(act, sw, sb, q, order):
    return (
        np.broadcast_to(length_fixed_point(act, sw, sb, order=order), np.broadcast(sw, sb).shape)
        if q is None
        else check_variance(q, "q", positive=True)
    )


def correlation_map(
    c, activation: ActivationLike, sigma_w2, sigma_b2, q=None, *, order: int = DEFAULT_ORDER
) -> np.ndarray:
    """c^{l+1} for two inputs of equal length q (default q*) and correlation c.

    c' = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q', with u1, u2 of variance q and
    correlation c and q' = length_map(q); at q = q*, q' = q* (Poole et al. 2016, eq. 5).
    """
    act = get_activation(activation)
    sw, sb = _variances(sigma_w2, sigma_b2)
    c = check_correlation(c)
    q = _fixed_length(act, sw, sb, q, order)
    q_next = sw * ex.second_moment(act, q, order=order) + sb
    return (sw * ex.covariance(act, q, q, c * q, order=order) + sb) / q_next


def correlation_map_slope(
    c, activation: ActivationLike, sigma_w2, sigma_b2, q=None, *, order: int = DEFAULT_ORDER
) -> np.ndarray:
    """dc'/dc = sigma_w^2 q E[phi'(u1) phi'(u2)] / q'; at (q*, c*) this is chi_c (Schoenholz et al. eq. 8)."""
    act = get_activation(activation)
    sw, sb = _variances(sigma_w2, sigma_b2)
    c = check_correlation(c)
    q = _fixed_length(act, sw, sb, q, order)
    q_next = sw * ex.second_moment(act, q, order=order) + sb
    return sw * q * ex.derivative_covariance(act, q, q, c * q, order=order) / q_next


def chi1(activation: ActivationLike, sigma_w2, sigma_b2, q=None, *, order: int = DEFAULT_ORDER) -> np.ndarray:
    """chi_1 = sigma_w^2 E[phi'(sqrt(q) z)^2] at q (default q*): slope of the c-map at c = 1,
    per-layer conformal factor of the metric, mean squared singular value of a layer's Jacobian."""
    act = get_activation(activation)
    sw, sb = _variances(sigma_w2, sigma_b2)
    q = _fixed_length(act, sw, sb, q, order)
    return sw * ex.derivative_second_moment(act, q, order=order)


def _exact_moments(act: Activation, order: int):
    """q -> (E[phi^2], d/dq E[phi^2]) by closed form or quadrature."""
    return lambda q: ex.moments_1d(act, q, order=order)[:2]


def _solve_length(act: Activation, sw: np.ndarray, sb: np.ndarray, q0: float, order: int, moments=None):
    """q* elementwise (flat arrays); inf where q grows without bound.

    `moments(q) -> (E[phi^2], d/dq E[phi^2])` defaults to exact evaluation.
    """
    sw, sb = np.broadcast_arrays(np.ravel(sw), np.ravel(sb))
    moments = moments or _exact_moments(act, order)
    n = sw.size
    if act.positively_homogeneous:  # E[phi^2] = m q: q* = sigma_b^2 / (1 - sigma_w^2 m) in closed form
        slope = sw * float(ex.second_moment(act, 1.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(slope < 1, sb / (1 - slope), np.inf)
        return np.where((slope == 1) & (sb == 0), q0, q)

    def F(x, idx):
        v, s = moments(x)
        return sw[idx] * v + sb[idx] - x, sw[idx] * s - 1

    start = np.full(n, float(q0))
    f0 = F(start, np.arange(n))[0]
    lo, hi = np.zeros(n), start.copy()
    # Above q0: double until the map falls below the diagonal (the iteration from q0 is monotone).
    up = np.flatnonzero(f0 > 0)
    lo[up] = start[up]
    while up.size:
        hi[up] *= 2
        f = F(hi[up], up)[0]
        up = up[(f > 0) & (hi[up] < Q_MAX)]
    f_hi = np.full(n, -1.0)
    big = hi >= Q_MAX
    if big.any():
        f_hi[big] = F(hi[big], np.flatnonzero(big))[0]
    q = np.full(n, np.inf)  # stays inf where f(hi) > 0 at Q_MAX: no finite fixed point above q0
    # Below q0 with q = 0 itself a fixed point (sigma_b^2 = 0, phi(0) = 0): if it is stable
    # (map slope <= 1) the iteration from q0 ends there (Poole's ordered phase); else the
    # root sought is the positive one and f > 0 just above 0.
    f_zero, df_zero = F(np.zeros(n), np.arange(n))
    zero_root = (f0 < 0) & (f_zero == 0)
    q[zero_root & (df_zero <= 0)] = 0.0
    solve = np.flatnonzero(~(big & (f_hi > 0)) & ~(zero_root & (df_zero <= 0)))
    if solve.size:
        x0 = np.where(f0[solve] > 0, lo[solve], hi[solve])
        lo_sign = np.where(f0[solve] > 0, 1.0, np.sign(np.where(zero_root[solve], 1.0, f_zero[solve])))
        root, _ = bracketed_newton(lambda x, idx: F(x, solve[idx]), lo[solve], hi[solve], x0, lo_sign=lo_sign)
        q[solve] = root
    return q


def length_fixed_point(
    activation: ActivationLike, sigma_w2, sigma_b2, *, q0: float = 1.0, order: int = DEFAULT_ORDER
) -> np.ndarray:
    """q*: the fixed point of the length map reached by iterating from q0 (Poole et al. 2016).

    For bounded activations it always exists (q* = 0 for odd phi with sigma_b^2 = 0 in the
    ordered phase). For the ReLU family q* = sigma_b^2 / (1 - sigma_w^2 (1 + alpha^2)/2) when
    the bracket is < 1; otherwise q grows without bound and NoFixedPointError is raised.
    At exact marginality (sigma_w^2 (1 + alpha^2)/2 = 1, sigma_b^2 = 0) every q is fixed and q0 is returned.

    Raises:
        NoFixedPointError: where q grows without bound (beyond 1e12); the message lists the points.
    """
    act = get_activation(activation)
    sw, sb = _variances(sigma_w2, sigma_b2)
    q0 = float(check_variance(q0, "q0", positive=True))
    shape = np.broadcast(sw, sb).shape
    q = _solve_length(act, *np.broadcast_arrays(sw, sb), q0, order).reshape(shape)
    if np.any(np.isinf(q)):
        bad = np.argwhere(np.isinf(np.atleast_1d(q)))[:3]
        pts = [
            (float(np.broadcast_to(sw, shape or (1,))[tuple(i)]), float(np.broadcast_to(sb, shape or (1,))[tuple(i)]))
            for i in bad
        ]
        raise NoFixedPointError(
            f"the length map of {act.name} has no finite fixed point at (sigma_w2, sigma_b2) = {pts}"
            f"{' ...' if np.isinf(q).sum() > 3 else ''}: q grows without bound (its slope stays >= 1)"
        )
    return q


def _solve_correlation(act, sw, sb, q, chi, cov_and_slope, c_start=None):
    """c* in [0, 1) for chi_1 > 1 (flat arrays); 1 in the ordered phase.

    `c_start` (default 0) must lie at or left of c*, where f >= 0.

    f(c) = c-map(c) - c is convex on [0, 1] (Mehler: the c-map is a power series in c with
    non-negative coefficients), f(0) >= 0 and f(1) = 0, so for chi_1 > 1 there is exactly
    one root in [0, 1) and Newton from c = 0 approaches it monotonically.
    """
    c = np.ones(sw.size)
    chaotic = np.flatnonzero(chi > 1)
    if chaotic.size:

        def F(x, idx):
            k = chaotic[idx]
            cov, dcov = cov_and_slope(x, k)
            return (sw[k] * cov + sb[k]) / q[k] - x, sw[k] * dcov - 1

        m = chaotic.size
        start = np.zeros(m) if c_start is None else np.clip(c_start[chaotic], 0.0, 1.0)
        root, _ = bracketed_newton(F, start, np.ones(m), start, lo_sign=np.ones(m))
        c[chaotic] = root
    return c


def correlation_fixed_point(
    activation: ActivationLike, sigma_w2, sigma_b2, *, order: int = DEFAULT_ORDER
) -> np.ndarray:
    """c*: the stable fixed point of the correlation map at q* reached from any c in [0, 1).

    Ordered phase (chi_1 <= 1): c* = 1. Chaotic phase: the unique root in [0, 1). (For odd
    phi with sigma_b^2 = 0 and negatively correlated inputs the mirror image -c* attracts.)
    """
    act = get_activation(activation)
    sw, sb = np.broadcast_arrays(*_variances(sigma_w2, sigma_b2))
    shape = sw.shape
    sw, sb = sw.ravel(), sb.ravel()
    q = length_fixed_point(act, sw, sb, order=order)
    chi = sw * ex.derivative_second_moment(act, q, order=order)

    def cov_and_slope(c, k):
        return (
            ex.covariance(act, q[k], q[k], c * q[k], order=order),
            q[k] * ex.derivative_covariance(act, q[k], q[k], c * q[k], order=order) / q[k],
        )

    return _solve_correlation(act, sw, sb, q, chi, cov_and_slope).reshape(shape)


class DepthScales(NamedTuple):
    """Schoenholz et al. 2017 depth scales: |q^l - q*| ~ exp(-l / xi_q), |c^l - c*| ~ exp(-l / xi_c)."""

    xi_q: np.ndarray
    xi_c: np.ndarray


def _xi(slope):
    with np.errstate(divide="ignore"):
        return np.where(slope > 0, -1.0 / np.log(np.where(slope > 0, slope, 1.0)), 0.0)


def depth_scales(activation: ActivationLike, sigma_w2, sigma_b2, *, order: int = DEFAULT_ORDER) -> DepthScales:
    """(xi_q, xi_c) with xi_q^{-1} = -log(sigma_w^2 E[phi'^2 + phi phi''](q*)) and xi_c^{-1} = -log chi_c,
    chi_c = sigma_w^2 E[phi'(u1) phi'(u2)] at (q*, c*) (Schoenholz et al. 2017, eqs. 6–9).

    In the ordered phase c* = 1 and chi_c = chi_1, so xi_c = -1/log chi_1 diverges at chi_1 = 1.
    A slope of 0 gives a depth scale of 0 (convergence in one layer, e.g. the linear network).
    """
    act = get_activation(activation)
    sw, sb = np.broadcast_arrays(*_variances(sigma_w2, sigma_b2))
    q = length_fixed_point(act, sw, sb, order=order)
    c = correlation_fixed_point(act, sw, sb, order=order)
    slope_q = sw * ex.second_moment_slope(act, q, order=order)
    chi_c = sw * ex.derivative_covariance(act, q, q, c * q, order=order)
    return DepthScales(_xi(np.abs(slope_q)), _xi(chi_c))


def critical_sigma_w2(
    activation: ActivationLike, sigma_b2, *, unstable: str = "raise", order: int = DEFAULT_ORDER
) -> np.ndarray:
    """sigma_w^2 on the order-to-chaos line chi_1(q*) = 1 for the given sigma_b^2.

    Uses the parametrisation of the line by q* (anchors §2.1): sigma_w^2 = 1 / E[phi'^2](q*),
    sigma_b^2 = q* - sigma_w^2 E[phi^2](q*); the q* that gives the requested sigma_b^2 is found
    by bracketed Newton to relative precision 1e-14. For the ReLU family chi_1 does not
    depend on q, so the line is sigma_w^2 = 2 / (1 + alpha^2) for every sigma_b^2 (for
    sigma_b^2 > 0 the lengths grow linearly there).

    The chi_1 = 1 point is only critical if the network settles there: the fixed point q*
    must be stable under the length map (slope sigma_w^2 E[phi'^2 + phi phi''] <= 1). For
    GELU at sigma_b^2 < ~0.15, for example, it is not, and the line ends.

    Args:
        unstable: "raise" (default) or "nan" for points whose chi_1 = 1 fixed point is unstable.

    Raises:
        ValueError: when no sigma_w^2 puts the network at chi_1 = 1 for this sigma_b^2, or
            when that fixed point is unstable in q (unless unstable="nan").
    """
    if unstable not in ("raise", "nan"):
        raise ValueError(f"unstable must be 'raise' or 'nan', got {unstable!r}")
    act = get_activation(activation)
    sb = check_variance(sigma_b2, "sigma_b2")
    shape = sb.shape
    sb = sb.ravel()
    if act.positively_homogeneous:
        return np.full(shape, 1.0 / float(ex.derivative_second_moment(act, 1.0)))

    def G(qq, idx):
        # g(q) = q - V/D - sigma_b^2 with V = E[phi^2], D = E[phi'^2]; g' = 1 - V'/D + V D'/D^2,
        # D'(q) = E[phi'(x) phi''(x) x] / q by Stein's lemma (a Newton slope only: the
        # bracket guarantees convergence even where kinks make it approximate).
        d = ex.derivative_second_moment(act, qq, order=order)
        v = ex.second_moment(act, qq, order=order)
        s = ex.second_moment_slope(act, qq, order=order)
        safe = np.where(qq > 0, qq, 1.0)
        dd = gaussian_expectation(lambda x: act.dphi(x) * act.d2phi(x) * x, safe, kinks=act.kinks, order=order) / safe
        return qq - v / d - sb[idx], 1 - s / d + v * dd / d**2

    n = sb.size
    lo, hi = np.zeros(n), np.ones(n)
    g0 = G(np.zeros(n), np.arange(n))[0]
    if np.any(g0 > 0):
        raise ValueError(f"{act.name}: sigma_b2 below {float(-g0.min() + sb.min()):.6g} has no critical point")
    up = np.flatnonzero(G(hi, np.arange(n))[0] < 0)
    while up.size:
        lo[up] = hi[up]
        hi[up] *= 2
        up = up[(G(hi[up], up)[0] < 0) & (hi[up] < Q_MAX)]
    if np.any(hi >= Q_MAX):
        raise ValueError(
            f"{act.name}: no critical sigma_w2 for sigma_b2 = {sb[hi >= Q_MAX][:3]}: chi_1 < 1 wherever q* is finite"
        )
    q, _ = bracketed_newton(G, lo, hi, 0.5 * (lo + hi), lo_sign=-np.ones(n))
    q[g0 == 0] = 0.0  # e.g. odd phi at sigma_b^2 = 0: the line starts at q* = 0
    sw = 1.0 / ex.derivative_second_moment(act, q, order=order)
    bad = sw * ex.second_moment_slope(act, q, order=order) > 1 + 1e-9
    if bad.any() and unstable == "raise":
        raise ValueError(
            f"{act.name}: at sigma_b2 = {sb[bad][:3].tolist()} the chi_1 = 1 fixed point (q* = {q[bad][:3].tolist()}) "
            "is unstable under the length map, so no network settles on it; the critical line does not extend there"
        )
    return np.where(bad, np.nan, sw).reshape(shape)


def length_propagation(
    activation: ActivationLike, sigma_w2, sigma_b2, depth: int, *, q_input: float = 1.0, order: int = DEFAULT_ORDER
) -> np.ndarray:
    """q^l, l = 1..depth, of one input with |x|^2 / d = q_input: q^1 = sigma_w^2 q_input + sigma_b^2
    (the input layer h^1 = W x + b), then the length map."""
    act = get_activation(activation)
    sw, sb = (float(v) for v in _variances(sigma_w2, sigma_b2))
    depth = check_positive_int(depth, "depth")
    q = np.empty(depth)
    q[0] = sw * float(check_variance(q_input, "q_input", positive=True)) + sb
    for layer in range(1, depth):  # layers are sequential
        q[layer] = length_map(q[layer - 1], act, sw, sb, order=order)
    return q


class Propagation(NamedTuple):
    """Per-layer statistics of two inputs, layer l = 1..depth on the leading axis."""

    q1: np.ndarray
    q2: np.ndarray
    q12: np.ndarray
    c: np.ndarray


def propagate_covariance(
    activation: ActivationLike, sigma_w2, sigma_b2, depth: int, q1, q2, q12, *, order: int = DEFAULT_ORDER
) -> Propagation:
    """Iterate the covariance map `depth - 1` times from layer-1 statistics (q1, q2, q12).

    Returns:
        Propagation of arrays of shape (depth, ...) (layer 1 first).
    """
    act = get_activation(activation)
    sw, sb = _variances(sigma_w2, sigma_b2)
    if sw.ndim or sb.ndim:
        raise ValueError("propagation takes scalar sigma_w2 and sigma_b2")
    depth = check_positive_int(depth, "depth")
    q1, q2, q12 = np.broadcast_arrays(*_check_pair(q1, q2, q12))
    out = np.empty((3, depth) + q1.shape)
    out[:, 0] = q1, q2, q12
    for layer in range(1, depth):  # layers are sequential; each step is vectorised over inputs
        out[:, layer] = covariance_map(*out[:, layer - 1], act, sw, sb, order=order)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = out[2] / np.sqrt(out[0] * out[1])
    return Propagation(out[0], out[1], out[2], np.clip(np.nan_to_num(c, nan=1.0), -1.0, 1.0))


def _check_pair(q1, q2, q12):
    q1, q2 = check_variance(q1, "q1"), check_variance(q2, "q2")
    q12 = as_float_array(q12, "q12")
    if np.any(q12 * q12 > q1 * q2 * (1 + 1e-12)):
        raise ValueError("q12 must satisfy q12^2 <= q1 q2")
    return q1, q2, q12


def propagate(
    activation: ActivationLike,
    sigma_w2,
    sigma_b2,
    depth: int,
    x1,
    x2=None,
    *,
    order: int = DEFAULT_ORDER,
) -> Propagation:
    """Per-layer q^l, c^l of inputs x1, x2 through the network, l = 1..depth.

    Layer 1: q^1 = sigma_w^2 |x|^2 / d + sigma_b^2, q12^1 = sigma_w^2 x1.x2 / d + sigma_b^2.

    Args:
        x1, x2: inputs of shape (..., d) (x2 defaults to x1); batch shapes broadcast.
        depth: number of pre-activation layers h^1..h^depth (>= 1).

    Returns:
        Propagation of arrays of shape (depth, ...).
    """
    sw, sb = _variances(sigma_w2, sigma_b2)
    x1 = as_float_array(x1, "x1")
    x2 = x1 if x2 is None else as_float_array(x2, "x2")
    if x1.ndim == 0 or x2.ndim == 0 or x1.shape[-1] != x2.shape[-1] or x1.shape[-1] == 0:
        raise ValueError(
            f"x1 and x2 must have the same non-empty last dimension d, got shapes {x1.shape} and {x2.shape}"
        )
    d = x1.shape[-1]
    q1 = sw * np.sum(x1 * x1, -1) / d + sb
    q2 = sw * np.sum(x2 * x2, -1) / d + sb
    q12 = sw * np.sum(x1 * x2, -1) / d + sb
    return propagate_covariance(
        activation, sw, sb, depth, q1, q2, np.clip(q12, -np.sqrt(q1 * q2), np.sqrt(q1 * q2)), order=order
    )

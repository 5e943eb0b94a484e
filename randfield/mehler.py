"""Many bivariate Gaussian expectations at once through Mehler's formula.

For u1 = sqrt(q1) z1, u2 = sqrt(q2) z2 with corr(z1, z2) = c,

    E[phi(u1) phi(u2)]   = sum_k c^k beta_k(q1) beta_k(q2),
    E[phi'(u1) phi'(u2)] = sum_k c^k gamma_k(q1) gamma_k(q2),

with beta_k(q) = E[phi(sqrt(q) z) He_k(z)] / sqrt(k!) and, by Stein's lemma,
gamma_k(q) = beta_{k+1}(q) sqrt(k + 1) / sqrt(q). The coefficients are computed once per
distinct variance (O(n) 1-D quadratures), after which each of the n1 x n2 entries costs
O(K) flops instead of a 2-D quadrature. Cauchy–Schwarz and Parseval bound the truncation:

    |sum_{k >= K} c^k beta_k(q1) beta_k(q2)| <= |c|^K sqrt(T(q1) T(q2)),
    T(q) = E[phi(sqrt(q) z)^2] - sum_{k < K} beta_k(q)^2,

and entries whose bound exceeds the tolerance (|c| near 1 at large q, kinked phi) are
computed by the exact nested quadrature instead.
"""

from __future__ import annotations

import numpy as np

from . import expectations as ex
from .activations import Activation
from .activations.closed_forms import kernel_matrices as closed_form_kernel_matrices
from .gaussian import DEFAULT_ORDER, hermite_coefficients


def _horner(c: np.ndarray, b1: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """sum_k c^k b1[:, k] b2[:, k] for a matrix c of shape (n1, n2)."""
    out = np.multiply.outer(b1[:, -1], b2[:, -1])
    for k in range(b1.shape[1] - 2, -1, -1):
        out *= c
        out += np.multiply.outer(b1[:, k], b2[:, k])
    return out


TABULATE_FROM = 250_000  # entries (~500²): below this building the table costs more than it saves
TABLE_POINTS = 2**14  # intervals of the uniform table in c
TAYLOR_ORDER = 4  # local Taylor polynomial at the nearest table point


class CorrelationTable:
    """f(c) = E[phi(u1) phi(u2)] and g(c) = E[phi'(u1) phi'(u2)] for unit pairs of one variance q
    and correlation c, on [-1, 1], for kernel matrices whose inputs share one norm.

    Then every entry of a layer is a function of c alone, so the 2-D expectation is computed once
    per layer instead of once per entry: f and g are interpolated by Chebyshev series from exact
    values at Chebyshev points (Mehler's series where its bound certifies them, exact 2-D quadrature
    elsewhere), with the degree doubled until the trailing coefficients are at rounding level; the
    series and its first four derivatives are tabulated at 2^14 + 1 equispaced points, and each
    entry is the degree-4 Taylor polynomial at its nearest point (|dc| <= 6.1e-5, remainder below
    rounding). Entries with c = 1 exactly (an input with itself) get the 1-D moments exactly.
    """

    def __init__(self, act: Activation, q: float, *, order: int = DEFAULT_ORDER, max_degree: int = 1024):
        from numpy.polynomial import chebyshev
        from scipy.fft import dct

        def interpolate(values):  # Chebyshev coefficients of the interpolant at first-kind points (DCT-II)
            coef = dct(values[::-1], type=2) / len(values)
            coef[0] /= 2
            return coef

        self.q = q
        for n in (64, 128, 256, 512, max_degree):
            nodes = np.cos(np.pi * (np.arange(n)[::-1] + 0.5) / n)  # increasing
            f, g = _series_matrices(act, np.array([q]), np.full(n, q), (nodes * q)[None, :], order=order)
            coef_f, coef_g = interpolate(f[0]), interpolate(g[0])
            # converged when the last eighth of the series is at the accuracy of the node values (1e-13)
            tail = max(np.abs(c[-n // 8 :]).max() / np.abs(c).max() for c in (coef_f, coef_g))
            if tail < 1e-13:
                break
        else:
            raise ArithmeticError(f"{act.name}: Chebyshev series in c at q = {q:g} did not converge by degree {n}")
        self.degree = n - 1
        self.grid = np.linspace(-1.0, 1.0, TABLE_POINTS + 1)
        self.h = 2.0 / TABLE_POINTS

        def taylor_table(coef):
            out, factorial = [], 1.0
            for m in range(TAYLOR_ORDER + 1):
                factorial *= max(m, 1)
                out.append(chebyshev.chebval(self.grid, chebyshev.chebder(coef, m) if m else coef) / factorial)
            return out

        self.f, self.g = taylor_table(coef_f), taylor_table(coef_g)
        m, _, d = ex.moments_1d(act, np.array([q]), order=order)
        self.at_one = (float(m[0]), float(d[0]))

    def evaluate(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(f(c), g(c)) for an array of correlations (clipped to [-1, 1])."""
        c = np.clip(c, -1.0, 1.0)
        idx = np.rint((c + 1.0) * (1.0 / self.h)).astype(np.intp)
        dc = c - self.grid[idx]
        outs = []
        for table in (self.f, self.g):
            acc = table[-1][idx]
            for coefficient in table[-2::-1]:  # Horner in dc
                acc *= dc
                acc += coefficient[idx]
            outs.append(acc)
        one = c == 1.0
        if one.any():
            outs[0][one], outs[1][one] = self.at_one
        return outs[0], outs[1]


_TABLES: dict = {}


def _one_variance(var1: np.ndarray, var2: np.ndarray, rtol: float = 1e-13) -> bool:
    """All variances equal up to rounding (inputs normalised to one norm stay within ~1e-15 of each
    other through the layers; the kernels move by (df/dq) dq, far below the quadrature's accuracy)."""
    lo, hi = min(var1.min(), var2.min()), max(var1.max(), var2.max())
    return bool(lo > 0 and hi - lo <= rtol * hi)


def correlation_table(act: Activation, q: float, *, order: int = DEFAULT_ORDER) -> CorrelationTable:
    """The table for (act, q), kept for the layer's two kernels and repeated calls (a few recent ones)."""
    key = (id(act), act.name, q, order)
    if key not in _TABLES:
        if len(_TABLES) > 64:
            _TABLES.clear()
        _TABLES[key] = CorrelationTable(act, q, order=order)
    return _TABLES[key]


def kernel_matrices(
    act: Activation,
    var1: np.ndarray,
    var2: np.ndarray,
    cov: np.ndarray,
    *,
    n_terms: int = 96,
    atol: float = 1e-12,
    order: int = DEFAULT_ORDER,
    ntk: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(E[phi(u1) phi(u2)], E[phi'(u1) phi'(u2)]) for every pair, u ~ N(0, [[var1_i, cov_ij], [cov_ij, var2_j]]).

    Args:
        act: activation (closed forms are used directly when present).
        var1: (n1,), var2: (n2,) variances; cov: (n1, n2) covariances.
        n_terms: Mehler terms; entries whose certified truncation bound exceeds `atol`
            (absolute, on either kernel) are recomputed by exact 2-D quadrature.
        ntk: (n1, n2); if given, the second output is ntk * E[phi' phi'] (the NTK through phi),
            multiplied while the blocks are in cache.

    Returns:
        Two (n1, n2) arrays.
    """
    v1, v2 = var1[:, None], var2[None, :]
    if act.closed_form is not None:
        return closed_form_kernel_matrices(act.closed_form, var1, var2, cov, ntk)
    if cov.size >= TABULATE_FROM and _one_variance(var1, var2):
        # inputs of one norm: every entry is a function of its correlation alone (CorrelationTable)
        q = float(np.mean(var1))
        rho = np.divide(cov, np.sqrt(v1 * v2))  # exactly 1 for an input with itself
        cov_out, dcov_out = correlation_table(act, q, order=order).evaluate(rho)
        if ntk is not None:
            dcov_out *= ntk
        return cov_out, dcov_out
    cov_out, dcov_out = _series_matrices(act, var1, var2, cov, n_terms=n_terms, atol=atol, order=order)
    if ntk is not None:
        dcov_out *= ntk
    return cov_out, dcov_out


def _series_matrices(act, var1, var2, cov, *, n_terms: int = 96, atol: float = 1e-12, order: int = DEFAULT_ORDER):
    """Mehler's series per entry, certified, with exact 2-D quadrature where it does not certify."""
    v1, v2 = var1[:, None], var2[None, :]
    norm = np.sqrt(v1 * v2)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.clip(np.where(norm > 0, cov / np.where(norm > 0, norm, 1.0), 0.0), -1.0, 1.0)

    def coefficients(v):
        distinct, where = np.unique(v, return_inverse=True)
        if len(distinct) < len(v):  # one set of coefficients per distinct variance
            return tuple(a[where.ravel()] for a in coefficients(distinct))
        beta = hermite_coefficients(act.phi, v, n_terms + 1, kinks=act.kinks, order=2 * order)
        k = np.arange(1, n_terms + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            gamma = np.where(v[:, None] > 0, beta[:, 1:] * np.sqrt(k) / np.sqrt(np.where(v > 0, v, 1.0))[:, None], 0.0)
        m, _, d = ex.moments_1d(act, v, order=order)
        # tails after K terms, for every K (Parseval): (n, n_terms + 1)
        tail_b = np.maximum(m[:, None] - np.concatenate([np.zeros((len(v), 1)), np.cumsum(beta[:, :-1] ** 2, 1)], 1), 0)
        tail_g = np.maximum(d[:, None] - np.concatenate([np.zeros((len(v), 1)), np.cumsum(gamma**2, 1)], 1), 0)
        return beta[:, :-1], gamma, tail_b, tail_g

    same = var2 is var1 or (var1.shape == var2.shape and np.array_equal(var1, var2))
    b1, g1, tb1, tg1 = coefficients(var1)
    b2, g2, tb2, tg2 = (b1, g1, tb1, tg1) if same else coefficients(var2)

    def truncation_bound(terms):
        ck = np.abs(c) ** terms
        tails = np.maximum(np.outer(tb1[:, terms], tb2[:, terms]), np.outer(tg1[:, terms], tg2[:, terms]))
        return ck * np.sqrt(tails)

    # The fewest terms that certify every entry that n_terms would certify.
    certified = truncation_bound(n_terms) <= atol
    terms = n_terms
    for candidate in (8, 16, 32, 64):
        if candidate < n_terms and np.all(truncation_bound(candidate)[certified] <= atol):
            terms = candidate
            break
    cov_out, dcov_out = _horner(c, b1[:, :terms], b2[:, :terms]), _horner(c, g1[:, :terms], g2[:, :terms])
    bound = truncation_bound(terms)
    diagonal = (c == 1.0) & (v1 == v2)  # identical variances at c = 1: 1-D moments, exactly
    if diagonal.any():
        idx = np.nonzero(diagonal)
        m, _, d = ex.moments_1d(act, var1[idx[0]], order=order)
        cov_out[idx], dcov_out[idx] = m, d
    bad = np.nonzero((~(bound <= atol) | (v1 == 0) | (v2 == 0)) & ~diagonal)
    if bad[0].size:
        q1, q2, q12 = var1[bad[0]], var2[bad[1]], cov[bad]
        cov_out[bad] = ex.covariance(act, q1, q2, q12, order=order)
        dcov_out[bad] = ex.derivative_covariance(act, q1, q2, q12, order=order)
    return cov_out, dcov_out

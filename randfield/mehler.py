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
    norm = np.sqrt(v1 * v2)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.clip(np.where(norm > 0, cov / np.where(norm > 0, norm, 1.0), 0.0), -1.0, 1.0)

    def coefficients(v):
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
    if ntk is not None:
        dcov_out *= ntk
    return cov_out, dcov_out

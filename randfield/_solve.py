"""Vectorised safeguarded Newton iteration on brackets (one solver for q*, c* and the critical line)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FunAndSlope = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def bracketed_newton(
    fun: FunAndSlope,
    lo: np.ndarray,
    hi: np.ndarray,
    x0: np.ndarray,
    *,
    rtol: float = 1e-14,
    atol: float = 1e-300,
    max_iter: int = 200,
    lo_sign: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Roots of f in [lo, hi], elementwise over flat arrays, where f(lo) >= 0 >= f(hi) or the reverse.

    Newton steps from x0; a step that leaves the current bracket is replaced by bisection
    (geometric when the bracket spans decades), so convergence is guaranteed. Only the
    unconverged entries are evaluated at each iteration.

    Args:
        fun: fun(x, idx) -> (f(x), f'(x)) for the entries idx of the flat problem.
        lo, hi, x0: flat float arrays.
        lo_sign: sign of f just inside the bracket at lo, when f(lo) = 0 is a root to avoid.

    Returns:
        (root, converged) flat arrays.
    """
    lo, hi, x = lo.astype(np.float64).copy(), hi.astype(np.float64).copy(), x0.astype(np.float64).copy()
    converged = np.zeros(x.shape, dtype=bool)
    active = np.arange(x.size)
    f_lo_sign = np.sign(fun(lo, active)[0]) if lo_sign is None else np.asarray(lo_sign, np.float64)
    for _ in range(max_iter):
        if active.size == 0:
            break
        xa = x[active]
        f, df = fun(xa, active)
        exact = f == 0
        same_as_lo = np.sign(f) == f_lo_sign[active]
        lo[active] = np.where(same_as_lo & ~exact, xa, lo[active])
        hi[active] = np.where(~same_as_lo & ~exact, xa, hi[active])
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = xa - f / df
        a, b = np.minimum(lo[active], hi[active]), np.maximum(lo[active], hi[active])
        ok = np.isfinite(newton) & (newton > a) & (newton < b)
        geometric = (a > 0) & (b > 4 * a)
        bisect = np.where(geometric, np.sqrt(a * b), 0.5 * (a + b))
        new = np.where(exact, xa, np.where(ok, newton, bisect))
        done = exact | (np.abs(new - xa) <= rtol * np.abs(new) + atol) | (b - a <= rtol * np.abs(b) + atol)
        x[active] = new
        converged[active[done]] = True
        active = active[~done]
    return x, converged

"""A batched Newton solver for the implicit steps, on the device of the states.

Each sample's equation F(x_i) = 0 is independent, so the Jacobian is block diagonal: one
dense (d x d) block per sample, built by `torch.func.jacrev` under `vmap` and factorised by a
batched `torch.linalg.solve`. This replaces the per-sample MINPACK `fsolve` on the CPU that the
DGNet reference code uses (anchors B2).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Tensor = torch.Tensor


class ConvergenceError(RuntimeError):
    """Newton's method did not reach the tolerance within max_iter iterations."""


def newton_solve(
    residual: Callable[..., Tensor],
    x0: Tensor,
    *context: Tensor,
    rtol: float | None = None,
    atol: float | None = None,
    max_iter: int = 50,
) -> Tensor:
    """Solve residual(x, *context) = 0 for a batch of independent samples.

    Args:
        residual: F(x, *context) -> Tensor like x; rows (dim 0) must not interact. It must be
            traceable by torch.func (plain torch ops; no in-place updates of captured tensors).
        x0: initial guess, shape (batch, *state).
        context: per-sample tensors passed along (batched in dim 0 like x0).
        rtol, atol: a sample has converged when max|dx| <= atol + rtol max|x| for its Newton step
            (default 1e-12 in float64, 1e-5 in float32).
        max_iter: iterations before `ConvergenceError`.

    Returns:
        x with F(x) ~ 0, detached from the autograd graph (the solve is for prediction, not training).
    """
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}")
    default = 1e-12 if x0.dtype == torch.float64 else 1e-5
    rtol = default if rtol is None else rtol
    atol = default if atol is None else atol
    shape = x0.shape
    n, d = shape[0], x0[0].numel()

    def single(xi, *ci):
        out = residual(xi.reshape(1, *shape[1:]), *(c[None] for c in ci))
        return out.reshape(d)

    jac_fn = torch.func.vmap(torch.func.jacrev(single, argnums=0))
    x = x0.detach().reshape(n, d).clone()
    context = tuple(c.detach() for c in context)
    with torch.no_grad():
        for _ in range(max_iter):
            r = residual(x.reshape(shape), *context).reshape(n, d)
            if not torch.isfinite(r).all():
                raise ConvergenceError("the residual became NaN or inf during Newton's iteration; reduce dt")
            jac = jac_fn(x, *context)
            dx = torch.linalg.solve(jac, -r.unsqueeze(-1)).squeeze(-1)
            x = x + dx
            step = dx.abs().amax(dim=1)
            if bool((step <= atol + rtol * x.abs().amax(dim=1)).all()):
                return x.reshape(shape)
    worst = float((step / (atol + rtol * x.abs().amax(dim=1))).max())
    raise ConvergenceError(
        f"Newton did not converge in max_iter={max_iter} iterations (worst step/tolerance = {worst:.3g}); "
        "reduce dt, loosen rtol/atol or raise max_iter"
    )

"""The activation object: phi, phi', phi'' on numpy arrays and torch tensors, plus what the theory needs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from ._ops import NumpyOps, is_tensor, ops_for

Impl = Callable[[Any, Any], Any]
"""An elementwise function impl(x, xp) written against an array namespace xp (see _ops)."""


class ClosedForm(Protocol):
    """Closed-form Gaussian kernels; (u1, u2) ~ N(0, [[q1, q12], [q12, q2]])."""

    def covariance(self, q1, q2, q12) -> np.ndarray:
        """E[phi(u1) phi(u2)]."""

    def derivative_covariance(self, q1, q2, q12) -> np.ndarray:
        """E[phi'(u1) phi'(u2)]."""

    def second_moment_slope(self, q) -> np.ndarray:
        """d/dq E[phi(sqrt(q) z)^2]."""

    def covariances(self, q1, q2, q12) -> tuple[np.ndarray, np.ndarray]:
        """(E[phi(u1) phi(u2)], E[phi'(u1) phi'(u2)]) at once, sharing their common terms."""


@dataclass(frozen=True, eq=False)
class Activation:
    """A pointwise nonlinearity phi with its first two derivatives.

    Call `phi`, `dphi`, `d2phi` (or the object itself) on numpy arrays (float64) or torch
    tensors (dtype and device kept). Derivatives at kinks take the right-continuous
    convention of the implementation (e.g. relu'(0) = 0); second derivatives omit the
    delta functions at kinks — the expectations in `randfield.expectations` account for them.

    Attributes:
        name: registry name, including parameters, e.g. ``"leaky_relu(alpha=0.2)"``.
        sympy_form: () -> (expr, symbol), the sympy expression of phi when one exists (tests verify
            the hand-written derivatives with it); built on first use of `expr`/`symbol`, since
            importing sympy would cost ~0.3 s of every `randfield` start-up.
        kinks: points where phi or phi' is not smooth; quadrature puts panel boundaries there.
        closed_form: exact Gaussian kernels, used automatically when present.
        derivatives_impl: optional joint (phi, phi', phi'') for speed in quadrature.
        divided_difference_impl: optional cancellation-free (phi(a) - phi(b)) / (a - b) as
            impl(a, b, xp); see `divided_difference`.
        divided_difference_partials_impl: optional (ds/da, ds/db) of that chord s as
            impl(a, b, s, xp); on tensors autograd then keeps (a, b, s) instead of every
            intermediate of `divided_difference_impl` (`_torch_chord`).
        positively_homogeneous: phi(a x) = a phi(x) for a > 0 (ReLU family): then
            E[phi(sqrt(q) z)^2] is linear in q and chi_1 does not depend on q.
    """

    name: str
    phi_impl: Impl = field(repr=False)
    dphi_impl: Impl = field(repr=False)
    d2phi_impl: Impl = field(repr=False)
    sympy_form: Callable[[], tuple[Any, Any]] | None = field(default=None, repr=False)
    kinks: tuple[float, ...] = ()
    closed_form: ClosedForm | None = field(default=None, repr=False)
    positively_homogeneous: bool = False
    derivatives_impl: Callable[[Any, Any], tuple] | None = field(default=None, repr=False)
    divided_difference_impl: Callable[[Any, Any, Any], Any] | None = field(default=None, repr=False)
    divided_difference_partials_impl: Callable[[Any, Any, Any, Any], tuple] | None = field(default=None, repr=False)

    @cached_property
    def _sympy(self) -> tuple[Any, Any]:
        return self.sympy_form() if self.sympy_form is not None else (None, None)

    @property
    def expr(self):
        """phi as a sympy expression in `symbol` (None when there is none)."""
        return self._sympy[0]

    @property
    def symbol(self):
        return self._sympy[1]

    def _apply(self, impl: Impl, x):
        if is_tensor(x):
            return impl(x, ops_for(x))
        return impl(np.asarray(x, dtype=np.float64), NumpyOps)

    def phi(self, x):
        """phi(x), elementwise."""
        return self._apply(self.phi_impl, x)

    def dphi(self, x):
        """phi'(x), elementwise."""
        return self._apply(self.dphi_impl, x)

    def d2phi(self, x):
        """phi''(x), elementwise (delta functions at kinks omitted)."""
        return self._apply(self.d2phi_impl, x)

    def derivatives(self, x) -> tuple:
        """(phi(x), phi'(x), phi''(x)) together, sharing work (one tanh) where `derivatives_impl` is given."""
        if self.derivatives_impl is not None:
            return self._apply(self.derivatives_impl, x)
        return self.phi(x), self.dphi(x), self.d2phi(x)

    def divided_difference(self, a, b):
        """The chord slope (phi(a) - phi(b)) / (a - b), elementwise; phi'((a + b) / 2) where a ~ b.

        This is the local factor of automatic discrete differentiation (Matsubara et al. 2020,
        `randfield.dynamics.discrete`): it is symmetric in (a, b), equals phi'(a) at a = b, and
        its product with (a - b) is phi(a) - phi(b) to rounding. The generic form switches to the
        midpoint derivative below |a - b| = eps^(1/3) (1 + |a + b| / 2), where cancellation
        (~eps / |a - b|) and the midpoint rule's O(|a - b|^2) error are equal; activations with an
        exact cancellation-free identity (tanh, sin, linear) provide `divided_difference_impl`.
        """
        if self.divided_difference_impl is not None:
            if not is_tensor(a):
                a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
                return self.divided_difference_impl(a, b, NumpyOps)
            if self.divided_difference_partials_impl is not None and a.shape == b.shape:
                from ._torch_chord import chord

                return chord(a, b, self.divided_difference_impl, self.divided_difference_partials_impl)
            return self.divided_difference_impl(a, b, ops_for(a))
        diff, mid = a - b, (a + b) / 2
        eps = (np.finfo(np.float64).eps if not is_tensor(a) else _torch_eps(a)) ** (1 / 3)
        near = abs(diff) <= eps * (1 + abs(mid))
        if is_tensor(a):
            import torch

            safe = torch.where(near, torch.ones_like(diff), diff)
            return torch.where(near, self.dphi(mid), (self.phi(a) - self.phi(b)) / safe)
        safe = np.where(near, 1.0, diff)
        return np.where(near, self.dphi(mid), (self.phi(a) - self.phi(b)) / safe)

    __call__ = phi

    @property
    def smooth(self) -> bool:
        """True when phi has no kinks (quadrature is then spectrally accurate)."""
        return not self.kinks


def _torch_eps(x) -> float:
    import torch

    return torch.finfo(x.dtype).eps


def _broadcast(value, x, xp):
    """lambdify returns a scalar for constant expressions; give it x's shape."""
    if is_tensor(value) or (isinstance(value, np.ndarray) and value.shape == np.shape(x)):
        return value
    return xp.constant(float(value), x)


def from_sympy(
    name: str,
    expr,
    symbol=None,
    *,
    kinks: Sequence[float] = (),
    closed_form: ClosedForm | None = None,
    positively_homogeneous: bool = False,
) -> Activation:
    """An activation from a sympy expression; phi' and phi'' by sympy.

    Args:
        name: registry name.
        expr: sympy expression in one symbol (Piecewise, Max, Abs, Heaviside are allowed).
        symbol: the variable; inferred when `expr` has exactly one free symbol.
        kinks: points where expr or its derivative is not smooth (needed for accurate quadrature).

    Example:
        >>> import sympy as sp
        >>> x = sp.Symbol("x")
        >>> act = from_sympy("softsign", x / (1 + sp.Abs(x)), x, kinks=(0.0,))
    """
    import sympy as sp

    expr = sp.sympify(expr)
    if symbol is None:
        free = sorted(expr.free_symbols, key=str)
        if len(free) != 1:
            raise ValueError(f"expr must have exactly one free symbol (or pass symbol=), got {free}")
        symbol = free[0]
    # A real symbol lets Abs/Max/Heaviside rewrite to Piecewise and differentiate cleanly.
    real = sp.Dummy(str(symbol), real=True)
    piecewise = expr.subs(symbol, real).rewrite(sp.Piecewise)
    symbol_in, symbol = symbol, real
    derivs = [piecewise, sp.diff(piecewise, symbol), sp.diff(piecewise, symbol, 2)]
    derivs = [sp.piecewise_fold(d).replace(sp.DiracDelta, lambda *a: sp.S.Zero) for d in derivs]
    np_fns = [sp.lambdify(symbol, d, modules=["scipy", "numpy"]) for d in derivs]
    torch_fns = [sp.lambdify(symbol, d, modules="torch") for d in derivs]

    def make(np_fn, torch_fn) -> Impl:
        def impl(x, xp):
            return _broadcast(torch_fn(x) if is_tensor(x) else np_fn(x), x, xp)

        return impl

    impls = [make(n, t) for n, t in zip(np_fns, torch_fns)]
    return Activation(
        name,
        *impls,
        sympy_form=lambda: (expr, symbol_in),
        kinks=tuple(float(k) for k in kinks),
        closed_form=closed_form,
        positively_homogeneous=positively_homogeneous,
    )


def from_torch(name: str, fn: Callable, *, kinks: Sequence[float] = ()) -> Activation:
    """An activation from an elementwise torch callable; phi' and phi'' by autograd.

    On numpy input the computation runs in float64 on the CPU. On tensor input the
    derivatives are differentiable (create_graph=True).
    """
    import torch

    def grad(f):
        def g(x):
            with torch.enable_grad():
                xx = x if x.requires_grad else x.detach().requires_grad_(True)
                (out,) = torch.autograd.grad(f(xx).sum(), xx, create_graph=True)
            return out

        return g

    torch_fns = [fn, grad(fn), grad(grad(fn))]

    def make(tf) -> Impl:
        def impl(x, xp):
            if is_tensor(x):
                return tf(x)
            return tf(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))).detach().numpy()

        return impl

    return Activation(name, *(make(t) for t in torch_fns), kinks=tuple(float(k) for k in kinks))

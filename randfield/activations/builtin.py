"""The built-in activations. Each is written once against an array namespace `xp`, so the
same code runs on numpy and torch; its sympy expression is kept so that theory/ and the
tests can check the hand-written derivatives symbolically."""

from __future__ import annotations

import math

from .base import Activation
from .closed_forms import ErfKernel, PiecewiseLinearKernel, SinKernel
from .registry import register_activation


def _sympy(build):
    """sympy_form for `Activation`: build(sp, x) -> phi's expression, made on first use."""

    def form():
        import sympy as sp

        x = sp.Symbol("x", real=True)
        return build(sp, x), x

    return form


_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _check_alpha(alpha, name: str = "alpha") -> float:
    alpha = float(alpha)
    if not math.isfinite(alpha):
        raise ValueError(f"{name} must be finite, got {alpha}")
    return alpha


def linear() -> Activation:
    return Activation(
        "linear",
        lambda x, xp: x * 1.0,
        lambda x, xp: xp.constant(1.0, x),
        lambda x, xp: xp.constant(0.0, x),
        sympy_form=_sympy(lambda sp, X: X),
        closed_form=PiecewiseLinearKernel(1.0, 1.0),
        positively_homogeneous=True,
    )


def tanh() -> Activation:
    def d1(x, xp):
        t = xp.tanh(x)
        return 1 - t * t

    def d2(x, xp):
        t = xp.tanh(x)
        return -2 * t * (1 - t * t)

    def joint(x, xp):
        t = xp.tanh(x)
        d = 1 - t * t
        return t, d, -2 * t * d

    def chord(a, b, xp):
        # tanh a - tanh b = sinh(a - b) / (cosh a cosh b), so with A = |a|, B = |b|, x = |a - b|
        # the chord is a product of positive factors: no cancellation as a -> b nor where
        # tanh a, tanh b -> +-1, no overflow (x - (A + B) <= 0), and symmetric to the last bit:
        #     s = 2 exp(x - (A + B)) (-expm1(-2x) / x) / ((1 + exp(-2A)) (1 + exp(-2B))).
        big_a, big_b = abs(a), abs(b)
        x = xp.clip(abs(a - b), 1e-30, float("inf"))  # below 1e-30, -expm1(-2x)/x = 2 to rounding
        ratio = -xp.expm1(-2 * x) / x
        return 2 * xp.exp(x - (big_a + big_b)) * ratio / ((1 + xp.exp(-2 * big_a)) * (1 + xp.exp(-2 * big_b)))

    def chord_partials(a, b, s, xp):
        # log s = log(sinh d / d) - log cosh a - log cosh b, d = a - b: ds/da = s (L(d) - tanh a),
        # ds/db = -s (L(d) + tanh b) with the Langevin function L(d) = coth d - 1/d (its Taylor
        # series below |d| = 0.1, where coth d - 1/d would cancel; next term < 1e-16 relative)
        d = a - b
        small = abs(d) < 0.1
        d_safe = xp.where(small, xp.constant(1.0, d), d)
        d2 = d * d
        series = d * (1 / 3 - d2 * (1 / 45 - d2 * (2 / 945 - d2 * (1 / 4725 - d2 * 2 / 93555))))
        langevin = xp.where(small, series, 1 / xp.tanh(d_safe) - 1 / d_safe)
        return s * (langevin - xp.tanh(a)), -s * (langevin + xp.tanh(b))

    return Activation(
        "tanh",
        lambda x, xp: xp.tanh(x),
        d1,
        d2,
        sympy_form=_sympy(lambda sp, X: sp.tanh(X)),
        derivatives_impl=joint,
        divided_difference_impl=chord,
        divided_difference_partials_impl=chord_partials,
    )


def leaky_relu(alpha: float = 0.01) -> Activation:
    """max(x, 0) + alpha min(x, 0); `relu` is alpha = 0."""
    a = _check_alpha(alpha)
    name = "relu" if a == 0 else f"leaky_relu(alpha={a:g})"
    return Activation(
        name,
        lambda x, xp: xp.where(x > 0, x, a * x),
        lambda x, xp: xp.where(x > 0, xp.constant(1.0, x), xp.constant(a, x)),
        lambda x, xp: xp.constant(0.0, x),
        sympy_form=_sympy(lambda sp, X: sp.Piecewise((X, X > 0), (a * X, True))),
        kinks=(0.0,),
        closed_form=PiecewiseLinearKernel(a, 1.0),
        positively_homogeneous=True,
    )


def relu() -> Activation:
    return leaky_relu(0.0)


def erf() -> Activation:
    c = 2.0 / math.sqrt(math.pi)
    return Activation(
        "erf",
        lambda x, xp: xp.erf(x),
        lambda x, xp: c * xp.exp(-x * x),
        lambda x, xp: -2 * c * x * xp.exp(-x * x),
        sympy_form=_sympy(lambda sp, X: sp.erf(X)),
        closed_form=ErfKernel(),
    )


def gelu() -> Activation:
    """x Phi(x) with the exact Gaussian CDF (not the tanh approximation)."""

    def pdf(x, xp):
        return _INV_SQRT_2PI * xp.exp(-0.5 * x * x)

    def cdf(x, xp):
        return 0.5 * (1 + xp.erf(x / _SQRT_2))

    def joint(x, xp):
        p, c = pdf(x, xp), cdf(x, xp)
        return x * c, c + x * p, (2 - x * x) * p

    return Activation(
        "gelu",
        lambda x, xp: x * cdf(x, xp),
        lambda x, xp: cdf(x, xp) + x * pdf(x, xp),
        lambda x, xp: (2 - x * x) * pdf(x, xp),
        sympy_form=_sympy(lambda sp, X: X * (1 + sp.erf(X / sp.sqrt(2))) / 2),
        derivatives_impl=joint,
    )


def sigmoid() -> Activation:
    def d1(x, xp):
        s = xp.sigmoid(x)
        return s * (1 - s)

    def d2(x, xp):
        s = xp.sigmoid(x)
        return s * (1 - s) * (1 - 2 * s)

    def joint(x, xp):
        s = xp.sigmoid(x)
        d = s * (1 - s)
        return s, d, d * (1 - 2 * s)

    return Activation(
        "sigmoid",
        lambda x, xp: xp.sigmoid(x),
        d1,
        d2,
        sympy_form=_sympy(lambda sp, X: 1 / (1 + sp.exp(-X))),
        derivatives_impl=joint,
    )


def softplus() -> Activation:
    def d2(x, xp):
        s = xp.sigmoid(x)
        return s * (1 - s)

    return Activation(
        "softplus",
        lambda x, xp: xp.softplus(x),
        lambda x, xp: xp.sigmoid(x),
        d2,
        sympy_form=_sympy(lambda sp, X: sp.log(1 + sp.exp(X))),
    )


def silu() -> Activation:
    """x sigmoid(x), also called swish."""

    def d1(x, xp):
        s = xp.sigmoid(x)
        return s * (1 + x * (1 - s))

    def d2(x, xp):
        s = xp.sigmoid(x)
        return s * (1 - s) * (2 + x * (1 - 2 * s))

    def joint(x, xp):
        s = xp.sigmoid(x)
        return x * s, s * (1 + x * (1 - s)), s * (1 - s) * (2 + x * (1 - 2 * s))

    return Activation(
        "silu",
        lambda x, xp: x * xp.sigmoid(x),
        d1,
        d2,
        sympy_form=_sympy(lambda sp, X: X / (1 + sp.exp(-X))),
        derivatives_impl=joint,
    )


def elu(alpha: float = 1.0, *, scale: float = 1.0, name: str | None = None) -> Activation:
    """scale * (x for x > 0, alpha (e^x - 1) for x <= 0)."""
    a, lam = _check_alpha(alpha), _check_alpha(scale, "scale")
    return Activation(
        name or f"elu(alpha={a:g})",
        lambda x, xp: lam * xp.where(x > 0, x, a * xp.expm1(xp.clip(x, None, 0.0))),
        lambda x, xp: lam * xp.where(x > 0, xp.constant(1.0, x), a * xp.exp(xp.clip(x, None, 0.0))),
        lambda x, xp: lam * xp.where(x > 0, xp.constant(0.0, x), a * xp.exp(xp.clip(x, None, 0.0))),
        sympy_form=_sympy(lambda sp, X: lam * sp.Piecewise((X, X > 0), (a * (sp.exp(X) - 1), True))),
        kinks=(0.0,),
    )


def selu() -> Activation:
    """Klambauer et al. 2017: elu with alpha = 1.6733, scale = 1.0507."""
    return elu(SELU_ALPHA, scale=SELU_LAMBDA, name="selu")


def sin() -> Activation:
    return Activation(
        "sin",
        lambda x, xp: xp.sin(x),
        lambda x, xp: xp.cos(x),
        lambda x, xp: -xp.sin(x),
        sympy_form=_sympy(lambda sp, X: sp.sin(X)),
        closed_form=SinKernel(),
    )


def hard_tanh() -> Activation:
    """clip(x, -1, 1)."""
    return Activation(
        "hard_tanh",
        lambda x, xp: xp.clip(x, -1.0, 1.0),
        lambda x, xp: xp.where((x > -1) & (x < 1), xp.constant(1.0, x), xp.constant(0.0, x)),
        lambda x, xp: xp.constant(0.0, x),
        sympy_form=_sympy(lambda sp, X: sp.Piecewise((-1, X < -1), (X, X < 1), (1, True))),
        kinks=(-1.0, 1.0),
    )


for _factory in (linear, tanh, relu, leaky_relu, erf, gelu, sigmoid, softplus, silu, elu, selu, sin, hard_tanh):
    register_activation(_factory.__name__, _factory)
register_activation("swish", silu)

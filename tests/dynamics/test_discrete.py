"""Automatic discrete differentiation: the defining identities of a discrete gradient, checked
against the network's own forward values and autograd (independent of the chord code)."""

import numpy as np
import pytest
import torch

from randfield.activations import get_activation
from randfield.dynamics import discrete as dd

ACTIVATIONS = ["tanh", "softplus", "relu", "sigmoid", "sin", "gelu", "elu", "erf"]


def autograd_gradient(net, x):
    x = x.detach().requires_grad_()
    (grad,) = torch.autograd.grad(net(x).sum(), x)
    return grad


def mlp(activation, dim=5):
    torch.manual_seed(0)
    return dd.energy_mlp(dim, 32, 2, activation)


def conv_energy():
    """A periodic 1-D conv energy like DGNet's PDE net, with a square (product) term."""
    torch.manual_seed(0)
    return dd.DiscreteSequential(
        dd.Conv1d(1, 8, 3, padding=1, padding_mode="circular"),
        dd.Elementwise("tanh"),
        dd.Conv1d(8, 8, 1),
        dd.Square(),
        dd.Scale(0.5),
        dd.Conv1d(8, 1, 1, bias=False),
        dd.Sum(),
    )


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_discrete_chain_rule_consistency_and_symmetry(activation):
    net = mlp(activation)
    torch.manual_seed(1)
    u, v = torch.randn(16, 5), torch.randn(16, 5)
    g = net.discrete_gradient(u, v)
    with torch.no_grad():
        lhs = (net(u) - net(v)).squeeze(1)
    assert torch.allclose((g * (u - v)).sum(1), lhs, rtol=0, atol=1e-13 * (float(lhs.abs().max()) + 1))
    assert torch.equal(net.discrete_gradient(v, u), g)
    assert torch.allclose(net.discrete_gradient(u, u), autograd_gradient(net, u), rtol=0, atol=1e-14)


def test_conv_energy_with_products():
    net = conv_energy()
    u, v = torch.randn(4, 1, 20), torch.randn(4, 1, 20)
    g = net.discrete_gradient(u, v)
    with torch.no_grad():
        lhs = (net(u) - net(v)).squeeze(1)
    assert torch.allclose((g * (u - v)).flatten(1).sum(1), lhs, rtol=1e-13, atol=1e-13)
    assert torch.allclose(net.discrete_gradient(u, u), autograd_gradient(net, u), rtol=0, atol=1e-13)


@pytest.mark.parametrize("activation", ["tanh", "softplus", "sigmoid", "gelu"])
def test_nearby_arguments_give_the_midpoint_gradient(activation):
    """For |u - v| -> 0 the discrete gradient tends to grad H((u + v) / 2) with error O(|u - v|^2)."""
    net = mlp(activation)
    u = torch.randn(8, 5)
    for scale in (1e-3, 1e-6, 1e-9):
        v = u + scale * torch.randn(8, 5)
        err = (net.discrete_gradient(u, v) - autograd_gradient(net, (u + v) / 2)).abs().max()
        assert err < 10 * scale**2 + 1e-9, (scale, float(err))


@pytest.mark.parametrize("name", ACTIVATIONS + ["linear", "silu", "selu"])
def test_activation_divided_difference(name):
    act = get_activation(name)
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 2, 1000), rng.normal(0, 2, 1000)
    exact = (act.phi(a) - act.phi(b)) / (a - b)  # well separated: no cancellation to speak of
    assert np.allclose(act.divided_difference(a, b), exact, rtol=1e-9, atol=1e-12)
    assert np.allclose(act.divided_difference(a, a), act.dphi(a), rtol=0, atol=1e-15)
    # torch and numpy agree (their special functions differ by ulps, amplified where a ~ b)
    t = act.divided_difference(torch.as_tensor(a), torch.as_tensor(b)).numpy()
    assert np.allclose(t, act.divided_difference(a, b), rtol=1e-10, atol=1e-14)


def test_tanh_divided_difference_has_no_cancellation():
    act = get_activation("tanh")
    a = np.linspace(-3, 3, 101)
    b = a + 1e-7  # above the generic switch, where (tanh a - tanh b)/(a - b) loses ~9 digits
    import mpmath

    mpmath.mp.dps = 40
    ref = np.array([float((mpmath.tanh(x) - mpmath.tanh(y)) / (mpmath.mpf(x) - mpmath.mpf(y))) for x, y in zip(a, b)])
    assert np.allclose(act.divided_difference(a, b), ref, rtol=1e-14, atol=0)


def test_tanh_chord_partials_match_mpmath_and_autograd_rules_agree():
    """The tanh chord is one autograd node with analytic partials (randfield.activations._torch_chord):
    its backward against 40-digit mpmath derivatives of (tanh a - tanh b)/(a - b), over separations
    from 1e-12 (the Taylor branch of the Langevin function) to 10, and forward mode (jacfwd, used by
    the Newton solver) against reverse mode; double backward by gradgradcheck."""
    import mpmath

    mpmath.mp.dps = 40
    act = get_activation("tanh")
    rng = np.random.default_rng(3)
    a = rng.normal(0, 3, 60)
    b = a + rng.choice([-1, 1], 60) * np.geomspace(1e-12, 10, 60)
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    grad_a, grad_b = torch.autograd.grad(act.divided_difference(at, bt).sum(), (at, bt))

    def chord(x, y):
        return (mpmath.tanh(x) - mpmath.tanh(y)) / (x - y)

    for i in range(60):
        x, y = mpmath.mpf(a[i]), mpmath.mpf(b[i])
        da, db = mpmath.diff(lambda s: chord(s, y), x), mpmath.diff(lambda s: chord(x, s), y)
        assert float(grad_a[i]) == pytest.approx(float(da), rel=1e-12, abs=1e-15)
        assert float(grad_b[i]) == pytest.approx(float(db), rel=1e-12, abs=1e-15)
    f = lambda x: act.divided_difference(x, 0.5 * x.flip(0))  # noqa: E731
    x = torch.randn(9, dtype=torch.float64)
    assert torch.allclose(torch.func.jacfwd(f)(x), torch.func.jacrev(f)(x), rtol=1e-13, atol=1e-15)
    assert torch.autograd.gradgradcheck(lambda x, y: act.divided_difference(x, y), (at[:8], bt[:8]))


def test_gradients_through_the_discrete_gradient_match_finite_differences():
    """Training differentiates dgradH in the parameters and the states: check both against
    central finite differences."""
    torch.manual_seed(0)
    net = dd.energy_mlp(2, 6, 2, "tanh")
    u, v = torch.randn(3, 2), torch.randn(3, 2)
    assert torch.autograd.gradcheck(lambda x: net.discrete_gradient(x, v), (u.clone().requires_grad_(),))

    def loss():
        return (net.discrete_gradient(u, v) ** 2).sum()

    weight = net[2].weight
    (grad,) = torch.autograd.grad(loss(), weight)
    h = 1e-6
    for i, j in [(0, 0), (3, 5), (5, 2)]:
        with torch.no_grad():
            weight[i, j] += h
            up = loss()
            weight[i, j] -= 2 * h
            down = loss()
            weight[i, j] += h
        assert float(grad[i, j]) == pytest.approx(float(up - down) / (2 * h), rel=1e-6, abs=1e-9)


def test_layers_without_a_chord_are_rejected():
    with pytest.raises(TypeError, match="DiscreteModule"):
        dd.DiscreteSequential(dd.Linear(2, 3), torch.nn.Tanh())
    with pytest.raises(ValueError, match="same shape"):
        mlp("tanh").discrete_gradient(torch.zeros(2, 5), torch.zeros(3, 5))


@pytest.mark.parametrize(
    "layer, shape",
    [
        (dd.Linear(5, 3), (4, 5)),
        (dd.Conv1d(2, 3, 3, padding=1, padding_mode="circular"), (4, 2, 7)),
        (dd.Conv2d(2, 3, 3, padding=1, padding_mode="circular"), (4, 2, 5, 6)),
        (dd.Elementwise("tanh"), (4, 5)),
        (dd.Elementwise("softplus"), (4, 5)),
        (dd.Square(), (4, 5)),
        (dd.Scale(0.3), (4, 5)),
        (dd.AddChannel(), (4, 6)),
        (dd.Sum(), (4, 2, 3)),
    ],
)
def test_chord_adjoint_is_the_transpose_of_the_chord(layer, shape):
    # <L(a, b) x, y> = <x, L(a, b)^T y> for random x, y: the backward sweep computes L_H^T 1 exactly
    gen = torch.Generator().manual_seed(0)
    a, b, x = (torch.randn(shape, generator=gen, dtype=torch.float64) for _ in range(3))
    layer = layer.double()
    lx = layer.chord(x, a, b)
    y = torch.randn(lx.shape, generator=gen, dtype=torch.float64)
    assert torch.sum(lx * y).item() == pytest.approx(torch.sum(x * layer.chord_adjoint(y, a, b)).item(), rel=1e-12)


def test_published_slope_is_a_discrete_gradient_with_the_published_cancellation():
    """slope="published" (DGNet's own formula): in float64 it is the same discrete gradient to
    rounding; in float32 its error against an mpmath chord is the cancellation ~eps32 / |a - b|."""
    import mpmath

    torch.manual_seed(0)
    exact, published = dd.energy_mlp(4, 32, 2, "tanh"), dd.energy_mlp(4, 32, 2, "tanh", slope="published")
    published.load_state_dict(exact.state_dict())
    u = torch.randn(64, 4, dtype=torch.float64)
    v = u + 0.1 * torch.randn(64, 4, dtype=torch.float64)
    g = published.double().discrete_gradient(u, v)
    h = published(u).squeeze(-1) - published(v).squeeze(-1)
    assert torch.allclose((g * (u - v)).sum(-1), h, rtol=0, atol=1e-14)
    assert torch.allclose(g, exact.double().discrete_gradient(u, v), rtol=0, atol=1e-12)
    # the midpoint fallback at u = v: the gradient
    assert torch.allclose(published.discrete_gradient(u, u), autograd_gradient(published, u), rtol=1e-13, atol=1e-15)
    # float32 slopes of one layer against 40-digit chords
    layer = dd.Elementwise("tanh", slope="published")
    a = torch.linspace(-2, 2, 201, dtype=torch.float32)
    b = a + 1e-3
    mpmath.mp.dps = 40
    ref = np.array(
        [
            float((mpmath.tanh(x) - mpmath.tanh(y)) / (mpmath.mpf(x) - mpmath.mpf(y)))
            for x, y in zip(a.tolist(), b.tolist())
        ]
    )
    err = np.abs(layer.chord(torch.ones_like(a), a, b).numpy() - ref)
    eps32 = np.finfo(np.float32).eps
    assert err.max() < 4 * eps32 / 1e-3 and err.max() > 10 * eps32  # cancellation, not a rounding of the slope
    with pytest.raises(ValueError, match="slope must be one of"):
        dd.Elementwise("tanh", slope="naive")

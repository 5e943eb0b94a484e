import numpy as np
import pytest
import sympy as sp
import torch

from randfield.activations import (
    Activation,
    available_activations,
    from_sympy,
    from_torch,
    get_activation,
    register_activation,
)

X_POINTS = np.array([-3.1, -1.7, -0.6, -0.2, 0.15, 0.55, 0.9, 1.4, 2.6])  # away from every kink
NAMES = [n for n in available_activations()]


@pytest.mark.parametrize("name", NAMES)
def test_hand_written_derivatives_match_sympy(name):
    act = get_activation(name)
    x = act.symbol
    for k, impl in enumerate((act.phi, act.dphi, act.d2phi)):
        expr = sp.diff(act.expr, x, k)
        want = np.array([float(expr.subs(x, v).evalf(30)) for v in X_POINTS])
        np.testing.assert_allclose(impl(X_POINTS), want, rtol=1e-13, atol=1e-14, err_msg=f"{name} derivative {k}")


@pytest.mark.parametrize("name", NAMES)
def test_torch_and_numpy_agree_and_derivatives_match_autograd(name):
    act = get_activation(name)
    x = torch.tensor(X_POINTS, dtype=torch.float64, requires_grad=True)
    y = act.phi(x)
    assert y.dtype == torch.float64
    np.testing.assert_allclose(y.detach().numpy(), act.phi(X_POINTS), rtol=1e-14, atol=1e-15)
    (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), act.dphi(X_POINTS), rtol=1e-12, atol=1e-14)
    # piecewise-linear activations have a constant first derivative: no graph, phi'' = 0
    h = torch.autograd.grad(g.sum(), x)[0] if g.requires_grad else torch.zeros_like(g)
    np.testing.assert_allclose(h.numpy(), act.d2phi(X_POINTS), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(act.dphi(x.detach()).numpy(), act.dphi(X_POINTS), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_float32_tensors_keep_their_dtype(name):
    x = torch.linspace(-2, 2, 5, dtype=torch.float32)
    act = get_activation(name)
    for fn in (act.phi, act.dphi, act.d2phi):
        assert fn(x).dtype == torch.float32 and fn(x).shape == x.shape


def test_unknown_activation_lists_the_known_ones():
    with pytest.raises(ValueError, match="known activations: .*tanh"):
        get_activation("tanhh")


def test_parameterised_names_parse():
    a = get_activation("leaky_relu(alpha=0.2)")
    b = get_activation("leaky_relu", alpha=0.2)
    c = get_activation("leaky_relu(0.2)")
    assert a.name == b.name == c.name == "leaky_relu(alpha=0.2)"
    np.testing.assert_allclose(a.phi(np.array([-1.0, 2.0])), [-0.2, 2.0])
    with pytest.raises(ValueError, match="bad parameters"):
        get_activation("tanh(alpha=1)")
    with pytest.raises(ValueError, match="alpha must be finite"):
        get_activation("elu", alpha=float("nan"))


def test_custom_activation_from_sympy_gets_sympy_derivatives():
    x = sp.Symbol("x")
    act = from_sympy("softsign_test", x / (1 + sp.Abs(x)), kinks=(0.0,))
    pts = np.array([-2.0, -0.5, 0.5, 2.0])
    np.testing.assert_allclose(act.dphi(pts), 1 / (1 + np.abs(pts)) ** 2, rtol=1e-15)
    np.testing.assert_allclose(act.d2phi(pts), -2 * np.sign(pts) / (1 + np.abs(pts)) ** 3, rtol=1e-15)
    t = act.dphi(torch.tensor(pts))
    assert isinstance(t, torch.Tensor)
    np.testing.assert_allclose(t.numpy(), 1 / (1 + np.abs(pts)) ** 2, rtol=1e-15)


def test_custom_activation_from_torch_gets_autograd_derivatives():
    act = from_torch("cube_tanh", lambda t: torch.tanh(t) ** 3)
    pts = np.array([-1.0, 0.3, 2.0])
    th = np.tanh(pts)
    np.testing.assert_allclose(act.dphi(pts), 3 * th**2 * (1 - th**2), rtol=1e-14)
    np.testing.assert_allclose(act.d2phi(pts), 6 * th * (1 - th**2) ** 2 - 6 * th**3 * (1 - th**2), rtol=1e-13)


def test_registering_is_one_call_and_refuses_silent_overwrite():
    x = sp.Symbol("x")
    register_activation("square_test", lambda: from_sympy("square_test", x**2))
    assert "square_test" in available_activations()
    assert isinstance(get_activation("square_test"), Activation)
    with pytest.raises(ValueError, match="already registered"):
        register_activation("square_test", lambda: from_sympy("square_test", x**2))

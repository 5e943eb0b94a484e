"""Gradients through integrators (randfield.continuous.odeint) against independent truths: the matrix
exponential's Frechet derivative for a linear ODE, central finite differences for an MLP field, exact
agreement of the discrete-scheme modes with backprop, and torchdiffeq's odeint_adjoint when installed."""

import numpy as np
import pytest
import scipy.linalg as sl
import torch
from torch import nn

from randfield.continuous import available_gradients, odeint
from randfield.dynamics.integrators import StepSizeError


class Linear(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.a = nn.Parameter(a.clone())

    def vector_field(self, z):
        return z @ self.a.T


class MLPField(nn.Module):
    def __init__(self, d=3, width=16, dtype=torch.float64, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Linear(d, width), nn.Tanh(), nn.Linear(width, d)).to(dtype)

    def vector_field(self, z):
        return self.net(z)


class Oscillator(nn.Module):
    """H = p^2 / 2 + V(q), V(q) = k q^2 / 2 + c q^4 / 4 with learnable k, c: separable, for leapfrog."""

    def __init__(self):
        super().__init__()
        self.k = nn.Parameter(torch.tensor(1.3, dtype=torch.float64))
        self.c = nn.Parameter(torch.tensor(0.4, dtype=torch.float64))

    def velocity(self, p):
        return p

    def force(self, q):
        return -(self.k * q + self.c * q**3)

    def vector_field(self, u):
        q, p = u.chunk(2, -1)
        return torch.cat([self.velocity(p), self.force(q)], -1)


def _linear_truth(a, z0, t_end):
    """L = |z(T)|^2 / 2 with z(T) = z0 expm(A T)^T: dL/dz0 = z(T) expm(A T), dL/dA = T Frechet(A^T T, z(T)^T z0)."""
    e = sl.expm(a * t_end)
    z_end = z0 @ e.T
    return z_end @ e, t_end * sl.expm_frechet(a.T * t_end, z_end.T @ z0, compute_expm=False)


def _grads(field, z0, t, method, gradient, **kw):
    z = z0.clone().requires_grad_(True)
    ys, stats = odeint(field, z, t, method, gradient=gradient, return_stats=True, **kw)
    loss = 0.5 * (ys[-1] ** 2).sum() + 0.3 * (ys[1] ** 2).sum()  # a loss at an intermediate time too
    loss.backward()
    return z.grad, [p.grad.clone() for p in field.parameters()], stats


@pytest.mark.parametrize("gradient", ["adjoint", "checkpoint", "symplectic", "backprop"])
def test_linear_ode_gradients_match_the_matrix_exponential(gradient):
    rng = np.random.default_rng(0)
    a, z0 = 0.5 * rng.standard_normal((4, 4)), rng.standard_normal((3, 4))
    gz, ga = _linear_truth(a, z0, 1.0)
    field = Linear(torch.tensor(a))
    z = torch.tensor(z0, requires_grad=True)
    ys = odeint(field, z, [0.0, 1.0], "dopri5", gradient=gradient, rtol=1e-10, atol=1e-12)
    (0.5 * (ys[-1] ** 2).sum()).backward()
    assert np.abs(z.grad.numpy() - gz).max() <= 1e-7 * np.abs(gz).max()
    assert np.abs(field.a.grad.numpy() - ga).max() <= 1e-7 * np.abs(ga).max()


@pytest.mark.parametrize(
    "method, kw", [("rk4", {"substeps": 40}), ("dopri5", {"rtol": 1e-6, "atol": 1e-8}), ("euler", {"substeps": 30})]
)
@pytest.mark.parametrize("gradient", ["checkpoint", "symplectic"])
def test_discrete_modes_equal_backprop_to_rounding(gradient, method, kw):
    z0 = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    t = [0.0, 0.4, 1.0]
    ref = _grads(MLPField(), z0, t, method, "backprop", **kw)
    got = _grads(MLPField(), z0, t, method, gradient, **kw)
    for r, g in zip([ref[0], *ref[1]], [got[0], *got[1]]):
        assert (g - r).abs().max() <= 1e-10 * r.abs().max()
    assert got[2].nfe_backward > 0 and ref[2].nfe_backward == 0


def test_reversible_leapfrog_equals_backprop_with_constant_memory():
    u0 = torch.tensor([[1.0, 0.0], [0.3, -0.5]], dtype=torch.float64)
    t = [0.0, 2.0, 5.0]
    ref = _grads(Oscillator(), u0, t, "leapfrog", "backprop", substeps=200)
    got = _grads(Oscillator(), u0, t, "leapfrog", "reversible", substeps=200)
    for r, g in zip([ref[0], *ref[1]], [got[0], *got[1]]):
        assert (g - r).abs().max() <= 1e-10 * r.abs().max()
    with pytest.raises(ValueError, match="reversible"):
        odeint(MLPField(), torch.zeros(1, 3, dtype=torch.float64), [0.0, 1.0], "rk4", gradient="reversible")


def test_adjoint_matches_central_finite_differences_of_an_mlp_field():
    field = MLPField(seed=2)
    z0 = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    t = [0.0, 0.5, 1.0]
    opts = dict(rtol=1e-11, atol=1e-13)
    _, grads, stats = _grads(field, z0, t, "dopri5", "adjoint", **opts)
    w = field.net[0].weight
    eps = 1e-6
    for idx in [(0, 0), (3, 1), (7, 2)]:
        vals = []
        for sign in (1, -1):
            with torch.no_grad():
                w[idx] += sign * eps
                ys = odeint(field, z0, t, "dopri5", **opts)
                vals.append(float(0.5 * (ys[-1] ** 2).sum() + 0.3 * (ys[1] ** 2).sum()))
                w[idx] -= sign * eps
        fd = (vals[0] - vals[1]) / (2 * eps)
        assert grads[0][idx].item() == pytest.approx(fd, rel=1e-6, abs=1e-9)
    assert stats.nfe_forward > 0 and stats.nfe_backward > 0 and stats.steps_accepted > 0


def test_adjoint_backward_tolerances_are_separately_settable():
    z0 = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    loose = _grads(MLPField(), z0, [0.0, 1.0], "dopri5", "adjoint", rtol=1e-9, atol=1e-11,
                   gradient_options={"rtol": 1e-3, "atol": 1e-5})  # fmt: skip
    tight = _grads(MLPField(), z0, [0.0, 1.0], "dopri5", "adjoint", rtol=1e-9, atol=1e-11)
    assert loose[2].nfe_backward < tight[2].nfe_backward
    assert loose[2].nfe_forward == tight[2].nfe_forward


def test_float32_batched():
    field = MLPField(dtype=torch.float32)
    z0 = torch.randn(64, 3)
    for gradient in ("adjoint", "checkpoint", "symplectic"):
        gz, gp, _ = _grads(field, z0, [0.0, 1.0], "rk4", gradient, substeps=10)
        assert gz.dtype == torch.float32 and gz.shape == z0.shape and all(torch.isfinite(g).all() for g in gp)
        field.zero_grad()


def test_torchdiffeq_odeint_adjoint_agrees():
    torchdiffeq = pytest.importorskip("torchdiffeq")
    field = MLPField(seed=4)
    z0 = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    gz, gp, _ = _grads(field, z0, [0.0, 0.5, 1.0], "dopri5", "adjoint", rtol=1e-10, atol=1e-12)
    field.zero_grad()

    class F(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, t, z):
            return self.inner.vector_field(z)

    z = z0.clone().requires_grad_(True)
    t = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    ys = torchdiffeq.odeint_adjoint(F(field), z, t, rtol=1e-10, atol=1e-12, method="dopri5")
    (0.5 * (ys[-1] ** 2).sum() + 0.3 * (ys[1] ** 2).sum()).backward()
    assert (z.grad - gz).abs().max() <= 1e-7 * gz.abs().max()
    for p, g in zip(field.parameters(), gp):
        assert (p.grad - g).abs().max() <= 1e-7 * g.abs().max()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"gradient": "magic"}, "gradient must be one of adjoint, backprop, checkpoint, reversible, symplectic"),
        ({"t": [0.0, 1.0, 1.0]}, "strictly increasing"),
        ({"t": [1.0, 0.0]}, "strictly increasing"),
        ({"rtol": 0.0}, "rtol > 0"),
        ({"rtol": float("nan")}, "rtol > 0"),
        ({"method": "implicit_midpoint", "gradient": "symplectic"}, "explicit Runge-Kutta"),
        ({"gradient": "checkpoint", "gradient_options": {"segments": 0}}, "segments must be a positive integer"),
    ],
)
def test_bad_input_is_one_clear_error(kwargs, message):
    args = {"t": [0.0, 1.0], "method": "dopri5"} | kwargs
    with pytest.raises(ValueError, match=message):
        odeint(MLPField(), torch.zeros(2, 3, dtype=torch.float64), args.pop("t"), args.pop("method"), **args)


def test_adjoint_through_leapfrog_points_to_the_reversible_mode():
    with pytest.raises(ValueError, match="use gradient='reversible'"):
        odeint(Oscillator(), torch.zeros(2, 2, dtype=torch.float64), [0.0, 1.0], "leapfrog", gradient="adjoint")


def test_step_budget_says_which_time_was_reached():
    with pytest.raises(StepSizeError, match=r"reached t = "):
        odeint(MLPField(), torch.ones(2, 3, dtype=torch.float64), [0.0, 10.0], "dopri5", max_steps=3, rtol=1e-12)
    assert "symplectic" in available_gradients()

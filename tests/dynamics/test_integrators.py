"""Integrators against exact solutions: measured orders, long-time energy behaviour, error paths."""

import math

import numpy as np
import pytest
import torch
from scipy.linalg import expm
from scipy.stats import linregress

from randfield.dynamics import get_model, integrate
from randfield.dynamics.integrators import (
    ConvergenceError,
    NewtonSolver,
    StepSizeError,
    available_integrators,
    newton_solve,
)


class Oscillator:
    """u = (q, p), H = (q^2 + p^2) / 2: separable and linear, so exp(tA) is the truth."""

    A = np.array([[0.0, 1.0], [-1.0, 0.0]])

    def vector_field(self, u):
        q, p = u.chunk(2, -1)
        return torch.cat([p, -q], -1)

    def velocity(self, p):
        return p

    def force(self, q):
        return -q

    def structure(self, g):
        return self.vector_field(g)

    def discrete_gradient(self, u, v):  # the chord of a quadratic: (u + v) / 2
        return (u + v) / 2


class Damped:
    """A non-normal linear system u' = A u (tests methods that only need vector_field)."""

    A = np.array([[-0.3, 2.0, 0.1], [-1.5, -0.2, 0.4], [0.2, -0.5, -0.1]])

    def vector_field(self, u):
        return u @ torch.as_tensor(self.A).T


@pytest.mark.parametrize(
    "method, order, system",
    [
        ("euler", 1, Damped()),
        ("rk2", 2, Damped()),
        ("rk4", 4, Damped()),
        ("implicit_midpoint", 2, Damped()),
        ("leapfrog", 2, Oscillator()),
        ("dg", 2, Oscillator()),
    ],
)
def test_measured_order_of_convergence(method, order, system):
    u0 = torch.tensor([[1.0, 0.5, -0.3][: system.A.shape[0]]])
    truth = expm(2.0 * system.A) @ u0[0].numpy()
    steps = np.array([16, 32, 64, 128, 256])
    errors = []
    for n in steps:
        out = integrate(system, u0, [0.0, 2.0], method, substeps=int(n))
        errors.append(np.abs(out[-1, 0].numpy() - truth).max())
    slope = -linregress(np.log(steps), np.log(errors)).slope
    assert abs(slope - order) < 0.15, (method, slope, errors)


def test_dopri5_meets_tolerance_and_lands_on_output_times():
    system, u0 = Damped(), torch.tensor([[1.0, 0.5, -0.3]])
    t = np.linspace(0, 5, 11)
    truth = np.stack([expm(s * system.A) @ u0[0].numpy() for s in t])
    errs = []
    for tol in (1e-6, 1e-9, 1e-12):
        out = integrate(system, u0, t, "dopri5", rtol=tol, atol=tol)
        errs.append(np.abs(out[:, 0].numpy() - truth).max())
    assert errs[0] < 1e-4 and errs[1] < 1e-7 and errs[2] < 1e-10
    assert errs[0] > errs[1] > errs[2]


def test_dopri5_raises_on_blow_up_instead_of_hanging():
    with pytest.raises(StepSizeError):
        integrate(lambda u: u * u, torch.ones(1, 1), [0.0, 2.0], "dopri5", max_steps=2000)


def test_symplectic_energy_error_is_bounded_while_rk4_drifts():
    system, u0, dt, n = Oscillator(), torch.tensor([[1.0, 0.0]]), 0.5, 10_000
    t = np.arange(n + 1) * dt

    def energy_error(method):
        out = integrate(system, u0, t, method)[:, 0]
        return ((out**2).sum(-1) / 2 - 0.5).abs().numpy()

    for method in ("leapfrog", "implicit_midpoint"):
        err = energy_error(method)
        # bounded oscillation (leapfrog ~ dt^2/8) and no growth from the first to the last tenth
        assert err.max() < dt**2 / 4
        assert err[-n // 10 :].max() < 1.2 * err[: n // 10].max() + 1e-12
    err = energy_error("rk4")
    # RK4 multiplies the energy by |R(i dt)|^2 = 1 - dt^6/72 + dt^8/576 every step (R its stability
    # polynomial): a secular drift, 4x larger at the end than after the first tenth.
    z = 1j * dt
    decay = abs(1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24) ** 2
    for k in (n // 10, n):
        assert err[k] == pytest.approx(0.5 * (1 - decay**k), rel=1e-9)
    assert err[-1] > 4 * err[n // 10]


def test_discrete_gradient_step_conserves_learnt_energy_to_rounding():
    torch.manual_seed(0)
    model = get_model("dgnet", 4, hidden=32)
    u0 = torch.randn(6, 4)
    with torch.no_grad():
        out = model.rollout(u0, np.arange(101) * 0.2, "dg")
        h = model.energy(out.reshape(-1, 4)).reshape(101, 6)
    drift = (h - h[0]).abs().max() / h.abs().max()
    assert drift < 1e-12
    # and RK2 does not: the test would catch a DG step that silently fell back to an explicit one
    with torch.no_grad():
        out = model.rollout(u0, np.arange(101) * 0.2, "rk2")
        h2 = model.energy(out.reshape(-1, 4)).reshape(101, 6)
    assert (h2 - h2[0]).abs().max() / h2.abs().max() > 1e-8


def test_dissipative_discrete_gradient_step_never_increases_energy():
    torch.manual_seed(1)
    model = get_model("hnn", 4, hidden=32, friction=True)
    with torch.no_grad():
        model.G.rho.fill_(0.0)  # friction softplus(0) = 0.69
        out = model.rollout(torch.randn(5, 4), np.arange(51) * 0.2, "dg")
        h = model.energy(out.reshape(-1, 4)).reshape(51, 5)
    assert (h[1:] - h[:-1]).max() <= 1e-12 * h.abs().max()
    assert (h[-1] < h[0] - 1e-3).all()


def test_newton_solves_a_batch_of_nonlinear_equations():
    c = torch.tensor([[0.5], [2.0], [10.0]])
    x = newton_solve(lambda x, c: x**3 + x - c, torch.zeros(3, 1), c)
    assert torch.allclose(x**3 + x, c, atol=1e-12, rtol=0)


def test_broyden_update_satisfies_the_secant_equation():
    from randfield.dynamics.integrators.newton import _broyden_update

    gen = torch.Generator().manual_seed(0)
    inverse, s, y = (
        torch.randn(4, 3, 3, generator=gen),
        torch.randn(4, 3, generator=gen),
        torch.randn(4, 3, generator=gen),
    )
    s[0] = 0.0  # a converged sample: no update
    new = _broyden_update(inverse, s, y)
    torch.testing.assert_close((new @ y.unsqueeze(-1)).squeeze(-1)[1:], s[1:], rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(new[0], inverse[0], rtol=0, atol=0)
    # and with a kept quasi-Newton matrix a rollout's solves still converge to the same answer as fresh Newton
    from randfield.dynamics.integrators.newton import NewtonSolver

    c = torch.linspace(-2, 2, 5).unsqueeze(-1)
    solver = NewtonSolver(rtol=1e-13, atol=1e-13)
    for shift in torch.linspace(0, 1, 6):
        x = solver.solve(lambda x, c: x**3 + x - c - shift, torch.zeros(5, 1), c)
        torch.testing.assert_close(x**3 + x, c + shift, rtol=0, atol=1e-12)


def test_finite_difference_jacobian_blocks_match_the_hand_derivative():
    from randfield.dynamics.integrators.newton import _forward_difference_jacobian

    gen = torch.Generator().manual_seed(0)
    a = torch.randn(4, 3, 3, generator=gen, dtype=torch.float64)
    x, c = (torch.randn(4, 3, generator=gen, dtype=torch.float64) for _ in range(2))

    def residual(x, c):  # rows independent (row k belongs to sample k // (len(x) // 4)), per-row context
        rows = a.repeat_interleave(len(x) // 4, 0)
        return torch.tanh((rows @ x.unsqueeze(-1)).squeeze(-1) * c) + x**3

    jac = _forward_difference_jacobian(residual, x, residual(x, c), x.shape, (c,))
    z = (a @ x.unsqueeze(-1)).squeeze(-1) * c  # by hand: J_i = diag(c_i sech^2 z_i) A_i + 3 diag(x_i^2)
    truth = (c / torch.cosh(z) ** 2).unsqueeze(-1) * a + torch.diag_embed(3 * x**2)
    # forward differences: truncation h/2 max|d^2 F_i / dx_j^2| (|tanh''| <= 4 / 3^1.5, and 6 |x_j| + 6 h
    # from x^3) plus rounding ~4 eps max|F| / h, with h_j = sqrt(eps) max(|x_j|, 1)
    eps = torch.finfo(torch.float64).eps
    h = (eps**0.5 * x.abs().clamp_min(1.0)).unsqueeze(1)  # (n, 1, j)
    second = 4 / 3**1.5 * (c.unsqueeze(-1) * a) ** 2 + torch.diag_embed(6 * x.abs() + 6 * h.squeeze(1))
    bound = h / 2 * second + 4 * eps * residual(x, c).abs().amax().clamp_min(1.0) / h
    assert bool(((jac - truth).abs() <= bound).all())
    assert float((jac - truth).abs().max()) > 1e-12  # they are differences, not the exact Jacobian


@pytest.mark.parametrize("method", ["finite_difference", "autodiff"])
def test_newton_converges_with_either_jacobian(method):
    c = torch.linspace(-5, 5, 10, dtype=torch.float64).reshape(5, 2)
    solver = NewtonSolver(rtol=1e-14, atol=1e-14, jacobian=method)
    for shift in (0.0, 0.5):  # the second solve starts from the kept (or a fresh) Jacobian
        x = solver.solve(lambda x, c: x**3 + x - c - shift, torch.zeros(5, 2, dtype=torch.float64), c)
        torch.testing.assert_close(x**3 + x, c + shift, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="jacobian must be one of"):
        NewtonSolver(jacobian="secant").solve(lambda x: x, torch.zeros(1, 1))


def test_newton_reports_non_convergence():
    with pytest.raises(ConvergenceError, match="max_iter=2"):
        newton_solve(lambda x: torch.atan(x), torch.full((1, 1), 3.0), max_iter=2)


def test_bad_input_gets_clear_errors():
    with pytest.raises(ValueError, match="unknown integrator 'rk5'.*rk4"):
        integrate(Damped(), torch.ones(1, 3), [0, 1], "rk5")
    with pytest.raises(TypeError, match="leapfrog.*SeparableSystem"):
        integrate(Damped(), torch.ones(1, 3), [0, 1], "leapfrog")
    with pytest.raises(TypeError, match="DiscreteGradientSystem"):
        integrate(Damped(), torch.ones(1, 3), [0, 1], "dg")
    with pytest.raises(ValueError, match="NaN"):
        integrate(Damped(), torch.full((1, 3), math.nan), [0, 1], "rk4")
    with pytest.raises(ValueError, match="increasing"):
        integrate(Damped(), torch.ones(1, 3), [1, 0], "rk4")
    with pytest.raises(ValueError, match="substeps"):
        integrate(Damped(), torch.ones(1, 3), [0, 1], "rk4", substeps=0)
    assert {"euler", "rk2", "rk4", "dopri5", "leapfrog", "implicit_midpoint", "dg"} <= set(available_integrators())


def test_explicit_rollouts_are_differentiable():
    w = torch.tensor(1.3, requires_grad=True)
    out = integrate(lambda u: -w * u, torch.ones(1, 1), [0.0, 1.0], "rk4", substeps=50)
    (g,) = torch.autograd.grad(out[-1].sum(), w)
    assert g.item() == pytest.approx(-math.exp(-1.3), rel=1e-6)  # d/dw exp(-w) at t = 1


def test_extrapolating_predictor_is_exact_on_polynomial_paths_and_saves_vector_field_calls():
    """The "extrapolate" Newton start: the quadratic through the rollout's last three states, so
    exact for a path quadratic in t (u_t = const + t); it changes the cost of a DG rollout (no
    RK2 guess after the first steps), not its answer."""
    import numpy as np

    from randfield.dynamics import get_model
    from randfield.dynamics.integrators import get_integrator, integrate

    step = get_integrator("implicit_midpoint", predictor="extrapolate")
    path = [torch.tensor([[1.0 + 0.3 * n - 0.2 * n**2]], dtype=torch.float64) for n in range(3)]
    guess = step._guess(None, path[-1], 0.1, path)
    torch.testing.assert_close(guess, torch.tensor([[1.0 + 0.9 - 1.8]], dtype=torch.float64), rtol=0, atol=1e-15)

    torch.manual_seed(0)
    model = get_model("dgnet", 2).double()
    calls = {"n": 0}
    vector_field = model.vector_field

    def counted(u):
        calls["n"] += 1
        return vector_field(u)

    model.vector_field = counted
    u0 = torch.tensor([[0.5, -0.3], [0.1, 0.9]], dtype=torch.float64)
    t = np.arange(41) * 0.2
    out = {}
    for predictor in ("rk2", "extrapolate"):
        calls["n"] = 0
        out[predictor] = integrate(model, u0, t, "dg", predictor=predictor, rtol=1e-13, atol=1e-13)
        out[predictor + " calls"] = calls["n"]
    torch.testing.assert_close(out["extrapolate"], out["rk2"], rtol=0, atol=1e-12)
    assert out["rk2 calls"] == 2 * 40 and out["extrapolate calls"] == 2 * 2  # RK2 guesses until 3 states
    with pytest.raises(ValueError, match="predictor must be one of"):
        get_integrator("dg", predictor="euler")

"""PDE systems, stencil structures and conv models: identities of the discretisation, conservation
and dissipation of the DVDM scheme, and the structure constraints holding by construction."""

import numpy as np
import pytest
import torch

from randfield.dynamics import data, fit, get_model
from randfield.dynamics.structure import StencilStructure, _circular_conv


def dense(op, shape):
    """The matrix of a linear map on (batch, *shape) tensors."""
    size = int(np.prod(shape))
    basis = torch.eye(size).reshape(size, *shape)
    return op(basis).reshape(size, size).T.detach()


@pytest.mark.parametrize("name", ["kdv", "cahn_hilliard", "cahn_hilliard_2d"])
def test_discrete_variational_derivative_is_a_discrete_gradient_of_the_energy(name):
    system = data.get_system(name)
    rng = np.random.default_rng(0)
    u, v = (torch.as_tensor(system.sample_initial(rng, 3)) for _ in range(2))
    v = v + 0.3 * torch.as_tensor(rng.standard_normal(v.shape))
    cell = system.dx**system.ndim
    dvd = system.discrete_variational_derivative(u, v)
    lhs = system.energy(u) - system.energy(v)
    assert torch.allclose((dvd * (u - v)).flatten(1).sum(1) * cell, lhs, rtol=1e-12, atol=1e-14)
    x = u.clone().requires_grad_()
    (grad,) = torch.autograd.grad(system.energy(x).sum(), x)
    assert torch.allclose(system.discrete_variational_derivative(u, u), grad / cell, rtol=1e-12, atol=1e-12)
    assert torch.allclose(system.variational_derivative(u), grad / cell, rtol=1e-12, atol=1e-12)


def test_kdv_dvdm_conserves_energy_and_mass_and_converges_to_the_reference_at_order_2():
    system = data.get_system("kdv")
    u0 = system.sample_initial(np.random.default_rng(1), 2)
    t = np.arange(101) * system.dt
    traj = system.dvdm(u0, t)
    h, m = system.hamiltonian(traj), system.mass(traj)
    assert np.abs(h - h[:, :1]).max() < 1e-11 * np.abs(h).max()
    assert np.abs(m - m[:, :1]).max() < 1e-12 * np.abs(m).max()
    # DVDM is second order in time: at T = 0.01, the error against the reference falls 4x per halving
    errors = []
    for k in (1, 2, 4):
        t_k = np.arange(10 * k + 1) * system.dt / k
        ref = system.reference(u0, t_k[[0, -1]])[:, -1]
        errors.append(np.abs(system.dvdm(u0, t_k)[:, -1] - ref).max())
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(rates - 2) < 0.15), (errors, rates)


@pytest.mark.parametrize("name, steps", [("cahn_hilliard", 100), ("cahn_hilliard_2d", 3)])
def test_cahn_hilliard_dvdm_dissipates_energy_and_conserves_mass(name, steps):
    system = data.get_system(name)
    u0 = system.sample_initial(np.random.default_rng(2), 2)
    traj = system.dvdm(u0, np.arange(steps + 1) * system.dt)
    h, m = system.hamiltonian(traj), system.mass(traj)
    assert np.all(np.diff(h, axis=1) <= 1e-15)
    assert np.all(h[:, -1] < h[:, 0])
    assert np.abs(m - m[:, :1]).max() < 1e-15


def test_cahn_hilliard_sparse_jacobian_matches_autograd():
    system = data.get_system("cahn_hilliard")
    u = system.sample_initial(np.random.default_rng(3), 1)[0] * 10
    exact = torch.func.jacrev(lambda x: system.vector_field(x[None])[0])(torch.as_tensor(u))
    assert np.allclose(system._jacobian(u).toarray(), exact.numpy(), rtol=1e-10, atol=1e-6)


@pytest.mark.parametrize(
    "kind, ndim",
    [("difference", 1), ("laplacian", 1), ("laplacian", 2), ("skew", 1), ("dissipative", 1), ("dissipative", 2)],
)
def test_stencil_structures_have_their_properties_by_construction(kind, ndim):
    torch.manual_seed(0)
    structure = StencilStructure(kind, ndim, spacing=0.1, radius=2)
    shape = (7,) * ndim
    g = dense(structure, shape)
    ones = torch.ones(g.shape[0])
    if kind in ("difference", "skew"):
        assert torch.allclose(g, -g.T, atol=1e-12)
    else:
        assert torch.allclose(g, g.T, atol=1e-10)
        assert torch.linalg.eigvalsh(g).max() <= 1e-10 * g.abs().max()
    assert torch.allclose(ones @ g, torch.zeros_like(ones), atol=1e-10 * g.abs().max())  # mass: 1^T G = 0


def test_fixed_stencils_are_the_finite_difference_operators():
    dx, n = 0.5, 6
    x = torch.randn(3, n)
    d = StencilStructure("difference", 1, dx)(x)
    assert torch.allclose(d, (torch.roll(x, -1, 1) - torch.roll(x, 1, 1)) / (2 * dx))
    lap = StencilStructure("laplacian", 2, dx)(x.reshape(3, 2, 3).repeat(1, 2, 2))
    y = x.reshape(3, 2, 3).repeat(1, 2, 2)
    ref = sum(torch.roll(y, s, a) for s in (1, -1) for a in (1, 2)) - 4 * y
    assert torch.allclose(lap, ref / dx**2)


def test_transposed_circular_convolution_is_the_adjoint():
    torch.manual_seed(1)
    k = torch.randn(3, 2, 2)
    x, y = torch.randn(2, 5, 6), torch.randn(2, 3, 5, 6)
    assert torch.allclose((_circular_conv(x, k) * y).sum(), (x * _circular_conv(y, k, transpose=True)).sum())


@pytest.mark.parametrize("name", ["node", "hnn", "dgnet"])
def test_pde_models_fit_a_tiny_kdv_dataset(name):
    system = data.get_system("kdv")
    d = data.generate("kdv", 3, seed=0, n_points=21, t_end=0.02)
    torch.manual_seed(0)
    train_integrator = {"node": "rk2", "hnn": "rk2", "dgnet": "dg"}[name]
    model = get_model(name, system.dim, hidden=16, train_integrator=train_integrator, **system.model_options())
    windows = torch.as_tensor(d.windows(1))
    with torch.no_grad():
        before = float(model.loss(windows, d.dt))
    fit(model, d, steps=150, lr=1e-2, weight_decay=0.0, progress=False)
    with torch.no_grad():
        after = float(model.loss(windows, d.dt))
    # measured: ~8x for the energy models (G = D is given), ~2x for NODE, which must learn D itself
    assert after < before / (1.5 if name == "node" else 4), (before, after)


def test_learnt_structures_keep_energy_and_mass_laws_in_dgnet_rollouts():
    """With learnt G (dissipative: NSD, zero-sum) and any H_theta, the DG step never increases the
    learnt energy and conserves mass — to rounding, with no training at all."""
    system = data.get_system("cahn_hilliard")
    torch.manual_seed(0)
    model = get_model("dgnet", 50, hidden=8, grid=[50], structure={"kind": "dissipative", "spacing": system.dx})
    u0 = torch.as_tensor(system.sample_initial(np.random.default_rng(0), 2)) * 20
    with torch.no_grad():
        out = model.rollout(u0, np.arange(21) * system.dt, "dg")
        h = model.energy(out.reshape(-1, 50)).reshape(21, 2)
    mass = out.sum(-1)
    assert (h[1:] - h[:-1]).max() <= 1e-12 * h.abs().max()
    assert (mass - mass[0]).abs().max() < 1e-12

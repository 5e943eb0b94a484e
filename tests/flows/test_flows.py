"""Normalising flows (randfield.flows) against independent truths: a linear field's Gaussian pushforward
(matrix exponential), the Hutchinson estimator's mean over probes against the exact trace, planar-flow
log-determinants against torch.func Jacobians, and density normalisation on a grid."""

import math

import numpy as np
import pytest
import scipy.linalg as sl
import torch
from scipy.stats import multivariate_normal
from torch import nn
from torch.func import jacrev, vmap

from randfield.flows import CNF, DATASETS, TARGETS, PlanarFlow, sample_toy, target_log_density


class Linear(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.a = nn.Parameter(a.clone())

    def forward(self, z, t):
        return z @ self.a.T


@pytest.mark.parametrize("gradient", ["adjoint", "backprop"])
def test_linear_flow_is_the_gaussian_pushforward(gradient):
    a = torch.tensor([[0.3, -0.8], [0.5, -0.2]], dtype=torch.float64)
    flow = CNF(2, field=Linear(a), T=1.5, gradient=gradient, rtol=1e-11, atol=1e-13)
    x = torch.randn(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    e = sl.expm(a.numpy() * 1.5)
    truth = multivariate_normal(np.zeros(2), e @ e.T).logpdf(x.numpy())
    assert np.abs(flow.log_prob(x).detach().numpy() - truth).max() <= 1e-8
    s, log_q = flow.sample(5, return_log_prob=True, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert (log_q - flow.log_prob(s)).abs().max() <= 1e-8  # forward and backward agree to the tolerance


def test_hutchinson_is_unbiased():
    torch.manual_seed(0)
    exact = CNF(2, width=8, trace="exact", rtol=1e-9, atol=1e-11).double()
    hutch = CNF(2, field=exact.field, trace="hutchinson", probe="gaussian", rtol=1e-9, atol=1e-11)
    x = torch.tensor([[0.4, -1.1]], dtype=torch.float64)
    truth = exact.log_prob(x).detach().item()
    est = hutch.log_prob(x.repeat(2000, 1), generator=torch.Generator().manual_seed(2)).detach().numpy()
    assert abs(est.mean() - truth) < 3 * est.std(ddof=1) / math.sqrt(len(est))
    assert est.std() > 1e-3  # it is an estimate: single probes differ


def test_a_random_flows_density_integrates_to_one():
    torch.manual_seed(1)
    flow = CNF(2, width=16, rtol=1e-6, atol=1e-8).double()
    with torch.no_grad():  # a non-trivial random field: scale the weights up
        for p in flow.field.parameters():
            p.mul_(3.0)
    g = torch.linspace(-7, 7, 141, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    with torch.no_grad():
        mass = float(flow.log_prob(grid).exp().sum()) * float(g[1] - g[0]) ** 2
    assert mass == pytest.approx(1.0, abs=1e-2)


def test_planar_log_det_matches_the_jacobian():
    torch.manual_seed(0)
    flow = PlanarFlow(2, 4).double()
    with torch.no_grad():
        for p in flow.parameters():
            p.copy_(torch.randn_like(p))
    z = torch.randn(7, 2, dtype=torch.float64)
    _, logdet = flow(z)
    jac = vmap(jacrev(lambda v: flow(v[None])[0][0]))(z)
    torch.testing.assert_close(logdet, torch.linalg.slogdet(jac)[1], rtol=1e-10, atol=1e-10)


def test_gradients_flow_through_every_mode():
    torch.manual_seed(2)
    for gradient, trace in [("adjoint", "exact"), ("adjoint", "hutchinson"), ("backprop", "hutchinson")]:
        flow = CNF(2, width=8, trace=trace, gradient=gradient).double()
        x = torch.from_numpy(sample_toy("moons", 16, seed=0))
        (-flow.log_prob(x, generator=torch.Generator().manual_seed(0)).mean()).backward()
        assert all(torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0 for p in flow.field.parameters())


def test_data_and_bad_input():
    for name in DATASETS:
        a, b = sample_toy(name, 50, seed=3), sample_toy(name, 50, seed=3)
        assert a.shape == (50, 2) and np.array_equal(a, b) and np.isfinite(a).all()
    for name in TARGETS:
        assert torch.isfinite(target_log_density(name, torch.randn(10, 2))).all()
    with pytest.raises(ValueError, match="data must be one of moons"):
        sample_toy("swissroll", 10)
    flow = CNF(2, width=4)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        flow.log_prob(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="NaN"):
        flow.log_prob(torch.tensor([[float("nan"), 0.0]]))
    with pytest.raises(ValueError, match="width"):
        CNF(2, width=0)
    with pytest.raises(ValueError, match="K"):
        PlanarFlow(2, 0)

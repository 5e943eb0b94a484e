"""Finite-width simulation against the infinite-width theory, with error bars from independent networks."""

import numpy as np
import pytest
import torch

import randfield as rf
from randfield.montecarlo import DenseNetwork, empirical_ntk, monte_carlo_nngp, monte_carlo_ntk


@pytest.fixture
def x(rng):
    return rng.normal(size=(3, 8))


def test_empirical_nngp_agrees_within_three_standard_errors(x):
    mc = monte_carlo_nngp(x, None, "tanh", 2, 1.5, 0.05, width=1024, n_networks=32, seed=1, device="cpu")
    z = (mc.mean - rf.nngp(x, None, "tanh", 2, 1.5, 0.05)) / mc.stderr
    assert np.all(np.abs(z) < 3), z


def test_empirical_ntk_agrees_within_three_standard_errors(x):
    # one hidden layer: the empirical NTK is an unbiased average over neurons, so only noise remains
    mc = monte_carlo_ntk(x, None, "tanh", 1, 1.5, 0.05, width=2048, n_networks=16, seed=2, device="cpu")
    z = (mc.mean - rf.ntk(x, None, "tanh", 1, 1.5, 0.05)) / mc.stderr
    assert np.all(np.abs(z) < 3), z
    mc = monte_carlo_ntk(x, None, "relu", 2, 2.0, 0.1, width=2048, n_networks=12, seed=3, device="cpu")
    z = (mc.mean - rf.ntk(x, None, "relu", 2, 2.0, 0.1)) / mc.stderr
    assert np.all(np.abs(z) < 3), z


def test_ntk_fluctuations_shrink_like_one_over_sqrt_width(x):
    widths = np.array([128, 256, 512, 1024])
    theory = rf.ntk(x, None, "erf", 1, 1.2, 0.1)
    err = []
    for w in widths:
        mc = monte_carlo_ntk(x, None, "erf", 1, 1.2, 0.1, width=int(w), n_networks=24, seed=int(w), device="cpu")
        # spread of single networks around the theory: sqrt(n_networks) * stderr, Frobenius
        err.append(np.linalg.norm(mc.stderr) * np.sqrt(mc.n_networks) / np.linalg.norm(theory))
    slope = np.polyfit(np.log(widths), np.log(err), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.1)


def test_empirical_ntk_matches_the_hand_written_gradient_formula(x):
    torch.manual_seed(0)
    net = DenseNetwork(8, 64, 1, "tanh", 1.5, 0.05)
    xt = torch.as_tensor(x)
    theta = empirical_ntk(net, xt).numpy()
    # Theta = (sw^2/N) phi.phi' + sb^2 + (sw^2/N) sum_i v_i^2 phi'_i phi'_i' (sw^2 x.x'/d + sb^2)
    w, v = net.weights[0].detach(), net.weights[1].detach()[0]
    h = (np.sqrt(1.5) / np.sqrt(8)) * xt @ w.T + np.sqrt(0.05) * net.biases[0].detach()
    a, da = torch.tanh(h), 1 - torch.tanh(h) ** 2
    want = 1.5 / 64 * a @ a.T + 0.05 + 1.5 / 64 * (da * v**2) @ da.T * (1.5 * xt @ xt.T / 8 + 0.05)
    np.testing.assert_allclose(theta, want.numpy(), rtol=1e-12)

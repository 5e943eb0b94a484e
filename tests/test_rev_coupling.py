"""The RevNet coupling's infinite-width kernels (randfield.blocks.RevCoupling) against Monte-Carlo of wide
random RevNets built from randfield.continuous.blocks.RevBlock (fixed seeds, 3.5 standard errors)."""

import math

import numpy as np
import torch
from torch import nn

from randfield.blocks import Dense, Elementwise, RevCoupling, kernels, serial
from randfield.continuous.blocks import RevBlock
from randfield.montecarlo import empirical_ntk

SW, SB = 1.5, 0.1


class Lin(nn.Module):  # NTK parameterisation, as randfield.blocks.Dense
    def __init__(self, i, o, g):
        super().__init__()
        self.w = nn.Parameter(torch.randn(o, i, generator=g, dtype=torch.float64))
        self.b = nn.Parameter(torch.randn(o, generator=g, dtype=torch.float64))

    def forward(self, h):
        return math.sqrt(SW / self.w.shape[1]) * h @ self.w.T + math.sqrt(SB) * self.b


def _branch(n, g):
    return nn.Sequential(Lin(n, n, g), nn.Tanh(), Lin(n, n, g))


def _net(d, n, g, couplings, out=None):
    layers = [Lin(d, n, g)]
    layers += [RevBlock(_branch(n // 2, g), _branch(n // 2, g), dim=-1, memory_saving=False) for _ in range(couplings)]
    return nn.Sequential(*layers, *([Lin(n, out, g)] if out else []))


def test_rev_coupling_kernels_match_wide_random_revnets():
    branch = serial(Dense(SW, SB), Elementwise("tanh"), Dense(SW, SB))
    arch = serial(Dense(SW, SB), RevCoupling(branch, branch, 2))
    x = np.random.default_rng(0).standard_normal((3, 10))
    nngp, _ = kernels(x, None, arch)
    _, ntk = kernels(x, None, serial(arch, Dense(SW, SB)))
    g, xt = torch.Generator().manual_seed(0), torch.tensor(x)
    width, nets = 512, 64
    with torch.no_grad():
        ks = np.stack([(lambda y: (y @ y.T / width).numpy())(_net(10, width, g, 2)(xt)) for _ in range(nets)])
    assert np.all(np.abs(ks.mean(0) - nngp) < 3.5 * ks.std(0, ddof=1) / math.sqrt(nets))
    th = np.stack([empirical_ntk(_net(10, 256, g, 2, out=1), xt).detach().numpy() for _ in range(16)])
    assert np.all(np.abs(th.mean(0) - ntk) < 3.5 * th.std(0, ddof=1) / 4)


def test_linear_coupling_by_hand():
    # F = G = Dense(a, 0): K1 = (1 + a) K, K2 = K + a K1 = (1 + a + a^2) K, output (K1 + K2) / 2
    a = 0.7
    x = np.random.default_rng(1).standard_normal((4, 6))
    k0 = x @ x.T / 6
    nngp, ntk = kernels(x, None, RevCoupling(Dense(a), Dense(a)))
    np.testing.assert_allclose(nngp, (2 + 2 * a + a * a) / 2 * k0, rtol=1e-13)
    # NTK: Theta1 = a K (F's weights), Theta2 = a Theta1 + a K1 (G's weights see K1): average of both
    np.testing.assert_allclose(ntk, (a * k0 + a * a * k0 + a * (1 + a) * k0) / 2, rtol=1e-13)

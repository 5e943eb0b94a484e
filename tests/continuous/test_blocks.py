"""Continuous-depth blocks (randfield.continuous.blocks): each against the integrator step it is, the
RevNet coupling's exact inverse and memory-saving backward against plain autograd."""

import pytest
import torch
from torch import nn

from randfield.continuous import odeint
from randfield.continuous.blocks import ODEBlock, ResBlock, RevBlock, RKBlock, available_blocks
from randfield.dynamics.integrators import integrate


def _mlp(d=6, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, d)).double()


def test_res_and_rk_blocks_are_euler_and_rk4_steps():
    f = _mlp()
    x = torch.randn(4, 6, dtype=torch.float64)
    torch.testing.assert_close(ResBlock(f, h=0.3)(x), integrate(f, x, [0.0, 0.3], "euler")[-1], rtol=0, atol=0)
    rk = RKBlock(f, T=0.8, steps=5)(x)
    torch.testing.assert_close(rk, integrate(f, x, [0.0, 0.8], "rk4", substeps=5)[-1], rtol=0, atol=0)
    assert set(available_blocks()) >= {"res", "rk", "ode", "rev"}


def test_ode_block_solves_and_counts():
    f = _mlp(seed=1)
    x = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    block = ODEBlock(f, T=1.0, rtol=1e-9, atol=1e-11)
    y = block(x)
    (y**2).sum().backward()
    gx = x.grad.clone()
    ref = odeint(lambda u: f(u), x.detach(), [0.0, 1.0], "dopri5", rtol=1e-12, atol=1e-14)[-1]
    torch.testing.assert_close(y.detach(), ref, rtol=1e-7, atol=1e-9)
    x2 = x.detach().clone().requires_grad_(True)
    (ODEBlock(f, T=1.0, gradient="backprop", rtol=1e-9, atol=1e-11)(x2) ** 2).sum().backward()
    torch.testing.assert_close(gx, x2.grad, rtol=1e-6, atol=1e-9)  # adjoint vs backprop: the ODE's gradient
    assert block.stats.nfe_forward > 0 and block.stats.nfe_backward > 0
    with pytest.raises(ValueError, match="T"):
        ODEBlock(f, T=0.0)


def test_rev_block_inverse_and_memory_saving_backward():
    f, g = _mlp(3, 2), _mlp(3, 3)
    block = RevBlock(f, g, dim=-1)
    x = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)
    y = block(x)
    assert (block.inverse(y) - x).abs().max() < 1e-14
    (y**2).sum().backward()
    saved = [x.grad.clone()] + [p.grad.clone() for p in block.parameters()]
    block.zero_grad()
    x.grad = None
    block.memory_saving = False
    (block(x) ** 2).sum().backward()
    for a, b in zip(saved, [x.grad] + [p.grad for p in block.parameters()]):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-13)
    counts = {}
    for saving in (True, False):
        block.memory_saving = saving
        n = [0]
        with torch.autograd.graph.saved_tensors_hooks(lambda t: n.__setitem__(0, n[0] + t.numel()) or t, lambda t: t):
            block(x)
        counts[saving] = n[0]
    assert counts[True] == y.numel() < counts[False]  # only the output is kept
    with pytest.raises(ValueError, match="odd"):
        block(torch.zeros(2, 5, dtype=torch.float64))

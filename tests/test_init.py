import math

import numpy as np
import pytest
import torch

import randfield as rf
from randfield import init


def test_edge_of_chaos_lies_on_the_critical_line():
    rec = init.select("tanh", 200)
    assert rec.sigma_b2 == 0.05 and rec.sigma_w2 == pytest.approx(1.7609546396, abs=1e-9)
    assert rec.chi1 == pytest.approx(1.0, abs=1e-10) and math.isinf(rec.xi_c)
    he = init.select("relu", 30)
    assert (he.sigma_w2, he.sigma_b2, he.weights) == (2.0, 0.0, "gaussian")


def test_depth_scale_criterion_hits_its_target():
    rec = init.select("tanh", 120, criterion="depth_scale")
    assert rec.xi_c == pytest.approx(120 / 6, rel=1e-9)
    assert rec.trainable_depth == pytest.approx(120, rel=1e-9)
    assert rec.chi1 < 1  # the ordered side


def test_dynamical_isometry_uses_orthogonal_weights_at_small_q_star():
    rec = init.select("tanh", 100, criterion="dynamical_isometry")
    assert rec.weights == "orthogonal" and rec.q_star == pytest.approx(0.01, rel=1e-8)
    assert rec.chi1 == pytest.approx(1.0, abs=1e-10)
    with pytest.raises(ValueError, match="cannot achieve dynamical isometry"):
        init.select("relu", 100, criterion="dynamical_isometry")
    with pytest.raises(ValueError, match="criterion must be one of"):
        init.select("tanh", 100, criterion="lsuv")


def test_initialize_sets_the_variances_of_linear_and_conv_layers():
    g = torch.Generator().manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(400, 300), torch.nn.Tanh(), torch.nn.Conv2d(8, 16, 3), torch.nn.Linear(300, 5)
    )
    init.initialize_(model, "tanh", 1.7, 0.3, generator=g)
    for layer in (model[0], model[2]):
        w = layer.weight.detach().double()
        fan_in = w[0].numel()
        var, n = float(w.var()), w.numel()
        assert var == pytest.approx(1.7 / fan_in, rel=5 * math.sqrt(2 / n))
        assert float(layer.bias.detach().var()) == pytest.approx(0.3, rel=5 * math.sqrt(2 / layer.bias.numel()))
    init.initialize_(model, "tanh", 1.7, 0.3, weights="orthogonal", generator=g)
    w = model[0].weight.detach().double()  # (300, 400): orthonormal rows times sigma_w
    np.testing.assert_allclose((w @ w.T).numpy(), 1.7 * np.eye(300), atol=1e-5)
    with pytest.raises(ValueError, match="no nn.Linear"):
        init.initialize_(torch.nn.Tanh(), "tanh", 1.0, 0.0)


def test_check_reports_measured_statistics_against_theory():
    g = torch.Generator().manual_seed(1)
    width = 2048
    model = init.mlp("tanh", 8, width, 32, 2.5, 0.05, generator=g)
    x = torch.randn(32, 32, dtype=torch.float64, generator=g)
    report = init.check(model, x, "tanh", 2.5, 0.05)
    # hidden layers: averages over width * batch units; fluctuations ~ sqrt(2 / width) per network
    tol = 6 * math.sqrt(2 / width)
    np.testing.assert_allclose(report.q_measured[:-1], report.q_theory[:-1], rtol=tol)
    np.testing.assert_allclose(report.chi1_measured[:-1], report.chi1_theory[:-1], rtol=tol)


def test_trainability_is_decided_by_the_phase():
    # Schoenholz et al. 2017, measured: a 50-layer tanh MLP trains at the edge of chaos but not
    # deep in the ordered (xi_c ~ 1) or chaotic (xi_c ~ 3.6, 6 xi_c = 22 < 50) phases.
    # (Adam lr 5e-4: test loss 0.038-0.043 over 4 seeds at criticality.)
    ratio = {
        name: init.trainability("tanh", sw, 0.05, 50)
        for name, sw in (("ordered", 0.5), ("critical", float(rf.critical_sigma_w2("tanh", 0.05))), ("chaotic", 25.0))
    }
    assert ratio["critical"] < 0.2, ratio
    assert ratio["ordered"] > 10 * ratio["critical"], ratio  # gradients vanish: stuck near the mean
    assert ratio["chaotic"] > 10 * ratio["critical"], ratio  # inputs decorrelate: nothing to fit

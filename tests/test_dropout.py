"""Dropout mean field (randfield.dropout, blocks.Dropout) against Monte-Carlo of dropped-out random
nets and against the arc-cosine kernel computed by hand."""

import math

import numpy as np
import pytest

import randfield as rf
from randfield.blocks import Dense, Dropout, Elementwise, kernels, serial
from randfield.dropout import dropout_correlation_map, dropout_fixed_point, dropout_propagate
from randfield.montecarlo.dropout import dropout_correlations


def test_c_equal_one_is_no_fixed_point_and_xi_c_stays_finite():
    crit = float(rf.critical_sigma_w2("tanh", 0.05))  # xi_c is infinite there without dropout
    for rho in (0.8, 0.95, 0.99):
        assert dropout_correlation_map(1.0, "tanh", crit, 0.05, rho) < 1 - 1e-4
        fp = dropout_fixed_point("tanh", crit, 0.05, rho)
        assert 0 < fp.c < 1 and math.isfinite(fp.xi_c) and fp.xi_c > 0
        assert dropout_correlation_map(fp.c, "tanh", crit, 0.05, rho) == pytest.approx(fp.c, abs=1e-13)
    # less dropout, longer depth scale
    xis = [dropout_fixed_point("tanh", crit, 0.05, rho).xi_c for rho in (0.8, 0.95, 0.99)]
    assert xis[0] < xis[1] < xis[2]


def test_relu_dropout_length_map_in_closed_form():
    # relu: E[phi^2] = q / 2, so q* = sigma_b^2 / (1 - sigma_w^2 / (2 rho))
    fp = dropout_fixed_point("relu", 1.2, 0.1, 0.9)
    assert fp.q == pytest.approx(0.1 / (1 - 1.2 / 1.8), rel=1e-12)


@pytest.mark.parametrize("rho", [0.9, 0.99])
def test_maps_match_simulated_dropout_networks(rho):
    depth, width = 40, 1024
    qs, cs = dropout_propagate("tanh", 1.76, 0.05, rho, depth, c_input=0.5)
    q, c = dropout_correlations("tanh", 1.76, 0.05, rho, depth, width, n_networks=64, c_input=0.5, seed=0)
    n = len(c)
    for layer in (0, 5, 20, 39):
        assert abs(c[:, layer].mean() - cs[layer]) < 3 * c[:, layer].std(ddof=1) / math.sqrt(n)
        assert abs(q[:, layer].mean() - qs[layer]) < 3 * q[:, layer].std(ddof=1) / math.sqrt(n)
    fp = dropout_fixed_point("tanh", 1.76, 0.05, rho)
    assert cs[-1] == pytest.approx(fp.c, abs=2e-3 if rho < 0.95 else 2e-2)  # converging to c* at rate xi_c


def test_dropout_block_is_the_arc_cosine_kernel_with_scaled_diagonal(rng):
    # Dense(2, 0.1) -> relu -> Dropout(0.8) -> Dense(1.5, 0.2), computed by hand
    x = rng.normal(size=(5, 3))
    sw1, sb1, sw2, sb2, rho = 2.0, 0.1, 1.5, 0.2, 0.8
    k0 = x @ x.T / 3
    k1 = sw1 * k0 + sb1
    t1 = k1.copy()  # NTK after the first Dense: Theta = Sigma
    d = np.sqrt(np.diag(k1))
    cos = np.clip(k1 / np.outer(d, d), -1, 1)
    np.fill_diagonal(cos, 1.0)
    theta = np.arccos(cos)
    relu = np.outer(d, d) * (np.sin(theta) + (np.pi - theta) * cos) / (2 * np.pi)
    drelu = (np.pi - theta) / (2 * np.pi)
    relu[np.diag_indices(5)] /= rho
    t_act = t1 * drelu
    t_act[np.diag_indices(5)] /= rho
    k2 = sw2 * relu + sb2
    t2 = sw2 * t_act + k2
    nngp, ntk = kernels(x, serial(Dense(sw1, sb1), Elementwise("relu"), Dropout(rho), Dense(sw2, sb2)))
    np.testing.assert_allclose(nngp, k2, rtol=1e-12)
    np.testing.assert_allclose(ntk, t2, rtol=1e-12)
    with pytest.raises(ValueError, match=r"rho \(the keep probability\) must lie in \(0, 1\]"):
        Dropout(0.0)

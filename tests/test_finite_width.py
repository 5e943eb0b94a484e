"""Finite-width 1/n corrections (randfield.finite_width): exact product formulas for ReLU and linear
nets, and Monte-Carlo of tanh nets in the simulation engine (fixed seeds, 3 standard errors)."""

import math

import numpy as np
import pytest

from randfield.finite_width import length_fluctuations, ntk_fluctuations
from randfield.montecarlo import SimulationConfig, simulate
from randfield.montecarlo.ntk_fluctuations import ntk_diagonal


def test_relu_and_linear_vertices_are_the_leading_order_of_exact_products():
    # relu, sigma_b = 0: qhat^L = K^1 prod_{k<L} (sigma_w^2 Y_k) C_L with independent factors,
    # E[Y^2]/E[Y]^2 = 1 + 5/n (Var relu(z)^2 / E^2 = 5), E[C^2] = 1 + 2/n: n Var/q^2 -> 2 + 5 (L - 1)
    depth = 12
    th = length_fluctuations("relu", 2.0, 0.0, depth, q_input=0.7)
    q = 2.0 * 0.7
    np.testing.assert_allclose(th.q, q, rtol=1e-13)
    np.testing.assert_allclose(th.n_var, q**2 * (2 + 5 * np.arange(depth)), rtol=1e-10)
    np.testing.assert_allclose(th.mean_shift, 0.0, atol=1e-9)  # m(q) = q/2 is linear: no mean shift
    # the exact finite-n value approaches it at rate 1/n: its next term is (10 (L-1) + 25 C(L-1, 2)) / n
    next_term = 10 * (depth - 1) + 25 * math.comb(depth - 1, 2)
    for n in (256, 4096):
        exact = n * ((1 + 2 / n) * (1 + 5 / n) ** (depth - 1) - 1) * q**2
        assert next_term / n * q**2 < exact - th.n_var[-1] < 1.2 * next_term / n * q**2
    # linear, sigma_w^2 = 1: every layer a chi^2_n / n factor, n Var/q^2 -> 2 L
    lin = length_fluctuations("linear", 1.0, 0.0, 5)
    np.testing.assert_allclose(lin.n_var / lin.q**2, 2 * np.arange(1, 6), rtol=1e-10)


@pytest.mark.parametrize("width", [64, 256, 1024])
def test_tanh_length_fluctuations_match_the_simulation(width):
    depth, networks = 10, 4000
    th = length_fluctuations("tanh", 1.5, 0.05, depth)
    cfg = SimulationConfig("tanh", 1.5, 0.05, width=width, depth=depth, n_networks=networks, seed=0)
    q = simulate(cfg, device="cpu").q[:, :, 0]
    n_var = width * q.var(0, ddof=1)
    for layer in (0, 4, 9):  # standard error of a sample variance: sqrt(2 / (S - 1)) var
        assert abs(n_var[layer] - th.n_var[layer]) < 3 * math.sqrt(2 / (networks - 1)) * th.n_var[layer]


def test_the_one_over_n_mean_correction_is_seen_at_width_32():
    depth, width, networks = 10, 32, 8000
    th = length_fluctuations("tanh", 1.5, 0.05, depth)
    cfg = SimulationConfig("tanh", 1.5, 0.05, width=width, depth=depth, n_networks=networks, seed=1)
    q = simulate(cfg, device="cpu").q[:, -1, 0]
    se = q.std(ddof=1) / math.sqrt(networks)
    assert abs(q.mean() - th.mean(width)[-1]) < 3 * se
    assert abs(q.mean() - th.q[-1]) > 3 * se  # the mean-field value alone is rejected


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="depth must be an integer >= 1"):
        length_fluctuations("tanh", 1.5, 0.05, 0)
    with pytest.raises(ValueError, match="width must be an integer >= 1"):
        length_fluctuations("tanh", 1.5, 0.05, 3).mean(0)


def test_ntk_fluctuation_coefficients_by_hand():
    # relu: per-layer constants 5, 5, 1 -> n Var / E^2 = L (11 L + 7) / (3 (L + 1)); linear: 2, 2, 0
    for depth in (1, 2, 7, 40):
        th = ntk_fluctuations("relu", 2.0, depth, 100)
        assert (th.forward, th.backward, th.cross) == pytest.approx((5.0, 5.0, 1.0), rel=1e-12)
        assert th.leading * 100 == pytest.approx(depth * (11 * depth + 7) / (3 * (depth + 1)), rel=1e-12)
        lin = ntk_fluctuations("linear", 0.7, depth, 100)  # any sigma_w^2: the ratio is scale-free
        k = np.arange(1, depth + 1)
        assert lin.leading * 100 == pytest.approx(2 * np.sum((depth + 1 - k) ** 2 + k**2) / (depth + 1) ** 2)
    # the resummation agrees with the 1/n theory to first order and exceeds it beyond
    big = ntk_fluctuations("relu", 2.0, 10, 10**8)
    assert big.resummed == pytest.approx(big.leading, rel=1e-6)
    deep = ntk_fluctuations("relu", 2.0, 64, 64)
    assert deep.resummed > 2 * deep.leading


@pytest.mark.parametrize("activation, sigma_w2", [("relu", 2.0), ("linear", 1.0), ("leaky_relu", 1.5)])
def test_ntk_relative_variance_matches_the_1_over_n_theory(activation, sigma_w2):
    width, depth, networks = 128, 2, 4000
    mc = ntk_diagonal(activation, sigma_w2, depth, width, n_networks=networks, seed=0)
    th = ntk_fluctuations(activation, sigma_w2, depth, width)
    mean_se = mc.theta.std(ddof=1) / math.sqrt(networks)
    assert abs(mc.theta.mean() - 1) < 3 * mean_se + 2 / width  # E[Theta] = Theta_inf (1 + O(1/n))
    ratio, se = mc.relative_variance()
    assert abs(ratio - th.leading) < 3 * se + 2 * depth**2 / width**2  # + the O((L/n)^2) of the next order


def test_ntk_fluctuations_grow_faster_than_the_1_over_n_theory_when_depth_is_comparable_to_width():
    width, depth = 32, 16
    mc = ntk_diagonal("relu", 2.0, depth, width, n_networks=4000, seed=1)
    th = ntk_fluctuations("relu", 2.0, depth, width)
    low = np.quantile(mc.theta, 0.1)
    assert low < 0.6  # one net in ten has under 60 % of the infinite-width kernel
    ratio, se = mc.relative_variance()
    assert ratio - 3 * se > th.leading  # the linear-in-L/n theory underestimates


def test_ntk_fluctuations_refuse_what_they_do_not_cover():
    with pytest.raises(ValueError, match="activation"):
        ntk_fluctuations("tanh", 1.0, 3, 64)
    with pytest.raises(ValueError, match="width"):
        ntk_fluctuations("relu", 2.0, 3, 0)
    with pytest.raises(ValueError, match="depth"):
        ntk_fluctuations("relu", 2.0, 0, 8)

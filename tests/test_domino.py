"""The domino theorem (randfield.domino) against Monte-Carlo of Jacobian products; fixed seeds,
tolerances from the standard errors of the simulated statistics."""

import math

import numpy as np
import pytest

import randfield as rf
import randfield.expectations as ex
from randfield.gaussian import gaussian_expectation
from randfield.montecarlo import jacobian_products


def test_theory_is_the_product_of_chi1_along_the_length_map():
    th = rf.domino("tanh", 1.5, 0.05, depth=6, width=100, q_input=0.7)
    q = 1.5 * 0.7 + 0.05
    for layer in range(6):  # independent recomputation: the length map and chi_1 layer by layer
        assert th.q[layer] == pytest.approx(q, rel=1e-13)
        assert th.chi1[layer] == pytest.approx(float(rf.chi1("tanh", 1.5, 0.05, q=q)), rel=1e-13)
        q = float(rf.length_map(q, "tanh", 1.5, 0.05))
    np.testing.assert_allclose(th.product, np.cumprod(th.chi1), rtol=1e-15)


def test_relu_kappa_is_one_and_the_product_is_exact():
    # relu' is 0 or 1 with probability 1/2 each: E[phi'^2] = E[phi'^4] = 1/2, kappa = 1
    th = rf.domino("relu", 2.0, 0.0, depth=5, width=64)
    np.testing.assert_allclose(th.kappa, 1.0, rtol=1e-12)
    np.testing.assert_allclose(th.chi1, 1.0, rtol=1e-12)
    np.testing.assert_allclose(th.log_var_independent, np.arange(1, 6) * 5 / 64, rtol=1e-12)  # (2 + 3 kappa) L / N
    m2 = ex.derivative_second_moment("erf", 0.8)
    m4 = gaussian_expectation(lambda x: (2 / np.sqrt(np.pi) * np.exp(-(x**2))) ** 4, 0.8)
    assert rf.domino("erf", 1.0, 0.0, 1, 10, q_input=0.8).kappa[0] == pytest.approx(m4 / m2**2 - 1, rel=1e-12)


@pytest.mark.parametrize("width", [256, 1024])
def test_log_norm_mean_and_per_layer_variance_match_the_simulation(width):
    depth = 30
    th = rf.domino("tanh", 1.5, 0.05, depth, width)
    logs = jacobian_products("tanh", 1.5, 0.05, depth, width, n_networks=1024, n_probes=2, seed=1, device="cpu")
    x = logs.log_ratio[:, 0]  # one probe per network: independent samples
    n = len(x)
    increments = np.diff(x, axis=1, prepend=0.0)
    for layer in (0, 9, 29):
        assert abs(x[:, layer].mean() - th.log_mean[layer]) < 3 * x[:, layer].std(ddof=1) / math.sqrt(n)
        # standard error of a sample variance: sqrt(2 / (n - 1)) var
        inc = increments[:, layer]
        assert abs(inc.var(ddof=1) - th.increment_var[layer]) < 3 * math.sqrt(2 / (n - 1)) * th.increment_var[layer]
    assert x[:, -1].var(ddof=1) > th.log_var_independent[-1]  # correlated increments add to the sum


def test_the_finite_width_correction_is_needed_and_the_spread_grows_like_depth_over_width():
    # at width 128 the mean log-norm after 30 layers is many standard errors below the infinite-width
    # log prod chi_1 and within 3 of the mean with its O(L/N) correction; N Var[log] does not depend on N
    depth, spread = 30, {}
    for width in (128, 512):
        th = rf.domino("tanh", 1.5, 0.05, depth, width)
        x = jacobian_products("tanh", 1.5, 0.05, depth, width, n_networks=1024, seed=2, device="cpu")
        x = x.log_ratio[:, 0, -1]
        se = x.std(ddof=1) / math.sqrt(len(x))
        assert abs(x.mean() - th.log_mean[-1]) < 3 * se
        if width == 128:
            assert abs(x.mean() - math.log(th.product[-1])) > 8 * se
        spread[width] = (width * x.var(ddof=1), width * x.var(ddof=1) * math.sqrt(2 / (len(x) - 1)))
    (a, sa), (b, sb) = spread[128], spread[512]
    assert abs(a - b) < 3 * math.hypot(sa, sb)


def test_orthogonal_probes_stay_orthogonal_at_rate_one_over_sqrt_width():
    depth = 20
    scaled = {}
    for width in (128, 512, 2048):
        th = rf.domino("tanh", 1.5, 0.05, depth, width)
        cos = jacobian_products("tanh", 1.5, 0.05, depth, width, n_networks=200, seed=3, device="cpu").cosine
        first = cos[:, 0] ** 2  # after one layer: E[cos^2] = (1 + kappa) / N
        assert abs(first.mean() - th.first_cosine_var) < 3 * first.std(ddof=1) / math.sqrt(len(first))
        last = width * cos[:, -1] ** 2
        scaled[width] = (last.mean(), last.std(ddof=1) / math.sqrt(len(last)))
        assert abs(cos[:, -1].mean()) < 3 * cos[:, -1].std(ddof=1) / math.sqrt(len(cos))  # mean 0
    (a, sa), (b, sb) = scaled[128], scaled[2048]
    assert abs(a - b) < 3 * math.hypot(sa, sb)  # N E[cos^2] does not depend on N


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="width must be an integer >= 1"):
        rf.domino("tanh", 1.5, 0.05, 3, 0)
    with pytest.raises(ValueError, match="n_probes must be >= 2"):
        jacobian_products("tanh", 1.5, 0.05, 3, 8, n_probes=1)
    with pytest.raises(ValueError, match="unknown activation"):
        rf.domino("tanhh", 1.5, 0.05, 3, 8)

import numpy as np
import pytest

from randfield.gaussian import (
    bivariate_gaussian_expectation,
    gauss_rule,
    gaussian_expectation,
    hermite_coefficients,
)

from .references import MP_FUNCS, mp_gauss_1d

Q_VALUES = [1e-4, 1e-2, 0.3, 1.0, 4.0, 25.0, 100.0]


@pytest.mark.parametrize(
    "name, fn",
    [
        ("tanh", np.tanh),
        ("softplus", lambda x: np.logaddexp(0, x)),
        ("gelu", lambda x: x * (1 + __import__("scipy").special.erf(x / np.sqrt(2))) / 2),
    ],
)
def test_1d_rule_matches_mpmath_over_q_range(name, fn):
    # The anchor (§2.8) shows 25-node Gauss–Hermite 5% off at q = 10; this rule must hold 1e-12.
    got = gaussian_expectation(lambda x: fn(x) ** 2, np.array(Q_VALUES))
    want = np.array([float(mp_gauss_1d(lambda x: MP_FUNCS[name](x) ** 2, q)) for q in Q_VALUES])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_1d_rule_converges_geometrically_in_order():
    want = float(mp_gauss_1d(lambda x: MP_FUNCS["tanh"](x) ** 2, 50.0))
    errs = [abs(gaussian_expectation(lambda x: np.tanh(x) ** 2, 50.0, order=n) - want) / want for n in (3, 5, 7)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[1] / errs[0] < 0.05 and errs[2] / errs[1] < 0.05


def test_kinks_on_panel_boundaries_give_exact_piecewise_polynomials():
    # E[relu(sqrt(q) z)^2] = q / 2 and E[clip(mu + z, -1, 1)] at mu = 0.3: polynomial pieces are integrated exactly.
    q = np.array([1e-3, 1.0, 30.0])
    np.testing.assert_allclose(gaussian_expectation(lambda x: np.maximum(x, 0) ** 2, q, kinks=[0.0]), q / 2, rtol=1e-14)
    want = float(mp_gauss_1d(lambda x: MP_FUNCS["hard_tanh"](x + 0.3) - 0, 1.0, kinks=[-1.3, 0.7]))
    got = gaussian_expectation(lambda x: np.clip(x, -1, 1), 1.0, mean=0.3, kinks=[-1.0, 1.0])
    assert abs(got - want) < 1e-14


def test_zero_variance_is_a_point_evaluation():
    x, w = gauss_rule(np.array([0.7]), np.array([0.0]))
    np.testing.assert_allclose(x, 0.7)
    assert abs(w.sum() - 1) < 1e-15


def test_weights_integrate_polynomial_moments():
    _, w = gauss_rule(0.0, 1.0)
    z, _ = gauss_rule(0.0, 1.0)
    # Up to z^6 the truncation at |z| = 9 costs < 1e-14 (z^8 would show its 5e-12 tail).
    for k, moment in [(0, 1.0), (2, 1.0), (4, 3.0), (6, 15.0)]:
        assert abs((w * z**k).sum() - moment) < 1e-13 * moment


@pytest.mark.parametrize("rho", [-1.0, -0.999999, -0.3, 0.0, 0.5, 0.99, 1 - 1e-9, 1.0])
def test_bivariate_rule_matches_arc_cosine_kernel_including_degenerate_covariance(rho):
    # Cho & Saul 2009: E[relu(u1) relu(u2)] = sqrt(q1 q2)/(2 pi) (sin t + (pi - t) cos t), t = arccos(rho).
    q1, q2 = 0.7, 2.5
    t = np.arccos(rho)
    want = np.sqrt(q1 * q2) / (2 * np.pi) * (np.sin(t) + (np.pi - t) * np.cos(t))
    relu = lambda x: np.maximum(x, 0)  # noqa: E731
    got = bivariate_gaussian_expectation(relu, relu, q1, q2, rho * np.sqrt(q1 * q2), kinks1=[0.0], kinks2=[0.0])
    assert abs(got - want) < 1e-13
    step = lambda x: (x > 0).astype(float)  # noqa: E731
    got_d = bivariate_gaussian_expectation(step, step, q1, q2, rho * np.sqrt(q1 * q2), kinks1=[0.0], kinks2=[0.0])
    assert abs(got_d - (np.pi - t) / (2 * np.pi)) < 1e-12


def test_bivariate_rule_is_vectorised_and_symmetric(rng):
    q1, q2 = rng.uniform(0.1, 5, 7), rng.uniform(0.1, 5, 7)
    q12 = rng.uniform(-1, 1, 7) * np.sqrt(q1 * q2)
    a = bivariate_gaussian_expectation(np.tanh, np.sin, q1, q2, q12)
    b = bivariate_gaussian_expectation(np.sin, np.tanh, q2, q1, q12)
    np.testing.assert_allclose(a, b, atol=1e-14)
    single = [bivariate_gaussian_expectation(np.tanh, np.sin, x, y, z) for x, y, z in zip(q1, q2, q12)]
    np.testing.assert_allclose(a, single, atol=1e-15)


def test_mehler_series_reproduces_the_bivariate_expectation():
    q, c = 1.3, 0.6
    beta = hermite_coefficients(np.tanh, q, 300)
    series = (beta**2 * c ** np.arange(300)).sum()
    direct = bivariate_gaussian_expectation(np.tanh, np.tanh, q, q, c * q)
    assert abs(series - direct) < 1e-14
    parseval = (beta**2).sum()
    assert abs(parseval - gaussian_expectation(lambda x: np.tanh(x) ** 2, q)) < 1e-14


def test_oscillatory_integrands_are_outside_the_rules_design():
    # Documented limitation: sin(sqrt(q) z) oscillates on every panel at large q; the sin
    # activation therefore uses its closed form. Keep this visible: if the rule ever changes,
    # the docs must too.
    got = gaussian_expectation(lambda x: np.sin(x) ** 2, 100.0)
    assert abs(got - (1 - np.exp(-200)) / 2) > 1e-6

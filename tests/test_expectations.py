import numpy as np
import pytest

from randfield import expectations as ex
from randfield.activations import available_activations, get_activation
from randfield.gaussian import bivariate_gaussian_expectation

from .references import KINKS, MP_DERIVS, MP_FUNCS, mp_gauss_1d, quadpack_gauss_2d

Q_VALUES = [1e-4, 0.05, 1.0, 10.0, 100.0]
ACTIVATIONS = sorted(set(available_activations()) - {"swish", "leaky_relu"})


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_second_moment_matches_30_digit_mpmath(name):
    # Issue requirement: <= 1e-10 relative for smooth activations on q in [1e-4, 100]; kinks
    # are panel boundaries, so kinked ones are held to the same bar.
    f = MP_FUNCS[name]
    want = np.array([float(mp_gauss_1d(lambda x: f(x) ** 2, q, KINKS.get(name, ()))) for q in Q_VALUES])
    np.testing.assert_allclose(ex.second_moment(name, Q_VALUES), want, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(MP_DERIVS))
def test_derivative_second_moment_matches_mpmath(name):
    f = MP_DERIVS[name]
    want = np.array([float(mp_gauss_1d(lambda x: f(x) ** 2, q, KINKS.get(name, ()))) for q in Q_VALUES])
    np.testing.assert_allclose(ex.derivative_second_moment(name, Q_VALUES), want, rtol=1e-12)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_second_moment_slope_is_the_derivative_in_q(name):
    q = np.array([0.03, 0.7, 5.0, 40.0])
    h = 1e-5 * q  # truncation error ~ (h/q)^2 < 1e-9, rounding ~ 1e-16 / h < 4e-10
    fd = (ex.second_moment(name, q + h) - ex.second_moment(name, q - h)) / (2 * h)
    np.testing.assert_allclose(ex.second_moment_slope(name, q), fd, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("name", ["relu", "leaky_relu(alpha=0.3)", "linear", "erf", "sin"])
def test_closed_forms_match_the_quadrature_path(name, rng):
    act = get_activation(name)
    q1, q2 = rng.uniform(0.05, 4, 20), rng.uniform(0.05, 4, 20)
    rho = np.concatenate([rng.uniform(-1, 1, 16), [1.0, -1.0, 1 - 1e-10, -1 + 1e-10]])
    q12 = rho * np.sqrt(q1 * q2)
    kw = dict(kinks1=act.kinks, kinks2=act.kinks)
    np.testing.assert_allclose(
        act.closed_form.covariance(q1, q2, q12),
        bivariate_gaussian_expectation(act.phi, act.phi, q1, q2, q12, **kw),
        atol=1e-13,
    )
    np.testing.assert_allclose(
        act.closed_form.derivative_covariance(q1, q2, q12),
        bivariate_gaussian_expectation(act.dphi, act.dphi, q1, q2, q12, **kw),
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "name, q1, q2, q12",
    [("tanh", 1.0, 1.0, 0.5), ("tanh", 12.6, 12.6, 0.37), ("gelu", 0.5, 3.0, -0.9), ("elu", 2.0, 1.0, 1.2)],
)
def test_covariance_of_quadrature_activations_matches_quadpack(name, q1, q2, q12):
    act = get_activation(name)
    want = quadpack_gauss_2d(act.phi, act.phi, q1, q2, q12)
    assert abs(ex.covariance(name, q1, q2, q12) - want) < 1e-11 * max(1.0, abs(want))


@pytest.mark.parametrize("name", ["tanh", "elu", "gelu", "hard_tanh"])
def test_price_theorem_derivative_covariance_is_d_covariance_d_q12(name):
    q1, q2 = 1.3, 0.8
    q12 = np.array([-0.6, 0.0, 0.5, 0.9])
    h = 1e-5
    fd = (ex.covariance(name, q1, q2, q12 + h) - ex.covariance(name, q1, q2, q12 - h)) / (2 * h)
    np.testing.assert_allclose(ex.derivative_covariance(name, q1, q2, q12), fd, rtol=1e-7)


@pytest.mark.parametrize("name", ["elu", "hard_tanh"])
def test_kinked_covariance_near_degenerate_correlation(name):
    # c -> 1 puts the inner Gaussian onto the kink. Independent truth: the expansion
    # K(1 - e) = E[phi^2] - q e E[phi'^2] + O(e^{3/2}) (Price's theorem at c = 1) with both
    # moments from 30-digit mpmath.
    q = 1.7
    kinks = KINKS[name]
    v = float(mp_gauss_1d(lambda x: MP_FUNCS[name](x) ** 2, q, kinks))
    d = float(mp_gauss_1d(lambda x: MP_DERIVS[name](x) ** 2, q, kinks))
    assert abs(ex.covariance(name, q, q, q) - v) < 1e-14
    for eps in (1e-6, 1e-9, 1e-12):
        assert abs(ex.covariance(name, q, q, (1 - eps) * q) - (v - q * eps * d)) < 10 * q * eps**1.5 + 1e-14


def test_bad_inputs_name_the_parameter():
    with pytest.raises(ValueError, match="q must be >= 0"):
        ex.second_moment("tanh", -1.0)
    with pytest.raises(ValueError, match="q must be finite"):
        ex.second_moment("tanh", np.nan)
    with pytest.raises(ValueError, match="q12 must satisfy"):
        ex.covariance("tanh", 1.0, 1.0, 1.5)
    with pytest.raises(ValueError, match="E\\[phi''\\^2\\] diverges"):
        ex.second_derivative_second_moment("relu", 1.0)

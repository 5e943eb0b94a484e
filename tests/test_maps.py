import mpmath as mp
import numpy as np
import pytest

import randfield as rf

from .references import MP_FUNCS, mp_gauss_1d

# anchors §2.1 (derived by the anchors' author with scipy quad at 1e-13): tanh, sigma_b^2 = 0.05 and Poole's points
TANH_TABLE = [
    # sigma_w2, sigma_b2, q*, chi1, c*, xi_q, xi_c
    (1.00, 0.05, 0.19359, 0.75903, 1.0, 1.748, 3.627),
    (1.50, 0.05, 0.41804, 0.93864, 1.0, 1.683, 15.79),
    (2.00, 0.05, 0.72176, 1.04767, 0.7441, 1.388, 25.21),
    (2.50, 0.05, 1.0640, 1.1335, 0.4468, 1.180, 11.80),
    (4.00, 0.05, 2.19549, 1.34240, 0.1651, 0.873, 6.98),
    (1.69, 0.09, 0.60705, 0.93981, 1.0, 1.338, 16.11),
    (6.25, 0.09, 4.07912, 1.58522, 0.1221, 0.688, 5.11),
]


@pytest.mark.parametrize("row", TANH_TABLE)
def test_tanh_reference_table(row):
    sw, sb, q, chi, c, xi_q, xi_c = row
    # the table gives 4-6 significant digits
    assert rf.length_fixed_point("tanh", sw, sb) == pytest.approx(q, rel=5e-5)
    assert rf.chi1("tanh", sw, sb) == pytest.approx(chi, rel=5e-5)
    assert rf.correlation_fixed_point("tanh", sw, sb) == pytest.approx(c, rel=3e-4)
    xs = rf.depth_scales("tanh", sw, sb)
    assert xs.xi_q == pytest.approx(xi_q, rel=1e-3)
    assert xs.xi_c == pytest.approx(xi_c, rel=1e-3)


def _mp_tanh_critical(sigma_b2):
    """Independent: solve q - E[tanh^2]/E[tanh'^2] = sigma_b^2 with mpmath quad + findroot."""
    with mp.workdps(25):
        v = lambda q: mp_gauss_1d(lambda x: mp.tanh(x) ** 2, q, dps=25)  # noqa: E731
        d = lambda q: mp_gauss_1d(lambda x: mp.sech(x) ** 4, q, dps=25)  # noqa: E731
        q = mp.findroot(lambda q: q - v(q) / d(q) - sigma_b2, mp.mpf("0.5"), tol=1e-22)
        return float(1 / d(q))


@pytest.mark.parametrize("sigma_b2", [0.05, 0.5])
def test_tanh_critical_sigma_w2_to_1e10(sigma_b2):
    assert abs(rf.critical_sigma_w2("tanh", sigma_b2) - _mp_tanh_critical(sigma_b2)) < 1e-10


@pytest.mark.parametrize(
    "name, sb", [("tanh", [0.0, 0.01, 0.2, 1.0]), ("erf", [0.0, 0.01, 0.2, 1.0]), ("gelu", [0.2, 0.5, 1.0])]
)
def test_critical_line_has_chi1_equal_one_at_the_reached_fixed_point(name, sb):
    sw = rf.critical_sigma_w2(name, sb)
    np.testing.assert_allclose(rf.chi1(name, sw, sb), 1.0, atol=1e-10)  # chi1 at the q* iterated from q0 = 1


def test_critical_line_ends_where_its_fixed_point_is_unstable():
    # GELU, sigma_b^2 = 0.05: chi_1 = 1 at q* = 0.722, but the length map's slope there is 1.085.
    with pytest.raises(ValueError, match="unstable under the length map"):
        rf.critical_sigma_w2("gelu", 0.05)
    out = rf.critical_sigma_w2("gelu", [0.05, 0.5], unstable="nan")
    assert np.isnan(out[0]) and np.isfinite(out[1])


def test_erf_critical_point_closed_form():
    # q* = sigma_w^2 (2/pi) arcsin(2q*/(1+2q*)) + sigma_b^2 and chi_1 = (4/pi) sigma_w^2 / sqrt(1 + 4 q*) = 1
    with mp.workdps(30):

        def eqs(sw, q):
            return [
                q - sw * 2 / mp.pi * mp.asin(2 * q / (1 + 2 * q)) - mp.mpf("0.05"),
                4 / mp.pi * sw / mp.sqrt(1 + 4 * q) - 1,
            ]

        sw, _ = mp.findroot(eqs, (mp.mpf(1.4), mp.mpf(0.5)))
    assert abs(rf.critical_sigma_w2("erf", 0.05) - float(sw)) < 1e-12
    assert abs(rf.critical_sigma_w2("erf", 0.0) - np.pi / 4) < 1e-14
    q = rf.length_fixed_point("erf", 1.3, 0.1)
    assert rf.chi1("erf", 1.3, 0.1) == pytest.approx(4 / np.pi * 1.3 / np.sqrt(1 + 4 * q), rel=1e-14)


def test_linear_network_closed_forms():
    sw, sb = np.array([0.3, 0.9]), np.array([0.2, 0.05])
    np.testing.assert_allclose(rf.length_fixed_point("linear", sw, sb), sb / (1 - sw), rtol=1e-15)
    np.testing.assert_allclose(rf.chi1("linear", sw, sb), sw)
    assert rf.critical_sigma_w2("linear", 0.3) == 1.0
    with pytest.raises(rf.NoFixedPointError, match="grows without bound"):
        rf.length_fixed_point("linear", 1.2, 0.1)


def test_relu_he_criticality_and_polynomial_correlation_convergence():
    assert rf.critical_sigma_w2("relu", 0.0) == 2.0
    assert rf.critical_sigma_w2("leaky_relu(alpha=0.5)", 0.0) == pytest.approx(2 / 1.25, rel=1e-15)
    # c-map at (2, 0), unit inputs: c' = (sqrt(1 - c^2) + (pi - arccos c) c) / pi (anchors §2.2)
    c = np.array([0.0, 0.5, 0.9])
    want = (np.sqrt(1 - c**2) + (np.pi - np.arccos(c)) * c) / np.pi
    np.testing.assert_allclose(rf.correlation_map(c, "relu", 2.0, 0.0, q=1.0), want, rtol=1e-15)
    # 1 - c^l ~ 9 pi^2 / (2 l^2): l^2 (1 - c^l) = 12.85, 35.77 at l = 10, 100 from c^1 = 0 (anchors, derived)
    prop = rf.propagate_covariance("relu", 2.0, 0.0, 101, 1.0, 1.0, 0.0)
    assert 10**2 * (1 - prop.c[10]) == pytest.approx(12.85, abs=0.01)
    assert 100**2 * (1 - prop.c[100]) == pytest.approx(35.77, abs=0.01)
    assert rf.length_fixed_point("relu", 1.5, 0.1) == pytest.approx(0.1 / (1 - 0.75), rel=1e-15)
    with pytest.raises(rf.NoFixedPointError):
        rf.length_fixed_point("relu", 2.0, 0.1)


@pytest.mark.parametrize("name, sw, sb", [("tanh", 2.5, 0.1), ("gelu", 1.8, 0.2), ("elu", 1.5, 0.2), ("erf", 1.0, 0.3)])
def test_c_equal_one_is_a_fixed_point_and_chi1_is_its_slope(name, sw, sb):
    assert rf.correlation_map(1.0, name, sw, sb) == pytest.approx(1.0, abs=1e-14)
    # one-sided Richardson difference at c = 1
    h = 1e-4
    d1 = (1 - rf.correlation_map(1 - h, name, sw, sb)) / h
    d2 = (1 - rf.correlation_map(1 - h / 2, name, sw, sb)) / (h / 2)
    assert 2 * d2 - d1 == pytest.approx(float(rf.chi1(name, sw, sb)), rel=1e-5)
    assert rf.correlation_map_slope(1.0, name, sw, sb) == pytest.approx(float(rf.chi1(name, sw, sb)), rel=1e-12)


@pytest.mark.parametrize(
    "name, sw, sb", [("tanh", 1.5, 0.05), ("tanh", 2.5, 0.05), ("gelu", 1.9, 0.5), ("sigmoid", 20.0, 0.5)]
)
def test_depth_scales_are_the_decay_rates_of_the_iterated_maps(name, sw, sb):
    xs = rf.depth_scales(name, sw, sb)
    q_star = rf.length_fixed_point(name, sw, sb)
    c_star = rf.correlation_fixed_point(name, sw, sb)
    # q: iterate from 3 q*; c: iterate at q* from 0.95 c* (chaotic) or 0.5 (ordered)
    qs = [3 * q_star]
    for _ in range(int(40 + 30 * xs.xi_q)):
        qs.append(rf.length_map(qs[-1], name, sw, sb))
    dev_q = np.abs(np.array(qs) - q_star)
    layers = np.flatnonzero((dev_q > 1e-11 * q_star) & (dev_q < 1e-3 * q_star))[:6]
    rate_q = -np.polyfit(layers, np.log(dev_q[layers]), 1)[0]
    assert 1 / rate_q == pytest.approx(float(xs.xi_q), rel=1e-3)
    prop = rf.propagate_covariance(
        name, sw, sb, int(100 + 25 * xs.xi_c), q_star, q_star, (0.95 * c_star if c_star < 1 else 0.5) * q_star
    )
    dev_c = np.abs(prop.c - c_star)
    layers = np.flatnonzero((dev_c > 1e-12) & (dev_c < 1e-6))[:60]  # linear regime, clear of rounding
    rate_c = -np.polyfit(layers, np.log(dev_c[layers]), 1)[0]
    assert 1 / rate_c == pytest.approx(float(xs.xi_c), rel=2e-3)


def test_length_fixed_point_regimes_at_zero_bias():
    q = rf.length_fixed_point("tanh", [0.5, 1.0, 1.0001, 1.5], 0.0)
    assert q[0] == 0.0 and q[1] == 0.0
    # small-q expansion E[tanh^2(sqrt(q) z)] = q - 2 q^2 + O(q^3)  =>  q* ~ (sigma_w^2 - 1) / (2 sigma_w^2)
    assert q[2] == pytest.approx(0.0001 / 2.0002, rel=1e-3)
    assert q[3] > 0 and rf.length_map(q[3], "tanh", 1.5, 0.0) == pytest.approx(q[3], rel=1e-13)


def test_propagate_from_inputs(rng):
    x1, x2 = rng.normal(size=(4, 10)), rng.normal(size=(4, 10))
    prop = rf.propagate("tanh", 1.5, 0.05, 6, x1, x2)
    assert prop.q1.shape == (6, 4) and prop.c.shape == (6, 4)
    np.testing.assert_allclose(prop.q1[0], 1.5 * (x1**2).mean(-1) + 0.05)
    np.testing.assert_allclose(prop.q12[0], 1.5 * (x1 * x2).mean(-1) + 0.05)
    np.testing.assert_allclose(prop.q1[1], rf.length_map(prop.q1[0], "tanh", 1.5, 0.05))
    lin = rf.propagate("linear", 0.8, 0.1, 5, x1[0])
    want = [0.8 * (x1[0] ** 2).mean() + 0.1]
    for _ in range(4):
        want.append(0.8 * want[-1] + 0.1)
    np.testing.assert_allclose(lin.q1, want, rtol=1e-14)
    np.testing.assert_allclose(lin.c, 1.0)


def test_mpmath_one_layer_length_map():
    q = 2.3
    want = 1.7 * float(mp_gauss_1d(lambda x: MP_FUNCS["gelu"](x) ** 2, q)) + 0.2
    assert rf.length_map(q, "gelu", 1.7, 0.2) == pytest.approx(want, rel=1e-13)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rf.length_map(1.0, "tanh", -1.0, 0.0), "sigma_w2 must be >= 0"),
        (lambda: rf.length_map(1.0, "tanh", 1.0, np.nan), "sigma_b2 must be finite"),
        (lambda: rf.correlation_map(1.5, "tanh", 1.0, 0.1), "c must lie in \\[-1, 1\\]"),
        (lambda: rf.length_fixed_point("nope", 1.0, 0.1), "unknown activation 'nope'; known activations"),
        (lambda: rf.propagate("tanh", 1.0, 0.1, 0, [1.0, 2.0]), "depth must be an integer >= 1"),
        (lambda: rf.propagate("tanh", 1.0, 0.1, 3, [1.0, 2.0], [1.0]), "same non-empty last dimension"),
        (lambda: rf.propagate("tanh", 1.0, 0.1, 3, [1.0, np.inf]), "x1 must be finite"),
        (lambda: rf.critical_sigma_w2("softplus", 0.1), "no critical sigma_w2"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()

import numpy as np
import pytest
from scipy.special import erf  # noqa: F401  (documents the closed form used below)

import randfield as rf
from randfield.blocks import (
    ContinuousDepth,
    Dense,
    Elementwise,
    KernelState,
    Residual,
    dense_network,
    kernels,
    parse_architecture,
    repeat,
    residual_network,
    serial,
)

from .references import quadpack_gauss_2d


@pytest.fixture
def inputs(rng):
    return rng.normal(size=(5, 7)), rng.normal(size=(4, 7))


def _cho_saul(x1, x2, depth, sw, sb):
    """Independent ReLU recursion: arc-cosine kernel of degree 1 (Cho & Saul 2009), NTK with (pi - theta)/(2 pi)."""
    d = x1.shape[1]
    k = sw * x1 @ x2.T / d + sb
    v1, v2 = sw * (x1**2).sum(1) / d + sb, sw * (x2**2).sum(1) / d + sb
    t = k.copy()
    for _ in range(depth):
        norm = np.sqrt(np.outer(v1, v2))
        theta = np.arccos(np.clip(k / norm, -1, 1))
        e = norm / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))
        de = (np.pi - theta) / (2 * np.pi)
        k = sw * e + sb
        t = sw * t * de + k
        v1, v2 = sw * v1 / 2 + sb, sw * v2 / 2 + sb
    return k, t


def test_relu_kernels_match_the_arc_cosine_recursion_at_every_depth(inputs):
    x1, x2 = inputs
    for depth in (1, 3, 10):
        k, t = _cho_saul(x1, x2, depth, 1.7, 0.2)
        np.testing.assert_allclose(rf.nngp(x1, x2, "relu", depth, 1.7, 0.2), k, rtol=1e-12)
        np.testing.assert_allclose(rf.ntk(x1, x2, "relu", depth, 1.7, 0.2), t, rtol=1e-12)


def test_relu_he_reference_table():
    # anchors §2.3: unit inputs with correlation 0.5, sigma_w^2 = 2, no bias, L hidden layers, readout variance 1
    x = np.array([[1.0, 0.0], [0.5, np.sqrt(0.75)]]) * np.sqrt(2)
    table = {1: (0.60900, 0.94233, 2), 2: (0.68391, 1.35148, 3), 5: (0.81045, 2.46289, 6), 10: (0.89765, 4.10835, 11)}
    for depth, (k01, t01, t00) in table.items():
        arch = serial(
            Dense(2, 0), repeat(serial(Elementwise("relu"), Dense(2, 0)), depth - 1), Elementwise("relu"), Dense(1, 0)
        )
        k, t = kernels(x, None, arch)
        assert k[0, 1] == pytest.approx(k01, abs=5e-6) and t[0, 1] == pytest.approx(t01, abs=5e-6)
        assert t[0, 0] == pytest.approx(t00, rel=1e-14)


def test_erf_kernels_match_the_arcsine_recursion(inputs):
    x1, x2 = inputs
    sw, sb, depth = 1.4, 0.1, 4
    d = x1.shape[1]
    k, v1, v2 = sw * x1 @ x2.T / d + sb, sw * (x1**2).sum(1) / d + sb, sw * (x2**2).sum(1) / d + sb
    t = k.copy()
    for _ in range(depth):
        a = np.outer(1 + 2 * v1, 1 + 2 * v2)
        kk = 2 / np.pi * np.arcsin(2 * k / np.sqrt(a))
        dk = 4 / np.pi / np.sqrt(a - 4 * k**2)
        k, t = sw * kk + sb, sw * t * dk + sw * kk + sb
        v1, v2 = (
            sw * 2 / np.pi * np.arcsin(2 * v1 / (1 + 2 * v1)) + sb,
            sw * 2 / np.pi * np.arcsin(2 * v2 / (1 + 2 * v2)) + sb,
        )
    np.testing.assert_allclose(rf.nngp(x1, x2, "erf", depth, sw, sb), k, rtol=1e-12)
    np.testing.assert_allclose(rf.ntk(x1, x2, "erf", depth, sw, sb), t, rtol=1e-12)


def test_linear_network_kernels_are_polynomials_in_the_inner_product(inputs):
    x1, x2 = inputs
    sw, sb, depth = 0.9, 0.3, 5
    g = x1 @ x2.T / x1.shape[1]
    layers = [sw**n * g + sb * sum(sw**k for k in range(n)) for n in range(1, depth + 2)]  # NNGP after Dense n
    ntk = sum(sw ** (depth + 1 - n) * layers[n - 1] for n in range(1, depth + 2))
    np.testing.assert_allclose(rf.nngp(x1, x2, "linear", depth, sw, sb), layers[-1], rtol=1e-13)
    np.testing.assert_allclose(rf.ntk(x1, x2, "linear", depth, sw, sb), ntk, rtol=1e-13)


@pytest.mark.parametrize("name", ["tanh", "gelu", "elu"])
def test_kernels_are_symmetric_and_positive_semidefinite(name, rng):
    x = rng.normal(size=(12, 6))
    k, t = kernels(x, None, rf.blocks.dense_network(name, 3, 1.6, 0.1))
    for m in (k, t):
        np.testing.assert_allclose(m, m.T, atol=1e-14)
        assert np.linalg.eigvalsh(m).min() > -1e-12 * np.abs(m).max()


def test_quadrature_activation_kernel_matches_quadpack_and_converges_with_order(inputs):
    x1, x2 = inputs
    sw, sb = 1.5, 0.05
    state = Dense(sw, sb).kernel_map(KernelState.from_inputs(x1, x2))
    i, j = 1, 2
    want = sw * quadpack_gauss_2d(np.tanh, np.tanh, state.var1[i], state.var2[j], state.nngp[i, j]) + sb
    got = rf.nngp(x1, x2, "tanh", 1, sw, sb)[i, j]
    assert abs(got - want) < 1e-11
    errs = [
        abs(serial(Elementwise("tanh", order=n), Dense(sw, sb)).kernel_map(state).nngp[i, j] - want) for n in (2, 3, 4)
    ]
    assert errs[0] > errs[1] > errs[2] and errs[2] / errs[0] < 1e-2  # geometric in the order


def test_residual_network_converges_to_the_depth_ode_at_first_order(inputs):
    x1, x2 = inputs
    block = serial(Elementwise("tanh"), Dense(1.2, 0.05))
    stem = Dense(1.0, 0.1)
    limit = kernels(x1, x2, serial(stem, ContinuousDepth(block, depth=2.0, steps=256)))
    errs = []
    ls = np.array([4, 8, 16, 32, 64])
    for n_blocks in ls:
        k, t = kernels(x1, x2, serial(stem, residual_network(block, int(n_blocks), depth=2.0)))
        errs.append(max(np.abs(k - limit[0]).max(), np.abs(t - limit[1]).max()))
    slope = np.polyfit(np.log(ls), np.log(errs), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.1)


def test_continuous_depth_solves_the_linear_kernel_ode_exactly(inputs):
    # block = Dense(a, b): dK/dt = a K + b  =>  K(T) = e^{aT} K0 + b (e^{aT} - 1)/a
    x1, x2 = inputs
    a, b, T = 0.7, 0.2, 1.5
    state = KernelState.from_inputs(x1, x2)
    out = ContinuousDepth(Dense(a, b), depth=T, steps=1000).kernel_map(state)
    np.testing.assert_allclose(out.nngp, np.exp(a * T) * state.nngp + b * np.expm1(a * T) / a, rtol=1e-12)
    # NTK: dTheta/dt = a Theta + (a K + b) = a Theta + e^{at} (a K0 + b), Theta(0) = 0
    #   =>  Theta(T) = T e^{aT} (a K0 + b)
    np.testing.assert_allclose(out.ntk, T * np.exp(a * T) * (a * state.nngp + b), rtol=1e-11)


def test_residual_block_adds_scaled_branch_kernels(inputs):
    x1, x2 = inputs
    state = Dense(1.0, 0.1).kernel_map(KernelState.from_inputs(x1, x2))
    branch = serial(Elementwise("relu"), Dense(2.0, 0.0))
    out = Residual(branch, 0.5).kernel_map(state)
    ref = branch.kernel_map(state)
    np.testing.assert_allclose(out.nngp, state.nngp + 0.25 * ref.nngp)
    np.testing.assert_allclose(out.ntk, state.ntk + 0.25 * ref.ntk)


def test_standard_parameterisation_nngp_agrees_and_ntk_scales_with_width(inputs):
    x1, x2 = inputs
    ntk_arch = serial(Dense(1.5, 0.1), Elementwise("relu"), Dense(1.5, 0.1))
    std_arch = serial(Dense(1.5, 0.1, "standard", width=512), Elementwise("relu"), Dense(1.5, 0.1, "standard"))
    (k1, _), (k2, t2) = kernels(x1, x2, ntk_arch), kernels(x1, x2, std_arch)
    np.testing.assert_allclose(k1, k2)
    s1 = Dense(1.5, 0.1, "standard", width=512).kernel_map(KernelState.from_inputs(x1, x2))
    a = Elementwise("relu").kernel_map(s1)
    np.testing.assert_allclose(t2, 1.5 * a.ntk + 512 * a.nngp + 1.0)


def test_architecture_strings_build_blocks_and_reject_code():
    arch = parse_architecture(
        'serial(Dense(2, 0.1), Residual(serial(Elementwise("relu"), Dense(1, 0)), 0.5), Dense(1, 0))'
    )
    assert isinstance(arch, rf.blocks.Serial) and len(arch.blocks) == 3
    with pytest.raises(ValueError, match="unknown block"):
        parse_architecture("__import__('os').system('true')")
    with pytest.raises(ValueError, match="literals"):
        parse_architecture("Dense(x, 1)")


def test_bad_inputs(inputs):
    x1, x2 = inputs
    with pytest.raises(ValueError, match="shapes"):
        rf.nngp(x1, x2[:, :3], "tanh", 2, 1.0, 0.1)
    with pytest.raises(ValueError, match="sigma_w2 must be >= 0"):
        rf.nngp(x1, x2, "tanh", 2, -1.0, 0.1)
    with pytest.raises(ValueError, match="depth must be an integer >= 1"):
        rf.ntk(x1, x2, "tanh", 0, 1.0, 0.1)
    with pytest.raises(ValueError, match="finite"):
        rf.nngp(np.full((2, 3), np.nan), None, "tanh", 1, 1.0, 0.1)


def _mp_diagonal(activation, depth, sw, sb, q0):
    """NNGP and NTK of an input with itself, by the exact c = 1 recursions in 30-digit mpmath:
    relu: E[phi^2] = q/2, E[phi'^2] = 1/2; erf: (2/pi) asin(2q/(1+2q)), (4/pi)/sqrt(1+4q)."""
    import mpmath as mp

    mp.mp.dps = 30
    sw, sb, q = mp.mpf(sw), mp.mpf(sb), mp.mpf(q0)
    q = sw * q + sb
    theta = q
    for _ in range(depth):
        if activation == "relu":
            m, d = q / 2, mp.mpf(1) / 2
        else:
            m, d = 2 / mp.pi * mp.asin(2 * q / (1 + 2 * q)), 4 / mp.pi / mp.sqrt(1 + 4 * q)
        q = sw * m + sb
        theta = sw * theta * d + q
    return float(q), float(theta)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_an_input_paired_with_itself_is_exact_at_c_equal_one(activation, rng):
    # The correlation of an input with itself used to round below 1 before arccos: 1.5e-6 off.
    x1 = rng.normal(size=(40, 30)) * rng.uniform(0.2, 3.0, size=(40, 1))
    x2 = np.concatenate([x1[[3, 17]], rng.normal(size=(5, 30)), x1[[29]]])  # identical rows of x1
    depth, sw, sb = 12, 2.0, 0.1
    nngp, ntk = rf.kernels(x1, None, dense_network(activation, depth, sw, sb))
    cross_nngp, cross_ntk = rf.kernels(x1, x2, dense_network(activation, depth, sw, sb))
    q0 = (x1 * x1).sum(1) / x1.shape[1]
    want = np.array([_mp_diagonal(activation, depth, sw, sb, q) for q in q0])
    np.testing.assert_allclose(np.diag(nngp), want[:, 0], rtol=1e-14, atol=0)
    np.testing.assert_allclose(np.diag(ntk), want[:, 1], rtol=1e-14, atol=0)
    for j, i in ((0, 3), (1, 17), (7, 29)):  # pairs of identical inputs from two batches
        np.testing.assert_allclose([cross_nngp[i, j], cross_ntk[i, j]], want[i], rtol=1e-14, atol=0)


@pytest.mark.parametrize("activation", ["relu", "erf", "leaky_relu(alpha=0.2)"])
def test_row_blocked_evaluation_is_bit_identical_and_symmetric(activation, rng, monkeypatch):
    import randfield.blocks.base as base

    x = rng.normal(size=(150, 20))
    arch = serial(dense_network(activation, 4, 1.7, 0.1), Residual(serial(Elementwise(activation), Dense(1.0)), 0.5))
    monkeypatch.setattr(base, "FUSED_BLOCK", 10**12)  # one block: the layer-by-layer evaluation
    whole = rf.kernels(x, None, arch)
    whole_cross = rf.kernels(x, x[:70], arch)
    monkeypatch.setattr(base, "FUSED_BLOCK", 2000)  # 13-row blocks, upper triangle + mirror
    blocked = rf.kernels(x, None, arch)
    blocked_cross = rf.kernels(x, x[:70], arch)
    for a, b in zip(whole + whole_cross, blocked + blocked_cross):
        assert np.array_equal(a, b)
    assert np.array_equal(blocked[0], blocked[0].T) and np.array_equal(blocked[1], blocked[1].T)


def test_the_second_input_is_optional_everywhere(rng):
    x = rng.normal(size=(6, 4))
    arch = dense_network("relu", 3, 2.0, 0.1)
    both = kernels(x, x, arch)
    for got in (kernels(x, None, arch), kernels(x, arch), kernels(x, architecture=arch)):
        np.testing.assert_allclose(got[0], both[0], rtol=1e-15)
        np.testing.assert_allclose(got[1], both[1], rtol=1e-15)
    np.testing.assert_allclose(rf.nngp(x, activation="relu", depth=3, sigma_w2=2.0, sigma_b2=0.1), both[0], rtol=1e-15)
    np.testing.assert_allclose(rf.ntk(x, None, "relu", 3, 2.0, 0.1), both[1], rtol=1e-15)
    with pytest.raises(TypeError, match="sigma_w2 is required"):
        rf.nngp(x, activation="relu")


@pytest.mark.parametrize("sigma_w2, sigma_b2", [(1.5, 0.05), (4.0, 0.05)])
def test_one_norm_inputs_take_the_correlation_table_at_quadrature_accuracy(sigma_w2, sigma_b2, rng, monkeypatch):
    # Inputs of one norm: each layer's 2-D expectation is a function of c alone, tabulated once
    # (CorrelationTable). Truth: the per-pair recursion through the nested 2-D quadrature.
    import randfield.expectations as ex
    from randfield import mehler

    monkeypatch.setattr(mehler, "TABULATE_FROM", 1)
    mehler._TABLES.clear()
    x = rng.normal(size=(60, 16))
    x *= 4.0 / np.linalg.norm(x, axis=1, keepdims=True)  # |x|^2 / d = 1: q^1 shared by all inputs
    x[7] = x[3]  # an identical pair: c = 1 exactly
    depth = 3
    nngp, ntk = kernels(x, None, dense_network("tanh", depth, sigma_w2, sigma_b2))
    assert mehler._TABLES, "the table path was not taken"
    pairs = [(0, 1), (3, 7), (5, 5), (10, 42), (13, 59)]
    i, j = np.array(pairs).T
    q1, q2 = (x[i] ** 2).sum(1) / 16, (x[j] ** 2).sum(1) / 16
    q12 = (x[i] * x[j]).sum(1) / 16
    q1, q2, q12 = (sigma_w2 * v + sigma_b2 for v in (q1, q2, q12))
    theta = q12.copy()
    for _ in range(depth):
        cov, dcov = ex.covariance("tanh", q1, q2, q12), ex.derivative_covariance("tanh", q1, q2, q12)
        q1, q2 = (sigma_w2 * ex.second_moment("tanh", v) + sigma_b2 for v in (q1, q2))
        q12 = sigma_w2 * cov + sigma_b2
        theta = sigma_w2 * theta * dcov + q12
    np.testing.assert_allclose(nngp[i, j], q12, rtol=1e-11, atol=0)
    np.testing.assert_allclose(ntk[i, j], theta, rtol=1e-11, atol=0)


def test_the_correlation_table_matches_the_2d_quadrature_over_c():
    import randfield.expectations as ex
    from randfield.activations import get_activation
    from randfield.mehler import CorrelationTable

    act = get_activation("tanh")
    c = np.concatenate([np.linspace(-1, 1, 101), [1 - 1e-9, 0.999999, -1 + 1e-9]])
    for q in (0.3, 2.3, 20.0):
        f, g = CorrelationTable(act, q).evaluate(c)
        np.testing.assert_allclose(f, ex.covariance(act, q, q, c * q), rtol=0, atol=1e-12)
        np.testing.assert_allclose(g, ex.derivative_covariance(act, q, q, c * q), rtol=0, atol=1e-12)

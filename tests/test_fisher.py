"""Fisher information of random nets (randfield.fisher, Karakida, Akaho & Amari 2019): the order
parameters against linear nets by hand, the Gram route against an explicit P x P FIM, the three
statistics and the NTK's two eigenvalues against Monte-Carlo (fixed seeds, 3 standard errors), the
O(1/sqrt M) splitting of the C-fold top eigenvalue, and gradient descent's 2 / lambda_max edge."""

import math

import numpy as np
import pytest
import torch
from torch.func import jacrev

from randfield.fisher import fisher_order_parameters, fisher_statistics
from randfield.montecarlo.fisher import draw_networks, fisher_spectra, forward, gram_matrix, teacher_descent


def test_linear_net_order_parameters_by_hand():
    sw, sb, q0, depth = 1.3, 0.2, 0.8, 4
    op = fisher_order_parameters("linear", sw, sb, depth, q_input=q0, alpha_input=0.5)
    # phi = x: qhat^l = q^l with q^1 = sw q0 + sb, q^{l+1} = sw q^l + sb; covariances start from sb
    q, c = [q0], [0.0]
    for _ in range(depth):
        q.append(sw * q[-1] + sb)
        c.append(sw * c[-1] + sb)
    np.testing.assert_allclose(op.q_hat1, q, rtol=1e-13)
    np.testing.assert_allclose(op.q_hat2, c, rtol=1e-13, atol=1e-15)
    # qt^l = sw^(L - l), l = 1..L = depth + 1, for both (phi' = 1)
    qt = sw ** (depth + 1 - np.arange(1, depth + 2))
    np.testing.assert_allclose(op.q_tilde1, qt, rtol=1e-13)
    np.testing.assert_allclose(op.q_tilde2, qt, rtol=1e-13)
    alpha = 0.5 + depth - 1
    weights = np.array([0.5] + [1.0] * depth)
    assert op.alpha == alpha
    assert op.kappa1 == pytest.approx(np.sum(weights * np.array(q) * qt) / alpha, rel=1e-13)
    assert op.kappa2 == pytest.approx(np.sum(weights * np.array(c) * qt) / alpha, rel=1e-13)
    st = fisher_statistics("linear", sw, sb, depth, 100, n_outputs=3, n_inputs=5, q_input=q0, alpha_input=0.5)
    k1, k2 = op.kappa1, op.kappa2
    assert st.mean == pytest.approx(k1 * 3 / 100)
    assert st.second_moment == pytest.approx(alpha * 3 * (4 / 5 * k2**2 + k1**2 / 5))
    assert st.max == pytest.approx(alpha * 100 * (4 / 5 * k2 + k1 / 5))
    assert st.learning_rate_bound == pytest.approx(2 / st.max)
    assert st.ntk_max == pytest.approx(alpha * (k1 + 4 * k2)) and st.ntk_bulk == pytest.approx(alpha * (k1 - k2))


def test_gram_route_equals_the_explicit_fisher_matrix():
    gen = torch.Generator().manual_seed(3)
    dims, t = [5, 7, 6, 2], 3  # input 5, two hidden layers, C = 2 outputs
    weights, biases = draw_networks(dims, 1.7, 0.3, 1, gen, "cpu", torch.float64)
    x = torch.randn(1, t, 5, generator=gen, dtype=torch.float64)
    gram = gram_matrix(torch.tanh, weights, biases, x)[0]
    # explicit J (T C x P) by reverse mode over a flat parameter vector, independent of the Gram code
    shapes = [p[0].shape for p in (*weights, *biases)]
    flat = torch.cat([p[0].reshape(-1) for p in (*weights, *biases)])

    def outputs(theta):
        parts, i = [], 0
        for shape in shapes:
            n = math.prod(shape)
            parts.append(theta[i : i + n].reshape(1, *shape))
            i += n
        f, _ = forward(torch.tanh, parts[: len(weights)], parts[len(weights) :], x)
        return f[0].reshape(-1)  # ordered (t, k)

    jac = jacrev(outputs)(flat)
    torch.testing.assert_close(gram, jac @ jac.T, rtol=1e-12, atol=1e-12)
    fim = jac.T @ jac / t  # P x P, only at this size
    eig_fim = torch.linalg.eigvalsh(fim)
    eig_gram = torch.linalg.eigvalsh(gram / t)
    torch.testing.assert_close(eig_fim[-t * 2 :], eig_gram, rtol=1e-9, atol=1e-10)
    assert eig_fim[: -t * 2].abs().max() < 1e-10  # the rest of the P eigenvalues vanish


@pytest.mark.parametrize("activation, sigma_w2, sigma_b2", [("tanh", 3.0, 0.64), ("relu", 2.0, 0.1)])
def test_statistics_match_monte_carlo(activation, sigma_w2, sigma_b2):
    width, depth, t = 512, 3, 8
    th = fisher_statistics(activation, sigma_w2, sigma_b2, depth, width, n_outputs=1, n_inputs=t)
    mc = fisher_spectra(activation, sigma_w2, sigma_b2, depth, width, n_inputs=t, n_networks=16, seed=0)
    for name in ("mean", "second_moment", "max", "ntk_max", "ntk_bulk"):
        mean, se = mc.estimate(name)
        assert abs(mean - getattr(th, name)) < 3 * se, name
    # m_lambda = O(1/M) while lambda_max = O(M): the pathology, measured
    assert mc.estimate("max")[0] / mc.estimate("mean")[0] > 0.5 * width**2 * th.alpha / t


def test_c_fold_top_eigenvalue_splits_at_order_one_over_sqrt_width():
    rel_max, rel_top = [], []
    for width in (128, 512):
        th = fisher_statistics("tanh", 3.0, 0.64, 3, width, n_outputs=2, n_inputs=8)
        mc = fisher_spectra("tanh", 3.0, 0.64, 3, width, n_outputs=2, n_inputs=8, n_networks=16, seed=0)
        rel_max.append(mc.estimate("max")[0] / th.max - 1)
        rel_top.append(mc.estimate("top_mean")[0] / th.max - 1)
        mean, se = mc.estimate("top_mean")
    assert rel_max[0] > rel_max[1] > 0.03  # the largest of C = 2: biased up, shrinking ~ 1/sqrt(M)
    assert abs(mean - th.max) < 3 * se  # the mean of the top C is not, at M = 512


def test_gradient_descent_diverges_from_its_start_above_two_over_lambda_max():
    width, t = 512, 16
    th = fisher_statistics("tanh", 3.0, 0.64, 3, width, n_inputs=t)
    probe = teacher_descent("tanh", 3.0, 0.64, 3, width, [th.learning_rate_bound], n_inputs=t, steps=1)
    bound = 2 / probe.lambda_max
    assert bound == pytest.approx(th.learning_rate_bound, rel=0.1)  # the student's own (one net: ~5% spread)
    run = teacher_descent("tanh", 3.0, 0.64, 3, width, [0.9 * bound, 1.2 * bound], n_inputs=t, steps=60)
    below, above = run.losses
    assert np.all(np.diff(below) <= 1e-12 * below[0])  # monotone below the bound
    assert below[-1] < 1e-3 * below[0]
    assert above.max() > 2 * above[0]  # the steep direction grows (|1 - eta lambda| > 1) above it


@pytest.mark.parametrize(
    "kwargs, name",
    [({"width": 0}, "width"), ({"n_inputs": 0}, "n_inputs"), ({"n_outputs": 0}, "n_outputs"), ({"depth": 0}, "depth")],
)
def test_bad_sizes_name_the_parameter(kwargs, name):
    args = {"depth": 3, "width": 64, "n_outputs": 1, "n_inputs": 2} | kwargs
    with pytest.raises(ValueError, match=name):
        fisher_statistics("tanh", 1.0, 0.1, args.pop("depth"), args.pop("width"), **args)

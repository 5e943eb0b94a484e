import numpy as np
import pytest
from scipy.linalg import expm

import randfield as rf
from randfield.blocks import dense_network, kernels
from randfield.predict import gradient_descent_mse, nngp_posterior


@pytest.fixture
def problem(rng):
    x_train, x_test = rng.normal(size=(6, 4)), rng.normal(size=(3, 4))
    y = rng.normal(size=(6, 2))
    arch = dense_network("tanh", 2, 1.5, 0.1)
    k, t = kernels(x_train, None, arch)
    ks, ts = kernels(x_test, x_train, arch)
    kss, _ = kernels(x_test, None, arch)
    return dict(k=k, t=t, ks=ks, ts=ts, kss=kss, y=y)


def test_finite_time_mean_and_covariance_match_matrix_exponentials(problem):
    p, eta, time = problem, 0.3, 2.5
    pred = gradient_descent_mse(
        p["t"], p["ts"], p["y"], time, nngp_train=p["k"], nngp_test_train=p["ks"], nngp_test=p["kss"], learning_rate=eta
    )
    a = p["ts"] @ np.linalg.solve(p["t"], np.eye(6) - expm(-eta * time * p["t"]))
    np.testing.assert_allclose(pred.mean, a @ p["y"], rtol=1e-9, atol=1e-12)
    cov = p["kss"] + a @ p["k"] @ a.T - a @ p["ks"].T - p["ks"] @ a.T
    np.testing.assert_allclose(pred.covariance, cov, rtol=1e-9, atol=1e-12)


def test_limits_in_time(problem):
    p = problem
    zero = gradient_descent_mse(
        p["t"], p["ts"], p["y"], 0.0, nngp_train=p["k"], nngp_test_train=p["ks"], nngp_test=p["kss"]
    )
    np.testing.assert_allclose(zero.mean, 0.0, atol=1e-15)
    np.testing.assert_allclose(zero.covariance, p["kss"])  # the prior at initialisation
    inf = gradient_descent_mse(p["t"], p["t"], p["y"], None)
    np.testing.assert_allclose(inf.mean, p["y"], atol=1e-8)  # interpolates the training data
    times = gradient_descent_mse(p["t"], p["ts"], p["y"], [0.0, 1.0, 1e6])
    assert times.mean.shape == (3, 3, 2)
    np.testing.assert_allclose(times.mean[2], gradient_descent_mse(p["t"], p["ts"], p["y"], None).mean, rtol=1e-6)


def test_nngp_posterior_interpolates_noise_free_data(problem):
    p = problem
    post = nngp_posterior(p["k"], p["k"], p["k"], p["y"])
    np.testing.assert_allclose(post.mean, p["y"], atol=1e-9)
    np.testing.assert_allclose(post.covariance, 0.0, atol=1e-9)


def test_singular_kernel_needs_regularisation():
    x = np.ones((3, 2))  # identical inputs: rank-one kernel
    k, t = kernels(x, None, dense_network("relu", 1, 2.0, 0.0))
    with pytest.raises(ValueError, match="singular .* diag_reg"):
        gradient_descent_mse(t, t, np.ones(3), None)
    with pytest.raises(ValueError, match="singular"):
        nngp_posterior(k, k, k, np.ones(3))
    out = nngp_posterior(k, k, k, np.ones(3), diag_reg=1e-6)
    assert np.all(np.isfinite(out.mean))
    assert rf.ntk(x, None, "relu", 1, 2.0, 0.0).shape == (3, 3)

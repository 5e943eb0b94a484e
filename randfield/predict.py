"""Infinite-width predictions: NTK gradient descent on MSE and the NNGP posterior (Lee et al. 2019)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import as_float_array


class Prediction(NamedTuple):
    """Mean (..., n_test, n_out) and covariance (..., n_test, n_test) over random initialisations."""

    mean: np.ndarray
    covariance: np.ndarray


def _eig(k: np.ndarray, diag_reg: float, name: str, need_inverse: bool):
    k = as_float_array(k, name)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"{name} must be a square (n_train, n_train) matrix, got shape {k.shape}")
    if not np.allclose(k, k.T, rtol=1e-10, atol=1e-12 * np.abs(k).max()):
        raise ValueError(f"{name} must be symmetric")
    lam, vec = np.linalg.eigh(k + diag_reg * np.eye(len(k)))
    if need_inverse and lam.min() <= 1e-12 * max(lam.max(), 1e-300):
        raise ValueError(
            f"{name} is singular (smallest eigenvalue {lam.min():.3g}, largest {lam.max():.3g}); "
            "pass a regularisation diag_reg > 0"
        )
    return lam, vec


def gradient_descent_mse(
    ntk_train: np.ndarray,
    ntk_test_train: np.ndarray,
    y_train: np.ndarray,
    t=None,
    *,
    nngp_train: np.ndarray | None = None,
    nngp_test_train: np.ndarray | None = None,
    nngp_test: np.ndarray | None = None,
    learning_rate: float = 1.0,
    diag_reg: float = 0.0,
) -> Prediction:
    """Output of an infinitely wide network trained by gradient flow on L = 1/2 |f(X) - Y|^2 for time t.

    With Theta = ntk_train, the flow df/dt = -eta Theta (f - Y) gives, over random initialisations
    f_0 ~ GP(0, K) (Lee et al. 2019, eqs. 14–16), with A(t) = Theta_* Theta^{-1} (I - exp(-eta Theta t)):

        mean(t) = A(t) Y,
        cov(t)  = K_** + A K A^T - (A K_*^T + K_* A^T).

    (I - exp(-eta Theta t)) Theta^{-1} is evaluated as -expm1(-eta t lam) / lam on Theta's
    eigenvalues, so finite t needs no inverse; t = None (infinity) needs Theta invertible.

    Args:
        ntk_train: (n, n); ntk_test_train: (m, n); y_train: (n,) or (n, k).
        t: None (infinity), a time, or an array of times (leading axis of the results).
        nngp_*: the NNGP blocks K (train, test-train, test); give all three for the covariance.
        diag_reg: added to ntk_train's diagonal.

    Returns:
        Prediction(mean, covariance); covariance is None without the NNGP blocks.
    """
    y = as_float_array(y_train, "y_train")
    squeeze = y.ndim == 1
    y = y[:, None] if squeeze else y
    lam, vec = _eig(ntk_train, diag_reg, "ntk_train", need_inverse=t is None)
    ts = np.atleast_1d(np.inf if t is None else as_float_array(t, "t"))
    if np.any(ts < 0):
        raise ValueError(f"t must be >= 0, got {t!r}")
    # g(lam) = (1 - exp(-eta t lam)) / lam, shape (n_t, n)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        g = np.where(np.isinf(ts)[:, None], 1.0 / lam, -np.expm1(-learning_rate * ts[:, None] * lam) / lam)
        g = np.where(lam == 0, learning_rate * ts[:, None], g)
    proj = as_float_array(ntk_test_train, "ntk_test_train") @ vec  # (m, n)
    a = np.einsum("mj,tj,nj->tmn", proj, g, vec)  # A(t) = Theta_* V g V^T
    mean = a @ y
    cov = None
    if nngp_train is not None and nngp_test_train is not None and nngp_test is not None:
        k, ks, kss = (
            as_float_array(v, n)
            for v, n in ((nngp_train, "nngp_train"), (nngp_test_train, "nngp_test_train"), (nngp_test, "nngp_test"))
        )
        aks = a @ ks.T
        cov = kss + a @ k @ np.swapaxes(a, -1, -2) - aks - np.swapaxes(aks, -1, -2)
    if squeeze:
        mean = mean[..., 0]
    if t is None or np.ndim(t) == 0:
        mean = mean[0]
        cov = None if cov is None else cov[0]
    return Prediction(mean, cov)


def nngp_posterior(
    nngp_train: np.ndarray,
    nngp_test_train: np.ndarray,
    nngp_test: np.ndarray,
    y_train: np.ndarray,
    *,
    diag_reg: float = 0.0,
) -> Prediction:
    """Exact Bayesian posterior of the NNGP (training only the readout to convergence, or Bayesian inference):
    mean = K_* (K + reg I)^{-1} Y, cov = K_** - K_* (K + reg I)^{-1} K_*^T (Lee et al. 2018)."""
    y = as_float_array(y_train, "y_train")
    lam, vec = _eig(nngp_train, diag_reg, "nngp_train", need_inverse=True)
    ks = as_float_array(nngp_test_train, "nngp_test_train") @ vec
    mean = (ks / lam) @ (vec.T @ y)
    cov = as_float_array(nngp_test, "nngp_test") - (ks / lam) @ ks.T
    return Prediction(mean, cov)

"""Latent ODE (randfield.latent): spiral geometry by hand, time gaps by hand, the ELBO's KL term against
torch.distributions, and short training runs that must beat trivial predictors."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from randfield.latent import LatentODE, fit_series, make_spirals, rmse
from randfield.latent.models import _gaps


def test_spirals_geometry_and_masks():
    data = make_spirals(40, 100, 30, noise=0.1, seed=3)
    again = make_spirals(40, 100, 30, noise=0.1, seed=3)
    assert torch.equal(data.noisy, again.noisy) and torch.equal(data.mask, again.mask)
    assert data.clean.shape == (40, 100, 2) and bool((data.mask.sum(1) == 30).all())
    # counter-clockwise spirals (centre (+2, 0)) have radius 0.5 + theta / (2 pi) with theta growing by dt
    x = data.clean.numpy()
    ccw = x[:, 0, 0] > 0
    r = np.hypot(x[ccw, :, 0] - 2, x[ccw, :, 1])
    dt = float(data.times[1] - data.times[0])
    np.testing.assert_allclose(np.diff(r, axis=1), dt / (2 * math.pi), rtol=1e-4)
    assert 0.06 < float((data.noisy - data.clean).std()) < 0.14
    with pytest.raises(ValueError, match="n_obs must be <= n_times"):
        make_spirals(4, 10, 11)


def test_time_gaps_by_hand():
    times = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0])
    mask = torch.tensor([[True, False, False, True, False]])
    assert _gaps(times, mask).tolist() == [[0.0, 1.0, 2.0, 3.0, 1.0]]
    assert _gaps(times, mask, reverse=True).tolist() == [[3.0, 2.0, 1.0, 1.0, 0.0]]


def test_elbo_kl_term_matches_torch_distributions():
    torch.manual_seed(0)
    model = LatentODE()
    data = make_spirals(8, 20, 5, seed=0)
    empty = torch.zeros_like(data.mask)  # no observations: the ELBO is -KL(q || N(0, I))
    elbo, _ = model.elbo(data.times, data.noisy, empty, generator=torch.Generator().manual_seed(0))
    mu, log_sigma = model.encode(data.times, data.noisy, empty)
    kl = kl_divergence(Normal(mu, log_sigma.exp()), Normal(0.0, 1.0)).sum(-1).mean()
    assert elbo.item() == pytest.approx(-kl.item(), rel=1e-6)


def test_short_training_beats_trivial_predictors():
    data = make_spirals(300, 60, 30, seed=1)
    train, test = data.subset(slice(0, 240)), data.subset(slice(240, None))
    zero = rmse(torch.zeros_like(test.clean), test.clean)
    mean = rmse(train.clean.mean(0, keepdim=True).expand_as(test.clean), test.clean)
    for model in ("latent_ode", "rnn"):
        res, _ = fit_series(model, train, test, steps=120, batch=60, lr=1e-2)
        assert res.rmse < 0.8 * min(zero, mean), (model, res.rmse, zero, mean)
    with pytest.raises(ValueError, match="model must be one of latent_ode, rnn"):
        fit_series("transformer", train, test)

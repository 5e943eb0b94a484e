"""Latent ODE (Chen et al. 2018, §5; Rubanova et al. 2019) and its RNN baseline, on series observed at a
subset of a shared time grid.

Latent ODE: a GRU runs backwards in time over the observations (value, mask, time gap) and gives
q(z0) = N(mu, sigma^2); z0 = mu + sigma eps; dz/dt = f(z) is solved over the whole grid by
`randfield.continuous.odeint` (any integrator and gradient mode); a decoder maps z(t) to the data.
Trained by the ELBO: the Gaussian log-likelihood of the observed values (noise std `obs_std`) minus
KL(q(z0) || N(0, I)). It predicts at any time of the grid, observed or not, including past the last
observation.
RNN baseline: a GRU runs forwards over the grid with (value or 0, mask, time since the last observation)
and predicts the value at every step.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..continuous import odeint


def _gaps(times: torch.Tensor, mask: torch.Tensor, reverse: bool = False) -> torch.Tensor:
    """Time since the previous observation (or until the next one when reverse), per series and step."""
    n, steps = mask.shape
    out = torch.zeros(n, steps)
    last = torch.full((n,), float(times[-1] if reverse else times[0]))
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for k in order:  # sequential by nature: a scan over the grid, vectorised over series
        out[:, k] = (last - times[k]).abs()
        last = torch.where(mask[:, k], times[k], last)
    return out


class _Field(nn.Module):
    def __init__(self, latent: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, hidden), nn.ELU(), nn.Linear(hidden, latent))

    def vector_field(self, z):
        return self.net(z)


class LatentODE(nn.Module):
    def __init__(
        self,
        dim: int = 2,
        latent: int = 4,
        hidden: int = 25,
        rnn_hidden: int = 25,
        *,
        obs_std: float = 0.1,
        method: str = "rk4",
        gradient: str = "adjoint",
        **options,
    ):
        super().__init__()
        self.dim, self.latent, self.obs_std = dim, latent, float(obs_std)
        self.encoder = nn.GRU(dim + 2, rnn_hidden, batch_first=True)
        self.to_q = nn.Linear(rnn_hidden, 2 * latent)
        self.field = _Field(latent, hidden)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.method, self.gradient, self.options = method, gradient, options
        self.stats = None

    def encode(self, times, values, mask):
        """mu, log sigma of q(z0) from a backwards pass over the observations."""
        gaps = _gaps(times, mask, reverse=True)
        inputs = torch.cat([values * mask[..., None], mask[..., None].float(), gaps[..., None]], -1)
        _, h = self.encoder(inputs.flip(1))  # backwards in time
        mu, log_sigma = self.to_q(h[-1]).chunk(2, -1)
        return mu, log_sigma

    def decode(self, times, z0):
        zs, self.stats = odeint(
            self.field, z0, times, self.method, gradient=self.gradient, return_stats=True, **self.options
        )
        return self.decoder(zs).transpose(0, 1)  # (N, T, dim)

    def elbo(self, times, values, mask, generator=None):
        """Mean per-series ELBO (nats) and the predictions at every time."""
        mu, log_sigma = self.encode(times, values, mask)
        eps = torch.randn(mu.shape, generator=generator)
        pred = self.decode(times, mu + log_sigma.exp() * eps)
        sq = ((pred - values) ** 2).sum(-1) * mask
        loglik = -0.5 * sq.sum(1) / self.obs_std**2 - mask.sum(1) * self.dim * math.log(
            self.obs_std * math.sqrt(2 * math.pi)
        )
        kl = 0.5 * (mu**2 + (2 * log_sigma).exp() - 2 * log_sigma - 1).sum(-1)
        return (loglik - kl).mean(), pred

    def predict(self, times, values, mask):
        """Predictions at every time from the mean of q(z0)."""
        mu, _ = self.encode(times, values, mask)
        return self.decode(times, mu)


class RNNBaseline(nn.Module):
    """A GRU fed (value or 0, mask, time since the last observation) at every grid time."""

    def __init__(self, dim: int = 2, hidden: int = 64):
        super().__init__()
        self.rnn = nn.GRU(dim + 2, hidden, batch_first=True)
        self.out = nn.Linear(hidden, dim)

    def predict(self, times, values, mask):
        """The value at every grid time, each predicted before it is seen: the input at step k carries
        the observation at k, so the prediction for step k is read from the state after step k - 1."""
        gaps = _gaps(times, mask)
        inputs = torch.cat([values * mask[..., None], mask[..., None].float(), gaps[..., None]], -1)
        h, _ = self.rnn(inputs)
        pred = self.out(h)
        return torch.cat([pred.new_zeros(pred[:, :1].shape), pred[:, :-1]], 1)

    def loss(self, times, values, mask):
        """Mean squared error of the predictions at the observed times."""
        err = ((self.predict(times, values, mask) - values) ** 2).sum(-1) * mask
        return err.sum() / mask.sum()

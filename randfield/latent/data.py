"""Bidirectional 2-D spirals (Chen et al. 2018, §5): half clockwise, half counter-clockwise Archimedean
spirals sampled at equally spaced times, observed with Gaussian noise at a random subset of the times."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Spirals:
    """times (T,); clean (N, T, 2) noise-free trajectories; noisy (N, T, 2); mask (N, T) observed times."""

    times: torch.Tensor
    clean: torch.Tensor
    noisy: torch.Tensor
    mask: torch.Tensor

    def subset(self, idx) -> Spirals:
        return Spirals(self.times, self.clean[idx], self.noisy[idx], self.mask[idx])


def make_spirals(
    n_spirals: int = 1000,
    n_times: int = 100,
    n_obs: int = 30,
    *,
    noise: float = 0.1,
    t_max: float = 6 * np.pi / 5,
    seed: int = 0,
) -> Spirals:
    """Spiral i: angle theta = theta0_i + t (t equally spaced on [0, t_max]), radius 0.5 + theta / (2 pi)
    for counter-clockwise spirals (centred at (+2, 0)) and 0.5 + (theta0_i + t_max - t) / (2 pi) with
    angle -theta for clockwise ones (centred at (-2, 0)), so that one family winds out and the other in.
    n_obs distinct observation times are drawn per spiral."""
    for name, v in (("n_spirals", n_spirals), ("n_times", n_times), ("n_obs", n_obs)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if n_obs > n_times:
        raise ValueError(f"n_obs must be <= n_times = {n_times} (a series needs distinct times), got {n_obs}")
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, t_max, n_times)
    theta0 = rng.uniform(0, 2 * np.pi, n_spirals)[:, None]
    cw = rng.random(n_spirals) < 0.5
    theta = theta0 + t[None]
    r_ccw = 0.5 + theta / (2 * np.pi)
    r_cw = 0.5 + (theta0 + t_max - t[None]) / (2 * np.pi)
    x = np.where(cw[:, None], r_cw * np.cos(-theta) - 2, r_ccw * np.cos(theta) + 2)
    y = np.where(cw[:, None], r_cw * np.sin(-theta), r_ccw * np.sin(theta))
    clean = np.stack([x, y], -1)
    noisy = clean + noise * rng.standard_normal(clean.shape)
    mask = np.zeros((n_spirals, n_times), dtype=bool)
    for i in range(n_spirals):  # distinct times per series (a per-series permutation)
        mask[i, rng.permutation(n_times)[:n_obs]] = True
    f = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    return Spirals(f(t), f(clean), f(noisy), torch.as_tensor(mask))

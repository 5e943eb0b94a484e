"""2-D toy data (FFJORD's set, Grathwohl et al. 2019), deterministic by seed, and unnormalised target
densities for density matching (Rezende & Mohamed 2015, Table 1: U1-U4)."""

from __future__ import annotations

import numpy as np
import torch

from .._names import FLOW_DATASETS, FLOW_TARGETS

DATASETS, TARGETS = FLOW_DATASETS, FLOW_TARGETS


def sample_toy(name: str, n: int, seed: int = 0) -> np.ndarray:
    """n points (n, 2) of a named 2-D dataset, standardised roughly to [-4, 4]."""
    if name not in DATASETS:
        raise ValueError(f"data must be one of {', '.join(DATASETS)}; got {name!r}")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    rng = np.random.default_rng(seed)
    if name == "moons":
        t = rng.uniform(0, np.pi, n)
        upper = rng.random(n) < 0.5
        x = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
        x = (x + 0.05 * rng.standard_normal((n, 2))) * 2 + np.array([-1.0, -0.25]) * 2
    elif name == "8gaussians":
        angles = 2 * np.pi * rng.integers(0, 8, n) / 8
        x = (np.c_[np.cos(angles), np.sin(angles)] * 2 + 0.5 * rng.standard_normal((n, 2)) * 0.5) / 1.414 * 2
    elif name == "pinwheel":
        k, radial, tangential, rate = 5, 0.3, 0.1, 0.25
        feats = rng.standard_normal((n, 2)) * np.array([radial, tangential]) + np.array([1.0, 0.0])
        labels = rng.integers(0, k, n)
        angles = 2 * np.pi * labels / k + rate * np.exp(feats[:, 0])
        c, s = np.cos(angles), np.sin(angles)
        x = 2 * np.c_[c * feats[:, 0] - s * feats[:, 1], s * feats[:, 0] + c * feats[:, 1]]
    elif name == "2spirals":
        r = np.sqrt(rng.random(n)) * 540 * (2 * np.pi) / 360
        sign = np.where(rng.random(n) < 0.5, 1.0, -1.0)
        x = sign[:, None] * np.c_[-np.cos(r) * r, np.sin(r) * r] / 3 + 0.1 * rng.standard_normal((n, 2))
    elif name == "checkerboard":
        x1 = rng.random(n) * 4 - 2
        x2 = rng.random(n) - rng.integers(0, 2, n) * 2 + np.floor(x1) % 2
        x = np.c_[x1, x2] * 2
    else:  # rings: four concentric circles
        radius = rng.integers(1, 5, n) * 0.75
        t = rng.uniform(0, 2 * np.pi, n)
        x = radius[:, None] * np.c_[np.cos(t), np.sin(t)] + 0.08 * rng.standard_normal((n, 2))
    return x.astype(np.float64)


def target_log_density(name: str, z: torch.Tensor) -> torch.Tensor:
    """Unnormalised log-density -U(z) of Rezende & Mohamed's targets U1-U4 at z (..., 2)."""
    if name not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}; got {name!r}")
    z1, z2 = z[..., 0], z[..., 1]
    w1 = torch.sin(2 * torch.pi * z1 / 4)
    if name == "u1":
        r = z.norm(dim=-1)
        u = 0.5 * ((r - 2) / 0.4) ** 2 - torch.logaddexp(-0.5 * ((z1 - 2) / 0.6) ** 2, -0.5 * ((z1 + 2) / 0.6) ** 2)
    elif name == "u2":
        u = 0.5 * ((z2 - w1) / 0.4) ** 2
    elif name == "u3":
        w2 = 3 * torch.exp(-0.5 * ((z1 - 1) / 0.6) ** 2)
        u = -torch.logaddexp(-0.5 * ((z2 - w1) / 0.35) ** 2, -0.5 * ((z2 - w1 + w2) / 0.35) ** 2)
    else:
        w3 = 3 * torch.sigmoid((z1 - 1) / 0.3)
        u = -torch.logaddexp(-0.5 * ((z2 - w1) / 0.4) ** 2, -0.5 * ((z2 - w1 + w3) / 0.35) ** 2)
    return -u

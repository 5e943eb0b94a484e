"""Training flows: maximum likelihood on samples (CNF) and density matching, min KL(q || p) from samples
of q against an unnormalised target log-density (planar and CNF, the seed's setting)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .data import target_log_density


@dataclass
class FitResult:
    losses: list = field(default_factory=list)
    nfe: list = field(default_factory=list)  # forward NFE per step (CNF)
    seconds: float = 0.0

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / max(1, len(self.losses))


def _check_steps(steps, batch, lr):
    for name, v in (("steps", steps), ("batch", batch)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be positive and finite, got {lr!r}")


def fit_density_matching(
    flow, target: str, *, steps: int = 500, batch: int = 256, lr: float = 1e-2, seed: int = 0, progress=False
) -> FitResult:
    """Minimise E_q[log q(x) - log p(x)] (the KL up to p's normaliser) by sampling the flow."""
    import time

    from tqdm.auto import tqdm

    _check_steps(steps, batch, lr)
    target_log_density(target, torch.zeros(1, 2))  # the name is checked before any work
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(flow.parameters(), lr=lr)
    out, tic = FitResult(), time.perf_counter()
    for _ in tqdm(range(steps), disable=not progress, desc="density matching", leave=False):
        x, log_q = flow.sample(batch, generator=gen, return_log_prob=True)
        loss = (log_q - target_log_density(target, x)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.losses.append(loss.item())
        if getattr(flow, "stats", None) is not None:
            out.nfe.append(flow.stats.nfe_forward)
    out.seconds = time.perf_counter() - tic
    return out


def fit_density(
    flow, x: torch.Tensor, *, steps: int = 500, batch: int = 256, lr: float = 1e-3, seed: int = 0, progress=False
) -> FitResult:
    """Maximum likelihood: minimise -E log p(x) over minibatches of the samples x (CNF)."""
    import time

    from tqdm.auto import tqdm

    _check_steps(steps, batch, lr)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(flow.parameters(), lr=lr)
    out, tic = FitResult(), time.perf_counter()
    for _ in tqdm(range(steps), disable=not progress, desc="maximum likelihood", leave=False):
        idx = torch.randint(0, len(x), (batch,), generator=gen)
        loss = -flow.log_prob(x[idx], generator=gen).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.losses.append(loss.item())
        out.nfe.append(flow.stats.nfe_forward)
    out.seconds = time.perf_counter() - tic
    return out

"""Training and scoring the latent ODE and the RNN baseline on spirals."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch

from .data import Spirals
from .models import LatentODE, RNNBaseline

MODELS = ("latent_ode", "rnn")


@dataclass
class SeriesResult:
    model: str
    n_obs: int
    seed: int
    rmse: float  # on held-out series, at every grid time, against the noise-free trajectory
    seconds_per_step: float
    losses: list = field(default_factory=list)


def rmse(pred: torch.Tensor, clean: torch.Tensor) -> float:
    return math.sqrt(float(((pred - clean) ** 2).sum(-1).mean()))


def fit_series(
    model_name: str,
    train: Spirals,
    test: Spirals,
    *,
    steps: int = 1000,
    batch: int = 100,
    lr: float = 1e-2,
    seed: int = 0,
    progress: bool = False,
    **model_options,
) -> tuple[SeriesResult, torch.nn.Module]:
    from tqdm.auto import tqdm

    if model_name not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model_name!r}")
    for name, v in (("steps", steps), ("batch", batch)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    torch.manual_seed(seed)
    model = LatentODE(**model_options) if model_name == "latent_ode" else RNNBaseline(**model_options)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen = torch.Generator().manual_seed(seed)
    n, losses, tic = len(train.noisy), [], time.perf_counter()
    for _ in tqdm(range(steps), disable=not progress, desc=model_name, leave=False):
        idx = torch.randint(0, n, (min(batch, n),), generator=gen)
        b = train.subset(idx)
        if model_name == "latent_ode":
            elbo, _ = model.elbo(b.times, b.noisy, b.mask, generator=gen)
            loss = -elbo
        else:
            loss = model.loss(b.times, b.noisy, b.mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    seconds = (time.perf_counter() - tic) / steps
    with torch.no_grad():
        pred = model.predict(test.times, test.noisy, test.mask)
    n_obs = int(train.mask[0].sum())
    return SeriesResult(model_name, n_obs, seed, rmse(pred, test.clean), seconds, losses), model

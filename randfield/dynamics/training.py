"""Training loop for dynamics models: Adam on finite-difference windows, resumable checkpoints."""

from __future__ import annotations

import io
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from .._io import FileFormatError, atomic_write_bytes, load_weights, read_torch
from .._validation import check_positive_int
from .data import Trajectories

CHECKPOINT_KEYS = ("config", "model", "optimiser", "generator", "losses", "step")
MODEL_KEYS = ("spec", "state_dict", "metadata")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; the defaults are the HNN/DGNet ODE protocol (Adam 1e-3, wd 1e-4, 2000 steps).

    batch_size None means full batch; horizon is the number of integrator steps per window."""

    steps: int = 2000
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int | None = None
    horizon: int = 1
    seed: int = 0
    dtype: str = "float64"
    device: str = "cpu"

    def __post_init__(self):
        check_positive_int(self.steps, "steps")
        check_positive_int(self.horizon, "horizon")
        if self.batch_size is not None:
            check_positive_int(self.batch_size, "batch_size")
        if not (self.lr > 0 and np.isfinite(self.lr)):
            raise ValueError(f"lr must be positive and finite, got {self.lr}")
        if not (self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")


@dataclass(frozen=True)
class TrainResult:
    """losses: training loss per step, shape (steps,); seconds: wall time of the `steps_run` timed
    steps (all steps, over resumed calls too, unless a checkpoint without timing was resumed)."""

    losses: np.ndarray
    seconds: float
    steps_run: int

    @property
    def iterations_per_second(self) -> float:
        return self.steps_run / self.seconds if self.seconds > 0 and self.steps_run > 0 else float("nan")


def fit(
    model,
    data: Trajectories,
    config: TrainConfig | None = None,
    *,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 500,
    progress: bool = True,
    callback=None,
    **overrides,
) -> TrainResult:
    """Train `model` in place on the windows of `data`; returns the loss history.

    Args:
        config: a TrainConfig; keyword overrides (steps=, lr=, ...) replace its fields.
        checkpoint: a file to save model, optimiser, RNG and losses to every `checkpoint_every`
            steps (atomically). If it exists, training resumes from it and yields the same
            result as an uninterrupted run.
        progress: show a tqdm bar.
        callback: called as callback(steps_done, model) after every optimiser step (e.g. to score
            the last iterates of a run).
    """
    config = TrainConfig(**{**asdict(config or TrainConfig()), **overrides})
    dtype = getattr(torch, config.dtype)
    device = torch.device(config.device)
    if not np.isfinite(data.states).all():
        raise ValueError("data.states contains NaN or inf")
    model.to(device=device, dtype=dtype)
    windows = torch.as_tensor(data.windows(config.horizon), dtype=dtype, device=device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    losses, start, timed = [], 0, (0, 0.0)  # timed: (steps, seconds) of earlier calls, from the checkpoint
    if checkpoint is not None and Path(checkpoint).exists():
        state = read_torch(checkpoint, "training checkpoint", CHECKPOINT_KEYS, device=config.device)
        if state["config"] != asdict(config):
            raise ValueError(f"checkpoint {checkpoint} was made with a different config: {state['config']}")
        load_weights(model, state["model"], checkpoint, "training checkpoint")
        try:
            optimiser.load_state_dict(state["optimiser"])
            generator.set_state(state["generator"].cpu())
        except (ValueError, RuntimeError, TypeError, KeyError) as err:
            raise FileFormatError(
                f"training checkpoint {checkpoint}: optimiser or RNG state is corrupt ({err})"
            ) from None
        losses, start = list(state["losses"]), state["step"]
        timed = (start, state["seconds"]) if state.get("seconds") is not None else (0, 0.0)

    def save(step):
        buffer = io.BytesIO()
        torch.save(
            {
                "format": "randfield training checkpoint",
                "config": asdict(config),
                "model": model.state_dict(),
                "optimiser": optimiser.state_dict(),
                "generator": generator.get_state(),
                "losses": losses,
                "step": step,
                "seconds": timed[1] + time.perf_counter() - tic if timed[0] == start else None,
            },
            buffer,
        )
        atomic_write_bytes(checkpoint, buffer.getvalue())

    from tqdm.auto import tqdm

    n = windows.shape[0]
    tic = time.perf_counter()
    bar = tqdm(range(start, config.steps), disable=not progress, desc=f"train {model.name}", leave=False)
    for step in bar:
        if config.batch_size is None or config.batch_size >= n:
            batch = windows
        else:
            batch = windows[torch.randperm(n, generator=generator)[: config.batch_size].to(device)]
        loss = model.loss(batch, data.dt)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"training loss became {float(loss)} at step {step}; lower lr or use float64")
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
        if callback is not None:
            callback(step + 1, model)
        if progress and step % 50 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.3e}")
        if checkpoint is not None and (step + 1) % checkpoint_every == 0:
            save(step + 1)
    seconds = time.perf_counter() - tic
    if checkpoint is not None:
        save(config.steps)
    return TrainResult(np.asarray(losses), timed[1] + seconds, timed[0] + config.steps - start)


def save_model(path: str | Path, model, **metadata) -> None:
    """Write the model's spec (name, dim, options) and weights, plus `metadata`, atomically."""
    buffer = io.BytesIO()
    torch.save(
        {"format": "randfield model", "spec": model.spec, "state_dict": model.state_dict(), "metadata": metadata},
        buffer,
    )
    atomic_write_bytes(path, buffer.getvalue())


def load_model(path: str | Path, device: str = "cpu"):
    """(model, metadata) from a file written by `save_model`, read as data only (docs/security.md)."""
    from .models import get_model

    state = read_torch(path, "model file", MODEL_KEYS, device=device)
    spec, metadata = state["spec"], state["metadata"]
    if not isinstance(spec, dict) or not {"name", "dim"} <= set(spec) or not isinstance(metadata, dict):
        raise FileFormatError(f"model file {str(path)!r}: its spec must name the model and its dim, got {spec!r}")
    spec = dict(spec)
    try:
        model = get_model(spec.pop("name"), spec.pop("dim"), **spec)
    except (ValueError, TypeError) as err:
        raise FileFormatError(f"model file {str(path)!r}: its spec does not describe a model ({err})") from None
    weights = state["state_dict"]
    first = next(iter(weights.values()), None) if isinstance(weights, dict) else None
    if first is not None and hasattr(first, "dtype") and first.is_floating_point():
        model.to(device=device, dtype=first.dtype)
    load_weights(model, weights, path, "model file")
    return model, metadata

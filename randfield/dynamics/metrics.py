"""Evaluation metrics of the DGNet/HNN protocols (anchors B1 §1.3.2–§1.3.4).

- derivative MSE: mean |f_theta(u) - u_t|^2 over the test states u (observed, with noise) against
  the true u_t at the clean states;
- rollouts from fresh initial conditions over the protocol's evaluation grid, compared with the
  system's reference solution: state MSE, and energy MSE, mean (H(u_pred) - H(u_true))^2 under
  the *true* Hamiltonian (not the learnt one); for PDEs also mass MSE, mean (M(u_pred) - M(u_true))^2
  with M = sum u dx^d. A rollout that diverges (NaN/inf) scores inf.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from .data import Trajectories, get_system
from .integrators import ConvergenceError, StepSizeError


@dataclass(frozen=True)
class RolloutMetrics:
    method: str
    state_mse: float
    energy_mse: float
    mass_mse: float | None
    t: np.ndarray
    true_energy: np.ndarray  # (n_initial, T)
    predicted_energy: np.ndarray  # (n_initial, T)
    seconds: float
    states: np.ndarray | None = None  # the predicted rollouts (n_initial, T, *state)
    # energy MSE under the published scripts' energy where it is not H (pendulum: q^2 + p^2), else None
    published_energy_mse: float | None = None

    @property
    def energy_mse_per_rollout(self) -> np.ndarray:
        """The energy MSE of each rollout under the true H, shape (n_initial,)."""
        return np.mean((self.predicted_energy - self.true_energy) ** 2, axis=1)


def derivative_mse(model, test: Trajectories) -> float:
    p = next(model.parameters())
    u = torch.as_tensor(test.states.reshape(-1, *test.states.shape[2:]), dtype=p.dtype, device=p.device)
    with torch.no_grad():
        f = torch.cat([model.vector_field(chunk) for chunk in u.split(4096)]).cpu().numpy()
    return float(np.mean((f - test.derivatives.reshape(f.shape)) ** 2))


def evaluation_set(
    system, n_initial: int = 15, seed: int = 1234, protocol: str = "randfield", data: dict | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, u0, reference) for rollouts: the protocol's evaluation grid, n_initial fresh initial
    conditions and their reference solution (n_initial, T, dim).

    protocol: "randfield" draws the initial conditions from the system's own sampler (the training
    distribution); "dgnet" follows DGNet's ODE scripts (anchors B1 §1.3.4): every coordinate
    uniform in magnitude on [0.2, 1.0] with a random sign (1-degree-of-freedom systems only);
    "published" takes the initial conditions of the published script's own stream
    (`AbstractSystem.published_stream`): for spring and pendulum those drawn after the data of
    `generate(system, seed=seed, sampler="published", **data)`, for two-body the orbits of
    `np.random.seed(i)`, i < n_initial; with `seed` the cell's seed they are the very initial
    conditions of DGNet's `train_dgnet.py --seed seed`.
    """
    sys_ = get_system(system)
    t = np.linspace(0.0, sys_.protocol.eval_t_end, sys_.protocol.eval_points)
    rng = np.random.default_rng(seed)
    if protocol == "randfield":
        u0 = sys_.sample_initial(rng, n_initial)
    elif protocol == "dgnet":
        if sys_.dim != 2:
            raise ValueError(f"protocol 'dgnet' is defined for (q, p) systems, not {sys_.name} (dim {sys_.dim})")
        u0 = rng.uniform(0.2, 1.0, (n_initial, 2)) * rng.choice([-1.0, 1.0], (n_initial, 2))
    elif protocol == "published":
        data = data or {}
        n = data.get("n_trajectories", sys_.protocol.n_trajectories)
        u0 = sys_.published_stream(seed, n, data.get("n_points", sys_.protocol.n_points), n_initial).evaluation_initial
    else:
        raise ValueError(f"protocol must be 'randfield', 'dgnet' or 'published', got {protocol!r}")
    return t, u0, sys_.reference(u0, t)


def rollout_metrics(model, system, method: str, evaluation=None, energy=None, **options) -> RolloutMetrics:
    """Roll `model` out with `method` from the evaluation set and score it against the reference.

    energy: the function u -> E(u) (numpy, last axis the state) the energy MSE is measured with;
    default the system's true Hamiltonian. (DGNet's scripts use q^2 + p^2 for the pendulum too.)"""
    sys_ = get_system(system)
    t, u0, reference = evaluation if evaluation is not None else evaluation_set(sys_)
    p = next(model.parameters())
    tic = time.perf_counter()
    try:
        with torch.no_grad():
            pred = model.rollout(torch.as_tensor(u0, dtype=p.dtype, device=p.device), t, method, **options)
        pred = pred.transpose(0, 1).cpu().double().numpy()
    except (ConvergenceError, StepSizeError):  # the model's flow blew up: score the rollout as diverged
        pred = np.full(reference.shape, np.inf)
    seconds = time.perf_counter() - tic
    if not np.isfinite(pred).all():
        pred = np.where(np.isfinite(pred), pred, np.inf)
    with np.errstate(invalid="ignore", over="ignore"):
        energy = sys_.hamiltonian if energy is None else energy
        h_true, h_pred = energy(reference), energy(pred)
        mass = sys_.mass(reference)
        mass_mse = None if mass is None else _mse(sys_.mass(pred), mass)
        scripted = getattr(sys_, "published_energy_label", None)
        return RolloutMetrics(
            method,
            _mse(pred, reference),
            _mse(h_pred, h_true),
            mass_mse,
            t,
            h_true,
            h_pred,
            seconds,
            pred,
            energy_mse(sys_.published_energy, pred, reference) if scripted else None,
        )


def energy_mse(energy, predicted: np.ndarray, reference: np.ndarray) -> float:
    """mean (E(u_pred) - E(u_true))^2 for an energy function E (numpy, last axis the state); inf
    where a rollout diverged."""
    with np.errstate(invalid="ignore", over="ignore"):
        return _mse(energy(predicted), energy(reference))


def _mse(a, b) -> float:
    err = np.mean((np.asarray(a) - np.asarray(b)) ** 2)
    return float(err) if np.isfinite(err) else float("inf")

"""The model interface: `vector_field`, `energy`, `rollout`, `loss` (training lives in `dynamics.training`).

Every model is trained on windows of observed states u_0, ..., u_k spaced dt apart: its training
integrator rolls u_0 forward k steps and the loss is the mean squared error of the predicted
against the observed finite differences, (u_pred_j - u_{j-1}) / dt vs (u_j - u_{j-1}) / dt
(DGNet's L2 loss on finite differences; k = 1 for the single-step protocols of the tables).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch
from torch import nn

from ..integrators import integrate

Tensor = torch.Tensor

MODELS: dict[str, type[DynamicsModel]] = {}


def register_model(cls):
    MODELS[cls.name] = cls
    return cls


def available_models() -> list[str]:
    return sorted(MODELS)


def get_model(name: str, dim: int, **options) -> DynamicsModel:
    """A fresh model by name ("node", "hnn", "srnn", "dgnet") for states of dimension `dim`."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(available_models())}")
    model = MODELS[name](dim, **options)
    model.spec = {"name": name, "dim": dim, **options}  # enough to rebuild it (see training.load_model)
    return model


class DynamicsModel(nn.Module):
    """A learnt autonomous ODE u_t = f_theta(u) on states of shape (batch, *state).

    Attributes:
        name: registry name.
        train_integrators: integrators the model can be trained with; the first is the default.
        train_integrator: the one this instance trains (and by default predicts) with.
    """

    name: ClassVar[str]
    train_integrators: ClassVar[tuple[str, ...]] = ("rk2", "dopri5")

    def __init__(self, train_integrator: str | None = None, integrator_options: dict | None = None):
        super().__init__()
        chosen = train_integrator or self.train_integrators[0]
        if chosen not in self.train_integrators:
            raise ValueError(
                f"{self.name} trains with one of {', '.join(self.train_integrators)}, got train_integrator={chosen!r}"
            )
        self.train_integrator = chosen
        self.integrator_options = dict(integrator_options or {})

    @abstractmethod
    def vector_field(self, u: Tensor) -> Tensor:
        """u_t = f_theta(u)."""

    def energy(self, u: Tensor) -> Tensor:
        """The learnt energy H_theta(u), shape (batch,); models without one raise."""
        raise NotImplementedError(f"model {self.name!r} has no energy function")

    def rollout(self, u0: Tensor, t, method: str | None = None, **options) -> Tensor:
        """Predicted states at times t from u0 (batch, *state): shape (len(t), batch, *state).

        method defaults to the training integrator (for DGNet: the implicit discrete-gradient step)."""
        method = method or self.train_integrator
        opts = {**(self.integrator_options if method == self.train_integrator else {}), **options}
        return integrate(self, u0, t, method, **opts)

    def loss(self, windows: Tensor, dt: float) -> Tensor:
        """Finite-difference MSE on windows of observed states, shape (batch, horizon + 1, *state):
        mean |u_pred_j - u_j|^2 / dt^2 over the horizon, rolled out by the training integrator."""
        horizon = windows.shape[1] - 1
        observed = windows.transpose(0, 1)  # (horizon + 1, batch, *state)
        t = torch.arange(horizon + 1, dtype=torch.float64) * dt
        predicted = integrate(self, observed[0], t, self.train_integrator, **self.integrator_options)
        return torch.mean((predicted[1:] - observed[1:]) ** 2) / dt**2

"""Symplectic recurrent neural network (Chen, Zhang, Arjovsky & Bottou, ICLR 2020)."""

from __future__ import annotations

import torch

from ..discrete import energy_mlp
from .base import DynamicsModel, register_model


@register_model
class SRNN(DynamicsModel):
    """Separable H_theta(q, p) = T(p) + V(q) with two MLPs, trained and rolled out by leapfrog.

    Windows longer than one step (`horizon` in `fit`) train it as a recurrent network through
    the unrolled symplectic integrator, SRNN's multi-step training.
    """

    name = "srnn"
    train_integrators = ("leapfrog",)

    def __init__(
        self,
        dim: int,
        hidden: int = 200,
        layers: int = 2,
        activation: str = "tanh",
        grid=None,
        structure=None,
        **options,
    ):
        if grid is not None or structure is not None:
            raise ValueError("srnn models canonical (q, p) ODE states; for PDE systems use node, hnn or dgnet")
        super().__init__(**options)
        if dim % 2:
            raise ValueError(f"SRNN needs canonical (q, p) states of even dimension, got dim={dim}")
        self.kinetic = energy_mlp(dim // 2, hidden, layers, activation)
        self.potential = energy_mlp(dim // 2, hidden, layers, activation)

    def energy(self, u):
        q, p = u.chunk(2, dim=-1)
        return (self.kinetic(p) + self.potential(q)).squeeze(-1)

    def velocity(self, p):
        return self.kinetic.gradient(p)

    def force(self, q):
        return -self.potential.gradient(q)

    def vector_field(self, u):
        q, p = u.chunk(2, dim=-1)
        return torch.cat([self.velocity(p), self.force(q)], dim=-1)

"""Neural ODE (Chen et al. 2018): the vector field f_theta(u) is an MLP, no structure."""

from __future__ import annotations

from torch import nn

from .base import DynamicsModel, register_model


@register_model
class NeuralODE(DynamicsModel):
    """u_t = MLP(u): dim -> hidden -> hidden -> dim, tanh, orthogonal initialisation (DGNet's baseline)."""

    name = "node"

    def __init__(self, dim: int, hidden: int = 200, layers: int = 2, activation: str = "tanh", **options):
        super().__init__(**options)
        from ..discrete import Elementwise

        mods, width = [], dim
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), Elementwise(activation)]
            width = hidden
        mods.append(nn.Linear(width, dim))
        self.net = nn.Sequential(*mods)
        for m in self.net:
            if isinstance(m, nn.Linear):
                nn.init.orthogonal_(m.weight)
                nn.init.zeros_(m.bias)

    def vector_field(self, u):
        return self.net(u)

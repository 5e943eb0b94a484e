"""Neural ODE (Chen et al. 2018): the vector field f_theta(u) is an MLP, no structure."""

from __future__ import annotations

from torch import nn

from .base import DynamicsModel, register_model


@register_model
class NeuralODE(DynamicsModel):
    """u_t = MLP(u): dim -> hidden -> hidden -> dim, tanh, orthogonal initialisation (DGNet's baseline)."""

    name = "node"

    def __init__(
        self,
        dim: int,
        hidden: int = 200,
        layers: int = 2,
        activation: str = "tanh",
        grid: list[int] | None = None,
        structure: dict | None = None,
        **options,
    ):
        """`grid` (a PDE's periodic grid shape) makes it DGNet's convolutional NODE: conv k = 3
        (circular), tanh, 1 x 1 conv, tanh, 1 x 1 conv (biased) to u_t; `structure` is ignored."""
        super().__init__(**options)
        from ..discrete import Elementwise

        if grid is not None:
            conv = {1: nn.Conv1d, 2: nn.Conv2d}[len(grid)]
            self.net = nn.Sequential(
                conv(1, hidden, 3, padding=1, padding_mode="circular"),
                Elementwise(activation),
                conv(hidden, hidden, 1),
                Elementwise(activation),
                conv(hidden, 1, 1),
            )
            for m in self.net:
                if isinstance(m, (nn.Conv1d, nn.Conv2d)):
                    nn.init.orthogonal_(m.weight.flatten(1))
                    nn.init.zeros_(m.bias)
            self.grid = list(grid)
            return
        self.grid = None
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
        if self.grid is not None:  # (batch, *grid) with a channel axis for the convolutions
            return self.net(u.unsqueeze(1)).squeeze(1)
        return self.net(u)

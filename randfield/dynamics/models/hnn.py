"""Energy-based models u_t = G grad H_theta(u): HNN (Greydanus et al. 2019) and DGNet
(Matsubara et al. 2020), which differ only in how they are trained."""

from __future__ import annotations

import torch

from ..discrete import energy_conv, energy_mlp
from ..structure import CanonicalStructure, StencilStructure
from .base import DynamicsModel, register_model


@register_model
class HNN(DynamicsModel):
    """Hamiltonian neural network: H_theta an MLP (2 x 200 tanh), u_t = G grad H_theta(u).

    ODEs: G = S (canonical, conservative) or S - R with a learnt friction R >= 0 (`friction=True`).
    PDEs ("HNN++"): pass `grid` (the periodic grid's shape) and `structure`, the keyword arguments
    of a `StencilStructure` (fixed D or D^2, or learnt "skew" / "dissipative"); H_theta is then
    DGNet's convolutional energy network.
    grad H is taken in-graph by torch.func, so training back-propagates through it and the
    implicit solvers can differentiate it again. `slope` ("exact" or "published") chooses how the
    MLP's discrete gradient takes its chord slopes (see `discrete.Elementwise`).
    """

    name = "hnn"

    def __init__(
        self,
        dim: int,
        hidden: int = 200,
        layers: int = 2,
        activation: str = "tanh",
        friction: bool = False,
        grid: list[int] | None = None,
        structure: dict | None = None,
        slope: str = "exact",
        **options,
    ):
        super().__init__(**options)
        if grid is None:
            self.hamiltonian = energy_mlp(dim, hidden, layers, activation, slope)
            self.G = CanonicalStructure(dim, friction)
        else:
            if structure is None:
                raise ValueError("a PDE model (grid=...) needs structure=dict(kind=..., spacing=...)")
            self.hamiltonian = energy_conv(len(grid), hidden, activation, slope)
            self.G = StencilStructure(ndim=len(grid), **structure)

    def energy(self, u):
        return self.hamiltonian(u).squeeze(-1)

    def vector_field(self, u):
        return self.G(self.hamiltonian.gradient(u))

    # The DiscreteGradientSystem protocol: lets every energy model predict with the DG step.
    def structure(self, g):
        return self.G(g)

    def discrete_gradient(self, u, v):
        return self.hamiltonian.discrete_gradient(u, v)


@register_model
class DGNet(HNN):
    """DGNet: the HNN's model trained with the discrete-gradient scheme (paper Eq. 6),

        (u_1 - u_0) / dt = G dgradH_theta(u_1, u_0),

    on observed pairs, with no nonlinear solve in training (automatic discrete differentiation).
    Predicts by default with the same implicit step (batched Newton); RK2 and DOPRI5 also work.
    """

    name = "dgnet"
    train_integrators = ("dg",)

    def loss(self, windows, dt):
        if windows.shape[1] != 2:
            raise ValueError(f"DGNet trains on pairs (horizon 1), got windows of {windows.shape[1]} states")
        u0, u1 = windows[:, 0], windows[:, 1]
        predicted = self.structure(self.discrete_gradient(u1, u0))
        return torch.mean((predicted - (u1 - u0) / dt) ** 2)

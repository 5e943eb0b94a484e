"""Pointwise nonlinearity."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..activations import Activation, get_activation
from ..expectations import second_moment
from ..gaussian import DEFAULT_ORDER
from ..mehler import kernel_matrices
from .base import AbstractBlock, KernelState


@dataclass(frozen=True)
class Elementwise(AbstractBlock):
    """a = phi(h), any registered activation.

    Sigma' = E[phi(u) phi(u')], Theta' = Theta * E[phi'(u) phi'(u')], (u, u') ~ N(0, Sigma)
    (Jacot et al. 2018). Closed forms where they exist; otherwise Mehler's series with a
    certified truncation bound, and exact 2-D quadrature for the entries it does not certify.
    """

    activation: str | Activation
    order: int = DEFAULT_ORDER
    act: Activation = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "act", get_activation(self.activation))

    @property
    def row_local(self) -> bool:
        # closed forms are entrywise; Mehler's series computes coefficients per distinct variance
        # once for the whole matrix, which per-row-block calls would repeat
        return self.act.closed_form is not None

    def kernel_map(self, state: KernelState) -> KernelState:
        cov, ntk = kernel_matrices(self.act, state.var1, state.var2, state.nngp, order=self.order, ntk=state.ntk)
        cf = self.act.closed_form

        def moment(v):  # closed forms skip the validation: this runs once per row block and layer
            return cf.covariance(v, v, v) if cf is not None else second_moment(self.act, v, order=self.order)

        var1 = moment(state.var1)
        var2 = var1 if state.var2 is state.var1 else moment(state.var2)  # one batch: once
        return KernelState(cov, ntk, var1, var2, state.width, state.symmetric)

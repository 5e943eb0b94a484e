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
        if cf is not None:  # internal variances need no validation: this runs once per row block and layer
            var1, var2 = (cf.covariance(v, v, v) for v in (state.var1, state.var2))
        else:
            var1, var2 = (second_moment(self.act, v, order=self.order) for v in (state.var1, state.var2))
        return KernelState(cov, ntk, var1, var2, state.width, state.symmetric)

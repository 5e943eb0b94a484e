"""Dropout on the representation (keep probability rho, inverted scaling by 1/rho)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import AbstractBlock, KernelState


@dataclass(frozen=True)
class Dropout(AbstractBlock):
    """a -> a * m / rho, m_i ~ Bernoulli(rho), a fresh mask for every input's forward pass.

    E[m_i^2 / rho^2] = 1/rho and E[m_i m'_i / rho^2] = 1 for independent masks, so the NNGP and NTK
    of an input with itself in one pass (the variances, and the diagonal when x2 is x1) gain 1/rho and
    every other entry is unchanged (Schoenholz et al. 2017, Eqs. 14-15; `randfield.dropout`)."""

    rho: float

    def __post_init__(self):
        from ..dropout import _keep

        object.__setattr__(self, "rho", _keep(self.rho))

    def kernel_map(self, state: KernelState) -> KernelState:
        nngp, ntk = state.nngp, state.ntk
        if state.symmetric:  # the diagonal is each input with itself, in one pass
            nngp, ntk = nngp.copy(), ntk.copy()
            for matrix in (nngp, ntk):
                np.fill_diagonal(matrix, np.diagonal(matrix) / self.rho)
        return KernelState(nngp, ntk, state.var1 / self.rho, state.var2 / self.rho, state.width, state.symmetric)

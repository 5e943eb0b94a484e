"""Fully connected layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._parallel import for_each_row_block
from .._validation import check_positive_int, check_variance
from .base import AbstractBlock, KernelState


@dataclass(frozen=True)
class Dense(AbstractBlock):
    """h = (sigma_w / sqrt(N)) W a + sigma_b b with W, b standard normal (NTK parameterisation, default),
    or h = W a + b with W ~ N(0, sigma_w^2 / N), b ~ N(0, sigma_b^2) (parameterisation="standard").

    NNGP (both): Sigma' = sigma_w^2 Sigma + sigma_b^2.
    NTK, NTK parameterisation (Jacot et al. 2018): Theta' = sigma_w^2 Theta + Sigma'.
    NTK, standard parameterisation: Theta' = sigma_w^2 Theta + N Sigma + 1, which grows with the
    input width N (tracked in KernelState.width; `width` sets the output width for the next layer).
    """

    sigma_w2: float
    sigma_b2: float = 0.0
    parameterization: str = "ntk"
    width: int | None = None
    row_local = True  # entrywise affine maps

    def __post_init__(self):
        check_variance(self.sigma_w2, "sigma_w2")
        check_variance(self.sigma_b2, "sigma_b2")
        if self.parameterization not in ("ntk", "standard"):
            raise ValueError(f"parameterization must be 'ntk' or 'standard', got {self.parameterization!r}")
        if self.width is not None:
            check_positive_int(self.width, "width")

    def kernel_map(self, state: KernelState) -> KernelState:
        sw, sb = float(self.sigma_w2), float(self.sigma_b2)
        if self.parameterization == "ntk":  # both kernels in one pass over cache-sized row blocks
            nngp, ntk = np.empty_like(state.nngp), np.empty_like(state.ntk)

            def block(rows):
                np.multiply(state.nngp[rows], sw, out=nngp[rows])
                nngp[rows] += sb
                np.multiply(state.ntk[rows], sw, out=ntk[rows])
                ntk[rows] += nngp[rows]

            for_each_row_block(block, *nngp.shape)
        else:
            nngp = sw * state.nngp + sb
            if state.width is None:
                raise ValueError(
                    "the standard parameterisation needs the input width: give the previous Dense a width="
                )
            ntk = sw * state.ntk + state.width * state.nngp + (1.0 if sb > 0 else 0.0)
        var1 = sw * state.var1 + sb
        var2 = var1 if state.var2 is state.var1 else sw * state.var2 + sb  # one batch (x2 = x1): once
        return KernelState(nngp, ntk, var1, var2, self.width, state.symmetric)

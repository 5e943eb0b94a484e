"""The RevNet coupling (Gomez et al. 2017) at infinite width: two halves, each updated from the other."""

from __future__ import annotations

from dataclasses import dataclass

from .._validation import check_positive_int
from .base import AbstractBlock, KernelState


@dataclass(frozen=True)
class RevCoupling(AbstractBlock):
    """`n_couplings` additive couplings y1 = x1 + F(x2), y2 = x2 + G(y1) of the two halves of the units.

    Each branch ends in fresh zero-mean weights, so it is uncorrelated with the half it is added to,
    in the NNGP and in the NTK (whose cross terms carry one such weight and average out): with
    K = (NNGP, NTK, diagonals) per half,

        K1 <- K1 + F(K2),    K2 <- K2 + G(K1)     (in that order: G sees the updated half),

    from K1 = K2 = the input's kernel (the units of a representation are exchangeable, so both halves
    start alike; put a Dense layer in front of raw inputs). The halves then differ; the block returns
    their average over units, (K1 + K2) / 2, which is exactly what a following Dense layer (or the
    empirical kernel y.y'/N) reads. F and G are blocks (e.g. serial(Dense, Elementwise, Dense)) on a
    half of the width; in the NTK parameterisation their kernels do not depend on that width.
    """

    f: AbstractBlock
    g: AbstractBlock
    n_couplings: int = 1

    def kernel_map(self, state: KernelState) -> KernelState:
        n = check_positive_int(self.n_couplings, "n_couplings")
        k1 = k2 = state
        for _ in range(n):
            k1 = k1 + self.f.kernel_map(k2)
            k2 = k2 + self.g.kernel_map(k1)
        return (k1 + k2).scale(0.5)

"""Residual blocks and their continuous-depth (ODE) limit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, check_positive_int
from .base import AbstractBlock, KernelState


@dataclass(frozen=True)
class Residual(AbstractBlock):
    """h <- h + alpha * block(h).

    With fresh zero-mean weights at the start of the branch, the branch is uncorrelated
    with its input, so Sigma' = Sigma + alpha^2 Sigma_block and Theta' = Theta + alpha^2 Theta_block
    (neural-tangents' FanOut / FanInSum rule).
    """

    block: AbstractBlock
    branch_scale: float = 1.0

    @property
    def row_local(self) -> bool:
        return self.block.row_local

    def kernel_map(self, state: KernelState) -> KernelState:
        alpha = float(as_float_array(self.branch_scale, "branch_scale"))
        return state + self.block.kernel_map(state).scale(alpha * alpha)


@dataclass(frozen=True)
class ContinuousDepth(AbstractBlock):
    """The limit L -> infinity of L residual blocks of total depth T.

    Scaling: each block's branch has variance alpha^2 = T / L (alpha = sqrt(T / L)). Then the
    residual kernel recursion K_{l+1} = K_l + (T/L) B(K_l) is the Euler scheme, with step T/L,
    of the depth ODE

        dK/dt = B(K),  t in [0, T],

    for K = (NNGP, NTK, diagonals) and B the block's kernel map minus the identity-free part
    (B(K) = block.kernel_map(K)). Hence L-block ResNets converge to it at first order in 1/L.
    (With alpha = T/L instead, as sometimes written, the branches add variance T^2/L -> 0 and
    the limit of i.i.d. blocks is the identity map: the kernels do not move.)

    The ODE is solved by classical RK4 with `steps` steps (error O(steps^-4)).
    """

    block: AbstractBlock
    depth: float = 1.0
    steps: int = 64

    @property
    def row_local(self) -> bool:  # fixed-step RK4: entrywise whenever the block is
        return self.block.row_local

    def kernel_map(self, state: KernelState) -> KernelState:
        T = float(as_float_array(self.depth, "depth"))
        if T < 0:
            raise ValueError(f"depth (the total depth T) must be >= 0, got {T}")
        n = check_positive_int(self.steps, "steps")
        h = T / n

        def rhs(s: KernelState) -> KernelState:
            return self.block.kernel_map(s)

        for _ in range(n):  # RK4 on the kernel state (a vector space under + and scale)
            k1 = rhs(state)
            k2 = rhs(state + k1.scale(h / 2))
            k3 = rhs(state + k2.scale(h / 2))
            k4 = rhs(state + k3.scale(h))
            state = state + (k1 + k2.scale(2.0) + k3.scale(2.0) + k4).scale(h / 6)
        return state


def residual_network(block: AbstractBlock, n_blocks: int, depth: float = 1.0) -> AbstractBlock:
    """L = n_blocks residual blocks with branch variance T / L: the discrete twin of ContinuousDepth."""
    from .base import repeat

    n_blocks = check_positive_int(n_blocks, "n_blocks")
    return repeat(Residual(block, float(np.sqrt(depth / n_blocks))), n_blocks)

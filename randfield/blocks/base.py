"""The kernel state carried through an architecture, and the block interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

import numpy as np

from .._validation import as_float_array, check_positive_int


@dataclass(frozen=True)
class KernelState:
    """Infinite-width kernels of one representation of two batches of inputs.

    Attributes:
        nngp: (n1, n2) covariance Sigma(x1_i, x2_j) of the representation.
        ntk: (n1, n2) neural tangent kernel Theta(x1_i, x2_j) (0 before any parameter).
        var1: (n1,) Sigma(x1_i, x1_i); var2: (n2,) Sigma(x2_j, x2_j).
        width: width of the representation (the input dimension d at the start); only the
            standard parameterisation's NTK depends on it.
    """

    nngp: np.ndarray
    ntk: np.ndarray
    var1: np.ndarray
    var2: np.ndarray
    width: int | None = None

    @classmethod
    def from_inputs(cls, x1, x2=None) -> KernelState:
        """Inputs x1 (n1, d), x2 (n2, d) -> Sigma^0 = x1 x2^T / d, Theta^0 = 0 (inputs normalised by d)."""
        x1 = as_float_array(x1, "x1")
        x2 = x1 if x2 is None else as_float_array(x2, "x2")
        if x1.ndim != 2 or x2.ndim != 2 or x1.shape[1] != x2.shape[1] or x1.shape[1] == 0:
            raise ValueError(
                f"x1 and x2 must have shapes (n1, d) and (n2, d) with d >= 1, got {x1.shape} and {x2.shape}"
            )
        if x1.shape[0] == 0 or x2.shape[0] == 0:
            raise ValueError("x1 and x2 must hold at least one input each")
        d = x1.shape[1]
        return cls(x1 @ x2.T / d, np.zeros((x1.shape[0], x2.shape[0])), (x1 * x1).sum(1) / d, (x2 * x2).sum(1) / d, d)

    def replace(self, **changes) -> KernelState:
        return replace(self, **changes)

    def __add__(self, other: KernelState) -> KernelState:
        """Kernels of the sum of two independent zero-mean branches."""
        return KernelState(
            self.nngp + other.nngp, self.ntk + other.ntk, self.var1 + other.var1, self.var2 + other.var2, self.width
        )

    def scale(self, factor: float) -> KernelState:
        """Kernels of factor * representation."""
        return KernelState(factor * self.nngp, factor * self.ntk, factor * self.var1, factor * self.var2, self.width)


class AbstractBlock(ABC):
    """An architecture block: maps the (NNGP, NTK) of its input to those of its output.

    A new block is one subclass with `kernel_map`. Blocks compose with `serial`.
    """

    @abstractmethod
    def kernel_map(self, state: KernelState) -> KernelState:
        """Infinite-width kernels after the block, given those before it."""

    def __call__(self, state: KernelState) -> KernelState:
        return self.kernel_map(state)


@dataclass(frozen=True)
class Serial(AbstractBlock):
    """Blocks applied one after another."""

    blocks: tuple[AbstractBlock, ...]

    def kernel_map(self, state: KernelState) -> KernelState:
        for block in self.blocks:
            state = block.kernel_map(state)
        return state


def serial(*blocks: AbstractBlock) -> Serial:
    """Compose blocks left to right; nested Serials are flattened."""
    flat: list[AbstractBlock] = []
    for b in blocks:
        if not isinstance(b, AbstractBlock):
            raise TypeError(f"serial takes blocks, got {type(b).__name__}")
        flat.extend(b.blocks if isinstance(b, Serial) else (b,))
    return Serial(tuple(flat))


def repeat(block: AbstractBlock, n: int) -> Serial:
    """`block` applied n times (n >= 0; n = 0 is the identity)."""
    if n != 0:
        check_positive_int(n, "n")
    return serial(*([block] * n))

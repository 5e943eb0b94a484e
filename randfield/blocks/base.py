"""The kernel state carried through an architecture, and the block interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

import numpy as np

from .._parallel import BLOCK, for_each_row_block
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
        symmetric: the two batches are one (x2 = x1): the matrices are symmetric and var2 = var1,
            so row-blocked evaluation computes one triangle and mirrors it.
    """

    nngp: np.ndarray
    ntk: np.ndarray
    var1: np.ndarray
    var2: np.ndarray
    width: int | None = None
    symmetric: bool = False

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
        var1 = (x1 * x1).sum(1) / d
        var2 = var1 if x2 is x1 else (x2 * x2).sum(1) / d
        nngp = x1 @ x2.T / d
        # An input paired with itself has covariance equal to its variance *exactly* (the matmul rounds
        # differently from the row sums): every closed form then sees c = 1, not 1 - eps, at every layer.
        if x2 is x1:
            np.fill_diagonal(nngp, var1)
        else:
            _, ids = np.unique(np.concatenate([x1, x2]), axis=0, return_inverse=True)
            ids = ids.ravel()
            same = ids[: len(x1), None] == ids[None, len(x1) :]
            if same.any():
                rows, cols = np.nonzero(same)
                nngp[rows, cols] = var1[rows]
        return cls(nngp, np.zeros_like(nngp), var1, var2, d, symmetric=x2 is x1)

    def replace(self, **changes) -> KernelState:
        return replace(self, **changes)

    def __add__(self, other: KernelState) -> KernelState:
        """Kernels of the sum of two independent zero-mean branches."""
        return KernelState(
            self.nngp + other.nngp,
            self.ntk + other.ntk,
            self.var1 + other.var1,
            self.var2 + other.var2,
            self.width,
            self.symmetric and other.symmetric,
        )

    def scale(self, factor: float) -> KernelState:
        """Kernels of factor * representation."""
        return KernelState(
            factor * self.nngp, factor * self.ntk, factor * self.var1, factor * self.var2, self.width, self.symmetric
        )


class AbstractBlock(ABC):
    """An architecture block: maps the (NNGP, NTK) of its input to those of its output.

    A new block is one subclass with `kernel_map`. Blocks compose with `serial`.

    `row_local` says that row i of the output kernels depends only on row i of the input kernels
    and the two variance vectors (every entrywise map given the diagonals, at cheap per-call cost):
    a Serial then runs consecutive row-local blocks on cache-sized row blocks of the kernel matrices,
    one block of rows through all of them at a time, on every core. Default False (always correct).
    """

    row_local: bool = False

    @abstractmethod
    def kernel_map(self, state: KernelState) -> KernelState:
        """Infinite-width kernels after the block, given those before it."""

    def __call__(self, state: KernelState) -> KernelState:
        return self.kernel_map(state)


@dataclass(frozen=True)
class Serial(AbstractBlock):
    """Blocks applied one after another."""

    blocks: tuple[AbstractBlock, ...]

    @property
    def row_local(self) -> bool:
        return all(b.row_local for b in self.blocks)

    def kernel_map(self, state: KernelState) -> KernelState:
        i, blocks = 0, self.blocks
        while i < len(blocks):
            j = i
            while j < len(blocks) and blocks[j].row_local:
                j += 1
            if j - i >= 2 and state.nngp.size > FUSED_BLOCK:
                state, i = _run_row_blocked(blocks[i:j], state), j
            else:
                state, i = blocks[i].kernel_map(state), i + 1
        return state


FUSED_BLOCK = BLOCK  # kernel entries per row block carried through a run of row-local blocks


def _run_row_blocked(blocks: tuple[AbstractBlock, ...], state: KernelState) -> KernelState:
    """Row-local blocks applied one row block at a time: each block of rows goes through every layer
    while it is in cache, instead of every layer streaming whole n1 x n2 matrices through memory.
    Each entry sees the same arithmetic as without blocking, so the results are bit-identical. For a
    symmetric state only the columns from the block's first row on are computed (the upper triangle
    and the diagonal blocks), and the rest is mirrored: half the work."""
    n1, n2 = state.nngp.shape
    nngp, ntk, var1 = np.empty_like(state.nngp), np.empty_like(state.nngp), np.empty_like(state.var1)
    tail: dict = {}
    symmetric = state.symmetric and n1 == n2

    def rows_through(rows):
        cols = slice(rows.start if symmetric else 0, n2)
        part = KernelState(
            state.nngp[rows, cols], state.ntk[rows, cols], state.var1[rows], state.var2[cols], state.width
        )
        for block in blocks:
            part = block.kernel_map(part)
        nngp[rows, cols], ntk[rows, cols], var1[rows] = part.nngp, part.ntk, part.var1
        if not symmetric:
            tail.setdefault("var2", part.var2)
        tail.setdefault("width", part.width)

    def mirror(rows):  # lower triangle left of the block's diagonal square, from the finished upper one
        nngp[rows, : rows.start] = nngp[: rows.start, rows].T
        ntk[rows, : rows.start] = ntk[: rows.start, rows].T

    for_each_row_block(rows_through, n1, n2, block=FUSED_BLOCK)
    if symmetric:
        for_each_row_block(mirror, n1, n2, block=FUSED_BLOCK)
    var2 = var1 if symmetric else tail["var2"]
    return KernelState(nngp, ntk, var1, var2, tail["width"], symmetric)


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

"""Convenience functions: dense-network kernels and composed architectures."""

from __future__ import annotations

import ast

import numpy as np

from .._validation import check_positive_int
from ..activations import Activation
from .base import AbstractBlock, KernelState, repeat, serial
from .dense import Dense
from .dropout import Dropout
from .elementwise import Elementwise
from .residual import ContinuousDepth, Residual, residual_network


def dense_network(
    activation: str | Activation, depth: int, sigma_w2: float, sigma_b2: float, *, parameterization: str = "ntk"
) -> AbstractBlock:
    """Dense -> phi -> Dense -> ... -> phi -> Dense: `depth` hidden nonlinear layers, a linear readout."""
    depth = check_positive_int(depth, "depth")
    layer = Dense(sigma_w2, sigma_b2, parameterization)
    return serial(layer, repeat(serial(Elementwise(activation), layer), depth))


def kernels(x1, x2=None, architecture: AbstractBlock | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(NNGP, NTK) of the network output, each (n1, n2), for inputs x1 (n1, d), x2 (n2, d), in one pass.

    x2 None (or omitted: ``kernels(x, architecture)``) means x1: the matrices are then symmetric,
    computed on one triangle and mirrored. Inputs are normalised by d: the input kernel is x1 x2^T / d.
    """
    if architecture is None and isinstance(x2, AbstractBlock):
        x2, architecture = None, x2
    if not isinstance(architecture, AbstractBlock):
        raise TypeError(f"architecture must be a block (see randfield.blocks), got {type(architecture).__name__}")
    out = architecture.kernel_map(KernelState.from_inputs(x1, x2))
    return out.nngp, out.ntk


def _dense(activation, depth, sigma_w2, sigma_b2) -> AbstractBlock:
    if sigma_w2 is None:
        raise TypeError("sigma_w2 is required (the weight variance, >= 0)")
    return dense_network(activation, depth, sigma_w2, sigma_b2)


def nngp(x1, x2=None, activation="relu", depth: int = 1, sigma_w2: float | None = None, sigma_b2: float = 0.0):
    """NNGP kernel of the dense network (see `dense_network`), shape (n1, n2); x2 None means x1.
    For both kernels use `kernels(x1, x2, dense_network(...))`: one pass instead of two."""
    return kernels(x1, x2, _dense(activation, depth, sigma_w2, sigma_b2))[0]


def ntk(x1, x2=None, activation="relu", depth: int = 1, sigma_w2: float | None = None, sigma_b2: float = 0.0):
    """Neural tangent kernel (Jacot et al. 2018) of the dense network in NTK parameterisation, (n1, n2)."""
    return kernels(x1, x2, _dense(activation, depth, sigma_w2, sigma_b2))[1]


_CONSTRUCTORS = {
    "Dense": Dense,
    "Dropout": Dropout,
    "Elementwise": Elementwise,
    "Residual": Residual,
    "ContinuousDepth": ContinuousDepth,
    "serial": serial,
    "repeat": repeat,
    "dense_network": dense_network,
    "residual_network": residual_network,
}


def parse_architecture(text: str) -> AbstractBlock:
    """Build an architecture from a Python-like expression using only the block constructors, e.g.
    ``serial(Dense(2, 0.1), Residual(serial(Elementwise("relu"), Dense(1, 0)), 0.5), Dense(1, 0))``.
    Nothing but calls of those names with literal arguments is evaluated."""

    def build(node):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _CONSTRUCTORS:
                raise ValueError(f"unknown block in architecture; allowed: {', '.join(_CONSTRUCTORS)}")
            args = [build(a) for a in node.args]
            kwargs = {k.arg: build(k.value) for k in node.keywords}
            return _CONSTRUCTORS[node.func.id](*args, **kwargs)
        try:
            return ast.literal_eval(node)
        except ValueError as err:
            raise ValueError(f"architecture arguments must be literals, got {ast.unparse(node)!r}") from err

    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ValueError(f"cannot parse architecture {text!r}: {err.msg}") from err
    block = build(tree.body)
    if not isinstance(block, AbstractBlock):
        raise ValueError(f"architecture must evaluate to a block, got {type(block).__name__}")
    return block

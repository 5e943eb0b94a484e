"""Continuous-depth blocks as torch modules, one registered class per file: ResBlock (Euler step),
RKBlock (RK4 steps, backprop), ODEBlock (adaptive solve, any gradient mode, NFE), RevBlock (exact
inverse, memory-saving backward)."""

from . import ode, res, rev, rk  # noqa: F401  (register the blocks)
from .base import BLOCKS, available_blocks, register_block
from .ode import ODEBlock
from .res import ResBlock
from .rev import RevBlock
from .rk import RKBlock

__all__ = ["BLOCKS", "ODEBlock", "RKBlock", "ResBlock", "RevBlock", "available_blocks", "register_block"]

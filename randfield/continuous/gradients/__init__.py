"""Gradient modes of `randfield.continuous.odeint`, one registered class per file."""

from . import adjoint, backprop, checkpoint, reversible, symplectic  # noqa: F401  (register the modes)
from .base import GRADIENT_MODES, GradientMode, SolveStats, available_gradients, get_gradient, register_gradient

__all__ = ["GRADIENT_MODES", "GradientMode", "SolveStats", "available_gradients", "get_gradient", "register_gradient"]

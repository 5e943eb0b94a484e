"""Backpropagation through the unrolled solver: the reference, O(steps) memory."""

from __future__ import annotations

from .base import GradientMode, direct_solve, register_gradient


@register_gradient
class Backprop(GradientMode):
    name = "backprop"

    def solve(self, s, u0):
        return direct_solve(s, u0)

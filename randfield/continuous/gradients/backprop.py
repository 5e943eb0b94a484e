"""Backpropagation through the unrolled solver: the reference, O(steps) memory."""

from __future__ import annotations

import torch

from ...dynamics.integrators import AbstractAdaptiveIntegrator
from .base import GradientMode, register_gradient


@register_gradient
class Backprop(GradientMode):
    name = "backprop"

    def solve(self, s, u0):
        if isinstance(s.integrator, AbstractAdaptiveIntegrator):
            record: list = []
            ys = s.integrator.integrate(s.system, u0, s.t, record=record)
            s.stats.steps_accepted = sum(r[2] for r in record)
            s.stats.steps_rejected = len(record) - s.stats.steps_accepted
        else:
            u, out = u0, [u0]
            for dt in (s.t[1:] - s.t[:-1]).tolist():
                for _ in range(s.substeps):
                    u = s.integrator.step(s.system, u, dt / s.substeps)
                out.append(u)
            ys = torch.stack(out)
            s.stats.steps_accepted = s.substeps * (len(s.t) - 1)
        s.stats.nfe_forward = s.system.count
        return ys

"""Reversible backpropagation: rebuild the trajectory backwards by the step's exact algebraic inverse.

For integrators with an `inverse_step` (leapfrog; the RevNet coupling is the same idea, Gomez et al.
2017): nothing but the final state is kept; the backward pass inverts one step at a time, re-evaluates
it with a graph and back-propagates through it. Memory O(1) in the number of steps and the gradient of
the discrete scheme, equal to backprop's to rounding (the inverse reproduces each state to rounding).
"""

from __future__ import annotations

import torch

from ._stepwise import add, vjp
from .base import GradientMode, fixed_plan, register_gradient


class _ReversibleFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, s, u0, *params):
        plan = fixed_plan(s.t, s.substeps).flat
        out, u = [u0], u0
        with torch.no_grad():
            for dt, ends in plan:
                u = s.integrator.step(s.system, u, dt)
                if ends:
                    out.append(u)
        s.stats.nfe_forward, s.stats.steps_accepted = s.system.count, len(plan)
        ctx.s, ctx.plan = s, plan
        ys = torch.stack(out)
        ctx.save_for_backward(u)  # the final state only
        return ys

    @staticmethod
    def backward(ctx, grad_ys):
        (u,) = ctx.saved_tensors
        s, plan = ctx.s, ctx.plan
        a, g = grad_ys[-1], [torch.zeros_like(p) for p in s.params]
        out_index = len(grad_ys) - 1
        for dt, ends in reversed(plan):
            if ends and out_index < len(grad_ys) - 1:
                a = a + grad_ys[out_index]
            out_index -= ends
            with torch.no_grad():
                u = s.integrator.inverse_step(s.system, u, dt)
            a, gp = vjp(lambda x, dt=dt: s.integrator.step(s.system, x, dt), u, a, s.params)
            g = add(g, gp)
        a = a + grad_ys[0]
        return (None, a, *g)


@register_gradient
class Reversible(GradientMode):
    name = "reversible"

    def check(self, integrator):
        if not hasattr(integrator, "inverse_step"):
            raise ValueError(
                f"gradient='reversible' needs an integrator with an exact inverse (leapfrog); {integrator.name!r} "
                "has none: use 'symplectic', 'checkpoint' or 'adjoint'"
            )

    def solve(self, s, u0):
        return _ReversibleFunction.apply(s, u0, *s.params)

"""The symplectic adjoint (Matsubara, Miyatake & Yaguchi, NeurIPS 2021): the exact gradient of an explicit
Runge–Kutta solve at low memory.

The adjoint of the RK step u' = u + h sum_i b_i k_i, k_i = f(U_i), U_i = u + h sum_{j<i} a_ij k_j is the
RK step's symplectic partner (Sanz-Serna 2016): with lambda' = dL/du', stage by stage from the last,

    Lambda_i = h b_i lambda' + h sum_{m>i} a_mi mu_m,   mu_i = (df/du at U_i)^T Lambda_i,
    lambda = lambda' + sum_i mu_i,                      dL/dtheta += sum_i (df/dtheta at U_i)^T Lambda_i.

Only the state at the start of every step is kept in the forward pass; the backward pass recomputes the
s stage states of one step without a graph and then holds one evaluation's graph at a time, so memory
is O(steps x state + one evaluation of f) instead of backprop's O(steps x stages x the evaluation's
activations), and the gradient is backprop's to rounding. Adaptive solves (dopri5) are planned first and
their accepted steps replayed.
"""

from __future__ import annotations

import torch

from ._stepwise import add, vjp
from .base import GradientMode, make_plan, register_gradient


class _SymplecticFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, s, u0, *params):
        planned, plan = make_plan(s.integrator, s.system, u0, s.t, s.substeps)
        steps = plan.flat
        if planned is not None:  # adaptive: the planning solve kept the step starts already
            starts, ys = plan.starts, planned
        else:
            starts, out, u = [], [u0], u0
            with torch.no_grad():
                for dt, ends in steps:
                    starts.append(u)
                    u = s.integrator.step(s.system, u, dt)
                    if ends:
                        out.append(u)
            ys = torch.stack(out)
        s.stats.nfe_forward = s.system.count
        s.stats.steps_accepted, s.stats.steps_rejected = len(steps), plan.rejected
        ctx.s, ctx.steps = s, steps
        ctx.save_for_backward(*starts)
        return ys

    @staticmethod
    def backward(ctx, grad_ys):
        s, steps = ctx.s, ctx.steps
        starts = ctx.saved_tensors
        a_rows, b = s.integrator.tableau
        f = s.system.vector_field
        lam, g = grad_ys[-1], [torch.zeros_like(p) for p in s.params]
        out_index = len(grad_ys) - 1
        for (dt, ends), u in zip(reversed(steps), reversed(starts)):
            if ends and out_index < len(grad_ys) - 1:
                lam = lam + grad_ys[out_index]
            out_index -= ends
            with torch.no_grad():  # the stage states U_i, no graph
                ks, us = [], []
                for i, row in enumerate(a_rows):
                    ui = u
                    for w, k in zip(row, ks):
                        if w:
                            ui = ui + (dt * w) * k
                    us.append(ui)
                    if i < len(a_rows) - 1:  # the last stage's k feeds no later stage
                        ks.append(f(ui))
            mus = [None] * len(us)
            total = lam
            for i in range(len(us) - 1, -1, -1):
                cot = (dt * b[i]) * lam
                for m in range(i + 1, len(us)):
                    if a_rows[m][i]:
                        cot = cot + (dt * a_rows[m][i]) * mus[m]
                if b[i] == 0 and not any(a_rows[m][i] for m in range(i + 1, len(us))):
                    mus[i] = torch.zeros_like(u)  # a stage nobody uses (dopri5's FSAL stage)
                    continue
                mus[i], gp = vjp(f, us[i], cot, s.params)
                g = add(g, gp)
                total = total + mus[i]
            lam = total
        lam = lam + grad_ys[0]
        return (None, lam, *g)


@register_gradient
class Symplectic(GradientMode):
    name = "symplectic"

    def check(self, integrator):
        if not hasattr(integrator, "tableau"):
            raise ValueError(
                f"gradient='symplectic' needs an explicit Runge-Kutta method (euler, rk2, rk4, dopri5); "
                f"got {integrator.name!r}"
            )

    def solve(self, s, u0):
        return _SymplecticFunction.apply(s, u0, *s.params)

"""The symplectic adjoint (Matsubara, Miyatake & Yaguchi, NeurIPS 2021): the exact gradient of an explicit
Runge–Kutta solve at low memory.

The adjoint of the RK step u' = u + h sum_i b_i k_i, k_i = f(U_i), U_i = u + h sum_{j<i} a_ij k_j is the
RK step's symplectic partner (Sanz-Serna 2016): with lambda' = dL/du', stage by stage from the last,

    Lambda_i = h b_i lambda' + h sum_{m>i} a_mi mu_m,   mu_i = (df/du at U_i)^T Lambda_i,
    lambda = lambda' + sum_i mu_i,                      dL/dtheta += sum_i (df/dtheta at U_i)^T Lambda_i.

The forward pass keeps the state at K checkpoints (default sqrt(steps)); the backward pass recomputes one
segment's stage states without a graph and then holds one evaluation's graph at a time, so memory is
O((K + stages x steps / K) x state + one evaluation of f) instead of backprop's O(steps x stages x the
evaluation's activations), and the gradient is backprop's to rounding. Adaptive solves (dopri5) are
planned first; their accepted steps are replayed.
"""

from __future__ import annotations

import math

import torch

from ._stepwise import add, vjp
from .base import GradientMode, make_plan, register_gradient


def _stage_states(f, a_rows, b, u, dt):
    """Without a graph: the stage states U_i of one step from u, and the step's end state."""
    ks, us = [], []
    for row in a_rows:
        ui = u
        for w, k in zip(row, ks):
            if w:
                ui = ui + (dt * w) * k
        us.append(ui)
        ks.append(f(ui))
    end = u
    for w, k in zip(b, ks):
        if w:
            end = end + (dt * w) * k
    return us, end


def _step_adjoint(f, a_rows, b, us, dt, lam, params, g):
    """lambda_n and the parameter gradient from lambda_{n+1}, one evaluation graph at a time."""
    n = len(us)
    mus = [None] * n
    total = lam
    for i in range(n - 1, -1, -1):
        used = [m for m in range(i + 1, n) if a_rows[m][i] and mus[m] is not None]
        if b[i] == 0 and not used:  # a stage nobody uses (dopri5's FSAL stage)
            continue
        cot = (dt * b[i]) * lam if b[i] else torch.zeros_like(lam)
        for m in used:
            cot = cot + (dt * a_rows[m][i]) * mus[m]
        mus[i], gp = vjp(f, us[i], cot, params)
        g = add(g, gp)
        total = total + mus[i]
    return total, g


class _SymplecticFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, mode, s, u0, *params):
        planned, plan = make_plan(s.integrator, s.system, u0, s.t, s.substeps)
        steps = plan.flat
        k = mode.segments or max(1, round(math.sqrt(len(steps))))
        size = math.ceil(len(steps) / k)
        if planned is not None:  # adaptive: the planning solve has every step's start already
            starts, ys = plan.starts[::size], planned
        else:
            starts, out, u = [], [u0], u0
            with torch.no_grad():
                for n, (dt, ends) in enumerate(steps):
                    if n % size == 0:
                        starts.append(u)
                    u = s.integrator.step(s.system, u, dt)
                    if ends:
                        out.append(u)
            ys = torch.stack(out)
        s.stats.nfe_forward = s.system.count
        s.stats.steps_accepted, s.stats.steps_rejected = len(steps), plan.rejected
        ctx.s, ctx.steps, ctx.size = s, steps, size
        ctx.save_for_backward(*starts)
        return ys

    @staticmethod
    def backward(ctx, grad_ys):
        s, steps, size = ctx.s, ctx.steps, ctx.size
        starts = ctx.saved_tensors
        a_rows, b = s.integrator.tableau
        f = s.system.vector_field
        lam, g = grad_ys[-1], [torch.zeros_like(p) for p in s.params]
        out_index = len(grad_ys) - 1
        for c in range(len(starts) - 1, -1, -1):
            segment = steps[c * size : (c + 1) * size]
            stages, u = [], starts[c]
            with torch.no_grad():  # the segment's stage states, recomputed without a graph
                for dt, _ in segment:
                    us, u = _stage_states(f, a_rows, b, u, dt)
                    stages.append(us)
            for (dt, ends), us in zip(reversed(segment), reversed(stages)):
                if ends and out_index < len(grad_ys) - 1:
                    lam = lam + grad_ys[out_index]
                out_index -= ends
                lam, g = _step_adjoint(f, a_rows, b, us, dt, lam, s.params, g)
        lam = lam + grad_ys[0]
        return (None, None, lam, *g)


@register_gradient
class Symplectic(GradientMode):
    name = "symplectic"

    def __init__(self, segments: int | None = None):
        if segments is not None and (int(segments) != segments or segments < 1):
            raise ValueError(f"segments must be a positive integer, got {segments!r}")
        self.segments = segments

    def check(self, integrator):
        if not hasattr(integrator, "tableau"):
            raise ValueError(
                f"gradient='symplectic' needs an explicit Runge-Kutta method (euler, rk2, rk4, dopri5); "
                f"got {integrator.name!r}"
            )

    def solve(self, s, u0):
        return _SymplecticFunction.apply(self, s, u0, *s.params)

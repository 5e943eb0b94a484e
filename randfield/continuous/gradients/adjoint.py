"""The adjoint sensitivity method (Chen et al. 2018, Algorithm 1): O(1) memory in the number of steps.

Forward: solve without a graph. Backward, interval by interval from the last output time: integrate the
augmented state (z, a = dL/dz, g = dL/dtheta) backwards in time,

    dz/dt = f(z),   da/dt = -a^T df/dz,   dg/dt = -a^T df/dtheta,

with vector-Jacobian products by `torch.autograd.grad`, in reversed time s = -t so that every integrator
of the registry (fixed-step or adaptive, with its own backward tolerances) can be used as is. At each
output time z is reset to the stored forward state (as torchdiffeq does, so the reverse solve does not
drift) and the loss's gradient there jumps into a.
"""

from __future__ import annotations

import torch

from ...dynamics.integrators import AbstractAdaptiveIntegrator, System, get_integrator
from .base import GradientMode, direct_solve, register_gradient, zeros_like_all


class _Augmented:
    """(z, a, g) flattened into one row (1, n), in reversed time."""

    def __init__(self, system, params, shape):
        self.system, self.params, self.shape = system, params, shape
        self.n = shape.numel()

    def split(self, v):
        z, a = v[0, : self.n].reshape(self.shape), v[0, self.n : 2 * self.n].reshape(self.shape)
        return z, a

    def vector_field(self, v):
        z, a = self.split(v)
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            f = self.system.vector_field(z)
            grads = torch.autograd.grad(f, (z, *self.params), a, allow_unused=True)
        grads = zeros_like_all(grads, (z, *self.params))
        return torch.cat([-f.detach().reshape(-1)] + [g.reshape(-1) for g in grads])[None]


class _AdjointFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, mode, s, u0, *params):
        with torch.no_grad():
            ys = direct_solve(s, u0)
        ctx.mode, ctx.s = mode, s
        ctx.save_for_backward(ys)
        return ys

    @staticmethod
    def backward(ctx, grad_ys):
        (ys,) = ctx.saved_tensors
        mode, s = ctx.mode, ctx.s
        aug = _Augmented(s.system, s.params, ys.shape[1:])
        back = mode.backward_integrator(s.integrator)
        a = grad_ys[-1]
        g = [torch.zeros_like(p) for p in s.params]
        times = s.t.tolist()
        for i in range(len(times) - 1, 0, -1):
            v0 = torch.cat([ys[i].reshape(-1), a.reshape(-1)] + [x.reshape(-1) for x in g])[None]
            span = torch.tensor([-times[i], -times[i - 1]], dtype=torch.float64)
            if isinstance(back, AbstractAdaptiveIntegrator):
                v = back.integrate(aug, v0, span)[-1]
            else:
                v, h = v0, (times[i] - times[i - 1]) / s.substeps
                for _ in range(s.substeps):
                    v = back.step(aug, v, h)
            _, a = aug.split(v)
            a = a + grad_ys[i - 1]
            offset = 2 * aug.n
            for k, p in enumerate(s.params):
                g[k] = v[0, offset : offset + p.numel()].reshape(p.shape)
                offset += p.numel()
        return (None, None, a, *g)


@register_gradient
class Adjoint(GradientMode):
    """method / options: the backward integrator and its options (default: the forward's, e.g. other
    rtol/atol for dopri5)."""

    name = "adjoint"

    def __init__(self, method=None, **options):
        self.method, self.options = method, options

    def check(self, integrator):
        if integrator.requires is not System:
            raise ValueError(
                f"gradient='adjoint' integrates the augmented system with {integrator.name!r}, which needs a "
                f"{integrator.requires.__name__}; use gradient='reversible' (leapfrog) or 'backprop'"
            )

    def backward_integrator(self, forward):
        if self.method is None and not self.options:
            return forward
        if self.method is None:  # the forward's method with other options (e.g. rtol/atol)
            return type(forward)(**{**_fields(forward), **self.options})
        return get_integrator(self.method, **self.options)

    def solve(self, s, u0):
        return _AdjointFunction.apply(self, s, u0, *s.params)


def _fields(integrator) -> dict:
    from dataclasses import fields, is_dataclass

    return {f.name: getattr(integrator, f.name) for f in fields(integrator)} if is_dataclass(integrator) else {}

"""Störmer–Verlet / leapfrog for separable H = T(p) + V(q) (SRNN; Chen et al. ICLR 2020)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import AbstractIntegrator, SeparableSystem, register_integrator


@dataclass(frozen=True)
class Leapfrog(AbstractIntegrator):
    """Kick–drift–kick: p_{1/2} = p + dt/2 F(q); q' = q + dt v(p_{1/2}); p' = p_{1/2} + dt/2 F(q').

    Explicit, symplectic, symmetric, order 2; the energy error stays bounded over exponentially
    long times instead of drifting. The state's last axis is (q, p) in halves.
    """

    name = "leapfrog"
    order = 2
    requires = SeparableSystem

    def step(self, system, u, dt):
        q, p = u.chunk(2, dim=-1)
        p = p + (dt / 2) * system.force(q)
        q = q + dt * system.velocity(p)
        p = p + (dt / 2) * system.force(q)
        return torch.cat([q, p], dim=-1)

    def inverse_step(self, system, u, dt):
        """The exact algebraic inverse of `step` (leapfrog is symmetric: a step of -dt undoes one of dt)."""
        return self.step(system, u, -dt)


register_integrator(Leapfrog, "verlet", "stormer_verlet")

"""Explicit Runge–Kutta methods as data (Butcher tableaux): Euler, midpoint RK2, classic RK4."""

from __future__ import annotations

from dataclasses import dataclass

from .base import AbstractIntegrator, register_integrator


def stages(system, u, dt, a, first=None) -> list:
    """The stage derivatives k_i = f(u + dt sum_j a_ij k_j) of an explicit tableau with rows `a`
    (k_1 = `first` when given: first-same-as-last methods reuse the previous step's last stage)."""
    ks = [] if first is None else [first]
    for row in a[len(ks) :]:
        ks.append(system.vector_field(combine(u, dt, row, ks)))
    return ks


def combine(u, dt, weights, ks):
    """u + dt sum_i w_i k_i, skipping zero weights."""
    out = u
    for w, k in zip(weights, ks):
        if w:
            out = out + (dt * w) * k
    return out


@dataclass(frozen=True)
class ExplicitRungeKutta(AbstractIntegrator):
    """u_{n+1} = u_n + dt sum_i b_i k_i with k_i = f(u_n + dt sum_{j<i} a_ij k_j) (autonomous f).

    `a` holds the strictly lower-triangular rows of the tableau (row i has i entries).
    """

    name: str
    order: int
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]

    def step(self, system, u, dt):
        return combine(u, dt, self.b, stages(system, u, dt, self.a))

    @property
    def tableau(self):
        return self.a, self.b

    def __call__(self):  # registry factories are called with the options; tableaux take none
        return self


EULER = ExplicitRungeKutta("euler", 1, ((),), (1.0,))
"""Forward Euler: a ResNet block u + dt f(u) is one step."""
MIDPOINT = ExplicitRungeKutta("rk2", 2, ((), (0.5,)), (0.0, 1.0))
"""Explicit midpoint rule (torchdiffeq's "midpoint"; DGNet's RK2)."""
RK4 = ExplicitRungeKutta("rk4", 4, ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)), (1 / 6, 1 / 3, 1 / 3, 1 / 6))
"""The classic fourth-order Runge–Kutta method."""

register_integrator(EULER)
register_integrator(MIDPOINT, "midpoint")
register_integrator(RK4)

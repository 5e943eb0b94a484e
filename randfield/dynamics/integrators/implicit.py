"""Implicit one-step methods solved by batched Newton: implicit midpoint and the discrete-gradient step."""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import AbstractIntegrator, DiscreteGradientSystem, register_integrator
from .newton import ConvergenceError, NewtonSolver
from .runge_kutta import MIDPOINT


@dataclass(frozen=True)
class _Implicit(AbstractIntegrator):
    """Options of the Newton solve (see `NewtonSolver`); an instance keeps its Jacobian between
    steps, and `integrate` makes a fresh instance per rollout."""

    rtol: float | None = None  # None: 1e-12 in float64, 1e-5 in float32
    atol: float | None = None
    max_iter: int = 50
    reuse_jacobian: bool | None = None  # None: see NewtonSolver.reuse_jacobian
    predictor: str = "rk2"  # "rk2" (DGNet's explicit guess) or "previous" (u_n; better for stiff systems)
    jacobian: str = "auto"  # see NewtonSolver.jacobian
    solver: NewtonSolver = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.predictor not in ("rk2", "previous"):
            raise ValueError(f"predictor must be 'rk2' or 'previous', got {self.predictor!r}")
        object.__setattr__(
            self,
            "solver",
            NewtonSolver(self.rtol, self.atol, self.max_iter, self.reuse_jacobian, jacobian=self.jacobian),
        )

    def _solve(self, system, residual, u, dt):
        u = u.detach()
        if self.predictor == "previous":
            return self.solver.solve(residual, u, u)
        try:
            return self.solver.solve(residual, MIDPOINT.step(system, u, dt), u)
        except ConvergenceError:
            # On stiff systems the explicit guess can be far off (RK2 amplifies stiff modes):
            # retry from u_n with a fresh Jacobian before giving up.
            self.solver.forget()
            return self.solver.solve(residual, u, u)


@dataclass(frozen=True)
class ImplicitMidpoint(_Implicit):
    """u_{n+1} = u_n + dt f((u_n + u_{n+1}) / 2): symplectic, symmetric, order 2, conserves
    quadratic invariants exactly."""

    name = "implicit_midpoint"
    order = 2

    def step(self, system, u, dt):
        def residual(x, u):
            return x - u - dt * system.vector_field((x + u) / 2)

        return self._solve(system, residual, u, dt)


@dataclass(frozen=True)
class DiscreteGradientStep(_Implicit):
    """(u_{n+1} - u_n) / dt = G dgradH(u_{n+1}, u_n) (DGNet Eq. 6; Gonzalez 1996, McLachlan et al. 1999).

    With G skew, H(u_{n+1}) = H(u_n) exactly (to the solver tolerance and rounding); with G
    negative semi-definite H does not increase; invariants c with c^T G = 0 (mass) are kept.
    Order 2 for the symmetric discrete gradients of `randfield.dynamics.discrete`.
    """

    name = "dg"
    order = 2
    requires = DiscreteGradientSystem

    def step(self, system, u, dt):
        def residual(x, u):
            return x - u - dt * system.structure(system.discrete_gradient(x, u))

        return self._solve(system, residual, u, dt)


register_integrator(ImplicitMidpoint)
register_integrator(DiscreteGradientStep, "discrete_gradient")

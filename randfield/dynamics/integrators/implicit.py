"""Implicit one-step methods solved by batched Newton: implicit midpoint and the discrete-gradient step."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb, isclose

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
    # the Newton start: "rk2" (DGNet's explicit guess; two vector-field evaluations), "extrapolate"
    # (the polynomial through the last EXTRAPOLATION_POINTS states of the rollout, free; rk2 until
    # there are that many), or "previous" (u_n; better for stiff systems)
    predictor: str = "rk2"
    jacobian: str = "auto"  # see NewtonSolver.jacobian
    solver: NewtonSolver = field(init=False, repr=False, compare=False)
    _history: dict = field(init=False, repr=False, compare=False)  # "extrapolate": this rollout's last states

    def __post_init__(self):
        if self.predictor not in PREDICTORS:
            raise ValueError(f"predictor must be one of {PREDICTORS}, got {self.predictor!r}")
        object.__setattr__(
            self,
            "solver",
            NewtonSolver(self.rtol, self.atol, self.max_iter, self.reuse_jacobian, jacobian=self.jacobian),
        )
        object.__setattr__(self, "_history", {})

    def _solve(self, system, residual, u, dt):
        continued = self._continued(u, dt)  # before detaching: u itself must be our last answer
        u = u.detach()
        if self.predictor == "previous":
            return self.solver.solve(residual, u, u)
        try:
            x = self.solver.solve(residual, self._guess(system, u, dt, continued), u)
        except ConvergenceError:
            # On stiff systems the explicit guess can be far off (RK2 amplifies stiff modes):
            # retry from u_n with a fresh Jacobian before giving up.
            self.solver.forget()
            x = self.solver.solve(residual, u, u)
        if self.predictor == "extrapolate":
            states = (continued or [u]) + [x]
            self._history.update(states=states[-EXTRAPOLATION_POINTS:], last=x, dt=dt)
        return x

    def _guess(self, system, u, dt, states):
        if self.predictor == "extrapolate" and len(states) == EXTRAPOLATION_POINTS:
            # equal steps: the Lagrange polynomial through u_{n-k+1..n} at t_{n+1}, sum_j (-1)^j C(k, j+1) u_{n-j}
            return sum(c * s for c, s in zip(_EXTRAPOLATION_WEIGHTS, reversed(states)))
        return MIDPOINT.step(system, u, dt)

    def _continued(self, u, dt) -> list:
        """The kept states if u is the last solution of the same rollout at the same step, else []."""
        h = self._history
        # (equal steps up to the rounding of t[1:] - t[:-1])
        return h["states"] if h.get("last") is u and isclose(h["dt"], dt, rel_tol=1e-9) else []


PREDICTORS = ("rk2", "extrapolate", "previous")
EXTRAPOLATION_POINTS = 3
_EXTRAPOLATION_WEIGHTS = [(-1) ** j * comb(EXTRAPOLATION_POINTS, j + 1) for j in range(EXTRAPOLATION_POINTS)]


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

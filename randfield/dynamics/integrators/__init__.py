"""Integrators: one class per method, one registry (`get_integrator`), one entry point (`integrate`).

| name                      | kind                          | order | needs                  |
|---------------------------|-------------------------------|-------|------------------------|
| euler                     | explicit                      | 1     | vector_field           |
| rk2 (midpoint)            | explicit                      | 2     | vector_field           |
| rk4                       | explicit                      | 4     | vector_field           |
| dopri5 (dp)               | explicit, adaptive 5(4)       | 5     | vector_field           |
| leapfrog (verlet)         | explicit, symplectic          | 2     | velocity, force        |
| implicit_midpoint         | implicit (Newton), symplectic | 2     | vector_field           |
| dg (discrete_gradient)    | implicit (Newton), energy-exact | 2   | structure, discrete_gradient |
"""

from .base import (
    AbstractAdaptiveIntegrator,
    AbstractIntegrator,
    DiscreteGradientSystem,
    SeparableSystem,
    System,
    available_integrators,
    get_integrator,
    integrate,
    register_integrator,
)
from .dopri5 import Dopri5, StepSizeError
from .implicit import DiscreteGradientStep, ImplicitMidpoint
from .leapfrog import Leapfrog
from .newton import ConvergenceError, NewtonSolver, newton_solve
from .runge_kutta import EULER, MIDPOINT, RK4, ExplicitRungeKutta

__all__ = [
    "AbstractAdaptiveIntegrator",
    "AbstractIntegrator",
    "ConvergenceError",
    "DiscreteGradientStep",
    "DiscreteGradientSystem",
    "Dopri5",
    "EULER",
    "ExplicitRungeKutta",
    "ImplicitMidpoint",
    "Leapfrog",
    "MIDPOINT",
    "NewtonSolver",
    "RK4",
    "SeparableSystem",
    "StepSizeError",
    "System",
    "available_integrators",
    "get_integrator",
    "integrate",
    "newton_solve",
    "register_integrator",
]

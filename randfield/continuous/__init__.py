"""Continuous-depth networks: ODE solves with O(1)-memory gradients, and the blocks built on them.

>>> from randfield.continuous import odeint
>>> ys, stats = odeint(field, u0, [0.0, 1.0], "dopri5", gradient="adjoint", return_stats=True)
"""

from .gradients import SolveStats, available_gradients, get_gradient, register_gradient
from .solve import odeint

__all__ = ["SolveStats", "available_gradients", "get_gradient", "odeint", "register_gradient"]

"""`odeint`: solve du/dt = f(u) with any integrator of the registry and any gradient mode.

| gradient     | memory in the number of steps     | gradient of                      | integrators            |
|--------------|-----------------------------------|----------------------------------|------------------------|
| backprop     | O(steps x stages x activations)   | the discrete scheme              | all                    |
| adjoint      | O(1) (outputs only)               | the ODE (error ~ the tolerances)  | vector-field ones      |
| checkpoint   | O(K + steps / K)                  | the discrete scheme              | explicit, adaptive     |
| reversible   | O(1)                              | the discrete scheme (to rounding) | leapfrog               |
| symplectic   | O(steps x state + one evaluation) | the discrete scheme (to rounding) | explicit Runge–Kutta   |
"""

from __future__ import annotations

import torch
from torch import nn

from ..dynamics.integrators import get_integrator
from ..dynamics.integrators.base import as_system
from .gradients import SolveStats, get_gradient
from .gradients.base import CountingSystem, Solve


def _check_times(t) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=torch.float64).flatten()
    if t.numel() < 2:
        raise ValueError("t must hold at least two times (the start and one output time)")
    if not bool(torch.isfinite(t).all()):
        raise ValueError("t must be finite")
    if not bool((t[1:] > t[:-1]).all()):
        raise ValueError("t must be strictly increasing (no decreasing or repeated times)")
    return t


def odeint(
    system,
    u0: torch.Tensor,
    t,
    method="dopri5",
    *,
    gradient="backprop",
    params=None,
    substeps: int = 1,
    gradient_options: dict | None = None,
    return_stats: bool = False,
    **options,
):
    """States u(t) of du/dt = system.vector_field(u) from u0 at t[0], shape (len(t), *u0.shape).

    Args:
        system: a `System` (an `nn.Module` with `vector_field`, or a callable f(u)).
        u0: initial states (batch, *state), float32 or float64, any device.
        t: strictly increasing output times.
        method: integrator name or instance (`randfield.dynamics.integrators`); `options` go to it
            (e.g. rtol=1e-8, atol=1e-10 for dopri5).
        gradient: "backprop", "adjoint", "checkpoint", "reversible" or "symplectic" (see the module table).
        params: the tensors to differentiate besides u0 (default: the system's parameters when it is an
            `nn.Module`; a plain callable must list the tensors it closes over).
        substeps: fixed-step methods take this many equal steps per output interval.
        gradient_options: options of the mode: for "adjoint" the backward `method` and its options
            (e.g. {"rtol": 1e-10, "atol": 1e-12}); for "checkpoint" the number of `segments`.
        return_stats: also return a `SolveStats` (NFE forward/backward, accepted/rejected steps).
    """
    mode = get_gradient(gradient, **(gradient_options or {}))
    integrator = get_integrator(method, **options)
    base = as_system(system)
    integrator.check_system(base)
    mode.check(integrator)
    if not isinstance(u0, torch.Tensor) or not u0.is_floating_point():
        raise ValueError("u0 must be a floating-point tensor")
    if not bool(torch.isfinite(u0).all()):
        raise ValueError("u0 contains NaN or inf")
    if int(substeps) != substeps or substeps < 1:
        raise ValueError(f"substeps must be a positive integer, got {substeps!r}")
    t = _check_times(t)
    if params is None:
        params = tuple(p for p in system.parameters() if p.requires_grad) if isinstance(system, nn.Module) else ()
    counted = CountingSystem(base)
    stats = SolveStats(counter=counted)
    solve = Solve(counted, integrator, t, int(substeps), tuple(params), stats)
    ys = mode.solve(solve, u0)
    return (ys, stats) if return_stats else ys

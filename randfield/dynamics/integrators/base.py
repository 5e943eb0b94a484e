"""The integrator interface, the systems integrators act on, and the name registry.

A *system* is anything with ``vector_field(u) -> du/dt`` on a batch of states ``u`` of shape
(batch, *state) (autonomous: every physical system and learnt model here is). Integrators that
need more declare it by the protocol they require:

- `SeparableSystem` (leapfrog): u = (q, p) split in halves of the last axis, with
  ``velocity(p) = dT/dp`` and ``force(q) = -dV/dq`` for H = T(p) + V(q);
- `DiscreteGradientSystem` (the discrete-gradient step): ``structure(g)`` applies the
  matrix G and ``discrete_gradient(u, v)`` returns a discrete gradient of H.

Explicit methods are plain torch code, so a rollout is differentiable by unrolling; implicit
ones solve their stage equation with the batched Newton solver in `newton.py`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar, Protocol, runtime_checkable

import torch

Tensor = torch.Tensor


@runtime_checkable
class System(Protocol):
    def vector_field(self, u: Tensor) -> Tensor:
        """du/dt at the states u, shape (batch, *state) -> (batch, *state)."""


@runtime_checkable
class SeparableSystem(System, Protocol):
    def velocity(self, p: Tensor) -> Tensor:
        """dq/dt = dT/dp for H = T(p) + V(q); p is the second half of the last axis."""

    def force(self, q: Tensor) -> Tensor:
        """dp/dt = -dV/dq; q is the first half of the last axis."""


@runtime_checkable
class DiscreteGradientSystem(System, Protocol):
    def structure(self, g: Tensor) -> Tensor:
        """G g: the skew (conservative) or negative semi-definite (dissipative) structure matrix applied to g."""

    def discrete_gradient(self, u: Tensor, v: Tensor) -> Tensor:
        """A discrete gradient of H: H(u) - H(v) = <dgrad, u - v> and dgrad(u, u) = grad H(u)."""


class FunctionSystem:
    """Wraps a plain callable f(u) as a `System`."""

    def __init__(self, fn: Callable[[Tensor], Tensor]):
        self.fn = fn

    def vector_field(self, u: Tensor) -> Tensor:
        return self.fn(u)


def as_system(system) -> System:
    if isinstance(system, System):
        return system
    if callable(system):
        return FunctionSystem(system)
    raise TypeError(f"system must have a vector_field(u) method or be callable, got {type(system).__name__}")


class AbstractIntegrator(ABC):
    """One step u_n -> u_{n+1} of size dt on a batch of states.

    Subclasses set `name`, `order` (global order of accuracy) and `requires` (the protocol the
    system must satisfy) and implement `step`.
    """

    name: ClassVar[str]
    order: ClassVar[int]
    requires: ClassVar[type] = System

    @abstractmethod
    def step(self, system, u: Tensor, dt: float) -> Tensor:
        """u(t + dt) from u(t); u has shape (batch, *state)."""

    def check_system(self, system) -> None:
        if not isinstance(system, self.requires):
            raise TypeError(
                f"integrator {self.name!r} needs a {self.requires.__name__} "
                f"(methods: {', '.join(m for m in self.requires.__dict__ if not m.startswith('_'))}); "
                f"got {type(system).__name__}"
            )


class AbstractAdaptiveIntegrator(AbstractIntegrator):
    """An integrator that chooses its own steps between the requested output times."""

    @abstractmethod
    def integrate(self, system, u0: Tensor, t: Tensor) -> Tensor:
        """States at the times t (increasing, t[0] the time of u0); shape (len(t), *u0.shape)."""


INTEGRATORS: dict[str, Callable[..., AbstractIntegrator]] = {}
ALIASES: dict[str, str] = {}


def register_integrator(cls_or_factory, *aliases: str):
    """Register an integrator class (or a factory of instances) under its `name` and aliases."""
    name = cls_or_factory.name
    INTEGRATORS[name] = cls_or_factory
    for alias in aliases:
        ALIASES[alias] = name
    return cls_or_factory


def available_integrators() -> list[str]:
    return sorted(INTEGRATORS)


def get_integrator(method, **options) -> AbstractIntegrator:
    """An integrator by name ("euler", "rk2"/"midpoint", "rk4", "dopri5"/"dp", "leapfrog",
    "implicit_midpoint", "dg"/"discrete_gradient") with its options, or an instance as is."""
    if isinstance(method, AbstractIntegrator):
        if options:
            raise TypeError("options are only accepted together with an integrator name")
        return method
    if not isinstance(method, str):
        raise TypeError(f"method must be a name or an AbstractIntegrator, got {type(method).__name__}")
    key = ALIASES.get(method.lower(), method.lower())
    if key not in INTEGRATORS:
        known = ", ".join(available_integrators() + sorted(ALIASES))
        raise ValueError(f"unknown integrator {method!r}; known: {known}")
    return INTEGRATORS[key](**options)


def integrate(system, u0: Tensor, t, method="rk4", *, substeps: int = 1, **options) -> Tensor:
    """Integrate du/dt = system.vector_field(u) from u0 at t[0] and return the states at all t.

    Args:
        system: a `System` (or a callable f(u)).
        u0: initial states, shape (batch, *state).
        t: 1-D increasing output times (tensor or sequence); t[0] is the time of u0.
        method: integrator name or instance (see `get_integrator`); options go to it.
        substeps: fixed-step methods take this many equal steps between consecutive output times.

    Returns:
        Tensor of shape (len(t), batch, *state).
    """
    system = as_system(system)
    integrator = get_integrator(method, **options)
    integrator.check_system(system)
    t = torch.as_tensor(t, dtype=torch.float64).flatten()
    if t.numel() < 1:
        raise ValueError("t must hold at least one time")
    if t.numel() > 1 and not bool((t[1:] > t[:-1]).all()):
        raise ValueError("t must be strictly increasing")
    if not torch.isfinite(u0).all():
        raise ValueError("u0 contains NaN or inf")
    if int(substeps) < 1:
        raise ValueError(f"substeps must be >= 1, got {substeps}")
    if isinstance(integrator, AbstractAdaptiveIntegrator):
        return integrator.integrate(system, u0, t)
    out, u = [u0], u0
    for dt in (t[1:] - t[:-1]).tolist():
        h = dt / substeps
        for _ in range(int(substeps)):
            u = integrator.step(system, u, h)
        out.append(u)
    return torch.stack(out)

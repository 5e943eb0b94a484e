"""The gradient-mode interface and registry, and what every mode shares: the counted system, the
step plan (the step sizes an adaptive solve accepted, replayed as fixed steps) and the statistics."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ...dynamics.integrators import AbstractAdaptiveIntegrator, AbstractIntegrator

Tensor = torch.Tensor


class CountingSystem:
    """A system whose evaluations are counted; every other attribute is the wrapped system's."""

    def __init__(self, system):
        self._system = system
        self.count = 0

    def vector_field(self, u):
        self.count += 1
        return self._system.vector_field(u)

    def force(self, q):
        self.count += 1
        return self._system.force(q)

    def velocity(self, p):
        self.count += 1
        return self._system.velocity(p)

    def __getattr__(self, name):
        return getattr(self._system, name)


@dataclass
class SolveStats:
    """Counters of one solve.

    Attributes:
        nfe_forward: vector-field evaluations of the forward pass (force and velocity calls for leapfrog).
        nfe_backward: evaluations since then: the backward pass's, read live (0 before it runs, and 0 for
            "backprop", whose backward re-uses the graph).
        steps_accepted, steps_rejected: steps of the forward solve (rejected: adaptive only).
    """

    nfe_forward: int = 0
    steps_accepted: int = 0
    steps_rejected: int = 0
    counter: CountingSystem | None = field(default=None, repr=False, compare=False)

    @property
    def nfe_backward(self) -> int:
        return 0 if self.counter is None else self.counter.count - self.nfe_forward

    def __repr__(self) -> str:
        return (
            f"SolveStats(nfe_forward={self.nfe_forward}, nfe_backward={self.nfe_backward}, "
            f"steps_accepted={self.steps_accepted}, steps_rejected={self.steps_rejected})"
        )


@dataclass
class Plan:
    """The fixed steps of a solve: steps[i] holds the step sizes from t[i] to t[i + 1]."""

    steps: list[list[float]]
    rejected: int = 0
    starts: list | None = None  # the state at the start of every accepted step, when planned adaptively

    @property
    def flat(self) -> list[tuple[float, bool]]:
        """(dt, ends an output interval) for every step in order."""
        out = []
        for interval in self.steps:
            out += [(dt, k == len(interval) - 1) for k, dt in enumerate(interval)]
        return out


def fixed_plan(t: Tensor, substeps: int) -> Plan:
    return Plan([[dt / substeps] * substeps for dt in (t[1:] - t[:-1]).tolist()])


def adaptive_plan(integrator: AbstractAdaptiveIntegrator, system, u0: Tensor, t: Tensor) -> tuple[Tensor, Plan]:
    """Solve without a graph, recording the accepted steps: (outputs at t, the plan)."""
    record: list = []
    with torch.no_grad():
        ys = integrator.integrate(system, u0, t, record=record)
    steps: list[list[float]] = [[] for _ in range(len(t) - 1)]
    for interval, dt, accepted, _ in record:
        if accepted:
            steps[interval].append(dt)
    starts = [u for _, _, accepted, u in record if accepted]
    return ys, Plan(steps, sum(not r[2] for r in record), starts)


def make_plan(integrator, system, u0, t, substeps) -> tuple[Tensor | None, Plan]:
    """The plan, and for adaptive methods the outputs of the planning solve (None for fixed steps)."""
    if isinstance(integrator, AbstractAdaptiveIntegrator):
        return adaptive_plan(integrator, system, u0, t)
    return None, fixed_plan(t, substeps)


def direct_solve(s: Solve, u0: Tensor) -> Tensor:
    """The states at all times by the integrator itself (adaptive or fixed steps), filling the step and
    forward-NFE counters: differentiable by unrolling when grad mode is on."""
    if isinstance(s.integrator, AbstractAdaptiveIntegrator):
        record: list = []
        ys = s.integrator.integrate(s.system, u0, s.t, record=record)
        s.stats.steps_accepted = sum(r[2] for r in record)
        s.stats.steps_rejected = len(record) - s.stats.steps_accepted
    else:
        u, out = u0, [u0]
        for dt in (s.t[1:] - s.t[:-1]).tolist():
            for _ in range(s.substeps):
                u = s.integrator.step(s.system, u, dt / s.substeps)
            out.append(u)
        ys = torch.stack(out)
        s.stats.steps_accepted = s.substeps * (len(s.t) - 1)
    s.stats.nfe_forward = s.system.count
    return ys


def zeros_like_all(grads: Sequence[Tensor | None], like: Sequence[Tensor]) -> list[Tensor]:
    return [torch.zeros_like(p) if g is None else g for g, p in zip(grads, like)]


@dataclass
class Solve:
    """Everything a gradient mode needs: the counted system, the integrator, times, plan options."""

    system: CountingSystem
    integrator: AbstractIntegrator
    t: Tensor
    substeps: int
    params: tuple[Tensor, ...]
    stats: SolveStats
    options: dict = field(default_factory=dict)


class GradientMode(ABC):
    """How the gradient of a solve is computed. Subclasses set `name` and implement `solve`, returning
    the states at all times (len(t), *u0.shape) as a differentiable function of u0 and `params`."""

    name: str

    def check(self, integrator: AbstractIntegrator) -> None:
        """Raise ValueError when this mode cannot differentiate through `integrator`."""

    @abstractmethod
    def solve(self, s: Solve, u0: Tensor) -> Tensor: ...


GRADIENT_MODES: dict[str, type[GradientMode]] = {}


def register_gradient(cls):
    GRADIENT_MODES[cls.name] = cls
    return cls


def available_gradients() -> list[str]:
    return sorted(GRADIENT_MODES)


def get_gradient(name, **options) -> GradientMode:
    if isinstance(name, GradientMode):
        return name
    if not isinstance(name, str) or name not in GRADIENT_MODES:
        raise ValueError(f"gradient must be one of {', '.join(available_gradients())}; got {name!r}")
    return GRADIENT_MODES[name](**options)

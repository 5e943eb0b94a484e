"""Physical Hamiltonian systems with the HNN/DGNet data protocols (anchors B1 §1.2, §1.3.4).

Each system is a frozen dataclass registered by name: its Hamiltonian and vector field on numpy
arrays (float64, batched over leading axes), a sampler of initial conditions, the protocol's
defaults, and a *reference* solution that does not share a scheme with any model under test
(closed form where one exists, otherwise scipy DOP853 at rtol = atol = 1e-12).

State layout: u = (q, p) in halves of the last axis, u_t = S grad H with S = [[0, I], [-I, 0]].
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.integrate import solve_ivp

SYSTEMS: dict[str, AbstractSystem] = {}


def register_system(cls: type[AbstractSystem]) -> type[AbstractSystem]:
    """Class decorator: registers an instance under `cls.name`."""
    SYSTEMS[cls.name] = cls()
    return cls


def get_system(name) -> AbstractSystem:
    if isinstance(name, AbstractSystem):
        return name
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r}; known: {', '.join(sorted(SYSTEMS))}")
    return SYSTEMS[name]


@dataclass(frozen=True)
class Protocol:
    """Data protocol: trajectories on t in [0, t_end] with n_points observations each."""

    n_trajectories: int
    t_end: float
    n_points: int
    noise_std: float
    test_fraction: float
    eval_t_end: float
    eval_points: int


class AbstractSystem(ABC):
    name: ClassVar[str]
    dim: ClassVar[int]
    protocol: ClassVar[Protocol]
    # (lo, hi) of HNN's radius sampler for 1-degree-of-freedom systems; None where it has none
    radius_range: ClassVar[tuple[float, float] | None] = None
    # the energy DGNet's published scripts scored rollouts with, where it is not the Hamiltonian
    # (see `published_energy`); None where they scored H itself
    published_energy_label: ClassVar[str | None] = None

    @abstractmethod
    def hamiltonian(self, u: np.ndarray) -> np.ndarray:
        """H(u), shape u.shape[:-1]."""

    @abstractmethod
    def grad_hamiltonian(self, u: np.ndarray) -> np.ndarray:
        """dH/du, shape u.shape."""

    @abstractmethod
    def sample_initial(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n initial states, shape (n, dim)."""

    def published_energy(self, u: np.ndarray) -> np.ndarray:
        """The energy of the published evaluation (DGNet's train scripts, anchors B1 §1.3.4), shape
        u.shape[:-1]: the Hamiltonian unless `published_energy_label` names another function."""
        return self.hamiltonian(u)

    def model_options(self) -> dict:
        """Defaults for models of this system (PDE systems name their grid and structure matrix)."""
        return {}

    def mass(self, u: np.ndarray) -> np.ndarray | None:
        """A linear invariant to monitor (PDEs: sum u dx), or None."""
        return None

    def vector_field(self, u: np.ndarray) -> np.ndarray:
        g = self.grad_hamiltonian(u)
        g_q, g_p = np.split(g, 2, axis=-1)
        return np.concatenate([g_p, -g_q], axis=-1)

    def reference(self, u0: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Reference states at times t from u0 (n, dim): shape (n, len(t), dim), DOP853 at 1e-12."""
        u0 = np.asarray(u0, dtype=np.float64)
        n = u0.shape[0]

        def rhs(_, y):
            return self.vector_field(y.reshape(n, self.dim)).ravel()

        sol = solve_ivp(rhs, (t[0], t[-1]), u0.ravel(), method="DOP853", t_eval=t, rtol=1e-12, atol=1e-12)
        if not sol.success:
            raise RuntimeError(f"reference integration of {self.name} failed: {sol.message}")
        return sol.y.reshape(n, self.dim, len(t)).transpose(0, 2, 1)


def _on_circle(rng, n, lo, hi):
    """HNN's sampler: a uniform direction in the (q, p) plane scaled to a radius ~ U[lo, hi]."""
    y = rng.uniform(-1, 1, size=(n, 2))
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    return y * rng.uniform(lo, hi, size=(n, 1))


@register_system
@dataclass(frozen=True)
class Spring(AbstractSystem):
    """Ideal mass-spring, H = q^2 + p^2 (the HNN/DGNet code's scaling), radius ~ U[0.1, 1]."""

    name = "spring"
    dim = 2
    protocol = Protocol(50, 20.0, 100, 0.1, 0.5, 20.0, 100)
    radius_range = (0.1, 1.0)

    def hamiltonian(self, u):
        return (u**2).sum(-1)

    def grad_hamiltonian(self, u):
        return 2 * u

    def sample_initial(self, rng, n):
        return _on_circle(rng, n, *self.radius_range)

    def reference(self, u0, t):
        # Exact: a rotation of the (q, p) plane at angular frequency 2.
        q0, p0 = np.asarray(u0, dtype=np.float64).T[:, :, None]
        c, s = np.cos(2 * t), np.sin(2 * t)
        return np.stack([q0 * c + p0 * s, p0 * c - q0 * s], axis=-1)


@register_system
@dataclass(frozen=True)
class Pendulum(AbstractSystem):
    """Ideal pendulum, H = 3 (1 - cos q) + p^2 (g = 3, m = l = 1, HNN code), radius ~ U[1.3, 2.3].

    DGNet's pendulum script scores rollouts with q^2 + p^2, the spring's energy, not this H
    (anchors B1 §1.3.4): `published_energy` is that function, for comparison with its table."""

    name = "pendulum"
    dim = 2
    protocol = Protocol(50, 20.0, 100, 0.1, 0.5, 20.0, 100)
    radius_range = (1.3, 2.3)
    published_energy_label = "q^2 + p^2"

    def published_energy(self, u):
        return (u**2).sum(-1)

    def hamiltonian(self, u):
        q, p = u[..., 0], u[..., 1]
        return 3 * (1 - np.cos(q)) + p**2

    def grad_hamiltonian(self, u):
        q, p = u[..., 0], u[..., 1]
        return np.stack([3 * np.sin(q), 2 * p], axis=-1)

    def sample_initial(self, rng, n):
        return _on_circle(rng, n, *self.radius_range)


@register_system
@dataclass(frozen=True)
class TwoBody(AbstractSystem):
    """Two unit masses under gravity (G = 1), H = |p1|^2/2 + |p2|^2/2 - 1/|q1 - q2|.

    u = (q1x, q1y, q2x, q2y, p1x, p1y, p2x, p2y). Near-circular orbits, HNN's sampler
    (experiment-2body/data.py, `random_config`): each coordinate of body 1 uniform on [0.5, 1.5]
    (so r = |q1| in [0.71, 2.12], first quadrant), body 2 opposite, circular speed 1/(2 sqrt(r))
    counter-clockwise scaled by (1 + 0.05 N(0, 1)), zero total momentum.
    """

    name = "two_body"
    dim = 8
    protocol = Protocol(1000, 25.0, 500, 0.0, 0.2, 25.0, 500)

    def hamiltonian(self, u):
        q1, q2, p1, p2 = u[..., 0:2], u[..., 2:4], u[..., 4:6], u[..., 6:8]
        r = np.linalg.norm(q1 - q2, axis=-1)
        return 0.5 * (p1**2).sum(-1) + 0.5 * (p2**2).sum(-1) - 1.0 / r

    def grad_hamiltonian(self, u):
        q1, q2, p1, p2 = u[..., 0:2], u[..., 2:4], u[..., 4:6], u[..., 6:8]
        d = q1 - q2
        f = d / np.linalg.norm(d, axis=-1, keepdims=True) ** 3
        return np.concatenate([f, -f, p1, p2], axis=-1)

    def sample_initial(self, rng, n):
        q1 = rng.uniform(0.5, 1.5, (n, 2))
        r = np.linalg.norm(q1, axis=-1)
        speed = 0.5 / np.sqrt(r) * (1 + 0.05 * rng.standard_normal(n))
        p1 = (speed / r)[:, None] * np.stack([-q1[:, 1], q1[:, 0]], axis=-1)
        return np.concatenate([q1, -q1, p1, -p1], axis=-1)

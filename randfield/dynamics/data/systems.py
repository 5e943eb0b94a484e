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
class PublishedStream:
    """The random numbers of one run of the published ODE scripts, in the order they draw them."""

    initial: np.ndarray  # (n_trajectories, dim) training/test initial states, test trajectories last
    noise: np.ndarray  # (n_trajectories, n_points, dim) standard normal observation noise (before scaling)
    evaluation_initial: np.ndarray  # (n_eval, dim) initial states of the energy/state rollouts


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

    def published_stream(self, seed: int, n_trajectories: int, n_points: int, n_eval: int = 0) -> PublishedStream:
        """Replays numpy's legacy global stream as the published HNN data code and DGNet's
        `train_dgnet.py` draw it (anchors B1 §1.2, §1.3.4), so that a cell of seed s sees the data
        and rollout initial conditions of the published script run with `--seed s`. Systems the
        published scripts did not cover raise ValueError."""
        base = AbstractSystem.published_stream
        covered = sorted(n for n, s in SYSTEMS.items() if type(s).published_stream is not base)
        raise ValueError(f"the published HNN/DGNet stream is defined for {', '.join(covered)}, not {self.name!r}")

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


class _CircleSystem(AbstractSystem):
    """A 1-degree-of-freedom system with HNN's sampler: a uniform direction in the (q, p) plane
    scaled to a radius ~ U[radius_range]."""

    radius_range: ClassVar[tuple[float, float]]

    def sample_initial(self, rng, n):
        y = rng.uniform(-1, 1, size=(n, 2))
        y /= np.linalg.norm(y, axis=1, keepdims=True)
        return y * rng.uniform(*self.radius_range, size=(n, 1))

    def published_stream(self, seed, n_trajectories, n_points, n_eval=0):
        """HNN's `get_dataset(seed)`, then DGNet's rollout draws. Per trajectory: a direction
        rand(2)*2-1, a radius rand()*(hi-lo)+lo, then randn(T) for q and randn(T) for p. Per
        rollout: x = rand(2)*1.6-0.8, x += 0.2 sign(x), so each coordinate is +-U[0.2, 1]."""
        lo, hi = self.radius_range
        rs = np.random.RandomState(seed)  # the legacy generator: its stream is frozen across numpy versions
        initial, noise = np.empty((n_trajectories, 2)), np.empty((n_trajectories, n_points, 2))
        for i in range(n_trajectories):  # sequential by nature: the draws interleave per trajectory
            direction = rs.rand(2) * 2 - 1
            initial[i] = direction / np.linalg.norm(direction) * (rs.rand() * (hi - lo) + lo)
            noise[i, :, 0], noise[i, :, 1] = rs.randn(n_points), rs.randn(n_points)
        evaluation = rs.rand(n_eval, 2) * 1.6 - 0.8  # one rand(2) per rollout = rows of rand(n, 2)
        return PublishedStream(initial, noise, evaluation + 0.2 * np.sign(evaluation))


@register_system
@dataclass(frozen=True)
class Spring(_CircleSystem):
    """Ideal mass-spring, H = q^2 + p^2 (the HNN/DGNet code's scaling), radius ~ U[0.1, 1]."""

    name = "spring"
    dim = 2
    protocol = Protocol(50, 20.0, 100, 0.1, 0.5, 20.0, 100)
    radius_range = (0.1, 1.0)

    def hamiltonian(self, u):
        return (u**2).sum(-1)

    def grad_hamiltonian(self, u):
        return 2 * u

    def reference(self, u0, t):
        # Exact: a rotation of the (q, p) plane at angular frequency 2.
        q0, p0 = np.asarray(u0, dtype=np.float64).T[:, :, None]
        c, s = np.cos(2 * t), np.sin(2 * t)
        return np.stack([q0 * c + p0 * s, p0 * c - q0 * s], axis=-1)


@register_system
@dataclass(frozen=True)
class Pendulum(_CircleSystem):
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

    @staticmethod
    def _orbits(q1: np.ndarray, speed_factor: np.ndarray) -> np.ndarray:
        """States (n, 8) from body 1's position q1 (n, 2) and the speed factors 1 + 0.05 N(0, 1) (n,)."""
        r = np.linalg.norm(q1, axis=-1)
        p1 = (speed_factor / (2 * r**1.5))[:, None] * np.stack([-q1[:, 1], q1[:, 0]], axis=-1)
        return np.concatenate([q1, -q1, p1, -p1], axis=-1)

    def sample_initial(self, rng, n):
        return self._orbits(rng.uniform(0.5, 1.5, (n, 2)), 1 + 0.05 * rng.standard_normal(n))

    def published_stream(self, seed, n_trajectories, n_points, n_eval=0):
        """HNN's 2-body data and DGNet's 2-body rollouts (experiment-2body/train_dgnet.py); each
        orbit is one `random_config()`: rand(2) for q1, then randn() for the speed.

        Data: HNN's `get_dataset` pickles the orbits on the script's first run and loads them on
        every later one, so all seeds train on one dataset, taken here to be the first run's,
        `np.random.seed(0)`; `seed` is not used. HNN's split makes the *first* 20% of the states
        the test set; they are listed last here, where `Trajectories.split` takes its test set.
        Rollouts: trial i draws its orbit after `np.random.seed(i)`, i < n_eval, for every seed."""

        def random_config(rs):  # one orbit: rand(2) for q1, then randn() for the speed
            return rs.rand(2) + 0.5, 1 + 0.05 * rs.randn()

        def orbits(draws):
            q1, speed_factor = zip(*draws) if draws else ((), ())
            return self._orbits(np.reshape(q1, (-1, 2)), np.asarray(speed_factor, dtype=float))

        rs = np.random.RandomState(0)
        initial = orbits([random_config(rs) for _ in range(n_trajectories)])  # sequential: rand, randn interleave
        n_test = max(1, int(round(self.protocol.test_fraction * n_trajectories)))
        initial = np.roll(initial, -n_test, axis=0)
        evaluation = orbits([random_config(np.random.RandomState(i)) for i in range(n_eval)])
        return PublishedStream(initial, np.zeros((n_trajectories, n_points, self.dim)), evaluation)

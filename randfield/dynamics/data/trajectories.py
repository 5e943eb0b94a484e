"""Trajectory datasets generated from the reference solution of a system, deterministic by seed."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..._validation import check_positive_int
from .systems import AbstractSystem, get_system


@dataclass(frozen=True)
class Trajectories:
    """Observed trajectories of one system.

    Attributes:
        system: registry name of the system.
        t: observation times, shape (T,), equally spaced by `dt`.
        states: observed (noisy) states, shape (N, T, *state) (state: (dim,) or a PDE grid).
        clean: noise-free states, same shape.
        derivatives: true u_t at the clean states, same shape.
    """

    system: str
    t: np.ndarray
    states: np.ndarray
    clean: np.ndarray
    derivatives: np.ndarray

    @property
    def dt(self) -> float:
        return float(self.t[1] - self.t[0])

    def __len__(self) -> int:
        return self.states.shape[0]

    def subset(self, index) -> Trajectories:
        return replace(self, states=self.states[index], clean=self.clean[index], derivatives=self.derivatives[index])

    def split(self, test_fraction: float) -> tuple[Trajectories, Trajectories]:
        """(train, test): the last round(test_fraction N) trajectories are the test set."""
        if not 0 < test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
        n_test = max(1, int(round(test_fraction * len(self))))
        return self.subset(slice(0, len(self) - n_test)), self.subset(slice(len(self) - n_test, len(self)))

    def windows(self, horizon: int = 1) -> np.ndarray:
        """All windows of horizon + 1 consecutive observed states, shape (N (T - horizon), horizon + 1, *state)."""
        n, t, *state = self.states.shape
        if not 1 <= horizon < t:
            raise ValueError(f"horizon must be in [1, {t - 1}], got {horizon}")
        idx = np.arange(t - horizon)[:, None] + np.arange(horizon + 1)
        return self.states[:, idx].reshape(-1, horizon + 1, *state)


def generate(
    system,
    n_trajectories: int | None = None,
    *,
    seed: int = 0,
    t_end: float | None = None,
    n_points: int | None = None,
    noise_std: float | None = None,
    scheme: str = "reference",
    sampler: str = "randfield",
) -> Trajectories:
    """Trajectories of `system` ("spring", "pendulum", "two_body") under its protocol's defaults.

    Initial conditions come from the system's sampler; states from its reference solution;
    Gaussian observation noise of std `noise_std` is added to the states (not the derivatives).
    scheme: "reference" (the system's high-accuracy solution) or, for PDE systems, "dvdm" (the
    published discrete variational derivative scheme, solved by batched Newton).
    sampler: "randfield" (numpy Generator seeded by `seed`) or "published" (the published
    scripts' own random stream for `seed`, see `AbstractSystem.published_stream`; spring,
    pendulum and two-body).
    """
    sys_: AbstractSystem = get_system(system)
    proto = sys_.protocol
    n = check_positive_int(proto.n_trajectories if n_trajectories is None else n_trajectories, "n_trajectories")
    points = check_positive_int(proto.n_points if n_points is None else n_points, "n_points")
    if points < 2:
        raise ValueError(f"n_points must be >= 2, got {points}")
    t_end = float(proto.t_end if t_end is None else t_end)
    noise = float(proto.noise_std if noise_std is None else noise_std)
    if not (t_end > 0 and np.isfinite(t_end)):
        raise ValueError(f"t_end must be positive and finite, got {t_end}")
    if not (noise >= 0 and np.isfinite(noise)):
        raise ValueError(f"noise_std must be >= 0 and finite, got {noise}")
    if sampler == "randfield":
        rng = np.random.default_rng(seed)
        u0 = sys_.sample_initial(rng, n)
    elif sampler == "published":
        stream = sys_.published_stream(seed, n, points)
        u0 = stream.initial
    else:
        raise ValueError(f"sampler must be 'randfield' or 'published', got {sampler!r}")
    t = np.linspace(0.0, t_end, points)
    if scheme == "reference":
        clean = sys_.reference(u0, t)
    elif scheme == "dvdm" and hasattr(sys_, "dvdm"):
        clean = sys_.dvdm(u0, t)
    else:
        raise ValueError(f"scheme must be 'reference' or, for PDE systems, 'dvdm'; got {scheme!r} for {sys_.name}")
    draws = rng.standard_normal(clean.shape) if sampler == "randfield" else stream.noise
    states = clean + noise * draws
    return Trajectories(sys_.name, t, states, clean, sys_.vector_field(clean))

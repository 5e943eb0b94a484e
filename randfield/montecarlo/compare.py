"""Theory against simulation, layer by layer, with z-scores (simulation - theory) / standard error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .. import expectations as ex
from ..geometry import circle_geometry
from .engine import SimulationResult


@dataclass(frozen=True)
class Comparison:
    """Per-layer theory, simulation mean, standard error and z-score for q, c and chi1."""

    quantities: dict[str, dict[str, np.ndarray]]
    n_networks: int

    def max_abs_z(self) -> float:
        return max(float(np.max(np.abs(v["z"]))) for v in self.quantities.values())

    def n_comparisons(self) -> int:
        return sum(v["z"].size for v in self.quantities.values())

    def threshold(self, alpha: float = 0.01) -> float:
        """Family-wise |z| threshold for this comparison (Student t, Bonferroni)."""
        return bonferroni_z(self.n_comparisons(), self.n_networks, alpha)

    def as_dict(self) -> dict:
        return {k: {kk: vv.tolist() for kk, vv in v.items()} for k, v in self.quantities.items()}


def theory_for(result: SimulationResult) -> dict[str, np.ndarray]:
    """Infinite-width predictions for the simulated network and inputs."""
    cfg = result.config
    act, sw, sb = cfg.activation, cfg.sigma_w2, cfg.sigma_b2
    alpha2 = None if cfg.branch_scale is None else cfg.branch_scale**2
    geo = circle_geometry(act, sw, sb, cfg.depth, cfg.q_input, branch_scale=cfg.branch_scale)
    q = geo.q  # the length recursion, shared with the geometry
    q12 = np.empty(cfg.depth)
    q12[0] = sw * cfg.q_input * cfg.c_input + sb
    for layer in range(1, cfg.depth):
        branch = sw * ex.covariance(act, q[layer - 1], q[layer - 1], q12[layer - 1]) + sb
        q12[layer] = branch if alpha2 is None else q12[layer - 1] + alpha2 * branch
    return {
        "q": np.repeat(q[:, None], cfg.n_inputs, 1),
        "c": np.repeat((q12 / q)[:, None], cfg.n_inputs - 1, 1),
        "chi1": geo.stretch,
        "length2": np.repeat(geo.length2[:, None], cfg.n_inputs, 1),
        "curvature": np.repeat(geo.curvature[:, None], cfg.n_inputs, 1),
    }


def compare(result: SimulationResult) -> Comparison:
    """z-scores of every per-layer measurement against the theory."""
    theory = theory_for(result)
    out = {}
    for name, th in theory.items():
        if np.all(np.isnan(th)):  # e.g. curvature of kinked activations (phi'' has delta functions)
            continue
        mean, se = result.mean_and_stderr(name)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, (mean - th) / se, np.where(mean == th, 0.0, np.inf))
        out[name] = {"theory": th, "simulation": mean, "stderr": se, "z": z}
    return Comparison(out, result.config.n_networks)


def bonferroni_z(n_comparisons: int, n_networks: int | None = None, alpha: float = 0.01) -> float:
    """|z| threshold exceeded by chance with probability alpha over n comparisons (Bonferroni).

    With the standard error estimated from n_networks samples, z follows Student's t with
    n_networks - 1 degrees of freedom; without n_networks the normal limit is used.
    """
    p = 1 - alpha / (2 * max(n_comparisons, 1))
    return float(stats.norm.ppf(p) if n_networks is None else stats.t.ppf(p, max(n_networks - 1, 1)))

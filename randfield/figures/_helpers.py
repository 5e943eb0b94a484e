"""Helpers shared by the figure families."""

from __future__ import annotations

import numpy as np


def _grid(spec) -> np.ndarray:
    lo, hi, n = spec
    return np.linspace(float(lo), float(hi), int(n))


def _errorbar(ax, x, y, err, **kw):
    ax.errorbar(x, y, yerr=err, fmt="o", ms=3, capsize=2, **kw)


def _theory_and_simulation(p: dict, panels: dict, label, log: bool = False, **config) -> dict:
    """Simulate each (sigma_w^2, sigma_b^2) of p["points"]; per key of `panels` (axis), draw the theory
    as a line and the simulation as points with +-1 standard error. Returns agreement per point."""
    from ..montecarlo import SimulationConfig, bonferroni_z, compare, simulate

    data = {}
    for sw, sb in p["points"]:
        cfg = SimulationConfig(
            p["activation"],
            sw,
            sb,
            width=int(p["width"]),
            depth=int(p["depth"]),
            n_networks=int(p["networks"]),
            seed=int(p["seed"]),
            **config,
        )
        cmp = compare(simulate(cfg, device="cpu"))
        layers = np.arange(1, cfg.depth + 1)
        for key, ax in panels.items():
            qq = cmp.quantities[key]
            line = (ax.semilogy if log else ax.plot)(layers, qq["theory"][:, 0], label=label(sw, sb))[0]
            _errorbar(ax, layers, qq["simulation"][:, 0], qq["stderr"][:, 0], color=line.get_color())
        z = max(float(np.abs(cmp.quantities[k]["z"]).max()) for k in panels)
        n = sum(cmp.quantities[k]["z"].size for k in panels)
        data[f"{sw:g},{sb:g}"] = {"max_abs_z": z, "n_comparisons": n, "threshold": bonferroni_z(n, cfg.n_networks)}
    return data

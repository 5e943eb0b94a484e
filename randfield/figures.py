"""Regenerate figures/ from the TOML configs in experiments/.

Each config names a figure `kind` (a function registered in FIGURE_KINDS) and its `params`;
an optional `[quick]` table overrides params for the CPU-sized run. Every figure is written
as PNG + PDF with a JSON sidecar holding the config, the randfield version and the numbers
plotted; a figure whose sidecar matches its config and version is not recomputed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from . import maps
from ._io import atomic_write_json, provenance
from .phase import phase_diagram

FIGURE_KINDS: dict[str, Callable[[dict], tuple[object, dict]]] = {}


def figure_kind(fn):
    FIGURE_KINDS[fn.__name__] = fn
    return fn


def _grid(spec) -> np.ndarray:
    lo, hi, n = spec
    return np.linspace(float(lo), float(hi), int(n))


@figure_kind
def phase_diagram_figure(p: dict):
    from .plotting import plot_phase_diagram

    pd = phase_diagram(p["activation"], _grid(p["sigma_w2"]), _grid(p["sigma_b2"]))
    sb_line = pd.sigma_b2[pd.sigma_b2 > 0] if p["activation"] != "relu" else pd.sigma_b2
    sw_line = maps.critical_sigma_w2(p["activation"], sb_line, unstable="nan")
    fig = plot_phase_diagram(pd, critical_line=(sw_line, sb_line))
    return fig, {
        "critical_sigma_w2": sw_line,
        "sigma_b2": sb_line,
        "phase_counts": np.bincount(pd.phase.ravel(), minlength=3),
    }


@figure_kind
def correlation_maps(p: dict):
    import matplotlib.pyplot as plt

    act, depth = p["activation"], int(p["depth"])
    fig, (ax_map, ax_depth) = plt.subplots(1, 2, figsize=(9, 3.8))
    c = np.linspace(0, 1, 201)
    data = {}
    for sw, sb in p["points"]:
        label = rf"$\sigma_w^2$={sw:g}, $\sigma_b^2$={sb:g}"
        q = maps.length_fixed_point(act, sw, sb)
        cmap = maps.correlation_map(c, act, sw, sb)
        prop = maps.propagate_covariance(act, sw, sb, depth, q, q, float(p["c0"]) * q)
        ax_map.plot(c, cmap, label=label)
        ax_depth.plot(np.arange(1, depth + 1), prop.c, label=label)
        data[f"{sw:g},{sb:g}"] = {"q_star": q, "c_star": maps.correlation_fixed_point(act, sw, sb), "c_layers": prop.c}
    ax_map.plot(c, c, "k:", lw=1)
    ax_map.set(xlabel="$c^l$", ylabel="$c^{l+1}$", title=f"{act}: correlation map at $q^*$")
    ax_depth.set(xlabel="layer $l$", ylabel="$c^l$", title=f"inputs at $q^*$ with $c^1$ = {p['c0']}")
    ax_depth.legend(fontsize=8)
    return fig, data


@figure_kind
def depth_scales_figure(p: dict):
    import matplotlib.pyplot as plt

    act, sb = p["activation"], float(p["sigma_b2"])
    sw = _grid(p["sigma_w2"])
    pd = phase_diagram(act, sw, [sb])
    crit = float(maps.critical_sigma_w2(act, sb))
    fig, ax = plt.subplots(figsize=(5, 3.8))
    ax.semilogy(sw, pd.xi_c[:, 0], label=r"$\xi_c$")
    ax.semilogy(sw, pd.xi_q[:, 0], label=r"$\xi_q$")
    ax.axvline(crit, color="k", ls=":", label=rf"$\chi_1 = 1$ at $\sigma_w^2$ = {crit:.4f}")
    ax.set(xlabel=r"$\sigma_w^2$", ylabel="depth scale (layers)", title=rf"{act}, $\sigma_b^2$ = {sb:g}")
    ax.legend()
    return fig, {"sigma_w2": sw, "xi_c": pd.xi_c[:, 0], "xi_q": pd.xi_q[:, 0], "critical_sigma_w2": crit}


def load_configs(directory: str | Path) -> dict[str, dict]:
    configs = {}
    for path in sorted(Path(directory).glob("*.toml")):
        with open(path, "rb") as fh:
            cfg = tomllib.load(fh)
        if cfg.get("kind") not in FIGURE_KINDS:
            raise ValueError(f"{path}: kind must be one of {sorted(FIGURE_KINDS)}, got {cfg.get('kind')!r}")
        configs[path.stem] = cfg
    return configs


def regenerate(
    configs_dir: str | Path = "experiments",
    out_dir: str | Path = "figures",
    *,
    only: list[str] | None = None,
    quick: bool = False,
    force: bool = False,
) -> list[tuple[str, str]]:
    """Regenerate figures; returns (name, 'made' | 'cached') pairs."""
    from tqdm import tqdm

    from .plotting import save_figure

    configs = load_configs(configs_dir)
    if only:
        unknown = sorted(set(only) - set(configs))
        if unknown:
            raise ValueError(f"unknown figure(s) {unknown}; known figures: {', '.join(configs)}")
        configs = {k: v for k, v in configs.items() if k in only}
    out_dir = Path(out_dir)
    report = []
    for name, cfg in tqdm(configs.items(), desc="figures", unit="fig"):
        params = {**cfg.get("params", {}), **(cfg.get("quick", {}) if quick else {})}
        meta = provenance({"kind": cfg["kind"], "params": params})
        sidecar = out_dir / f"{name}.json"
        if not force and sidecar.exists() and (out_dir / f"{name}.png").exists():
            old = json.loads(sidecar.read_text())
            if {k: old.get(k) for k in meta} == meta:
                report.append((name, "cached"))
                continue
        fig, data = FIGURE_KINDS[cfg["kind"]](params)
        save_figure(fig, out_dir / name)
        atomic_write_json(sidecar, {**meta, "data": data})
        report.append((name, "made"))
    return report

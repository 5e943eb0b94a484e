"""Mean-field theory figures: phase diagrams, correlation maps, depth scales, length maps, fixed points."""

from __future__ import annotations

import numpy as np

from .. import maps
from ..phase import phase_diagram
from ._helpers import _errorbar, _grid
from .registry import figure_kind


@figure_kind
def phase_diagram_figure(p: dict):
    """Order/chaos phase diagram: the depth scale xi_c over (sigma_w^2, sigma_b^2), with the chi_1 = 1 line."""
    from ..plotting import plot_phase_diagram

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
    """The correlation map c -> c' at q* and c^l over depth for several networks (Poole et al. 2016)."""
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
    """Depth scales xi_q and xi_c against sigma_w^2; xi_c diverges at chi_1 = 1 (Schoenholz et al. 2017)."""
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


@figure_kind
def length_map_figure(p: dict):
    """Poole et al. 2016, Fig. 1 style: the length map with its fixed points, and q^l from several
    starting lengths: theory (lines) and simulation (points, +-1 s.e.)."""
    import matplotlib.pyplot as plt

    from ..montecarlo import SimulationConfig, compare, simulate

    act, sb = p["activation"], float(p["sigma_b2"])
    fig, (ax_map, ax_depth) = plt.subplots(1, 2, figsize=(9, 3.8))
    q = np.linspace(0, float(p["q_max"]), 200)
    data = {}
    for sw in p["sigma_w2"]:
        line = ax_map.plot(q, maps.length_map(q, act, sw, sb), label=rf"$\sigma_w^2$={sw:g}")[0]
        q_star = float(maps.length_fixed_point(act, sw, sb))
        ax_map.plot([q_star], [q_star], "o", color=line.get_color())
        data[f"q_star {sw:g}"] = q_star
    ax_map.plot(q, q, "k:", lw=1)
    ax_map.set(xlabel="$q^l$", ylabel="$q^{l+1}$", title=rf"{act} length map, $\sigma_b^2$={sb:g}")
    ax_map.legend(fontsize=8)
    sw = float(p["sigma_w2_depth"])
    for q_in in p["q_inputs"]:
        cfg = SimulationConfig(
            act,
            sw,
            sb,
            width=int(p["width"]),
            depth=int(p["depth"]),
            n_networks=int(p["networks"]),
            q_input=float(q_in),
            seed=int(p["seed"]),
        )
        cmp = compare(simulate(cfg, device="cpu"))
        qq = cmp.quantities["q"]
        layers = np.arange(1, cfg.depth + 1)
        line = ax_depth.plot(layers, qq["theory"][:, 0], label=f"$|x|^2/d$ = {q_in:g}")[0]
        _errorbar(ax_depth, layers, qq["simulation"][:, 0], qq["stderr"][:, 0], color=line.get_color())
        data[f"max_abs_z q_input={q_in:g}"] = float(np.abs(qq["z"]).max())
    ax_depth.set(xlabel="layer $l$", ylabel="$q^l$", title=rf"convergence to $q^*$ ($\sigma_w^2$={sw:g})")
    ax_depth.legend(fontsize=8)
    return fig, data


@figure_kind
def correlation_fixed_points(p: dict):
    """c* across sigma_w^2 (theory line) and the correlation of simulated networks after many layers."""
    import matplotlib.pyplot as plt

    from ..montecarlo import SimulationConfig, compare, simulate

    act, sb = p["activation"], float(p["sigma_b2"])
    sw_line = np.linspace(*p["sigma_w2_range"], 300)
    pd = phase_diagram(act, sw_line, [sb])
    fig, ax = plt.subplots(figsize=(5, 3.8))
    ax.plot(sw_line, pd.c_star[:, 0], label="$c^*$ (theory)")
    crit = float(maps.critical_sigma_w2(act, sb))
    ax.axvline(crit, color="k", ls=":", label=rf"$\chi_1 = 1$ ({crit:.4f})")
    data = {"critical_sigma_w2": crit, "points": {}}
    for sw in p["sigma_w2_points"]:
        cfg = SimulationConfig(
            act,
            float(sw),
            sb,
            width=int(p["width"]),
            depth=int(p["depth"]),
            n_networks=int(p["networks"]),
            c_input=float(p["c0"]),
            seed=int(p["seed"]),
        )
        cc = compare(simulate(cfg, device="cpu")).quantities["c"]
        mean, se, c_depth = float(cc["simulation"][-1, 0]), float(cc["stderr"][-1, 0]), float(cc["theory"][-1, 0])
        _errorbar(ax, [sw], [mean], [se], color="C1")
        c_th = float(maps.correlation_fixed_point(act, float(sw), sb))
        # compared with the theory at the same (finite) depth: near c* = 1 convergence is only like chi_1^l
        data["points"][f"{sw:g}"] = {
            "simulated": mean,
            "stderr": se,
            "c_star": c_th,
            "c_theory_at_depth": c_depth,
            "z": (mean - c_depth) / se,
        }
    ax.plot([], [], "o", color="C1", label=f"simulation, layer {p['depth']}")
    ax.set(xlabel=r"$\sigma_w^2$", ylabel="$c^*$", title=rf"{act}, $\sigma_b^2$ = {sb:g}")
    ax.legend(fontsize=8)
    return fig, data


@figure_kind
def dropout_depth_scales(p: dict):
    """Dropout mean field (Schoenholz et al. 2017, §4): the trainable depth 6 xi_c against sigma_w^2 for
    several keep probabilities rho (finite everywhere for rho < 1), and c* confirmed by simulation."""
    import matplotlib.pyplot as plt

    from ..dropout import dropout_fixed_point
    from ..montecarlo.dropout import dropout_correlations

    act, sb = p["activation"], float(p["sigma_b2"])
    sw = _grid(p["sigma_w2"])
    fig, (ax_xi, ax_c) = plt.subplots(1, 2, figsize=(10, 3.8))
    data = {"sigma_w2": sw}
    no_dropout = phase_diagram(act, sw, [sb]).xi_c[:, 0]
    ax_xi.semilogy(sw, 6 * no_dropout, "k", label=r"$\rho$ = 1 (no dropout)")
    for k, rho in enumerate(p["rho"]):
        points = [dropout_fixed_point(act, float(s), sb, float(rho)) for s in sw]
        xi = np.array([fp.xi_c for fp in points])
        ax_xi.semilogy(sw, 6 * xi, color=f"C{k}", label=rf"$\rho$ = {rho:g}")
        ax_c.plot(sw, [fp.c for fp in points], color=f"C{k}", label=rf"$c^*$, $\rho$ = {rho:g}")
        sim_sw = _grid(p["simulated_sigma_w2"])
        c_sim, c_se = [], []
        for s in sim_sw:
            _, c = dropout_correlations(
                act, float(s), sb, float(rho), int(p["depth"]), int(p["width"]), n_networks=int(p["networks"]),
                c_input=0.5, seed=int(p["seed"]),
            )  # fmt: skip
            c_sim.append(c[:, -1].mean())
            c_se.append(c[:, -1].std(ddof=1) / np.sqrt(len(c)))
        _errorbar(ax_c, sim_sw, c_sim, c_se, color=f"C{k}")
        data[f"{rho:g}"] = {
            "xi_c": xi,
            "c_star": [fp.c for fp in points],
            "sim_sigma_w2": sim_sw,
            "c_sim": c_sim,
            "c_stderr": c_se,
        }
    ax_xi.set(xlabel=r"$\sigma_w^2$", ylabel=r"trainable depth $6\xi_c$", title=rf"{act}, $\sigma_b^2$ = {sb:g}")
    ax_c.set(
        xlabel=r"$\sigma_w^2$", ylabel="correlation", title=f"c* (lines) and simulated c after {p['depth']} layers"
    )
    ax_xi.legend(fontsize=8)
    ax_c.legend(fontsize=8)
    fig.tight_layout()
    return fig, data

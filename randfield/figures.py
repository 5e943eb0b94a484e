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
from ._io import atomic_write_bytes, atomic_write_json, provenance
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
        if "markdown" in data:  # tables go next to their figure
            atomic_write_bytes(out_dir / f"{name}.md", data["markdown"].encode())
        atomic_write_json(sidecar, {**meta, "data": data})
        report.append((name, "made"))
    return report


def _errorbar(ax, x, y, err, **kw):
    ax.errorbar(x, y, yerr=err, fmt="o", ms=3, capsize=2, **kw)


def _theory_and_simulation(p: dict, panels: dict, label, log: bool = False, **config) -> dict:
    """Simulate each (sigma_w^2, sigma_b^2) of p["points"]; per key of `panels` (axis), draw the theory
    as a line and the simulation as points with +-1 standard error. Returns agreement per point."""
    from .montecarlo import SimulationConfig, bonferroni_z, compare, simulate

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


@figure_kind
def simulation_vs_theory(p: dict):
    """q^l and c^l: theory (lines) and simulated finite networks (points, +- 1 standard error)."""
    import matplotlib.pyplot as plt

    fig, (ax_q, ax_c) = plt.subplots(1, 2, figsize=(9, 3.8))
    data = _theory_and_simulation(
        p,
        {"q": ax_q, "c": ax_c},
        lambda sw, sb: rf"$\sigma_w^2$={sw:g}, $\sigma_b^2$={sb:g}",
        n_inputs=2,
        c_input=float(p["c0"]),
    )
    ax_q.set(xlabel="layer $l$", ylabel="$q^l$", title=f"{p['activation']}: length, width {p['width']}")
    ax_c.set(xlabel="layer $l$", ylabel="$c^l$", title=f"correlation ({p['networks']} networks, $\\pm$1 s.e.)")
    ax_c.legend(fontsize=8)
    return fig, data


@figure_kind
def circle_geometry_figure(p: dict):
    """Length and curvature of a great circle's image: theory (lines), simulation (points)."""
    import matplotlib.pyplot as plt

    fig, (ax_l, ax_k) = plt.subplots(1, 2, figsize=(9, 3.8))
    data = _theory_and_simulation(
        p,
        {"length2": ax_l, "curvature": ax_k},
        lambda sw, sb: rf"$\sigma_w$={np.sqrt(sw):g}, $\sigma_b$={np.sqrt(sb):g}",
        log=True,
    )
    ax_l.set(xlabel="layer $l$", ylabel=r"$|\partial_\theta h^l|^2 / N$", title="length$^2$ grows as $\\chi_1^l$")
    ax_k.set(xlabel="layer $l$", ylabel=r"$N\kappa^2$", title="curvature (saturates when $\\chi_1 > 1$)")
    ax_k.legend(fontsize=8)
    return fig, data


@figure_kind
def jacobian_spectra(p: dict):
    """Squared singular values of the input-output Jacobian, Gaussian vs orthogonal weights: simulated
    histograms (log10 lambda) against the free-probability density, with their KS distance."""
    import matplotlib.pyplot as plt

    from .maps import length_fixed_point
    from .montecarlo import jacobian_singular_values
    from .spectra import jacobian_spectrum

    fig, axes = plt.subplots(1, len(p["activations"]), figsize=(4.5 * len(p["activations"]), 3.6))
    data = {}
    depth = int(p["depth"])
    for ax, (act, sw, sb) in zip(np.atleast_1d(axes), p["activations"]):
        q = float(length_fixed_point(act, sw, sb)) if act != "relu" or sb == 0 else 1.0
        q = q if q > 0 else 1.0
        for weights, color in (("gaussian", "C0"), ("orthogonal", "C1")):
            lam = (
                jacobian_singular_values(
                    act,
                    sw,
                    sb,
                    width=int(p["width"]),
                    depth=depth,
                    n_networks=int(p["networks"]),
                    weights=weights,
                    q_input=q,
                    device="cpu",
                )
                ** 2
            ).ravel()
            theory = jacobian_spectrum(act, sw, sb, depth, weights=weights, q=q)
            ks = theory.ks_distance(lam)
            # histogram of log10 lambda over the float64-resolvable range, area = fraction of samples there
            shown = lam[lam >= 1e-10 * lam.max()]
            ax.hist(
                np.log10(shown),
                bins=60,
                weights=np.full(shown.size, 1 / (lam.size * (np.log10(shown.max() / shown.min()) / 60))),
                histtype="step",
                color=color,
                alpha=0.7,
            )
            drawn = (theory.lam >= shown.min()) & (theory.density > 0)
            grid, rho = theory.lam[drawn], theory.density[drawn]
            order = np.argsort(grid)
            atoms = "".join(f", atom {m:.2g} at 0" for loc, m in theory.point_masses if loc == 0)
            ax.plot(
                np.log10(grid[order]),
                (rho * grid * np.log(10))[order],
                color=color,
                label=f"{weights}: KS {ks:.3f}{atoms}",
            )
            data[f"{act},{weights}"] = {
                "mean": float(lam.mean()),
                "mean_theory": theory.mean,
                "variance": float(lam.var()),
                "variance_theory": theory.variance,
                "ks_distance": ks,
                "samples": int(lam.size),
                "fraction_zero": float((lam < 1e-12).mean()),
            }
        ax.set(
            xlabel=r"$\log_{10}\lambda$ (squared singular value)",
            ylabel=r"density in $\log_{10}\lambda$",
            title=f"{act}, depth {depth}, " + rf"$\sigma_w^2$={sw:g}",
        )
        ax.legend(fontsize=7, title="lines: free probability", title_fontsize=7)
    return fig, data


@figure_kind
def resnet_depth_limit_figure(p: dict):
    """ResNets with branch variance T/L converging to the depth-ODE limit: |q_L - q_ODE| vs L."""
    import matplotlib.pyplot as plt

    from .montecarlo import resnet_depth_limit

    r = resnet_depth_limit(
        p["activation"],
        p["sigma_w2"],
        p["sigma_b2"],
        p["depth"],
        p["n_blocks"],
        width=int(p["width"]),
        n_networks=int(p["networks"]),
        device="cpu",
    )
    fig, ax = plt.subplots(figsize=(5, 3.8))
    ax.loglog(r.n_blocks, np.abs(r.q_theory - r.q_ode), "-", label="L-block theory")
    _errorbar(ax, r.n_blocks, np.abs(r.q_sim - r.q_ode), r.q_stderr, label="simulation")
    ax.loglog(r.n_blocks, np.abs(r.q_theory[0] - r.q_ode) / r.n_blocks, ":", color="k", label="1/L")
    ax.set(
        xlabel="blocks $L$", ylabel=r"$|q_L - q_{ODE}|$", title=f"fitted rate {r.rate_q:.2f} (q), {r.rate_c:.2f} (c)"
    )
    ax.legend(fontsize=8)
    return fig, {"rate_q": r.rate_q, "rate_c": r.rate_c, "n_blocks": r.n_blocks, "q_sim": r.q_sim, "q_ode": r.q_ode}


@figure_kind
def ntk_width_convergence(p: dict):
    """Relative Frobenius error of empirical NTK and NNGP against the analytic kernels, vs width."""
    import matplotlib.pyplot as plt

    from .blocks import dense_network, kernels
    from .montecarlo import monte_carlo_nngp, monte_carlo_ntk

    x = np.random.default_rng(0).normal(size=(4, 16))
    nngp, ntk = kernels(x, None, dense_network(p["activation"], int(p["depth"]), p["sigma_w2"], p["sigma_b2"]))
    widths = np.array(p["widths"])
    err_ntk, err_nngp = [], []
    for w in widths:
        kw = dict(width=int(w), n_networks=int(p["networks"]), seed=int(w), device="cpu")
        mt = monte_carlo_ntk(x, None, p["activation"], int(p["depth"]), p["sigma_w2"], p["sigma_b2"], **kw)
        mn = monte_carlo_nngp(x, None, p["activation"], int(p["depth"]), p["sigma_w2"], p["sigma_b2"], **kw)
        # one network's error: sqrt(n_networks) * standard error of the mean, relative (Frobenius)
        err_ntk.append(np.linalg.norm(mt.stderr) * np.sqrt(mt.n_networks) / np.linalg.norm(ntk))
        err_nngp.append(np.linalg.norm(mn.stderr) * np.sqrt(mn.n_networks) / np.linalg.norm(nngp))
    slope = float(np.polyfit(np.log(widths), np.log(err_ntk), 1)[0])
    fig, ax = plt.subplots(figsize=(5, 3.8))
    ax.loglog(widths, err_ntk, "o-", label=f"empirical NTK (slope {slope:.2f})")
    ax.loglog(widths, err_nngp, "s-", label="empirical NNGP")
    ax.loglog(widths, err_ntk[0] * np.sqrt(widths[0] / widths), "k:", label=r"$1/\sqrt{width}$")
    ax.set(xlabel="width", ylabel="relative Frobenius error", title=f"{p['activation']}, depth {p['depth']}")
    ax.legend(fontsize=8)
    return fig, {"widths": widths, "ntk_error": err_ntk, "nngp_error": err_nngp, "ntk_slope": slope}


@figure_kind
def length_map_figure(p: dict):
    """Poole et al. 2016, Fig. 1 style: the length map with its fixed points, and q^l from several
    starting lengths: theory (lines) and simulation (points, +-1 s.e.)."""
    import matplotlib.pyplot as plt

    from .montecarlo import SimulationConfig, compare, simulate

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

    from .montecarlo import SimulationConfig, compare, simulate

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


def _trainability_job(job: tuple) -> float:
    from .init import trainability

    activation, sw, sb, depth, steps, width = job
    return trainability(activation, sw, sb, depth, steps=steps, width=width)


@figure_kind
def trainable_depth(p: dict):
    """Schoenholz et al. 2017, measured: relative test loss after training over (sigma_w^2, depth),
    with the predicted trainable depth 6 xi_c (and xi_c) overlaid."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    from .sweep import run_sweep

    act, sb = p["activation"], float(p["sigma_b2"])
    sws, depths = np.array(p["sigma_w2"], float), np.array(p["depths"], int)
    jobs = [(act, float(sw), sb, int(depth), int(p["steps"]), int(p["width"])) for depth in depths for sw in sws]
    ratio = np.array(run_sweep(_trainability_job, jobs, workers=int(p.get("workers", 2)))).reshape(
        len(depths), len(sws)
    )
    fig, ax = plt.subplots(figsize=(5.5, 4))
    mesh = ax.pcolormesh(sws, depths, ratio, shading="nearest", cmap="viridis_r", norm=LogNorm(vmin=1e-2, vmax=10))
    plt.colorbar(mesh, ax=ax, label="test loss / baseline")
    line = np.linspace(sws.min(), sws.max(), 400)
    xi = phase_diagram(act, line, [sb]).xi_c[:, 0]
    ax.plot(line, 6 * xi, "w-", label=r"$6\xi_c$")
    ax.plot(line, xi, "w--", label=r"$\xi_c$")
    ax.set(
        xlabel=r"$\sigma_w^2$",
        ylabel="depth",
        ylim=(depths.min() - 2, depths.max() + 2),
        title=rf"{act}, $\sigma_b^2$={sb:g}: trainability (Adam, {p['steps']} steps)",
    )
    ax.legend(fontsize=8, loc="upper right")
    return fig, {"sigma_w2": sws, "depths": depths, "loss_ratio": ratio}


@figure_kind
def dynamics_table(p: dict):
    """DGNet's ODE or PDE table measured (anchors B1 §1.3.3, §1.3.5): energy error vs time per
    model/integrator and energy MSE against the published value; the Markdown table goes to <name>.md."""
    from .dynamics.experiment import jobs_from_params, run_table, summarise, table_markdown

    jobs = jobs_from_params(p)
    summary = summarise(jobs, run_table(jobs, workers=int(p.get("workers", 1)), progress=False))
    fig = dynamics_table_figure(summary)
    data_rows = [{k: v for k, v in r.items() if k not in ("spacetime", "truth_spacetime")} for r in summary]
    return fig, {"rows": data_rows, "markdown": table_markdown(summary)}


def dynamics_table_figure(summary: list[dict]):
    """The figure of a dynamics table (rows as `experiment.summarise` writes them, also read back
    from a table's JSON): per system, energy error vs time per model/integrator, energy MSE
    (mean ± std over seeds) against the published value, and space-time pictures for PDEs."""
    import matplotlib.pyplot as plt

    from .dynamics.data import get_system
    from .dynamics.experiment import row_base

    systems = list(dict.fromkeys(r["system"] for r in summary))
    pictures = [r for r in summary if r.get("spacetime") is not None]
    rows = 3 if pictures else 2
    fig, axes = plt.subplots(rows, len(systems), figsize=(5.2 * len(systems), 3.75 * rows), squeeze=False)
    for col, system in enumerate(systems):
        ax_t, ax_b = axes[0, col], axes[1, col]
        mine = [r for r in summary if r["system"] == system]
        t = np.linspace(0, get_system(system).protocol.eval_t_end, len(mine[0]["energy_error_curve"]))
        # a variant ("dgnet (published slope)") is drawn dashed in the colour of its standard row
        bases = list(dict.fromkeys(map(row_base, mine)))
        for r in mine:  # t = 0 is exact for every model; start the log axis at the first step
            base = row_base(r)
            ax_t.semilogy(
                t[1:],
                r["energy_error_curve"][1:],
                color=f"C{bases.index(base) % 10}",
                linestyle="--" if base[0] != r["model"] else "-",
                label=f"{r['model']} {r['train']}/{r['predict']}",
            )
        ax_t.set(title=f"{system}: |H(pred) - H(true)|, mean of rollouts", xlabel="t", ylabel="energy error")
        labels = [f"{r['model'].replace(' (', chr(10) + '(')}\n{r['train']}/{r['predict']}" for r in mine]
        x = np.arange(len(mine))
        # like for like: where the published script scored another energy than H (pendulum: q^2 + p^2),
        # the bars are that score and the true-H score is a hollow marker
        has_scripted = any(r.get("energy_published_metric") for r in mine)
        scripted = [r.get("energy_published_metric") or r["energy"] for r in mine]
        label = "measured" + (", script's metric" if has_scripted else "")
        ax_b.bar(x, [e[0] for e in scripted], yerr=[e[1] for e in scripted], color="C0", label=label)
        if has_scripted:
            true_h = [r["energy"][0] for r in mine]
            ax_b.scatter(x, true_h, facecolors="none", edgecolors="C3", zorder=3, label="measured, true H")
        ax_b.scatter(x, [r["published"][1] for r in mine], color="k", marker="_", s=300, zorder=3, label="published")
        ax_b.set_yscale("log")
        ax_b.set_xticks(
            x, labels, fontsize=7, rotation=60 if len(mine) > 6 else 0, ha="right" if len(mine) > 6 else "center"
        )
        seeds = sorted({r["seeds"] for r in mine})
        ax_b.set(
            ylabel="energy MSE",
            title=f"{system}: measured (mean ± std, {'/'.join(map(str, seeds))} seeds) vs published",
        )
        ax_b.legend(fontsize=8)
        if pictures:
            _spacetime_panel(axes[2, col], system, [r for r in pictures if r["system"] == system])
        ax_t.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _spacetime_panel(ax, system: str, rows: list[dict]) -> None:
    """Truth and each model's first rollout u(x, t) side by side (x across, t down), one colour scale."""
    if not rows:
        return
    best = {}
    for r in rows:  # one picture per model: its best-scoring prediction integrator
        if r["model"] not in best or r["energy"][0] < best[r["model"]]["energy"][0]:
            best[r["model"]] = r
    panels = [("truth", np.asarray(rows[0]["truth_spacetime"], dtype=float))]
    panels += [(f"{m} ({r['predict']})", np.asarray(r["spacetime"], dtype=float)) for m, r in best.items()]
    lo, hi = np.nanpercentile(panels[0][1], [1, 99])
    gap = np.full((panels[0][1].shape[0], 2), np.nan)
    image = np.concatenate([part for _, pic in panels for part in (pic, gap)][:-1], axis=1)
    ax.imshow(np.clip(image, lo - (hi - lo), hi + (hi - lo)), aspect="auto", cmap="viridis", vmin=lo, vmax=hi)
    width = panels[0][1].shape[1] + 2
    ax.set_xticks([width * i + width / 2 - 1 for i in range(len(panels))], [name for name, _ in panels], fontsize=7)
    ax.set(yticks=[], ylabel="t (down)", title=f"{system}: u(x, t), first evaluation rollout")


@figure_kind
def learnt_stencil(p: dict):
    """Identify the structure matrix of 2-D Cahn–Hilliard: DGNet with a learnt dissipative 3 x 3
    stencil G (NSD and zero-sum by construction) trained on DVDM data; rotation symmetry and the
    resemblance to the 5-point Laplacian are what the data must teach it."""
    import matplotlib.pyplot as plt
    import torch

    from .dynamics import data, fit, get_model

    system = data.get_system(p["system"])
    trajectories = data.generate(
        system, int(p["trajectories"]), seed=int(p["seed"]), n_points=int(p["points"]), scheme="dvdm"
    )
    torch.manual_seed(int(p["seed"]))
    model = get_model(
        "dgnet",
        system.dim,
        hidden=int(p["hidden"]),
        grid=list(system.grid_shape),
        structure={"kind": "dissipative", "spacing": system.dx, "channels": int(p["channels"])},
    )
    history = fit(
        model, trajectories, steps=int(p["steps"]), batch_size=int(p["batch_size"]), lr=float(p["lr"]), weight_decay=0.0,
        dtype="float64", progress=False,
    )  # fmt: skip
    with torch.no_grad():
        stencil = model.G.kernel().double().numpy() * system.dx**2
    normalised = stencil / -stencil[1, 1] * 4  # the 5-point Laplacian reads [[0,1,0],[1,-4,1],[0,1,0]]
    laplacian = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    n = 16  # eigenvalues of G on an n x n periodic grid: the stencil's Fourier symbol
    k = 2 * np.pi * np.arange(n) / n
    symbol = sum(
        stencil[i + 1, j + 1] * np.cos(np.add.outer(i * k, j * k)) for i in (-1, 0, 1) for j in (-1, 0, 1)
    )  # fmt: skip
    rotation_error = max(np.abs(np.rot90(normalised, r) - normalised).max() for r in (1, 2, 3)) / 4
    fig, (ax_s, ax_f, ax_l) = plt.subplots(1, 3, figsize=(13, 3.8))
    im = ax_s.imshow(normalised, cmap="RdBu_r", vmin=-4, vmax=4)
    for (i, j), value in np.ndenumerate(normalised):
        ax_s.text(j, i, f"{value:.2f}", ha="center", va="center")
    ax_s.set(title="learnt G stencil (scaled: centre -4)", xticks=[], yticks=[])
    fig.colorbar(im, ax=ax_s)
    im = ax_f.imshow(np.fft.fftshift(symbol), cmap="viridis")
    ax_f.set(title="eigenvalues of G (Fourier symbol) <= 0", xticks=[], yticks=[])
    fig.colorbar(im, ax=ax_f)
    ax_l.semilogy(history.losses)
    ax_l.set(title="training loss", xlabel="step")
    fig.tight_layout()
    return fig, {
        "stencil": stencil,
        "normalised": normalised,
        # G is circulant: each row and each column of the matrix sums to the stencil's total
        "G_row_and_column_sums": float(stencil.sum()),
        "symmetric": bool(np.allclose(stencil, stencil[::-1, ::-1], rtol=0, atol=1e-12)),
        "max_eigenvalue": float(symbol.max()),
        "min_eigenvalue": float(symbol.min()),
        "rotation_asymmetry": float(rotation_error),
        "distance_to_laplacian": float(np.abs(normalised - laplacian).max() / 4),
        "final_loss": float(history.losses[-1]),
    }

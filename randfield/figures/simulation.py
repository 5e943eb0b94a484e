"""Theory against simulation: per-layer q and c, trainable depth."""

from __future__ import annotations

import numpy as np

from ..phase import phase_diagram
from ._helpers import _errorbar, _theory_and_simulation
from .registry import figure_kind


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


def _trainability_job(job: tuple) -> float:
    from ..init import trainability

    activation, sw, sb, depth, steps, width = job
    return trainability(activation, sw, sb, depth, steps=steps, width=width)


@figure_kind
def trainable_depth(p: dict):
    """Schoenholz et al. 2017, measured: relative test loss after training over (sigma_w^2, depth),
    with the predicted trainable depth 6 xi_c (and xi_c) overlaid."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    from ..sweep import run_sweep

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
def gradient_norms_figure(p: dict):
    """Backward mean field: mean square weight gradient per layer of simulated nets (points, +- 1 s.e.)
    against qt^l (q^l - sigma_b^2) / sigma_w^2 (lines), ordered, critical and chaotic."""
    import matplotlib.pyplot as plt

    from ..backward import gradient_depth_scale, gradient_statistics
    from ..montecarlo import gradient_norms

    act, sb, depth, width = p["activation"], float(p["sigma_b2"]), int(p["depth"]), int(p["width"])
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    layers = np.arange(1, depth + 1)
    data = {}
    for k, sw in enumerate(p["sigma_w2"]):
        th = gradient_statistics(act, float(sw), sb, depth)
        run = gradient_norms(act, float(sw), sb, depth, width, n_networks=int(p["networks"]), seed=int(p["seed"]))
        w = run.weight_gradient
        mean, se = w.mean(0), w.std(0, ddof=1) / np.sqrt(len(w))
        xi = gradient_depth_scale(act, float(sw), sb)
        ax.semilogy(layers, th.weight_gradient, color=f"C{k}", label=rf"$\sigma_w^2$ = {sw:g}, $\xi_\nabla$ = {xi:.3g}")
        _errorbar(ax, layers, mean, se, color=f"C{k}")
        z = (mean - th.weight_gradient) / se
        data[f"{sw:g}"] = {
            "theory": th.weight_gradient,
            "mean": mean,
            "stderr": se,
            "xi": xi,
            "max_abs_z": float(np.abs(z).max()),
        }
    ax.set(xlabel="layer l", ylabel=r"E[(dL/dW$^l_{ij}$)$^2$] / output layer's", title=f"{act}, width {width}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data


@figure_kind
def finite_width_figure(p: dict):
    """Finite-width 1/n corrections: n Var[qhat^l] and n (E[qhat^l] - q^l) of simulated tanh nets at
    several widths against the four-point vertex recursion, and ReLU's exact n Var against L/n."""
    import matplotlib.pyplot as plt

    from ..finite_width import length_fluctuations
    from ..montecarlo import SimulationConfig, simulate

    act, sw, sb, depth = p["activation"], float(p["sigma_w2"]), float(p["sigma_b2"]), int(p["depth"])
    th = length_fluctuations(act, sw, sb, depth)
    fig, (ax_v, ax_m, ax_r) = plt.subplots(1, 3, figsize=(13, 3.8))
    layers = np.arange(1, depth + 1)
    ax_v.plot(layers, th.n_var, "k", label="1/n theory")
    ax_m.plot(layers, th.mean_shift, "k", label="1/n theory")
    data = {"theory_n_var": th.n_var, "theory_mean_shift": th.mean_shift}
    for k, width in enumerate(p["widths"]):
        cfg = SimulationConfig(
            act, sw, sb, width=int(width), depth=depth, n_networks=int(p["networks"]), seed=int(p["seed"])
        )
        q = simulate(cfg).q[:, :, 0]
        s = len(q)
        n_var = width * q.var(0, ddof=1)
        shift, shift_se = width * (q.mean(0) - th.q), width * q.std(0, ddof=1) / np.sqrt(s)
        _errorbar(ax_v, layers, n_var, n_var * np.sqrt(2 / (s - 1)), color=f"C{k}", label=f"n = {width}")
        _errorbar(ax_m, layers, shift, shift_se, color=f"C{k}", label=f"n = {width}")
        data[str(width)] = {"n_var": n_var, "mean_shift": shift, "mean_shift_stderr": shift_se}
    n = 64  # relu, sigma_w^2 = 2, sigma_b^2 = 0: exact product of independent layer factors
    depths = np.arange(1, n + 1)
    exact = n * ((1 + 2 / n) * (1 + 5 / n) ** (depths - 1) - 1)
    ax_r.semilogy(depths / n, exact, "C3", label="exact, n = 64")
    ax_r.semilogy(depths / n, 2 + 5 * (depths - 1), "k--", label="1/n theory: 2 + 5 (L - 1)")
    ax_v.set(xlabel="layer l", ylabel=r"$n\,$Var[$\hat q^l$]", title=f"{act}: fluctuations of the length")
    ax_m.set(xlabel="layer l", ylabel=r"$n\,(E[\hat q^l] - q^l)$", title="the 1/n shift of the mean")
    ax_r.set(xlabel="depth / width  L / n", ylabel=r"relu: $n\,$Var[$\hat q^L$] / $q^2$", title="where 1/n stops")
    for ax in (ax_v, ax_m, ax_r):
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data


@figure_kind
def ntk_fluctuations_figure(p: dict):
    """Finite-width NTK (ReLU, no biases): Var[Theta(x,x)] / E[Theta]^2 of simulated nets (points, +- 1 s.e.)
    against L/n with the 1/n theory and its product resummation (lines), and the 10-90 % band of one
    network's Theta / Theta_inf: where L/n is not small no single network has the infinite-width kernel."""
    import matplotlib.pyplot as plt

    from ..finite_width import ntk_fluctuations
    from ..montecarlo.ntk_fluctuations import ntk_diagonal

    act, sw, s, seed = p["activation"], float(p["sigma_w2"]), int(p["networks"]), int(p["seed"])
    fig, (ax_v, ax_n, ax_q) = plt.subplots(1, 3, figsize=(14, 4))
    data = {}
    for k, width in enumerate(int(w) for w in p["widths"]):
        depths = sorted({max(1, round(r * width)) for r in p["depth_ratios"]})
        x = np.array(depths) / width
        th = [ntk_fluctuations(act, sw, d, width) for d in depths]
        runs = [ntk_diagonal(act, sw, d, width, n_networks=s, seed=seed) for d in depths]
        est = np.array([r.relative_variance() for r in runs])
        quant = np.array([np.quantile(r.theta, [0.1, 0.5, 0.9]) for r in runs])
        color = f"C{k}"
        _errorbar(ax_v, x, est[:, 0], est[:, 1], color=color, label=f"simulated, n = {width}")
        ax_v.plot(x, [t.leading for t in th], color=color, ls="--")
        ax_v.plot(x, [t.resummed for t in th], color=color)
        ax_q.fill_between(x, quant[:, 0], quant[:, 2], color=color, alpha=0.2, label=f"10-90 %, n = {width}")
        ax_q.plot(x, quant[:, 1], color=color, marker=".")
        data[str(width)] = {
            "depths": depths,
            "relative_variance": est,
            "leading": [t.leading for t in th],
            "resummed": [t.resummed for t in th],
            "quantiles_10_50_90": quant,
        }
    widths = np.array([int(w) for w in p["convergence_widths"]])
    for k, depth in enumerate(int(d) for d in p["fixed_depths"]):  # n Var/E^2 -> the 1/n coefficient
        est = np.array([ntk_diagonal(act, sw, depth, n, n_networks=s, seed=seed).relative_variance() for n in widths])
        coef = ntk_fluctuations(act, sw, depth, 1).leading  # width 1: the coefficient itself
        _errorbar(ax_n, widths, widths * est[:, 0], widths * est[:, 1], color=f"C{k + 4}", label=f"L = {depth}")
        ax_n.axhline(coef, color=f"C{k + 4}", ls="--")
        data[f"depth_{depth}"] = {"widths": widths, "n_relative_variance": widths[:, None] * est, "coefficient": coef}
    ax_v.set(xscale="log", yscale="log", xlabel="L / n", ylabel=r"Var[$\Theta$] / E[$\Theta$]$^2$")
    ax_v.set_title("dashed: 1/n theory; solid: product resummation", fontsize=9)
    ax_n.set(xscale="log", yscale="log", xlabel="width n", ylabel=r"n Var[$\Theta$] / E[$\Theta$]$^2$")
    ax_n.set_title("fixed depth: n x relative variance -> the 1/n coefficient (dashed)", fontsize=9)
    ax_q.axhline(1.0, color="k", lw=0.8)
    ax_q.set(xscale="log", xlabel="L / n", ylabel=r"$\Theta(x,x)\,/\,\Theta_\infty$ of one network")
    ax_q.set_title("median and 10-90 % of single networks", fontsize=9)
    for ax in (ax_v, ax_n, ax_q):
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig, data


@figure_kind
def theory_ii_summary(p: dict):
    """Summary of the theory-II quantities (domino theorem, backward and dropout mean field, finite width,
    Fisher information, NTK fluctuations):
    theory, Monte-Carlo mean +- standard error, width and z-score, as a table (<name>.md) and z-scores."""
    import matplotlib.pyplot as plt

    from ..backward import gradient_statistics
    from ..domino import domino
    from ..dropout import dropout_fixed_point, dropout_propagate
    from ..finite_width import length_fluctuations, ntk_fluctuations
    from ..fisher import fisher_statistics
    from ..montecarlo import SimulationConfig, gradient_norms, jacobian_products, simulate
    from ..montecarlo.dropout import dropout_correlations
    from ..montecarlo.fisher import fisher_spectra
    from ..montecarlo.ntk_fluctuations import ntk_diagonal

    act, sw, sb, depth, s, seed = (
        p["activation"],
        float(p["sigma_w2"]),
        float(p["sigma_b2"]),
        int(p["depth"]),
        int(p["networks"]),
        int(p["seed"]),
    )
    rows = []

    def row(name, theory, samples, width, scale=1.0):
        samples = np.asarray(samples, dtype=np.float64) * scale
        mean, se = float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(len(samples)))
        rows.append(
            {
                "quantity": name,
                "theory": float(theory),
                "mc": mean,
                "stderr": se,
                "width": int(width),
                "z": (mean - theory) / se,
            }
        )

    n = int(p["width"])
    th = domino(act, sw, sb, depth, n)
    run = jacobian_products(act, sw, sb, depth, n, n_networks=s, seed=seed)
    row(f"domino: mean log ‖J_L v‖²/‖v‖², L = {depth}", th.log_mean[-1], run.log_ratio[:, 0, -1], n)
    row("domino: N x E[cos^2] of two probes, layer 1", n * th.first_cosine_var, run.cosine[:, 0] ** 2, n, scale=n)
    gs = gradient_statistics(act, sw, sb, depth)
    g = gradient_norms(act, sw, sb, depth, n, n_networks=s, seed=seed)
    row(
        f"gradients: E[(dL/dW^1_ij)^2] / output layer's, L = {depth}", gs.weight_gradient[0], g.weight_gradient[:, 0], n
    )
    rho = float(p["rho"])
    _, cs = dropout_propagate(act, sw, sb, rho, depth)
    _, c = dropout_correlations(act, sw, sb, rho, depth, n, n_networks=s, seed=seed)
    row(
        f"dropout rho = {rho:g}: c^L, L = {depth} (c* = {dropout_fixed_point(act, sw, sb, rho).c:.4f})",
        cs[-1],
        c[:, -1],
        n,
    )
    lf = length_fluctuations(act, sw, sb, depth)
    for width in p["finite_widths"]:
        cfg = SimulationConfig(act, sw, sb, width=int(width), depth=depth, n_networks=4 * s, seed=seed)
        q = simulate(cfg).q[:, -1, 0]
        var, var_se = width * q.var(ddof=1), width * q.var(ddof=1) * np.sqrt(2 / (len(q) - 1))
        rows.append(
            {
                "quantity": f"finite width: n Var[qhat^L], L = {depth}, L/n = {depth / width:.2g}",
                "theory": float(lf.n_var[-1]),
                "mc": float(var),
                "stderr": float(var_se),
                "width": int(width),
                "z": float((var - lf.n_var[-1]) / var_se),
            }
        )
    fw = int(p["fisher_width"])  # the FIM's finite-width bias is ~ 10/M relative: a wider net
    fs = fisher_statistics(act, sw, sb, 3, fw, n_inputs=8)
    fm = fisher_spectra(act, sw, sb, 3, fw, n_inputs=8, n_networks=max(2, s // 8), seed=seed)
    for name, label in (("mean", "m_lambda"), ("second_moment", "s_lambda"), ("max", "lambda_max")):
        row(f"Fisher (Karakida et al.): {label}, 3 hidden layers, T = 8", getattr(fs, name), getattr(fm, name), fw)
    row("Fisher: NTK bulk eigenvalue alpha (kappa_1 - kappa_2)", fs.ntk_bulk, fm.ntk_bulk, fw)
    nw, nd = int(p["ntk_width"]), int(p["ntk_depth"])
    nf = ntk_fluctuations("relu", 2.0, nd, nw)
    ratio, ratio_se = ntk_diagonal("relu", 2.0, nd, nw, n_networks=16 * s, seed=seed).relative_variance()
    rows.append(
        {
            "quantity": f"NTK fluctuations (relu): Var[Theta]/E[Theta]^2, L = {nd}, 1/n theory",
            "theory": nf.leading,
            "mc": ratio,
            "stderr": ratio_se,
            "width": nw,
            "z": (ratio - nf.leading) / ratio_se,
        }
    )
    lines = ["| quantity | theory | MC mean ± SE | width | z |", "|---|---|---|---|---|"]
    lines += [
        f"| {r['quantity']} | {r['theory']:.5g} | {r['mc']:.5g} ± {r['stderr']:.2g} | {r['width']} | {r['z']:.2f} |"
        for r in rows
    ]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1))
    ax.barh(range(len(rows)), [r["z"] for r in rows], color="C0")
    ax.set_yticks(range(len(rows)), [f"{r['quantity']} (n = {r['width']})" for r in rows], fontsize=7)
    ax.axvline(-3, color="k", ls=":")
    ax.axvline(3, color="k", ls=":")
    ax.set(xlabel="z = (MC - theory) / SE", title=f"theory II against simulation: {act}, {s} networks")
    fig.tight_layout()
    head = f"{act}, sigma_w^2 = {sw:g}, sigma_b^2 = {sb:g}, {s} networks, seed {seed}"
    head += "; the 1/n theory holds while L/n is small"
    return fig, {"rows": rows, "markdown": head + "\n\n" + "\n".join(lines) + "\n"}

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

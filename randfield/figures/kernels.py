"""Kernels and continuous depth: NTK width convergence, ResNets converging to the depth ODE."""

from __future__ import annotations

import numpy as np

from ._helpers import _errorbar
from .registry import figure_kind


@figure_kind
def ntk_width_convergence(p: dict):
    """Relative Frobenius error of empirical NTK and NNGP against the analytic kernels, vs width."""
    import matplotlib.pyplot as plt

    from ..blocks import dense_network, kernels
    from ..montecarlo import monte_carlo_nngp, monte_carlo_ntk

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
def resnet_depth_limit_figure(p: dict):
    """ResNets with branch variance T/L converging to the depth-ODE limit: |q_L - q_ODE| vs L."""
    import matplotlib.pyplot as plt

    from ..montecarlo import resnet_depth_limit

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

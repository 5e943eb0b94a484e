"""Geometry and spectra: great-circle length and curvature, Jacobian spectra."""

from __future__ import annotations

import numpy as np

from ._helpers import _errorbar, _theory_and_simulation
from .registry import figure_kind


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
    fig.text(
        0.5,
        0.005,
        r"$K^{l+1} = K^l/\chi_1 + 3\chi_2/\chi_1^2$ (Poole et al. 2016): the created curvature $3\chi_2/(\chi_1^2 N)$ "
        r"per layer is Amari's creation term $\chi_2/n$ (seed 004: 'creation is small!')",
        ha="center",
        fontsize=7,
    )
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig, data


@figure_kind
def jacobian_spectra(p: dict):
    """Squared singular values of the input-output Jacobian, Gaussian vs orthogonal weights: simulated
    histograms (log10 lambda) against the free-probability density, with their KS distance."""
    import matplotlib.pyplot as plt

    from ..maps import length_fixed_point
    from ..montecarlo import jacobian_singular_values
    from ..spectra import jacobian_spectrum

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
def domino_figure(p: dict):
    """The domino theorem: log |B^L...B^1 v|^2 / |v|^2 of simulated nets against log prod chi_1 and its
    finite-width mean, with the spread N Var[log] (width-independent) and the cosine of two probes."""
    import matplotlib.pyplot as plt

    from ..domino import domino
    from ..montecarlo import jacobian_products

    act, sw, sb, depth = p["activation"], float(p["sigma_w2"]), float(p["sigma_b2"]), int(p["depth"])
    fig, (ax_m, ax_v, ax_c) = plt.subplots(1, 3, figsize=(13, 3.8))
    layers = np.arange(1, depth + 1)
    data = {}
    for k, width in enumerate(p["widths"]):
        th = domino(act, sw, sb, depth, int(width))
        run = jacobian_products(act, sw, sb, depth, int(width), n_networks=int(p["networks"]), seed=int(p["seed"]))
        x = run.log_ratio[:, 0]
        mean, se = x.mean(0), x.std(0, ddof=1) / np.sqrt(len(x))
        colour = f"C{k}"
        _errorbar(ax_m, layers, mean - np.log(th.product), se, color=colour, label=f"N = {width}")
        ax_m.plot(layers, th.log_mean - np.log(th.product), color=colour)
        ax_v.plot(layers, width * x.var(0, ddof=1), "o", ms=3, color=colour, label=f"N = {width}")
        ax_c.plot(layers, np.sqrt(width * (run.cosine**2).mean(0)), "o-", ms=3, color=colour, label=f"N = {width}")
        z = (mean - th.log_mean) / se
        data[str(width)] = {"mean": mean, "stderr": se, "theory": th.log_mean, "max_abs_z": float(np.abs(z).max())}
    ax_v.plot(layers, th.width * th.log_var_independent, "k--", label="sum of per-layer variances")
    ax_m.axhline(0, color="k", lw=0.8)
    ax_m.set(xlabel="layer L", ylabel=r"mean log-norm $-\ \log\prod\chi_1$", title="theory (lines), simulation")
    ax_v.set(xlabel="layer L", ylabel=r"$N\,$Var[log $|J v|^2/|v|^2$]", title="spread grows like L/N")
    ax_c.set(xlabel="layer L", ylabel=r"$\sqrt{N}\,$rms cosine of two probes", title="off-diagonal terms ~ 1/sqrt(N)")
    for ax in (ax_m, ax_v, ax_c):
        ax.legend(fontsize=8)
    fig.suptitle(
        f"{act}, $\\sigma_w^2$ = {sw:g}, $\\sigma_b^2$ = {sb:g}: $J^T J \\approx \\prod \\chi_1\\, I$", fontsize=10
    )
    fig.tight_layout()
    return fig, data

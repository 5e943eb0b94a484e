"""Geometry and spectra: great-circle length and curvature, Jacobian spectra."""

from __future__ import annotations

import numpy as np

from ._helpers import _theory_and_simulation
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

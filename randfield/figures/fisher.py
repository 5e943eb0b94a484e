"""Fisher information of random nets (Karakida, Akaho & Amari 2019): statistics and learning rates."""

from __future__ import annotations

import numpy as np

from ._helpers import _errorbar
from .registry import figure_kind

_STATS = (("mean", r"$m_\lambda$"), ("second_moment", r"$s_\lambda$"), ("max", r"$\lambda_{max}$"))


@figure_kind
def fisher_statistics_figure(p: dict):
    """The FIM's mean eigenvalue m_lambda = O(1/M), second moment s_lambda = O(1) and largest eigenvalue
    lambda_max = O(M) of simulated nets (points, +- 1 s.e.; open: the largest of the C-fold top, filled:
    the mean of the top C) against Theorem 1 (lines), vs width and vs depth, for tanh and ReLU; and the
    NTK's outlier growing with the number of inputs T while its bulk stays put."""
    import matplotlib.pyplot as plt

    from ..fisher import fisher_statistics
    from ..montecarlo.fisher import fisher_spectra

    c, t, s, seed = int(p["outputs"]), int(p["inputs"]), int(p["networks"]), int(p["seed"])
    fig, axes = plt.subplots(4, 2, figsize=(10, 13))
    data = {}
    for k, (act, sw, sb) in enumerate(p["nets"]):
        sw, sb = float(sw), float(sb)
        color = f"C{k}"
        label = f"{act}, $\\sigma_w^2$ = {sw:g}, $\\sigma_b^2$ = {sb:g}"
        sweeps = {
            "width": [(int(m), int(p["depth"])) for m in p["widths"]],
            "depth": [(int(p["width"]), int(d)) for d in p["depths"]],
        }
        for col, (axis, points) in enumerate(sweeps.items()):
            theory, sims = [], []
            for width, depth in points:
                theory.append(fisher_statistics(act, sw, sb, depth, width, n_outputs=c, n_inputs=t))
                sims.append(fisher_spectra(act, sw, sb, depth, width, n_outputs=c, n_inputs=t, n_networks=s, seed=seed))
            x = np.array([pt[0] if axis == "width" else pt[1] for pt in points], dtype=float)
            record = {axis: x}
            for row, (name, sym) in enumerate(_STATS):
                ax = axes[row, col]
                line = np.array([getattr(th, name) for th in theory])
                ax.loglog(x, line, color=color, label=label if row == 0 else None)
                est = np.array([sim.estimate(name) for sim in sims])
                if name == "max":
                    top = np.array([sim.estimate("top_mean") for sim in sims])
                    ax.errorbar(x, top[:, 0], yerr=top[:, 1], fmt="o", ms=4, color=color, capsize=2)
                    ax.errorbar(x, est[:, 0], yerr=est[:, 1], fmt="o", ms=6, mfc="none", color=color, capsize=2)
                    record["top_mean"] = top
                else:
                    _errorbar(ax, x, est[:, 0], est[:, 1], color=color)
                record[name] = est
                record[f"theory_{name}"] = line
                ax.set(xlabel=axis + (" M" if axis == "width" else " (hidden layers)"), ylabel=sym)
                ax.set_xticks(x, [f"{v:g}" for v in x], minor=False)
                ax.set_xticks([], minor=True)
            data[f"{act}_{axis}"] = record
            if axis == "width":  # the pathology: lambda_max / m_lambda = O(M^2)
                ratio = np.array([sim.max.mean() / sim.mean.mean() for sim in sims])
                axes[3, 1].loglog(x, ratio, "o", color=color, label=f"{act}, simulated")
                axes[3, 1].loglog(x, [th.max / th.mean for th in theory], color=color, label="Theorem 1")
                axes[3, 1].set_xticks(x, [f"{v:g}" for v in x])
                axes[3, 1].set_xticks([], minor=True)
                record["max_over_mean"] = ratio
        # the NTK's outlier alpha (kappa_1 + (T - 1) kappa_2) and bulk alpha (kappa_1 - kappa_2) vs T
        ts = [int(v) for v in p["ntk_inputs"]]
        width, depth = int(p["width"]), int(p["depth"])
        th = [fisher_statistics(act, sw, sb, depth, width, n_outputs=1, n_inputs=v) for v in ts]
        sims = [fisher_spectra(act, sw, sb, depth, width, n_inputs=v, n_networks=s, seed=seed) for v in ts]
        ax = axes[3, 0]
        ax.loglog(ts, [x.ntk_max for x in th], color=color)
        ax.loglog(ts[1:], [x.ntk_bulk for x in th[1:]], color=color, ls="--")
        top = np.array([sim.estimate("ntk_max") for sim in sims])
        bulk = np.array([sim.estimate("ntk_bulk") for sim in sims[1:]])
        _errorbar(ax, ts, top[:, 0], top[:, 1], color=color)
        ax.errorbar(ts[1:], bulk[:, 0], yerr=bulk[:, 1], fmt="s", ms=3, mfc="none", color=color, capsize=2)
        ax.set_xticks(ts, [str(v) for v in ts])
        ax.set_xticks([], minor=True)
        data[f"{act}_ntk"] = {"inputs": ts, "ntk_max": top, "ntk_bulk": bulk}
    axes[0, 0].legend(fontsize=7)
    axes[0, 0].set_title(f"vs width (depth {p['depth']}), C = {c}, T = {t}", fontsize=9)
    axes[0, 1].set_title(f"vs depth (width {p['width']})", fontsize=9)
    axes[2, 0].text(0.03, 0.9, "open: largest; filled: mean of the top C", transform=axes[2, 0].transAxes, fontsize=7)
    axes[3, 0].set(xlabel="inputs T", ylabel="NTK eigenvalue", title="NTK: outlier (solid) vs bulk (dashed)")
    axes[3, 1].set(xlabel="width M", ylabel=r"$\lambda_{max} / m_\lambda$", title="the pathology: O(M) / O(1/M)")
    axes[3, 1].legend(fontsize=8)
    fig.tight_layout()
    return fig, data


@figure_kind
def fisher_learning_rate_figure(p: dict):
    """Gradient descent on the squared loss towards a random teacher at learning rates eta = r 2/lambda_max
    (Theorem 1): below r = 1 the loss falls monotonically; above it the steep direction grows first (peak
    loss above the start) -- and may still settle after a 'catapult' (Lewkowycz et al. 2020) -- and far
    above it the run diverges."""
    import matplotlib.pyplot as plt

    from ..fisher import fisher_statistics
    from ..montecarlo.fisher import teacher_descent

    width, depth, t, steps = int(p["width"]), int(p["depth"]), int(p["inputs"]), int(p["steps"])
    ratios = np.geomspace(float(p["ratios"][0]), float(p["ratios"][1]), int(p["ratios"][2]))
    shown = [float(r) for r in p["shown"]]
    fig, axes = plt.subplots(1, 1 + len(p["nets"]), figsize=(5 * (1 + len(p["nets"])), 4))
    data = {"ratios": ratios}
    for k, (act, sw, sb) in enumerate(p["nets"]):
        sw, sb = float(sw), float(sb)
        th = fisher_statistics(act, sw, sb, depth, width, n_inputs=t)
        rates = np.concatenate([ratios, shown]) * th.learning_rate_bound
        run = teacher_descent(act, sw, sb, depth, width, rates, n_inputs=t, steps=steps, seed=int(p["seed"]))
        rel = run.losses / run.losses[:, :1]
        peak, final = rel[: len(ratios)].max(1), rel[: len(ratios), -1]
        measured = 2 / run.lambda_max / th.learning_rate_bound  # the student's own bound in units of the theory's
        ax = axes[0]
        ok = np.isfinite(final)
        converged = ok & (final < 1e-6)
        ax.loglog(ratios[ok], peak[ok], "-", color=f"C{k}", label=f"{act}: peak loss (filled: converged)")
        ax.loglog(ratios[converged], peak[converged], "o", color=f"C{k}")
        ax.loglog(ratios[ok & ~converged], peak[ok & ~converged], "o", mfc="none", color=f"C{k}")
        ax.axvline(measured, color=f"C{k}", ls="--", lw=0.8)
        diverged = ratios[~ok]
        if diverged.size:
            ax.axvline(diverged.min(), color=f"C{k}", ls=":", lw=1.5, label=f"{act}: diverges from here")
        axk = axes[1 + k]
        for j, r in enumerate(shown):
            curve = rel[len(ratios) + j]
            axk.semilogy(np.where(np.isfinite(curve), curve, np.nan), label=f"eta = {r:g} x 2/lambda_max")
        axk.set(xlabel="step", ylabel="loss / initial", title=f"{act}, M = {width}, T = {t}")
        axk.legend(fontsize=7)
        data[act] = {
            "learning_rate_bound": th.learning_rate_bound,
            "student_bound_ratio": measured,
            "peak": peak,
            "final": final,
            "first_diverged_ratio": float(diverged.min()) if diverged.size else None,
        }
    ax = axes[0]
    ax.axvline(1.0, color="k", lw=1)
    ax.set(
        xlabel=r"$\eta \,/\, (2/\lambda_{max})$",
        ylabel="loss / initial",
        title=f"{steps} steps; black: Theorem 1's 2/lambda_max, dashed: the student's own",
    )
    ax.title.set_fontsize(8)
    ax.set_xticks([0.5, 1, 2, 4, 8], ["0.5", "1", "2", "4", "8"])
    ax.set_xticks([], minor=True)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig, data

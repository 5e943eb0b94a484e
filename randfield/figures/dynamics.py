"""Dynamics models: the published-protocol tables and the learnt Cahn-Hilliard stencil."""

from __future__ import annotations

import numpy as np

from .registry import figure_kind


@figure_kind
def dynamics_table(p: dict):
    """DGNet's ODE or PDE table measured (anchors B1 §1.3.3, §1.3.5): energy error vs time per
    model/integrator and energy MSE against the published value; the Markdown table goes to <name>.md."""
    from ..dynamics.experiment import jobs_from_params, run_table, summarise, table_markdown

    jobs = jobs_from_params(p)
    summary = summarise(jobs, run_table(jobs, workers=int(p.get("workers", 1)), progress=True))  # a bar per cell
    fig = dynamics_table_figure(summary)
    data_rows = [{k: v for k, v in r.items() if k not in ("spacetime", "truth_spacetime")} for r in summary]
    return fig, {"rows": data_rows, "markdown": table_markdown(summary)}


def dynamics_table_figure(summary: list[dict]):
    """The figure of a dynamics table (rows as `experiment.summarise` writes them, also read back
    from a table's JSON): per system, energy error vs time per model/integrator, energy MSE
    (mean ± std over seeds) against the published value, and space-time pictures for PDEs."""
    import matplotlib.pyplot as plt

    from ..dynamics.data import get_system
    from ..dynamics.experiment import row_base

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

    from ..dynamics import data, fit, get_model

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
    steps, batch = int(p["steps"]), int(p["batch_size"])
    history = fit(
        model,
        trajectories,
        steps=steps,
        batch_size=batch,
        lr=float(p["lr"]),
        weight_decay=0.0,
        dtype="float64",
        progress=False,
    )
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

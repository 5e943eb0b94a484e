"""Normalising flows: the density-matching comparison of Chen et al. 2018 (Fig. 4 structure)."""

from __future__ import annotations

import numpy as np

from .registry import figure_kind


@figure_kind
def flow_matching_figure(p: dict):
    """Density matching (min KL(q || p) from samples of q) of Rezende & Mohamed's unnormalised targets:
    the target, planar flows with K layers and CNFs of width M (Chen et al. 2018, Fig. 4 structure),
    each shown as a histogram of its samples, with the final KL estimate E_q[log q - log p~] in the title
    (lower is better; the targets' normalisers are unknown, so only differences between models compare)."""
    import matplotlib.pyplot as plt
    import torch

    from ..flows import CNF, PlanarFlow, fit_density_matching, target_log_density

    torch.set_num_threads(2)
    targets, ks, ms = p["targets"], [int(k) for k in p["planar_layers"]], [int(m) for m in p["cnf_widths"]]
    steps, batch, seed = int(p["steps"]), int(p["batch"]), int(p["seed"])
    cols = 1 + len(ks) + len(ms)
    fig, axes = plt.subplots(len(targets), cols, figsize=(2.2 * cols, 2.2 * len(targets)), squeeze=False)
    g = torch.linspace(-4, 4, 200)
    grid = torch.stack(torch.meshgrid(g, g, indexing="xy"), -1)
    edges = np.linspace(-4, 4, 81)
    data = {}
    for row, target in enumerate(targets):
        axes[row, 0].imshow(target_log_density(target, grid).exp().numpy(), extent=(-4, 4, -4, 4), origin="lower")
        axes[row, 0].set_title(f"target {target}", fontsize=8)
        models = [(f"NF K={k}", PlanarFlow(2, k), float(p["planar_lr"])) for k in ks]
        models += [
            (f"CNF M={m}", CNF(2, width=m, method="rk4", gradient="backprop", substeps=int(p["cnf_steps"])),
             float(p["cnf_lr"]))
            for m in ms
        ]  # fmt: skip
        data[target] = {}
        for col, (label, flow, lr) in enumerate(models, start=1):
            torch.manual_seed(seed)
            fit = fit_density_matching(flow, target, steps=steps, batch=batch, lr=lr, seed=seed)
            with torch.no_grad():
                x, log_q = flow.sample(int(p["show"]), generator=torch.Generator().manual_seed(seed + 1),
                                       return_log_prob=True)  # fmt: skip
                kl = float((log_q - target_log_density(target, x)).mean())
            h, _, _ = np.histogram2d(x[:, 1].numpy(), x[:, 0].numpy(), bins=[edges, edges])
            axes[row, col].imshow(h, extent=(-4, 4, -4, 4), origin="lower")
            axes[row, col].set_title(f"{label}: {kl:.3f}", fontsize=8)
            data[target][label] = {"kl": kl, "seconds_per_step": fit.seconds_per_step, "final_loss": fit.losses[-1]}
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig, data

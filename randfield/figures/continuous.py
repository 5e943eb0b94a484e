"""Continuous-depth networks: the classifier table of Chen et al. 2018 on digits, with NFE and memory."""

from __future__ import annotations

import numpy as np

from .registry import figure_kind


@figure_kind
def classifier_table_figure(p: dict):
    """Chen et al. 2018, Table 1, on scikit-learn's digits: test error (mean +- std over seeds), parameters,
    saved-activation memory per batch, time per epoch and NFE of MLP, ResNet, RK-Net, ODE-Net and RevNet
    (table to <name>.md); NFE during training; the trained ODE-Net's forward and backward NFE and test
    error against the solver tolerance; training memory against the solver's step count."""
    import matplotlib.pyplot as plt
    import torch

    from ..continuous.blocks import ODEBlock
    from ..continuous.classify import activation_bytes, evaluate, load_data, result_dict, train_classifier

    torch.set_num_threads(2)
    data = load_data("digits")
    kw = dict(epochs=int(p["epochs"]), batch=int(p["batch"]), lr=float(p["lr"]), channels=int(p["channels"]))
    results = {a: [train_classifier(a, data, seed=int(s), **kw) for s in p["seeds"]] for a in p["archs"]}
    rows = []
    for arch, rs in results.items():
        err = np.array([r.test_error for r in rs]) * 100
        nfe = (rs[0].nfe_forward, rs[0].nfe_backward)
        rows.append(
            {
                "arch": arch,
                "test_error_mean": float(err.mean()),
                "test_error_std": float(err.std(ddof=1)) if len(err) > 1 else 0.0,
                "parameters": rs[0].parameters,
                "activation_mib": rs[0].activation_mib,
                "seconds_per_epoch": float(np.mean([r.seconds_per_epoch for r in rs])),
                "nfe_forward": None if nfe[0] is None else float(np.mean([r.nfe_forward for r in rs])),
                "nfe_backward": None if nfe[1] is None else float(np.mean([r.nfe_backward for r in rs])),
            }
        )
    fig, (ax_e, ax_h, ax_t, ax_m) = plt.subplots(1, 4, figsize=(18, 4))
    ax_e.bar(range(len(rows)), [r["test_error_mean"] for r in rows], yerr=[r["test_error_std"] for r in rows])
    ax_e.set_xticks(range(len(rows)), [f"{r['arch']}\n{r['parameters'] / 1e3:.1f} k" for r in rows])
    ax_e.set(ylabel="test error (%)", title=f"digits, {len(p['seeds'])} seeds, {p['epochs']} epochs")
    data_out = {"rows": rows, "runs": {a: [result_dict(r) for r in rs] for a, rs in results.items()}}
    if "odenet" in results:
        for r in results["odenet"]:
            ax_h.plot(range(1, len(r.nfe_history) + 1), r.nfe_history, color="C3", alpha=0.6)
        ax_h.set(xlabel="epoch", ylabel="forward NFE per batch", title="ODE-Net: NFE during training")
        model = results["odenet"][0].model
        block = next(m for m in model.modules() if isinstance(m, ODEBlock))
        tols = [float(v) for v in p["tolerances"]]
        fwd, bwd, errs = [], [], []
        x, y = data.x_train[: int(p["batch"])], data.y_train[: int(p["batch"])]
        for tol in tols:
            block.options = {"rtol": tol, "atol": tol}
            torch.nn.functional.cross_entropy(model(x), y).backward()
            fwd.append(block.stats.nfe_forward)
            bwd.append(block.stats.nfe_backward)
            model.zero_grad()
            errs.append(100 * evaluate(model, data.x_test, data.y_test))
        ax_t.loglog(tols, fwd, "o-", label="forward NFE")
        ax_t.loglog(tols, bwd, "s--", label="backward NFE")
        ax_t.set(xlabel="rtol = atol", ylabel="NFE (one batch)", title="trained ODE-Net (seed 0)")
        ax_t.legend(fontsize=8)
        data_out["tolerance"] = {"tolerances": tols, "nfe_forward": fwd, "nfe_backward": bwd, "test_error": errs}
        # training memory vs solver steps: fixed-step rk4 in the same ODE block, adjoint vs backprop
        steps = [int(v) for v in p["memory_steps"]]
        mem = {}
        for gradient in ("adjoint", "backprop"):
            mem[gradient] = []
            for n in steps:
                block.method, block.gradient, block.options = "rk4", gradient, {"substeps": n}
                mem[gradient].append(activation_bytes(model, x, y) / 2**20)
            ax_m.semilogx(steps, mem[gradient], "o-", label=f"ODE-Net, {gradient}")
        ax_m.set(xlabel="solver steps (rk4)", ylabel="saved activations per batch (MiB)", title="training memory")
        ax_m.legend(fontsize=8)
        data_out["memory"] = {"steps": steps, **mem}
    fig.tight_layout()
    lines = [
        "| model | test error (%) | parameters | saved activations / batch (MiB) | s / epoch | NFE fwd / bwd |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        nfe = "–" if r["nfe_forward"] is None else f"{r['nfe_forward']:.1f} / {r['nfe_backward']:.1f}"
        lines.append(
            f"| {r['arch']} | {r['test_error_mean']:.2f} ± {r['test_error_std']:.2f} | {r['parameters']} | "
            f"{r['activation_mib']:.2f} | {r['seconds_per_epoch']:.2f} | {nfe} |"
        )
    head = (
        f"digits (scikit-learn, 1438 train / 359 test, fixed split), {len(p['seeds'])} seeds, {p['epochs']} epochs, "
        f"batch {p['batch']}, Adam lr {p['lr']} (cosine), {p['channels']} channels; "
        "ODE-Net: dopri5 rtol = atol = 1e-3, adjoint; RK-Net: 2 RK4 steps, backprop; 2 CPU cores"
    )
    data_out["markdown"] = head + "\n\n" + "\n".join(lines) + "\n"
    return fig, data_out


@figure_kind
def ode_trainability_figure(p: dict):
    """Trainability on digits (beyond Chen et al.): test error after a fixed Adam budget over sigma_w^2 at
    initialisation, for deep plain tanh nets against depth (with Schoenholz et al.'s 6 xi_c and xi_c) and
    for a tanh ODE block dh/dt = W tanh(h) + b against its integration time T (with the chi_1 = 1 line)."""
    import matplotlib.pyplot as plt
    import torch

    from ..continuous.classify import load_data, trainability
    from ..maps import critical_sigma_w2
    from ..phase import phase_diagram

    torch.set_num_threads(2)
    data = load_data("digits")
    sws, sb = np.array(p["sigma_w2"], float), float(p["sigma_b2"])
    opts = dict(width=int(p["width"]), steps=int(p["steps"]), seed=int(p["seed"]))
    grids = {"plain": np.array(p["depths"], float), "ode": np.array(p["times"], float)}
    errors = {
        kind: np.array([[trainability(kind, sw, sb, depth, data, **opts) for sw in sws] for depth in depths])
        for kind, depths in grids.items()
    }
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    line = np.linspace(sws.min(), sws.max(), 400)
    xi = phase_diagram("tanh", line, [sb]).xi_c[:, 0]
    critical = float(critical_sigma_w2("tanh", sb))
    for ax, (kind, depths) in zip(axes, grids.items()):
        mesh = ax.pcolormesh(sws, depths, 100 * errors[kind], shading="nearest", cmap="viridis", vmin=0, vmax=90)
        plt.colorbar(mesh, ax=ax, label="test error (%)")
        ax.axvline(critical, color="w", ls=":", label=r"$\chi_1 = 1$")
        ax.set(xlabel=r"$\sigma_w^2$", yscale="log", ylim=(depths.min() / 1.3, depths.max() * 1.3))
        ax.set_yticks(depths, [f"{d:g}" for d in depths])
        ax.set_yticks([], minor=True)
    axes[0].plot(line, 6 * xi, "w-", label=r"$6\xi_c$")
    axes[0].plot(line, xi, "w--", label=r"$\xi_c$")
    axes[0].set(ylabel="depth L (hidden layers)", title=f"plain tanh net, {p['steps']} Adam steps")
    axes[1].set(ylabel="integration time T", title=f"tanh ODE block (RK4), {p['steps']} Adam steps")
    for ax in axes:
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig, {"sigma_w2": sws, "sigma_b2": sb, **{k: {"grid": grids[k], "test_error": errors[k]} for k in grids}}

"""Why some ODE energy cells come out below DGNet's published numbers: the evaluation protocol.

    python experiments/dynamics/evaluation_protocol.py [--systems spring pendulum] [--seeds 0] [--workers 2]
        [--spread 600]

Trains the cells of the ODE table (experiments/dynamics_ode_table.toml, same protocol as
run_table.py) and scores every trained model three ways:

- "ours": initial conditions from the system's own sampler (the training distribution: spring radius
  U[0.1, 1], pendulum radius U[1.3, 2.3]) and the true Hamiltonian (randfield's table);
- "DGNet ICs": DGNet's evaluation initial conditions, |x_i| ~ U[0.2, 1.0] per coordinate with a random
  sign (anchors B1 §1.3.4), still under the true Hamiltonian;
- "DGNet ICs, q²+p²": the same with DGNet's energy function, which is q² + p² for the pendulum too.

With --spread N the models are also scored on N further DGNet initial conditions: the population
mean of the energy MSE (what the 15-IC protocol estimates) and the 10/50/90% quantiles of the
mean over N/15 disjoint sets of 15, i.e. how far one 15-IC evaluation can fall from it.

Writes figures/dynamics_evaluation_protocol.md (atomically, with the config and version).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from randfield._io import atomic_write_bytes, atomic_write_json, provenance
from randfield._malloc import retain_freed_memory
from randfield.dynamics.experiment import PUBLISHED, jobs_from_params
from randfield.figures import load_configs

CONFIG = Path(__file__).resolve().parents[1]
SCORES = ("ours", "DGNet ICs", "DGNet ICs, q²+p²")


def _score(job, spread: int = 0) -> dict:
    import torch

    from randfield.dynamics.experiment import train_cell
    from randfield.dynamics.metrics import evaluation_set, rollout_metrics

    torch.set_num_threads(1)
    model, system, _, _ = train_cell(job)
    ours = evaluation_set(system, job.n_initial)
    dgnet = evaluation_set(system, job.n_initial, protocol="dgnet")

    def square_norm(u):  # DGNet's energy function for both ODE scripts
        return np.sum(np.asarray(u) ** 2, axis=-1)

    out = {}
    for method in job.predict:
        opts = job.integrator_options.get(method, {})
        on_dgnet = rollout_metrics(model, system, method, dgnet, **opts)  # one rollout, two energy functions
        out[method] = {
            "ours": rollout_metrics(model, system, method, ours, **opts).energy_mse,
            "DGNet ICs": on_dgnet.energy_mse,
            "DGNet ICs, q²+p²": float(np.mean((square_norm(on_dgnet.states) - square_norm(dgnet[2])) ** 2)),
        }
        if spread:
            many = evaluation_set(system, spread - spread % job.n_initial, seed=99, protocol="dgnet")
            rm = rollout_metrics(model, system, method, many, **opts)
            per_ic = rm.energy_mse_per_rollout
            set_means = per_ic.reshape(-1, job.n_initial).mean(1)
            out[method]["population"] = float(per_ic.mean())
            out[method]["set quantiles"] = np.percentile(set_means, [10, 50, 90]).tolist()
    return {"system": job.system, "model": job.model, "train": job.train, "seed": job.seed, "energy": out}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--systems", nargs="+", default=["spring", "pendulum"])
    ap.add_argument("--rows", nargs="+", default=["node/rk2", "hnn/rk2", "srnn/leapfrog", "dgnet/dg"])
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--spread", type=int, default=0, help="also score on this many DGNet ICs (population mean)")
    ap.add_argument("--out", default="figures/dynamics_evaluation_protocol")
    args = ap.parse_args(argv)
    params = load_configs(CONFIG)["dynamics_ode_table"]["params"]
    jobs = jobs_from_params(params, systems=args.systems, rows=args.rows, seeds=args.seeds, cache_dir=None)
    with ProcessPoolExecutor(args.workers) as pool:
        cells = list(pool.map(_score, jobs, [args.spread] * len(jobs)))
    lines = [
        f"<!-- made by experiments/dynamics/evaluation_protocol.py --systems {' '.join(args.systems)} "
        f"--rows {' '.join(args.rows)} --seeds {args.seeds}"
        + (f" --spread {args.spread}" if args.spread else "")
        + " -->",
        "Energy MSE of the same trained models under three evaluation protocols (mean over "
        f"{args.seeds} seed(s)); ratio = value / published.",
        "",
        "| system | model | train / predict | "
        + " | ".join(SCORES)
        + " | published | ratios |"
        + (f" DGNet ICs, mean over {args.spread} | one 15-IC set: 10% / 50% / 90% |" if args.spread else ""),
        "|---|---|---|" + "---|" * (len(SCORES) + 2 + 2 * bool(args.spread)),
    ]
    rows = {}
    for cell in cells:
        for method, scores in cell["energy"].items():
            rows.setdefault((cell["system"], cell["model"], cell["train"], method), []).append(scores)
    for (system, model, train, method), scores in rows.items():
        mean = {name: float(np.mean([s[name] for s in scores])) for name in SCORES}
        published = PUBLISHED[(system, model, train, method)][1]
        ratios = " / ".join(f"{mean[name] / published:.2f}" for name in SCORES)
        lines.append(
            f"| {system} | {model} | {train} / {method} | "
            + " | ".join(f"{mean[name]:.3g}" for name in SCORES)
            + f" | {published:.3g} | {ratios} |"
            + (
                f" {np.mean([s['population'] for s in scores]):.3g} | "
                + " / ".join(f"{q:.2g}" for q in np.mean([s["set quantiles"] for s in scores], axis=0))
                + " |"
                if args.spread
                else ""
            )
        )
    atomic_write_bytes(Path(args.out + ".md"), ("\n".join(lines) + "\n").encode())
    atomic_write_json(Path(args.out + ".json"), provenance({"args": vars(args), "cells": cells}))
    print("\n".join(lines))


if __name__ == "__main__":
    retain_freed_memory()
    main()

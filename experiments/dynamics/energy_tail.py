"""How heavy-tailed an ODE cell's energy MSE is over initial conditions: the table's 15-rollout value
against the population it estimates.

    python experiments/dynamics/energy_tail.py [--system two_body] [--rows node/rk2 hnn/rk2 srnn/leapfrog dgnet/dg]
        [--seeds 5] [--n 600] [--cache results/dynamics_ode] [--out figures/dynamics_energy_tail_two_body]

Loads every seed's trained model (`<cell>.model.pt`, saved by run_table.py with the table's config),
rolls it out with the row's own prediction integrator from n initial conditions of the system's
sampler (the distribution the published rollouts draw theirs from) and reports, over seeds: the
table's 15-rollout value, the population mean over the n, the median per initial condition, the share
of the population mean carried by its worst 1% of initial conditions, the largest per-IC value, and
the 10/50/90% quantiles of the mean over n/15 disjoint sets of 15 (how far one 15-rollout estimate
can fall from the population mean).

Writes <out>.md and <out>.json (atomically, with the config and version).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from randfield._io import atomic_write_bytes, atomic_write_json, provenance
from randfield._malloc import retain_freed_memory
from randfield.dynamics.experiment import PUBLISHED, jobs_from_params
from randfield.figures import load_configs

CONFIG = Path(__file__).resolve().parents[1]


def per_initial_condition(job, n: int, seed: int = 99) -> tuple[float, np.ndarray]:
    """(the cell's cached table value, energy MSE of each of n sampler initial conditions) for the
    row's own (last) prediction integrator."""
    from randfield.dynamics.metrics import evaluation_set, rollout_metrics
    from randfield.dynamics.training import load_model

    cell = Path(job.cache_dir) / job.key()
    weights = Path(f"{cell}.model.pt")
    if not weights.exists():
        raise ValueError(f"{weights} does not exist: run run_table.py for this cell first")
    model = load_model(weights)[0].double()  # evaluated in float64, as run_cell does
    method = job.predict[-1]
    evaluation = evaluation_set(job.system, n, seed=seed)  # the system's own sampler
    rm = rollout_metrics(model, job.system, method, evaluation, **job.integrator_options.get(method, {}))
    table = json.loads(Path(f"{cell}.json").read_text())["result"]["predict"][method]["energy"]
    return table, rm.energy_mse_per_rollout


def summary(per_ic: np.ndarray, n_set: int = 15) -> dict:
    """Population statistics of per-IC energy MSEs (n,)."""
    worst = np.sort(per_ic)[::-1][: max(1, len(per_ic) // 100)]
    sets = per_ic[: len(per_ic) - len(per_ic) % n_set].reshape(-1, n_set).mean(1)
    return {
        "population": float(per_ic.mean()),
        "median": float(np.median(per_ic)),
        "worst_1pct_share": float(worst.sum() / per_ic.sum()),
        "max": float(per_ic.max()),
        "set_quantiles": np.percentile(sets, [10, 50, 90]).tolist(),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--system", default="two_body")
    ap.add_argument("--rows", nargs="+", default=["node/rk2", "hnn/rk2", "srnn/leapfrog", "dgnet/dg"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--n", type=int, default=600, help="initial conditions per model")
    ap.add_argument("--cache", default=None, help="default: the table config's cache_dir")
    ap.add_argument("--out", default=None, help="default: figures/dynamics_energy_tail_<system>")
    args = ap.parse_args(argv)
    if args.n < 15:
        raise ValueError(f"--n must be >= 15, got {args.n}")
    params = load_configs(CONFIG)["dynamics_ode_table"]["params"]
    out = Path(args.out or f"figures/dynamics_energy_tail_{args.system}")
    jobs = jobs_from_params(params, systems=[args.system], rows=args.rows, seeds=args.seeds, cache_dir=args.cache)
    cells = []
    for job in jobs:
        table, per_ic = per_initial_condition(job, args.n)
        cells.append({"row": f"{job.model}/{job.train}", "seed": job.seed, "table": table, **summary(per_ic)})
        print(f"{job.key()}: table {table:.3g}, population {cells[-1]['population']:.3g}", flush=True)
    lines = [
        f"<!-- made by experiments/dynamics/energy_tail.py --system {args.system} --rows {' '.join(args.rows)} "
        f"--seeds {args.seeds} --n {args.n} -->",
        f"{args.system}: energy MSE of each seed's trained model on the table's 15 rollouts and on {args.n} "
        "initial conditions of the same distribution (the row's own prediction integrator).",
        "",
        "| row | seed | table (15 ICs) | published | population mean | median per IC | worst 1% share "
        "| max per IC | one 15-IC set: 10% / 50% / 90% |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for job, c in zip(jobs, cells):
        published = PUBLISHED[(job.system, job.model, job.train, job.predict[-1])][1]
        lines.append(
            f"| {c['row']} | {c['seed']} | {c['table']:.3g} | {published:.3g} | {c['population']:.3g} | "
            f"{c['median']:.3g} | {c['worst_1pct_share']:.0%} | {c['max']:.3g} | "
            + " / ".join(f"{q:.2g}" for q in c["set_quantiles"])
            + " |"
        )
    atomic_write_bytes(out.with_suffix(".md"), ("\n".join(lines) + "\n").encode())
    atomic_write_json(out.with_suffix(".json"), provenance({"args": vars(args), "cells": cells}))
    print("\n".join(lines))


if __name__ == "__main__":
    retain_freed_memory()
    main()

"""How much one published-protocol number depends on floating-point rounding.

    python experiments/dynamics/rounding_spread.py [--system spring] [--row dgnet/dg] [--seed 0]
        [--replays 8] [--scale 1e-7] [--workers 2]

A published ODE cell is one training run. With --seed s the data, the initial weights and the 15
rollout initial conditions are those of the published script run with `--seed s` (the table's
"published" evaluation). Replay r = 0 is that run as randfield computes it. Replays r >= 1 change
the initial weights by a relative r.m.s. `scale` (float32 rounding is 6e-8), which stands in for
everything a rounding-level change does (another BLAS, GPU, torch version, summation order).
Training amplifies such differences (the full-batch Adam runs of two float64 implementations
with the same data and initial weights drift apart from ~1e-10 to ~1e-3 in parameters by step
1250), so the spread of the replays is the spread the published single number was drawn from.

Writes figures/dynamics_rounding_spread.{md,json} (atomically, with the config and version).
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


def _replay(job, replay: int, scale: float) -> dict:
    import torch

    from randfield.dynamics.experiment import build_cell, cell_evaluation
    from randfield.dynamics.metrics import derivative_mse, rollout_metrics
    from randfield.dynamics.training import fit

    torch.set_num_threads(1)
    model, system, train, test = build_cell(job)  # the published script's data and initial weights
    if replay:
        noise = torch.Generator().manual_seed(replay)
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1 + scale * torch.randn(p.shape, generator=noise, dtype=p.dtype))
    history = fit(model, train, seed=job.seed, progress=False, **job.train_config)
    model.double()
    evaluation = cell_evaluation(job, system)
    energy = {
        m: rollout_metrics(model, system, m, evaluation, **job.integrator_options.get(m, {})).energy_mse
        for m in job.predict
    }
    return {
        "replay": replay,
        "final_loss": float(history.losses[-1]),
        "derivative": derivative_mse(model, test),
        "energy": energy,
    }


def _iterates(job, first: int, last: int) -> dict:
    """Energy MSE of the iterates first..last of the unperturbed run (the published loop takes
    total_steps + 1 = 2001 optimiser steps; the table's cells take 2000)."""
    import copy

    import torch

    from randfield.dynamics.experiment import build_cell, cell_evaluation
    from randfield.dynamics.metrics import rollout_metrics
    from randfield.dynamics.training import fit

    torch.set_num_threads(1)
    model, system, train, _ = build_cell(job)
    evaluation = cell_evaluation(job, system)
    scores = {}

    def score(step, trained):
        if step >= first:
            frozen = copy.deepcopy(trained).double()
            scores[step] = {
                m: rollout_metrics(frozen, system, m, evaluation, **job.integrator_options.get(m, {})).energy_mse
                for m in job.predict
            }

    fit(model, train, seed=job.seed, progress=False, callback=score, **{**job.train_config, "steps": last})
    return scores


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--system", default="spring")
    ap.add_argument("--row", default="dgnet/dg", help="model/train, e.g. dgnet/dg")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--replays", type=int, default=8, help="number of runs (the first unperturbed)")
    ap.add_argument("--scale", type=float, default=1e-7, help="relative r.m.s. change of the initial weights")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--iterates",
        type=int,
        nargs=2,
        default=(1981, 2001),
        metavar=("FIRST", "LAST"),
        help="also score these optimiser steps of the unperturbed run",
    )
    ap.add_argument("--out", default="figures/dynamics_rounding_spread")
    args = ap.parse_args(argv)
    params = load_configs(CONFIG)["dynamics_ode_table"]["params"]
    if params.get("evaluation", {}).get(args.system) != "published":
        raise SystemExit(f"the table config does not evaluate {args.system} with the published stream")
    jobs = jobs_from_params(params, systems=[args.system], rows=[args.row], seeds=args.seed + 1)
    job = next(j for j in jobs if j.seed == args.seed)
    with ProcessPoolExecutor(args.workers) as pool:
        iterates = pool.submit(_iterates, job, *args.iterates)
        runs = list(pool.map(_replay, [job] * args.replays, range(args.replays), [args.scale] * args.replays))
        iterates = iterates.result()
    lines = [
        f"<!-- made by experiments/dynamics/rounding_spread.py --system {args.system} --row {args.row} "
        f"--seed {args.seed} --replays {args.replays} --scale {args.scale} -->",
        f"{args.system} {args.row}, the published script's seed {args.seed}: energy MSE of {args.replays} "
        f"training runs whose initial weights differ by a relative {args.scale:g} (replay 0: unperturbed).",
        "",
        "| predict | published | replay 0 | min | median | max | mean | runs <= published |",
        "|---|---|---|---|---|---|---|---|",
    ]
    model, train = args.row.split("/")
    for method in job.predict:
        e = np.array([r["energy"][method] for r in runs])
        pub = PUBLISHED.get((args.system, model, train, method), (np.nan, np.nan))[1]
        lines.append(
            f"| {method} | {pub:.3g} | {e[0]:.3g} | {e.min():.3g} | {np.median(e):.3g} | {e.max():.3g} | "
            f"{e.mean():.3g} | {int((e <= pub).sum())}/{len(e)} |"
        )
    deriv = np.array([r["derivative"] for r in runs])
    lines += ["", f"Derivative MSE over the runs: {deriv.min():.4g} to {deriv.max():.4g}.", ""]
    first, last = args.iterates
    lines += [
        f"Energy MSE of the unperturbed run after each optimiser step {first}..{last} (the published loop "
        "stops after 2001 steps, the table's cells after 2000):",
        "",
        "| predict | published | step 2000 | step 2001 | min | median | max | steps <= published |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method in job.predict:
        e = {step: v[method] for step, v in iterates.items()}
        vals = np.array(list(e.values()))
        pub = PUBLISHED.get((args.system, model, train, method), (np.nan, np.nan))[1]
        lines.append(
            f"| {method} | {pub:.3g} | {e.get(2000, np.nan):.3g} | {e.get(2001, np.nan):.3g} | {vals.min():.3g} | "
            f"{np.median(vals):.3g} | {vals.max():.3g} | {int((vals <= pub).sum())}/{len(vals)} |"
        )
    text = "\n".join(lines) + "\n"
    atomic_write_bytes(Path(args.out).with_suffix(".md"), text.encode())
    atomic_write_json(
        Path(args.out).with_suffix(".json"), {**provenance(vars(args)), "runs": runs, "iterates": iterates}
    )
    print(text)


if __name__ == "__main__":
    retain_freed_memory()
    main()

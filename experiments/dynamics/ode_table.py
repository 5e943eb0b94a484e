"""Regenerate DGNet's ODE table (anchors B1 §1.3.5): figures/dynamics_ode_table.md and .json.

    python experiments/dynamics/ode_table.py [--quick] [--systems spring pendulum two_body] [--seeds 5] [--workers 2]

Cells are cached in results/dynamics_ode/ (resumable). Protocol: data from the package's
generators (seed 0), models 2 x 200 tanh, Adam lr 1e-3, weight decay 1e-4 (0 for two_body),
2000 full-batch steps (two_body: 10,000 steps, batch 200), trained in float32 like the
published runs and evaluated in float64 on 15 fresh initial conditions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from randfield._io import atomic_write_bytes, atomic_write_json, provenance
from randfield.dynamics.experiment import TABLE_ROWS, run_table, summarise, table_jobs, table_markdown

PROTOCOL = {
    "spring": {"steps": 2000, "weight_decay": 1e-4, "batch_size": None},
    "pendulum": {"steps": 2000, "weight_decay": 1e-4, "batch_size": None},
    "two_body": {"steps": 10000, "weight_decay": 0.0, "batch_size": 200},
}
QUICK = {"steps": 300}
# torchdiffeq 0.0.1's defaults, which DGNet's dopri5 runs used (rtol 1e-7 is below float32's eps).
DOPRI5 = {"dopri5": {"rtol": 1e-6, "atol": 1e-12}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--systems", nargs="+", default=["spring", "pendulum", "two_body"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rows", nargs="+", help="only these model/train rows, e.g. dgnet/dg hnn/dopri5")
    ap.add_argument("--quick", action="store_true", help="300 training steps, 2 seeds (a smoke run)")
    ap.add_argument("--reuse-stale", action="store_true", help="use cached cells made by older source code")
    ap.add_argument("--cache", default="results/dynamics_ode")
    ap.add_argument("--out", default="figures/dynamics_ode_table")
    args = ap.parse_args(argv)
    seeds = range(2 if args.quick else args.seeds)
    rows = [r for r in TABLE_ROWS if args.rows is None or f"{r[0]}/{r[1]}" in args.rows]
    jobs = []
    for system in args.systems:
        train = {**PROTOCOL[system], "dtype": "float32", **(QUICK if args.quick else {})}
        jobs += table_jobs(
            [system],
            seeds,
            rows=rows,
            train_config=train,
            integrator_options=DOPRI5,
            cache_dir=args.cache,
            reuse_stale=args.reuse_stale,
        )
    summary = summarise(jobs, run_table(jobs, workers=args.workers))
    header = (
        f"<!-- made by experiments/dynamics/ode_table.py {'--quick ' if args.quick else ''}"
        f"(systems {' '.join(args.systems)}, {len(seeds)} seeds) -->\n"
    )
    atomic_write_bytes(Path(args.out).with_suffix(".md"), (header + table_markdown(summary)).encode())
    atomic_write_json(Path(args.out).with_suffix(".json"), {**provenance(vars(args)), "rows": summary})
    print(table_markdown(summary))
    return json.dumps(summary)


if __name__ == "__main__":
    main()

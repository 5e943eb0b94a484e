"""Full-size runs of DGNet's ODE table, a part at a time: figures/dynamics_ode_table_full.md and .json.

    python experiments/dynamics/ode_table.py [--systems spring pendulum two_body] [--rows dgnet/dg ...]
        [--seeds 5] [--workers 2] [--reuse-stale]

The protocol (training settings per system, integrator options) is read from the figure config
experiments/dynamics_ode_table.toml, so this script and `randfield figures --only
dynamics_ode_table` run the same cells. Each cell is cached in results/dynamics_ode/; a run
picks up every cached cell it asks for, so parts computed separately combine into one table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from randfield._io import atomic_write_bytes, atomic_write_json, provenance
from randfield.dynamics.experiment import TABLE_ROWS, run_table, summarise, table_jobs, table_markdown
from randfield.figures import load_configs

CONFIG = Path(__file__).resolve().parents[1]


def main(argv=None):
    params = load_configs(CONFIG)["dynamics_ode_table"]["params"]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--systems", nargs="+", default=params["systems"])
    ap.add_argument("--rows", nargs="+", help="only these model/train rows, e.g. dgnet/dg hnn/dopri5")
    ap.add_argument("--seeds", type=int, default=params["seeds"])
    ap.add_argument("--workers", type=int, default=params.get("workers", 1))
    ap.add_argument("--reuse-stale", action="store_true", help="use cached cells made by older source code")
    ap.add_argument("--cache", default=params["cache_dir"])
    ap.add_argument("--out", default="figures/dynamics_ode_table_full")
    args = ap.parse_args(argv)
    rows = [r for r in TABLE_ROWS if args.rows is None or f"{r[0]}/{r[1]}" in args.rows]
    jobs = []
    for system in args.systems:
        train = {**params["train"], **params.get("train_by_system", {}).get(system, {})}
        jobs += table_jobs(
            [system],
            range(args.seeds),
            rows=rows,
            train_config=train,
            integrator_options=params.get("integrator_options", {}),
            cache_dir=args.cache,
            reuse_stale=args.reuse_stale,
        )
    summary = summarise(jobs, run_table(jobs, workers=args.workers))
    header = (
        f"<!-- made by experiments/dynamics/ode_table.py (systems {' '.join(args.systems)}, {args.seeds} seeds) -->\n"
    )
    atomic_write_bytes(Path(args.out).with_suffix(".md"), (header + table_markdown(summary)).encode())
    atomic_write_json(Path(args.out).with_suffix(".json"), {**provenance(vars(args)), "rows": summary})
    print(table_markdown(summary))


if __name__ == "__main__":
    main()

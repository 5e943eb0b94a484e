"""Full-size runs of DGNet's ODE or PDE table, a part at a time: figures/<config>_full.{md,json,png,pdf}.

    python experiments/dynamics/run_table.py [--config dynamics_ode_table] [--systems spring pendulum]
        [--rows dgnet/dg ...] [--seeds 5] [--workers 2] [--reuse-stale]

The protocol (training settings per system, data, model and integrator options) is read from the
figure config experiments/<config>.toml, so this script and `randfield figures --only <config>`
run the same cells. Each cell is cached (cache_dir of the config); a run picks up every cached
cell it asks for, so parts computed separately combine into one table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from randfield._io import atomic_write_bytes, atomic_write_json, provenance
from randfield._malloc import retain_freed_memory
from randfield.dynamics.experiment import cached_result, jobs_from_params, run_table, summarise, table_markdown
from randfield.figures import dynamics_table_figure, load_configs
from randfield.plotting import save_figure

CONFIG = Path(__file__).resolve().parents[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="dynamics_ode_table", help="a table config in experiments/")
    known, _ = ap.parse_known_args(argv)
    params = load_configs(CONFIG)[known.config]["params"]
    ap.add_argument("--systems", nargs="+", default=params["systems"])
    ap.add_argument("--rows", nargs="+", help="only these model/train rows, e.g. dgnet/dg hnn/dopri5")
    ap.add_argument("--seeds", type=int, default=params["seeds"])
    ap.add_argument("--workers", type=int, default=params.get("workers", 1))
    ap.add_argument("--reuse-stale", action="store_true", help="use cached cells made by older source code")
    ap.add_argument("--cache", default=params["cache_dir"])
    ap.add_argument("--out", default=None, help="default: figures/<config>_full")
    ap.add_argument("--cached-only", action="store_true", help="tabulate the cached cells only; compute nothing")
    ap.add_argument("--set", nargs="+", default=[], metavar="KEY=JSON", help="override params, e.g. train.steps=2000")
    args = ap.parse_args(argv)
    for item in args.set:  # a reduced protocol, recorded in the output's provenance
        key, _, value = item.partition("=")
        *path, leaf = key.split(".")
        target = params
        for part in path:
            target = target.setdefault(part, {})
        target[leaf] = json.loads(value)
    args.out = args.out or f"figures/{args.config}_full"
    jobs = jobs_from_params(
        params,
        systems=args.systems,
        rows=args.rows,
        seeds=args.seeds,
        cache_dir=args.cache,
        reuse_stale=args.reuse_stale,
    )
    if args.cached_only:  # e.g. merge parts run with different seed counts into one table
        jobs = [job for job in jobs if cached_result(job) is not None]
    summary = summarise(jobs, run_table(jobs, workers=args.workers))
    header = (
        f"<!-- made by experiments/dynamics/run_table.py --config {args.config} "
        f"(systems {' '.join(args.systems)}, up to {args.seeds} seeds"
        f"{', cached cells only' if args.cached_only else ''}"
        f"{', --set ' + ' '.join(args.set) if args.set else ''}) -->\n"
    )
    atomic_write_bytes(Path(args.out).with_suffix(".md"), (header + table_markdown(summary)).encode())
    atomic_write_json(Path(args.out).with_suffix(".json"), {**provenance(vars(args)), "rows": summary})
    save_figure(dynamics_table_figure(summary), args.out)  # .png and .pdf
    print(table_markdown(summary))


if __name__ == "__main__":
    retain_freed_memory()
    main()

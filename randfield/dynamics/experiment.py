"""The model x integrator table of DGNet's README (anchors B1 §1.3.5), measured.

`run_table` trains every (system, model, training integrator, seed) cell, scores it with each
prediction integrator, and caches each cell's result as JSON (atomically, with its config and
the package version), so an interrupted run resumes where it stopped. `table_markdown` writes
the mean ± std over seeds next to the published number and their ratio.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .._io import atomic_write_json, provenance

# (model, training integrator, prediction integrators): the rows of DGNet's ODE table.
TABLE_ROWS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("node", "rk2", ("rk2",)),
    ("node", "dopri5", ("dopri5",)),
    ("hnn", "rk2", ("rk2",)),
    ("hnn", "dopri5", ("dopri5",)),
    ("srnn", "leapfrog", ("leapfrog",)),
    ("dgnet", "dg", ("rk2", "dopri5", "dg")),
)

# Published (derivative, energy) MSE from discrete-autograd/README.md (anchors B1 §1.3.5),
# keyed by (system, model, training integrator, prediction integrator).
PUBLISHED: dict[tuple[str, str, str, str], tuple[float, float]] = {}
for _system, _values in {
    "spring": [(5.27e-2, 5.70e-1), (5.57e-2, 5.74e-1), (3.82e-2, 6.13e-2), (3.99e-2, 1.74e-3), (3.95e-2, 6.90e-4),
               (3.85e-2, 6.13e-2), (3.85e-2, 6.16e-4), (3.85e-2, 6.17e-4)],
    "pendulum": [(5.67e-2, 4.60e0), (5.54e-2, 4.62e0), (4.25e-2, 4.04e-1), (4.09e-2, 1.66e-2), (3.92e-2, 1.12e-2),
                 (3.93e-2, 7.43e-1), (3.93e-2, 1.61e-2), (3.93e-2, 1.08e-2)],
    "two_body": [(2.08e-5, 1.44e-1), (2.07e-5, 1.83e-1), (5.39e-6, 9.39e-5), (6.21e-6, 8.18e-5), (4.36e-6, 4.04e-5),
                 (7.80e-6, 8.11e-5), (7.80e-6, 8.10e-5), (7.80e-6, 8.10e-5)],
}.items():  # fmt: skip
    _cells = [(m, tr, pr) for m, tr, preds in TABLE_ROWS for pr in preds]
    PUBLISHED.update({(_system, *cell): value for cell, value in zip(_cells, _values)})


@dataclass(frozen=True)
class CellJob:
    """One trained model: data, model and optimisation settings (all that determines the result)."""

    system: str
    model: str
    train: str
    predict: tuple[str, ...]
    seed: int
    train_config: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    n_initial: int = 15
    integrator_options: dict = field(default_factory=dict)
    cache_dir: str | None = None
    reuse_stale: bool = False  # accept a cached cell made by other source code (same config)

    def key(self) -> str:
        return f"{self.system}-{self.model}-{self.train}-seed{self.seed}"


def _canonical(cell: dict) -> dict:
    """A cell config with the training settings completed by their defaults (so that spelling
    a default out or leaving it implicit names the same cell)."""
    from .training import TrainConfig

    return {**cell, "train_config": asdict(TrainConfig(**cell.get("train_config", {})))} if cell else {}


def run_cell(job: CellJob) -> dict:
    """Train and evaluate one cell; reads/writes `cache_dir/<key>.json` when cache_dir is set."""
    import torch

    from .data import generate, get_system
    from .metrics import derivative_mse, evaluation_set, rollout_metrics
    from .models import get_model
    from .training import fit

    config = {k: v for k, v in asdict(job).items() if k not in ("cache_dir", "reuse_stale")}
    meta = json.loads(json.dumps(provenance({"cell": config})))
    path = Path(job.cache_dir) / f"{job.key()}.json" if job.cache_dir else None
    if path is not None and path.exists():
        old = json.loads(path.read_text())
        same_code = job.reuse_stale or all(old.get(k) == meta[k] for k in meta if k != "config")
        if same_code and _canonical(old.get("config", {}).get("cell", {})) == _canonical(meta["config"]["cell"]):
            return old["result"]
    system = get_system(job.system)
    data = generate(system, seed=0, **job.data)
    train, test = data.split(system.protocol.test_fraction)
    torch.manual_seed(job.seed)
    model = get_model(
        job.model, system.dim, train_integrator=job.train, integrator_options=job.integrator_options.get(job.train)
    )
    history = fit(model, train, seed=job.seed, progress=False, **job.train_config)
    model.double()  # evaluate in float64 whatever the training precision (the implicit solves need it)
    evaluation = evaluation_set(system, job.n_initial)
    result = {
        "final_loss": float(history.losses[-1]),
        "iterations_per_second": history.iterations_per_second,
        "derivative": derivative_mse(model, test),
        "predict": {},
    }
    for method in job.predict:
        rm = rollout_metrics(model, system, method, evaluation, **job.integrator_options.get(method, {}))
        result["predict"][method] = {
            "energy": rm.energy_mse,
            "state": rm.state_mse,
            "seconds": rm.seconds,
            "energy_error_curve": np.mean(np.abs(rm.predicted_energy - rm.true_energy), axis=0).tolist(),
        }
    if path is not None:
        atomic_write_json(path, {**meta, "result": result})
    return result


def table_jobs(systems, seeds, *, rows=TABLE_ROWS, **common) -> list[CellJob]:
    return [CellJob(s, m, tr, tuple(preds), seed, **common) for s in systems for m, tr, preds in rows for seed in seeds]


def run_table(jobs: list[CellJob], *, workers: int = 1, progress: bool = True) -> list[dict]:
    """Run the cells (in a process pool when workers > 1); results in the order of `jobs`."""
    from ..sweep import run_sweep

    return run_sweep(run_cell, jobs, workers=workers, progress=progress)


def summarise(jobs: list[CellJob], results: list[dict]) -> list[dict]:
    """One row per (system, model, train, predict): mean and std over seeds, published value, ratio."""
    groups: dict[tuple, list[dict]] = {}
    for job, res in zip(jobs, results):
        for method, pr in res["predict"].items():
            groups.setdefault((job.system, job.model, job.train, method), []).append({**pr, **res})
    rows = []
    for key, items in groups.items():
        deriv = np.array([i["derivative"] for i in items])
        energy = np.array([i["energy"] for i in items])
        pub = PUBLISHED.get(key, (np.nan, np.nan))
        rows.append(
            {
                "system": key[0],
                "model": key[1],
                "train": key[2],
                "predict": key[3],
                "seeds": len(items),
                "derivative": (float(deriv.mean()), float(deriv.std())),
                "energy": (float(energy.mean()), float(energy.std())),
                "published": pub,
                "ratio": (float(deriv.mean() / pub[0]), float(energy.mean() / pub[1])),
                "iterations_per_second": float(np.mean([i["iterations_per_second"] for i in items])),
                "energy_error_curve": np.mean([i["energy_error_curve"] for i in items], axis=0).tolist(),
            }
        )
    return rows


def table_markdown(rows: list[dict]) -> str:
    """A Markdown table: measured mean ± std (over seeds) | published | measured / published."""
    lines = [
        "| system | model | train / predict | seeds | derivative MSE | (published) | energy MSE | (published) "
        "| ratio deriv. | ratio energy | train it/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        (dm, ds), (em, es), (dp, ep) = r["derivative"], r["energy"], r["published"]
        lines.append(
            f"| {r['system']} | {r['model']} | {r['train']} / {r['predict']} | {r['seeds']} | {dm:.3g} ± {ds:.2g} "
            f"| {dp:.3g} | {em:.3g} ± {es:.2g} | {ep:.3g} | {r['ratio'][0]:.2f} | {r['ratio'][1]:.2f} "
            f"| {r['iterations_per_second']:.1f} |"
        )
    return "\n".join(lines) + "\n"

"""The model x integrator tables of DGNet's README (anchors B1 §1.3.3 and §1.3.5), measured.

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

# The PDE table's rows (NODE, HNN++ = hnn with a stencil G, DGNet).
PDE_ROWS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("node", "rk2", ("rk2",)),
    ("node", "dopri5", ("dopri5",)),
    ("hnn", "rk2", ("rk2",)),
    ("hnn", "dopri5", ("dopri5",)),
    ("dgnet", "dg", ("rk2", "dopri5", "dg")),
)

# Published (derivative, energy[, mass]) MSE from discrete-autograd/README.md (anchors B1 §1.3.3,
# §1.3.5), keyed by (system, model, training integrator, prediction integrator).
PUBLISHED: dict[tuple[str, str, str, str], tuple[float, ...]] = {}
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
for _system, _values in {
    "kdv": [(1.15e1, 4.57e4, 2.86e0), (1.15e1, 5.58e4, 2.84e0), (3.63e-2, 6.32e-3, 7.00e-4),
            (2.33e-2, 3.01e-3, 3.35e-4), (1.75e-2, 1.84e-3, 2.78e-4), (1.75e-2, 1.60e-3, 2.54e-4),
            (1.75e-2, 1.60e-3, 2.55e-4)],
    "cahn_hilliard": [(7.91e2, 1.43e-2, 9.15e-1), (7.90e2, 1.42e-2, 9.14e-1), (3.44e2, 1.33e-1, 8.76e-2),
                      (3.30e1, 4.89e-6, 7.95e-4), (7.14e0, 6.61e0, 8.22e-1), (7.14e0, 3.39e-7, 6.95e-5),
                      (7.14e0, 3.40e-7, 6.96e-5)],
}.items():  # fmt: skip
    _cells = [(m, tr, pr) for m, tr, preds in PDE_ROWS for pr in preds]
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
    model_options: dict = field(default_factory=dict)
    # initial conditions of the rollouts (metrics.evaluation_set's protocol); "published" also
    # draws the cell's data from the published scripts' stream for its seed
    evaluation: str = "randfield"
    cache_dir: str | None = None
    reuse_stale: bool = False  # accept a cached cell made by other source code (same config)
    force: bool = False  # ignore the cached result and the training checkpoint: recompute the cell

    def key(self) -> str:
        return f"{self.system}-{self.model}-{self.train}-seed{self.seed}"


def _canonical(cell: dict) -> dict:
    """A cell config with the training settings completed by their defaults (so that spelling
    a default out or leaving it implicit names the same cell)."""
    from .training import TrainConfig

    if not cell:
        return {}
    defaults = {"model_options": {}, "evaluation": "randfield"}
    return {**defaults, **cell, "train_config": asdict(TrainConfig(**cell.get("train_config", {})))}


def _meta(job: CellJob) -> dict:
    config = {k: v for k, v in asdict(job).items() if k not in ("cache_dir", "reuse_stale", "force")}
    return json.loads(json.dumps(provenance({"cell": config})))


def cached_result(job: CellJob) -> dict | None:
    """The cell's cached result if its cache file was made with the same config (and, unless
    job.reuse_stale, the same source code); else None."""
    path = Path(job.cache_dir) / f"{job.key()}.json" if job.cache_dir else None
    if path is None or not path.exists() or job.force:
        return None
    try:
        old, meta = json.loads(path.read_text()), _meta(job)
        old["result"]
    except (ValueError, KeyError, TypeError):  # truncated or edited by hand: say so and recompute
        import sys

        print(f"cache {path} is unreadable; recomputing the cell", file=sys.stderr)
        return None
    same_code = job.reuse_stale or all(old.get(k) == meta[k] for k in meta if k != "config")
    if same_code and _canonical(old.get("config", {}).get("cell", {})) == _canonical(meta["config"]["cell"]):
        return old["result"]
    return None


def build_cell(job: CellJob):
    """The cell's data and its untrained model (initialised from `torch.manual_seed(job.seed)`, as
    the published scripts do): (model, system, train set, test set)."""
    import torch

    from .data import generate, get_system
    from .models import get_model

    system = get_system(job.system)
    # "published": each seed replays its own run of the published script (data, initial conditions);
    # otherwise one dataset (seed 0) for all seeds
    sampler = "published" if job.evaluation == "published" else "randfield"
    data_seed = job.seed if sampler == "published" else 0
    train, test = generate(system, seed=data_seed, sampler=sampler, **job.data).split(system.protocol.test_fraction)
    torch.manual_seed(job.seed)
    model = get_model(
        job.model,
        system.dim,
        train_integrator=job.train,
        integrator_options=job.integrator_options.get(job.train),
        **{**system.model_options(), **job.model_options},
    )
    return model, system, train, test


def cell_evaluation(job: CellJob, system) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cell's rollout set (t, u0, reference) under its evaluation protocol."""
    from .metrics import evaluation_set

    stream = {"seed": job.seed, "data": job.data} if job.evaluation == "published" else {}
    return evaluation_set(system, job.n_initial, protocol=job.evaluation, **stream)


def train_cell(job: CellJob):
    """Generate the cell's data and train its model: (model in float64, system, test set, history)."""
    from .training import fit

    model, system, train, test = build_cell(job)
    checkpoint = _checkpoint(job)
    if job.force and checkpoint is not None:
        checkpoint.unlink(missing_ok=True)
    history = fit(model, train, seed=job.seed, progress=False, checkpoint=checkpoint, **job.train_config)
    model.double()  # evaluate in float64 whatever the training precision (the implicit solves need it)
    return model, system, test, history


def _checkpoint(job: CellJob) -> Path | None:
    """The cell's training checkpoint (resumable; removed once the cell's result is cached), named by
    a digest of the cell's whole config so that a changed cell never resumes another's training."""
    if not job.cache_dir:
        return None
    import hashlib

    digest = hashlib.sha256(json.dumps(_canonical(_meta(job)["config"]["cell"]), sort_keys=True).encode())
    return Path(job.cache_dir) / f"{job.key()}.{digest.hexdigest()[:12]}.train.pt"


def run_cell(job: CellJob) -> dict:
    """Train and evaluate one cell; reads/writes `cache_dir/<key>.json` when cache_dir is set."""
    from .metrics import derivative_mse, rollout_metrics
    from .training import save_model

    cached = cached_result(job)
    if cached is not None:
        return cached
    model, system, test, history = train_cell(job)
    evaluation = cell_evaluation(job, system)
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
            # the published script's energy where it is not H (the pendulum's q^2 + p^2): the like-for-like
            # comparison with the published value; "energy" stays the true-H score
            **({} if rm.published_energy_mse is None else {"energy_published_metric": rm.published_energy_mse}),
            "mass": rm.mass_mse,
            "state": rm.state_mse,
            "seconds": rm.seconds,
            "energy_error_curve": np.mean(np.abs(rm.predicted_energy - rm.true_energy), axis=0).tolist(),
        }
        if system.model_options():  # a PDE: keep the first rollout as a space-time picture
            result["predict"][method]["spacetime"] = _spacetime(rm.states[0])
            result["truth_spacetime"] = _spacetime(evaluation[2][0])
    if job.cache_dir:  # the trained model too (`training.load_model`): rescoring needs no training
        save_model(Path(job.cache_dir) / f"{job.key()}.model.pt", model, system=job.system, cell=_meta(job)["config"])
        atomic_write_json(Path(job.cache_dir) / f"{job.key()}.json", {**_meta(job), "result": result})
        _checkpoint(job).unlink(missing_ok=True)
    return result


def _spacetime(trajectory: np.ndarray, rows: int = 100) -> list:
    """A rollout (T, *grid) thinned to at most `rows` time rows, as lists (for the JSON cache)."""
    trajectory = np.asarray(trajectory)
    stride = max(1, -(-trajectory.shape[0] // rows))
    return np.where(np.isfinite(trajectory[::stride]), trajectory[::stride], np.nan).tolist()


def jobs_from_params(p: dict, **overrides) -> list[CellJob]:
    """The cells of a table config (experiments/dynamics_*_table.toml params; keys: table ("ode" or
    "pde"), systems, rows, seeds, train, train_by_system, data, model, integrator_options, n_initial,
    evaluation (protocol per system, default "randfield"), cache_dir). `overrides` replace params
    (e.g. systems=..., seeds=..., reuse_stale=True)."""
    p = {**p, **{k: v for k, v in overrides.items() if v is not None}}
    missing = [k for k in ("systems", "seeds", "train") if k not in p]
    if missing:
        raise ValueError(f"table config: missing {missing} (params need systems, seeds and a [params.train] table)")
    if p.get("table", "ode") not in ("ode", "pde"):
        raise ValueError(f"table config: table must be 'ode' or 'pde', got {p['table']!r}")
    all_rows = PDE_ROWS if p.get("table", "ode") == "pde" else TABLE_ROWS
    known = [f"{m}/{t}" for m, t, _ in all_rows]
    wanted = p.get("rows") or known
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise ValueError(f"table config: unknown rows {unknown}; known: {', '.join(known)}")
    if isinstance(p["seeds"], bool) or not isinstance(p["seeds"], int) or p["seeds"] < 1:
        raise ValueError(f"table config: seeds must be an integer >= 1, got {p['seeds']!r}")
    if not isinstance(p["systems"], list) or not p["systems"]:
        raise ValueError(f"table config: systems must be a non-empty list, got {p['systems']!r}")
    from .data import get_system

    for system in p["systems"]:
        get_system(system)  # unknown names: a ValueError listing the known ones
    rows = [r for r in all_rows if f"{r[0]}/{r[1]}" in wanted]
    common = dict(
        data=dict(p.get("data", {})),
        model_options=dict(p.get("model", {})),
        integrator_options=p.get("integrator_options", {}),
        n_initial=int(p.get("n_initial", 15)),
        cache_dir=p.get("cache_dir"),
        reuse_stale=bool(p.get("reuse_stale", False)),
        force=bool(p.get("force", False)),
    )
    return [
        CellJob(
            system,
            model,
            train,
            tuple(predict),
            seed,
            train_config=train_config,
            evaluation=p.get("evaluation", {}).get(system, "randfield"),
            **common,
        )
        for system in p["systems"]
        for train_config in [{**p["train"], **p.get("train_by_system", {}).get(system, {})}]
        for model, train, predict in rows
        for seed in range(int(p["seeds"]))
    ]


def run_table(jobs: list[CellJob], *, workers: int = 1, progress: bool = True) -> list[dict]:
    """Run the cells (in a process pool when workers > 1); results in the order of `jobs`."""
    from ..sweep import run_sweep

    return run_sweep(run_cell, jobs, workers=workers, progress=progress)


def _label(job: CellJob) -> str:
    """The row's model name; a DGNet computing its chord slopes as the published code does is
    its own row ("dgnet (published slope)") next to the exact-slope one."""
    slope = job.model_options.get("slope", "exact")
    return job.model if slope == "exact" else f"{job.model} ({slope} slope)"


def row_base(row: dict) -> tuple[str, str, str]:
    """(model, train, predict) of a summary row with a variant label ("dgnet (published slope)")
    reduced to its model ("dgnet"): the published table row it is a variant of."""
    return row["model"].split(" (")[0], row["train"], row["predict"]


def summarise(jobs: list[CellJob], results: list[dict]) -> list[dict]:
    """One row per (system, model, train, predict): mean and std over seeds, published value, ratio."""
    groups: dict[tuple, list[dict]] = {}
    published: dict[tuple, tuple] = {}
    for job, res in zip(jobs, results):
        for method in job.predict:  # the row order of the published table
            pr = res["predict"][method]
            key = (job.system, _label(job), job.train, method)
            groups.setdefault(key, []).append({**pr, **res})
            published[key] = PUBLISHED.get((job.system, job.model, job.train, method), (np.nan, np.nan, np.nan))
    rows = []
    for key, items in groups.items():
        deriv = np.array([i["derivative"] for i in items])
        energy = np.array([i["energy"] for i in items])
        pub = published[key]
        has_mass = items[0].get("mass") is not None
        mass = np.array([i["mass"] for i in items]) if has_mass else None
        # the published script's energy (pendulum: q^2 + p^2), where every seed of the row has it
        scripted = [i.get("energy_published_metric") for i in items]
        scripted = np.array(scripted) if None not in scripted else None
        rows.append(
            {
                "system": key[0],
                "model": key[1],
                "train": key[2],
                "predict": key[3],
                "seeds": len(items),
                "derivative": _mean_std(deriv),
                "energy": _mean_std(energy),
                "mass": _mean_std(mass) if has_mass else None,
                "energy_published_metric": None if scripted is None else _mean_std(scripted),
                "ratio_published_metric": None if scripted is None else float(scripted.mean() / pub[1]),
                "state": _mean_std(np.array([i["state"] for i in items])),
                "published": pub,
                "ratio": (float(deriv.mean() / pub[0]), float(energy.mean() / pub[1]))
                + ((float(mass.mean() / pub[2]),) if has_mass and len(pub) > 2 else ()),
                # no training speed: it depends on the machine, and these rows go into tracked tables
                # (the cells' caches keep it; experiments/bench/bench_dg_solver.py measures it)
                "energy_error_curve": np.mean([i["energy_error_curve"] for i in items], axis=0).tolist(),
                # space-time pictures of the first seed's first rollout (PDE tables)
                "spacetime": items[0].get("spacetime"),
                "truth_spacetime": items[0].get("truth_spacetime"),
            }
        )
    return rows


def _mean_std(x: np.ndarray) -> tuple[float, float]:
    return float(x.mean()), float(x.std())


def table_markdown(rows: list[dict]) -> str:
    """A Markdown table: measured mean ± std (over seeds) | published | measured / published."""
    with_mass = any(r.get("mass") is not None for r in rows)
    # the energy MSE under the published script's own energy function where it is not H (pendulum)
    with_scripted = any(r.get("energy_published_metric") is not None for r in rows)
    head = "| system | model | train / predict | seeds | derivative MSE | (published) | energy MSE | (published) "
    head += "| mass MSE | (published) " if with_mass else ""
    head += "| energy MSE, script's metric | ratio energy, script's metric " if with_scripted else ""
    # no training speed here: it depends on the machine and would change a tracked table on every run
    # (experiments/bench/bench_dg_solver.py measures it)
    head += "| state MSE | ratio deriv. | ratio energy " + ("| ratio mass " if with_mass else "") + "|"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        (dm, ds), (em, es), pub = r["derivative"], r["energy"], r["published"]
        cells = [r["system"], r["model"], f"{r['train']} / {r['predict']}", str(r["seeds"])]
        cells += [f"{dm:.3g} ± {ds:.2g}", f"{pub[0]:.3g}", f"{em:.3g} ± {es:.2g}", f"{pub[1]:.3g}"]
        if with_mass:
            mm, ms = r["mass"] if r.get("mass") else (float("nan"), float("nan"))
            cells += [f"{mm:.3g} ± {ms:.2g}", f"{pub[2]:.3g}" if len(pub) > 2 else "nan"]
        if with_scripted:
            scripted = r.get("energy_published_metric")
            ratio = r.get("ratio_published_metric")
            cells += [f"{scripted[0]:.3g} ± {scripted[1]:.2g}", f"{ratio:.2f}"] if scripted else ["–", "–"]
        cells += [f"{r['state'][0]:.3g}"] + [f"{x:.2f}" for x in r["ratio"]]
        cells += ["nan"] * (with_mass and len(r["ratio"]) < 3)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

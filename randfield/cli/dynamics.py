"""Dynamics models: train, evaluate."""

from __future__ import annotations

from ._common import (
    MAX_COUNT,
    MAX_DEPTH,
    MAX_STEPS,
    MAX_WIDTH,
    _json,
    device,
    int_in,
    nonnegative,
    output_path,
    positive,
)


def _dynamics_report(model, system: str, test, methods, n_initial: int, evaluation=None, options=None) -> dict:
    from ..dynamics import derivative_mse, evaluation_set, rollout_metrics

    model.double()  # evaluate in float64 whatever the training precision
    evaluation = evaluation_set(system, n_initial) if evaluation is None else evaluation
    out = {"derivative_mse": derivative_mse(model, test), "rollouts": {}}
    for method in methods:
        m = rollout_metrics(model, system, method, evaluation, **(options or {}).get(method, {}))
        out["rollouts"][method] = {"energy_mse": m.energy_mse, "state_mse": m.state_mse, "seconds": m.seconds}
        if m.published_energy_mse is not None:  # the published scripts' energy where it is not H (pendulum)
            out["rollouts"][method]["energy_mse_published_metric"] = m.published_energy_mse
        if m.mass_mse is not None:
            out["rollouts"][method]["mass_mse"] = m.mass_mse
    return out


def _print_dynamics(out: dict) -> None:
    for key, value in out.items():
        if key != "rollouts":
            print(f"{key}: {value:.6g}" if isinstance(value, float) else f"{key}: {value}")
    for method, r in out["rollouts"].items():
        mse = f"energy MSE {r['energy_mse']:.4e}  state MSE {r['state_mse']:.4e}"
        mse += f"  mass MSE {r['mass_mse']:.4e}" if "mass_mse" in r else ""
        print(f"predict {method:>18}: {mse}  ({r['seconds']:.2f} s)")


def _check_predictors(model, methods) -> None:
    """Every prediction integrator exists and can step this model (before training, not after)."""
    from ..dynamics.integrators import get_integrator

    for method in methods:
        try:
            get_integrator(method).check_system(model)
        except TypeError as err:
            raise ValueError(f"--predict {method}: {model.name} cannot be rolled out with it ({err})") from None


def cmd_train(args) -> int:
    import torch

    from ..dynamics import data, fit, get_model
    from ..dynamics.training import save_model

    system = data.get_system(args.system)
    torch.manual_seed(args.seed)  # the model first (cheap): its options and predictors are checked before any work
    model = get_model(
        args.model,
        system.dim,
        hidden=args.hidden,
        train_integrator=args.train_integrator,
        **system.model_options(),  # PDEs: the grid and the structure matrix G
    )
    methods = args.predict or [model.train_integrator]
    _check_predictors(model, methods)
    generated = data.generate(system, args.trajectories, seed=args.data_seed, scheme=args.scheme)
    train, test = generated.split(system.protocol.test_fraction)
    result = fit(
        model,
        train,
        steps=args.steps,
        lr=args.lr,
        weight_decay=args.weight_decay,
        batch_size=args.batch_size,
        horizon=args.horizon,
        seed=args.seed,
        dtype=args.dtype,
        device=args.device or ("cuda" if torch.cuda.is_available() else "cpu"),
        checkpoint=args.checkpoint,
        progress=not args.json,
    )
    if args.out:
        save_model(args.out, model, system=system.name, args=vars(args) | {"func": None})
    out = {
        "system": system.name,
        "model": args.model,
        "train_integrator": model.train_integrator,
        "final_loss": float(result.losses[-1]),
        "iterations_per_second": result.iterations_per_second,
        **_dynamics_report(model.cpu(), system.name, test, methods, args.initial),
    }
    print(_json(out)) if args.json else _print_dynamics(out)
    return 0


def cmd_evaluate(args) -> int:
    from ..dynamics import data
    from ..dynamics.training import load_model

    model, meta = load_model(args.model)
    system = data.get_system(meta.get("system", ""))
    if args.method:
        _check_predictors(model, args.method)
    evaluation, methods, options = None, args.method or ["dg"], None
    if "cell" in meta:  # a table cell's model (experiment.run_cell): that cell's test set and rollouts
        from ..dynamics.experiment import CellJob, build_cell, cell_evaluation

        cell = meta["cell"]["cell"]
        job = CellJob(**{**cell, "predict": tuple(cell["predict"]), "n_initial": args.initial or cell["n_initial"]})
        _, _, _, test = build_cell(job)
        evaluation, methods = cell_evaluation(job, system), args.method or list(job.predict)
        options = job.integrator_options
    else:
        saved = meta.get("args", {})
        generated = data.generate(
            system, saved.get("trajectories"), seed=saved.get("data_seed", 0), scheme=saved.get("scheme", "reference")
        )
        _, test = generated.split(system.protocol.test_fraction)
    out = {
        "system": system.name,
        "model": model.name,
        **_dynamics_report(model, system.name, test, methods, args.initial or 15, evaluation, options),
    }
    print(_json(out)) if args.json else _print_dynamics(out)
    return 0


def register(sub) -> None:
    p = sub.add_parser("train", help="train a dynamics model (node, hnn, srnn, dgnet) on generated physical data")
    p.add_argument(
        "--system", default="spring", help="spring, pendulum, two_body, kdv, cahn_hilliard, cahn_hilliard_2d"
    )
    p.add_argument("--model", default="dgnet", help="node, hnn, srnn or dgnet (PDEs: node, hnn, dgnet)")
    p.add_argument("--scheme", default="reference", choices=["reference", "dvdm"], help="PDE data: solver")
    p.add_argument("--train-integrator", help="rk2 or dopri5 (node, hnn); leapfrog (srnn); dg (dgnet)")
    p.add_argument(
        "--steps", "--epochs", type=int_in(1, MAX_STEPS), default=2000, help="optimiser steps (full batch: epochs)"
    )
    p.add_argument("--lr", type=positive, default=1e-3)
    p.add_argument("--weight-decay", type=nonnegative, default=1e-4)
    p.add_argument("--batch-size", type=int_in(1, 10**9), default=None, help="windows per step (default: all)")
    p.add_argument("--horizon", type=int_in(1, MAX_DEPTH), default=1, help="integrator steps per training window")
    p.add_argument("--hidden", type=int_in(1, MAX_WIDTH), default=200)
    p.add_argument("--trajectories", type=int_in(1, MAX_COUNT), default=None, help="default: the system's protocol")
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--device", type=device, default=None, help="cuda, cpu, ... (default: cuda when available)")
    p.add_argument("--predict", nargs="+", help="integrators for the evaluation rollouts (default: training one)")
    p.add_argument(
        "--initial", type=int_in(1, MAX_COUNT), default=15, help="initial conditions of the evaluation rollouts"
    )
    p.add_argument("--checkpoint", type=output_path, help="checkpoint file: progress is saved there and resumed from")
    p.add_argument("--out", type=output_path, help="write the trained model here (.pt, atomically)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score a trained dynamics model: derivative, energy and state MSE")
    p.add_argument("model", help="a model file written by `randfield train --out`")
    p.add_argument(
        "--method", nargs="+", help="prediction integrators (default: dg; a table cell's model: the cell's own)"
    )
    p.add_argument(
        "--initial", type=int_in(1, MAX_COUNT), help="rollouts (default 15; a table cell's model: the cell's own)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

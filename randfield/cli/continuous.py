"""Continuous-depth commands: classify (the Neural ODE paper's classifier table, one architecture at a time)."""

from __future__ import annotations

from .._names import CLASSIFIER_ARCHITECTURES, FLOW_DATASETS, FLOW_TARGETS
from ._common import _json, int_in, output_path, positive


def cmd_classify(args) -> int:
    import statistics

    from .._io import atomic_write_json, provenance
    from ..continuous.classify import load_data, result_dict, train_classifier

    path = None if args.data == "digits" else args.data
    data = load_data("digits" if path is None else "file", path)
    results = []
    for seed in args.seeds:
        checkpoint = None if args.checkpoint is None else f"{args.checkpoint}.seed{seed}"
        results.append(
            train_classifier(
                args.arch,
                data,
                epochs=args.epochs,
                batch=args.batch,
                lr=args.lr,
                seed=seed,
                channels=args.channels,
                checkpoint=checkpoint,
                progress=not args.json,
                rtol=args.rtol,
                atol=args.atol,
            )  # fmt: skip
        )
    rows = [result_dict(r) for r in results]
    errors = [r.test_error for r in results]
    summary = {
        "arch": args.arch,
        "data": data.name,
        "test_error_mean": statistics.mean(errors),
        "test_error_std": statistics.stdev(errors) if len(errors) > 1 else 0.0,
        "parameters": results[0].parameters,
        "activation_mib": results[0].activation_mib,
        "seconds_per_epoch": statistics.mean(r.seconds_per_epoch for r in results),
        "runs": rows,
    }
    if args.out:
        atomic_write_json(args.out, {**summary, **provenance(vars(args) | {"func": None})})
    if args.json:
        print(_json(summary))
        return 0
    s = summary
    print(
        f"{args.arch} on {data.name}: test error {100 * s['test_error_mean']:.2f} +- {100 * s['test_error_std']:.2f} % "
        f"over {len(errors)} seeds, {s['parameters']} parameters, {s['activation_mib']:.2f} MiB of saved activations "
        f"per batch of {args.batch}, {s['seconds_per_epoch']:.2f} s per epoch"
    )
    if results[0].nfe_forward is not None:
        print(
            f"NFE per batch (last epoch): forward {results[0].nfe_forward:.1f}, backward {results[0].nfe_backward:.1f}"
        )
    return 0


def cmd_flow(args) -> int:
    import torch

    from .._io import atomic_write_json, provenance
    from ..flows import CNF, PlanarFlow, fit_density, fit_density_matching, sample_toy

    torch.manual_seed(args.seed)
    if args.model == "planar":
        if args.match is None:
            raise ValueError("--model planar has no density to evaluate on data: use it with --match TARGET")
        flow = PlanarFlow(2, args.layers)
    else:
        flow = CNF(2, width=args.width, trace=args.trace, rtol=args.rtol, atol=args.atol)
    out = {"model": args.model, "seed": args.seed}
    if args.match is not None:
        fit = fit_density_matching(flow, args.match, steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed,
                                   progress=not args.json)  # fmt: skip
        out |= {"target": args.match, "kl_up_to_normaliser": fit.losses[-1]}
    else:
        train = torch.as_tensor(sample_toy(args.data, args.train, seed=args.seed), dtype=torch.float32)
        test = torch.as_tensor(sample_toy(args.data, args.test, seed=10_000 + args.seed), dtype=torch.float32)
        fit = fit_density(flow, train, steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed,
                          progress=not args.json)  # fmt: skip
        with torch.no_grad():
            nll = float(-flow.log_prob(test).mean())
        out |= {"data": args.data, "test_nll": nll}
    out |= {"seconds_per_step": fit.seconds_per_step, "nfe_last": fit.nfe[-1] if fit.nfe else None}
    if args.out:
        atomic_write_json(args.out, {**out, **provenance(vars(args) | {"func": None})})
    if args.json:
        print(_json(out))
        return 0
    what = f"KL(q||p) + log Z = {out['kl_up_to_normaliser']:.4f}" if args.match else f"test NLL {out['test_nll']:.4f}"
    print(f"{args.model}: {what} nats, {out['seconds_per_step'] * 1e3:.1f} ms per step")
    return 0


def cmd_latent_ode(args) -> int:
    import statistics

    from .._io import atomic_write_json, provenance
    from ..latent import fit_series, make_spirals

    data = make_spirals(args.spirals, args.times, args.obs, seed=args.data_seed)
    n_train = int(0.8 * args.spirals)
    train, test = data.subset(slice(0, n_train)), data.subset(slice(n_train, None))
    runs = []
    for seed in args.seeds:
        opts = {"gradient": args.gradient} if args.model == "latent_ode" else {}
        res, _ = fit_series(args.model, train, test, steps=args.steps, batch=args.batch, lr=args.lr, seed=seed,
                            progress=not args.json, **opts)  # fmt: skip
        runs.append({"seed": seed, "rmse": res.rmse, "seconds_per_step": res.seconds_per_step})
    errs = [r["rmse"] for r in runs]
    out = {
        "model": args.model, "observations": args.obs, "rmse_mean": statistics.mean(errs),
        "rmse_std": statistics.stdev(errs) if len(errs) > 1 else 0.0, "runs": runs,
    }  # fmt: skip
    if args.out:
        atomic_write_json(args.out, {**out, **provenance(vars(args) | {"func": None})})
    if args.json:
        print(_json(out))
        return 0
    print(
        f"{args.model}, {args.obs} observations per series: predictive RMSE {out['rmse_mean']:.4f} +- "
        f"{out['rmse_std']:.4f} over {len(errs)} seeds (held-out spirals, all {args.times} times)"
    )
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "classify", help="train mlp / resnet / rknet / odenet / revnet image classifiers (Chen et al. 2018)"
    )
    p.add_argument("--arch", choices=CLASSIFIER_ARCHITECTURES, required=True)
    p.add_argument(
        "--data", default="digits", help="'digits' (bundled with scikit-learn) or a local MNIST .npz / idx folder"
    )
    p.add_argument("--epochs", type=int_in(1, 10000), default=15)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--batch", type=int_in(1, 65536), default=32)
    p.add_argument("--lr", type=positive, default=3e-3)
    p.add_argument("--channels", type=int_in(2, 4096), default=32)
    p.add_argument("--rtol", type=positive, default=1e-3, help="ODE-Net solver tolerances (dopri5)")
    p.add_argument("--atol", type=positive, default=1e-3)
    p.add_argument("--checkpoint", type=output_path, help="checkpoint prefix: progress is saved and resumed per seed")
    p.add_argument("--out", type=output_path, help="result file (JSON, written atomically with the config)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("flow", help="train a continuous (or planar) normalising flow on 2-D data or a target density")
    p.add_argument("--model", choices=["cnf", "planar"], default="cnf")
    p.add_argument("--data", choices=FLOW_DATASETS, default="moons", help="2-D data for maximum likelihood")
    p.add_argument("--match", choices=FLOW_TARGETS, help="density matching against this unnormalised target instead")
    p.add_argument("--width", type=int_in(1, 4096), default=32, help="CNF width M")
    p.add_argument("--layers", type=int_in(1, 4096), default=8, help="planar layers K")
    p.add_argument("--trace", choices=["exact", "hutchinson"], default="exact")
    p.add_argument("--steps", type=int_in(1, 10**7), default=500)
    p.add_argument("--batch", type=int_in(1, 65536), default=256)
    p.add_argument("--lr", type=positive, default=1e-2)
    p.add_argument("--train", type=int_in(1, 10**7), default=10000, help="training samples")
    p.add_argument("--test", type=int_in(1, 10**7), default=2000, help="held-out samples")
    p.add_argument("--rtol", type=positive, default=1e-5)
    p.add_argument("--atol", type=positive, default=1e-7)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=output_path, help="result file (JSON, written atomically with the config)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_flow)

    p = sub.add_parser("latent-ode", help="latent ODE (or RNN baseline) on irregularly sampled 2-D spirals")
    p.add_argument("--model", choices=["latent_ode", "rnn"], default="latent_ode")
    p.add_argument("--obs", type=int_in(1, 100000), default=30, help="observations per series")
    p.add_argument("--times", type=int_in(2, 100000), default=100, help="grid times per series")
    p.add_argument("--spirals", type=int_in(5, 10**6), default=1000)
    p.add_argument("--steps", type=int_in(1, 10**7), default=1000)
    p.add_argument("--batch", type=int_in(1, 65536), default=100)
    p.add_argument("--lr", type=positive, default=1e-2)
    p.add_argument("--gradient", choices=["adjoint", "backprop", "checkpoint", "symplectic"], default="backprop")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--out", type=output_path, help="result file (JSON, written atomically with the config)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_latent_ode)

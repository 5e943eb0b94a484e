"""Continuous-depth commands: classify (the Neural ODE paper's classifier table, one architecture at a time)."""

from __future__ import annotations

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


def register(sub) -> None:
    from ..continuous.classify import ARCHITECTURES

    p = sub.add_parser(
        "classify", help="train mlp / resnet / rknet / odenet / revnet image classifiers (Chen et al. 2018)"
    )
    p.add_argument("--arch", choices=ARCHITECTURES, required=True)
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

"""The `randfield` command line. Bad input gives one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def _json(obj) -> str:
    """JSON with NaN/inf as null (valid JSON for other tools)."""

    def clean(x):
        if isinstance(x, float) and not np.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj))


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_network(p, depth: bool = False):
    p.add_argument("--activation", default="tanh", help="activation name, e.g. tanh, relu, 'leaky_relu(alpha=0.2)'")
    p.add_argument("--sigma-w2", type=float, required=True, help="weight variance sigma_w^2 (>= 0)")
    p.add_argument("--sigma-b2", type=float, default=0.0, help="bias variance sigma_b^2 (>= 0)")
    if depth:
        p.add_argument("--depth", type=int, default=20, help="number of layers to iterate (>= 1)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _range(text: str) -> np.ndarray:
    try:
        lo, hi, n = text.split(":")
        return np.linspace(float(lo), float(hi), int(n))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected LO:HI:N, got {text!r}") from err


def _summary(activation, sw, sb) -> dict:
    from . import maps

    out = {"activation": activation, "sigma_w2": sw, "sigma_b2": sb}
    q = float(maps.length_fixed_point(activation, sw, sb))
    out["q_star"] = q
    out["chi1"] = float(maps.chi1(activation, sw, sb, q=q))
    out["c_star"] = float(maps.correlation_fixed_point(activation, sw, sb))
    xi = maps.depth_scales(activation, sw, sb)
    out["xi_q"], out["xi_c"] = float(xi.xi_q), float(xi.xi_c)
    out["phase"] = "ordered" if out["chi1"] < 1 else "chaotic" if out["chi1"] > 1 else "critical"
    return out


def cmd_maps(args) -> int:
    from . import maps

    act, sw, sb = args.activation, args.sigma_w2, args.sigma_b2
    q1 = sw * args.q_input + sb  # inputs with |x|^2 / d = q_input
    prop = maps.propagate_covariance(act, sw, sb, args.depth, q1, q1, sw * args.q_input * args.c_input + sb)
    try:
        summary = _summary(act, sw, sb)
    except maps.NoFixedPointError as err:
        summary = {"activation": act, "sigma_w2": sw, "sigma_b2": sb, "phase": "unbounded", "note": str(err)}
    if args.json:
        print(_json({"layers": {"q": prop.q1.tolist(), "c": prop.c.tolist()}, **summary}))
        return 0
    print(f"{'layer':>5} {'q':>14} {'c':>14}")
    for layer, (q, c) in enumerate(zip(prop.q1, prop.c), start=1):
        print(f"{layer:>5d} {q:>14.8g} {c:>14.10f}")
    print()
    for key in ("q_star", "c_star", "chi1", "xi_q", "xi_c", "phase", "note"):
        if key in summary:
            print(f"{key:>7}: {summary[key]}")
    return 0


def cmd_phase_diagram(args) -> int:
    from . import maps
    from ._io import atomic_write_json, provenance
    from .phase import phase_diagram

    pd = phase_diagram(args.activation, args.sigma_w2, args.sigma_b2)
    counts = dict(zip(("ordered", "chaotic", "unbounded"), np.bincount(pd.phase.ravel(), minlength=3).tolist()))
    if args.out:
        from .plotting import plot_phase_diagram, save_figure

        sb = pd.sigma_b2[pd.sigma_b2 > 0]
        try:
            line = (maps.critical_sigma_w2(args.activation, sb, unstable="nan"), sb)
        except ValueError:
            line = None
        paths = save_figure(plot_phase_diagram(pd, critical_line=line), args.out)
        config = {"activation": args.activation, "sigma_w2": pd.sigma_w2, "sigma_b2": pd.sigma_b2}
        atomic_write_json(paths[0].with_suffix(".json"), {**provenance(config), "data": pd.as_dict()})
    result = {"activation": pd.activation, "grid": list(pd.phase.shape), "phase_counts": counts}
    if args.out:
        result["files"] = [str(p) for p in paths]
    print(_json(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


def cmd_critical(args) -> int:
    from . import maps

    sw = maps.critical_sigma_w2(args.activation, args.sigma_b2)
    out = {"activation": args.activation, "sigma_b2": args.sigma_b2, "critical_sigma_w2": float(sw)}
    print(_json(out) if args.json else f"critical sigma_w2 = {float(sw):.12f}")
    return 0


def cmd_kernel(args) -> int:
    from ._io import read_npy
    from .blocks import dense_network, kernels, parse_architecture

    x = read_npy(args.inputs, "--inputs")
    x2 = read_npy(args.inputs2, "--inputs2") if args.inputs2 else None
    for name, arr in (("--inputs", x), ("--inputs2", x2)):
        if arr is not None and (arr.ndim != 2 or arr.size == 0):
            raise ValueError(f"{name}: expected a non-empty array of shape (n, d), got shape {arr.shape}")
    if x2 is not None and x2.shape[1] != x.shape[1]:
        raise ValueError(f"--inputs2 has dimension d = {x2.shape[1]}, --inputs has d = {x.shape[1]}")
    if args.arch:
        arch = parse_architecture(args.arch)
    else:
        if args.sigma_w2 is None:
            raise ValueError("give --sigma-w2 (and --activation, --depth, --sigma-b2) or --arch")
        arch = dense_network(args.activation, args.depth, args.sigma_w2, args.sigma_b2)
    nngp, ntk = kernels(x, x2, arch)
    k = ntk if args.ntk else nngp
    if args.out:
        import io

        from ._io import atomic_write_bytes

        buf = io.BytesIO()
        np.save(buf, k)
        atomic_write_bytes(args.out, buf.getvalue())
    info = {"kernel": "ntk" if args.ntk else "nngp", "shape": list(k.shape), "out": args.out}
    if args.json:
        info["values"] = k.tolist() if k.size <= 10000 else None
        print(_json(info))
    else:
        print(f"{info['kernel']} {k.shape}" + (f" written to {args.out}" if args.out else ""))
        if not args.out:
            print(np.array2string(k, precision=6, max_line_width=120))
    return 0


def cmd_simulate(args) -> int:
    from .montecarlo import SimulationConfig, compare, simulate

    cfg = SimulationConfig(
        args.activation,
        args.sigma_w2,
        args.sigma_b2,
        width=args.width,
        depth=args.depth,
        n_networks=args.samples,
        n_inputs=args.inputs,
        q_input=args.q_input,
        c_input=args.c_input,
        weights=args.weights,
        branch_scale=args.branch_scale,
        seed=args.seed,
        dtype=args.dtype,
    )
    result = simulate(cfg, device=args.device, checkpoint=args.checkpoint, progress=not args.json)
    result.save(args.out)
    cmp = compare(result)
    summary = {"out": args.out, "max_abs_z": cmp.max_abs_z(), "n_comparisons": cmp.n_comparisons()}
    print(
        _json(summary)
        if args.json
        else f"saved {args.out}; max |z| over {summary['n_comparisons']} "
        f"per-layer comparisons with theory: {summary['max_abs_z']:.2f} (randfield compare {args.out})"
    )
    return 0


def cmd_compare(args) -> int:
    from .montecarlo import SimulationResult, compare

    result = SimulationResult.load(args.run)  # data only; a wrong or corrupt file is one clear error
    cmp = compare(result)
    if args.json:
        print(_json({"config": result.config.to_dict(), **cmp.as_dict()}))
        return 0
    q, c, chi = cmp.quantities["q"], cmp.quantities["c"], cmp.quantities["chi1"]
    print(
        f"{'layer':>5} {'q theory':>10} {'q sim':>10} {'z':>6}  {'c theory':>9} {'c sim':>9} {'z':>6}"
        f"  {'chi1 th':>8} {'chi1 sim':>8} {'z':>6}"
    )
    for layer in range(result.config.depth):
        row = (
            f"{layer + 1:>5d} {q['theory'][layer, 0]:>10.5g} {q['simulation'][layer, 0]:>10.5g}"
            f" {q['z'][layer, 0]:>6.2f}"
            f"  {c['theory'][layer, 0]:>9.5f} {c['simulation'][layer, 0]:>9.5f} {c['z'][layer, 0]:>6.2f}"
        )
        if layer < len(chi["theory"]):
            row += f"  {chi['theory'][layer]:>8.5f} {chi['simulation'][layer]:>8.5f} {chi['z'][layer]:>6.2f}"
        print(row)
    thr = cmp.threshold()
    print(
        f"max |z| = {cmp.max_abs_z():.2f} over {cmp.n_comparisons()} comparisons (1% family-wise threshold {thr:.2f})"
    )
    return 0


def cmd_geometry(args) -> int:
    from .geometry import circle_geometry

    geo = circle_geometry(args.activation, args.sigma_w2, args.sigma_b2, args.depth, args.q_input)
    out = {
        "layer": list(range(1, args.depth + 1)),
        "q": geo.q.tolist(),
        "length2": geo.length2.tolist(),
        "curvature": geo.curvature.tolist(),
        "metric_factor": [None] + geo.stretch.tolist(),
    }
    if args.simulate:
        from .montecarlo import SimulationConfig, compare, simulate

        cfg = SimulationConfig(
            args.activation,
            args.sigma_w2,
            args.sigma_b2,
            width=args.width,
            depth=args.depth,
            n_networks=args.samples,
            q_input=args.q_input,
            seed=args.seed,
        )
        comparison = compare(simulate(cfg, device=args.device))
        cmp = comparison.quantities
        z = {}
        for key in ("length2", "curvature"):
            if key in cmp:
                out[f"{key}_sim"] = cmp[key]["simulation"][:, 0].tolist()
                out[f"{key}_stderr"] = cmp[key]["stderr"][:, 0].tolist()
                z[key] = float(np.max(np.abs(cmp[key]["z"][:, 0])))
        out["metric_factor_sim"] = [None] + cmp["chi1"]["simulation"].tolist()
        out["max_abs_z"] = z
        out["z_threshold"] = comparison.threshold()
    if args.json:
        print(_json(out))
        return 0
    cols = ["layer", "q", "length2", "curvature", "metric_factor"]
    if args.simulate:
        cols += [c for c in ("length2_sim", "length2_stderr", "curvature_sim", "curvature_stderr") if c in out]
        cols.append("metric_factor_sim")
    print(" ".join(f"{c:>17}" for c in cols))
    for i in range(args.depth):
        print(" ".join(f"{out[c][i]:>17.6g}" if out[c][i] is not None else f"{'':>17}" for c in cols))
    if args.simulate:
        zs = ", ".join(f"{k} {v:.2f}" for k, v in out["max_abs_z"].items())
        print(f"theory vs simulation: max |z| {zs} (1% family-wise threshold {out['z_threshold']:.2f})")
    print("length2 = |dh/dtheta|^2 / N, curvature = N kappa^2 of the image of a great circle (Poole et al. 2016)")
    return 0


def cmd_spectrum(args) -> int:
    from .spectra import jacobian_spectrum

    spec = jacobian_spectrum(args.activation, args.sigma_w2, args.sigma_b2, args.depth, weights=args.weights)
    probs = np.array([0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
    grid = np.sort(np.concatenate([spec.lam, [loc for loc, _ in spec.point_masses]]))
    cdf = np.maximum.accumulate(spec.cdf(grid))
    quantiles = grid[np.minimum(np.searchsorted(cdf, probs), grid.size - 1)]
    out = {
        "activation": args.activation,
        "sigma_w2": args.sigma_w2,
        "sigma_b2": args.sigma_b2,
        "depth": args.depth,
        "weights": args.weights,
        "mean": spec.mean,
        "variance": spec.variance,
        "upper_edge": spec.upper_edge,
        "point_masses": [list(pm) for pm in spec.point_masses],
        "quantiles": dict(zip([f"{p:g}" for p in probs], quantiles.tolist())),
    }
    if args.simulate:
        from .maps import length_fixed_point
        from .montecarlo import jacobian_singular_values

        q = float(length_fixed_point(args.activation, args.sigma_w2, args.sigma_b2))
        lam = (
            jacobian_singular_values(
                args.activation,
                args.sigma_w2,
                args.sigma_b2,
                width=args.width,
                depth=args.depth,
                n_networks=args.samples,
                weights=args.weights,
                q_input=q if q > 0 else 1.0,
                seed=args.seed,
                device=args.device,
            )
            ** 2
        )
        out["simulation"] = {
            "mean": float(lam.mean()),
            "variance": float(lam.var()),
            "quantiles": dict(zip([f"{p:g}" for p in probs], np.quantile(lam, probs).tolist())),
            "ks_distance": spec.ks_distance(lam),
            "ks_critical_iid_1e-3": 1.95 / np.sqrt(lam.size),
        }
    if args.json:
        print(_json(out))
        return 0
    print(
        f"squared singular values of the input-output Jacobian, {args.activation}, {args.weights} weights, "
        f"depth {args.depth} (free probability, Pennington et al. 2017)"
    )
    sim = out.get("simulation")
    print(f"{'':>12} {'theory':>12}" + (f" {'simulation':>12}" if sim else ""))
    print(f"{'mean':>12} {spec.mean:>12.5g}" + (f" {sim['mean']:>12.5g}" if sim else ""))
    print(f"{'variance':>12} {spec.variance:>12.5g}" + (f" {sim['variance']:>12.5g}" if sim else ""))
    for key, val in out["quantiles"].items():
        print(f"{'q' + key:>12} {val:>12.5g}" + (f" {sim['quantiles'][key]:>12.5g}" if sim else ""))
    print(f"upper edge {spec.upper_edge:.6g}" + "".join(f"; atom {m:.3g} at {loc:g}" for loc, m in spec.point_masses))
    if sim:
        print(
            f"KS distance {sim['ks_distance']:.4f} over {lam.size} values "
            f"(i.i.d. critical value at 0.1%: {sim['ks_critical_iid_1e-3']:.4f})"
        )
    return 0


def cmd_init(args) -> int:
    from .init import alternatives, select

    rec = select(args.activation, args.depth, args.sigma_b2, args.criterion)
    alts = alternatives(args.activation, args.depth, args.sigma_b2)
    if args.json:
        print(_json({"recommendation": rec.as_dict(), "alternatives": [a.as_dict() for a in alts]}))
        return 0
    print(rec.explanation)
    print()
    print(
        f"{'criterion':>20} {'sigma_w2':>10} {'sigma_b2':>11} {'weights':>10} {'q*':>10} {'chi1':>9} {'xi_c':>9}"
        f" {'trainable':>10}"
    )
    for a in alts:
        print(
            f"{a.criterion:>20} {a.sigma_w2:>10.6g} {a.sigma_b2:>11.4g} {a.weights:>10} {a.q_star:>10.4g} "
            f"{a.chi1:>9.6g} {a.xi_c:>9.4g} {a.trainable_depth:>10.4g}"
        )
    print("trainable = 6 xi_c (Schoenholz et al. 2017)")
    return 0


def cmd_sweep(args) -> int:
    from .montecarlo import SimulationConfig, compare
    from .sweep import run_sweep, simulate_job

    configs = [
        SimulationConfig(
            args.activation,
            float(sw),
            args.sigma_b2,
            width=args.width,
            depth=args.depth,
            n_networks=args.samples,
            seed=args.seed,
            dtype=args.dtype,
        )
        for sw in args.sigma_w2
    ]
    results = run_sweep(simulate_job, configs, workers=args.workers, scheduler=args.scheduler, progress=not args.json)
    rows = []
    for cfg, r in zip(configs, results):
        cmp = compare(r).quantities
        rows.append(
            {
                "sigma_w2": cfg.sigma_w2,
                "chi1_theory": float(cmp["chi1"]["theory"][-1]),
                "chi1_sim": float(cmp["chi1"]["simulation"][-1]),
                "chi1_stderr": float(cmp["chi1"]["stderr"][-1]),
                "c_theory": float(cmp["c"]["theory"][-1, 0]),
                "c_sim": float(cmp["c"]["simulation"][-1, 0]),
                "c_stderr": float(cmp["c"]["stderr"][-1, 0]),
            }
        )
    if args.out:
        from ._io import atomic_write_json, provenance

        atomic_write_json(args.out, {**provenance({"configs": [c.to_dict() for c in configs]}), "rows": rows})
    if args.json:
        print(_json(rows))
        return 0
    print(f"{'sigma_w2':>9} {'chi1 theory':>12} {'chi1 sim':>10} {'+-':>7} {'c theory':>9} {'c sim':>8} {'+-':>7}")
    for row in rows:
        print(
            f"{row['sigma_w2']:>9.4g} {row['chi1_theory']:>12.5f} {row['chi1_sim']:>10.5f} {row['chi1_stderr']:>7.4f}"
            f" {row['c_theory']:>9.5f} {row['c_sim']:>8.5f} {row['c_stderr']:>7.4f}"
        )
    return 0


def cmd_figures(args) -> int:
    from .figures import regenerate

    report = regenerate(args.configs, args.out, only=args.only, quick=args.quick, force=args.force)
    if args.json:
        print(_json(dict(report)))
    else:
        for name, status in report:
            print(f"{name}: {status}")
    return 0


def _dynamics_report(model, system: str, test, methods, n_initial: int, evaluation=None, options=None) -> dict:
    from .dynamics import derivative_mse, evaluation_set, rollout_metrics

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


def cmd_train(args) -> int:
    from .dynamics import data, fit, get_model
    from .dynamics.training import save_model

    system = data.get_system(args.system)
    generated = data.generate(system, args.trajectories, seed=args.data_seed, scheme=args.scheme)
    train, test = generated.split(system.protocol.test_fraction)
    import torch

    torch.manual_seed(args.seed)
    model = get_model(
        args.model,
        system.dim,
        hidden=args.hidden,
        train_integrator=args.train_integrator,
        **system.model_options(),  # PDEs: the grid and the structure matrix G
    )
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
    methods = args.predict or [model.train_integrator]
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
    from .dynamics import data
    from .dynamics.training import load_model

    model, meta = load_model(args.model)
    system = data.get_system(meta["system"])
    evaluation, methods, options = None, args.method or ["dg"], None
    if "cell" in meta:  # a table cell's model (experiment.run_cell): that cell's test set and rollouts
        from .dynamics.experiment import CellJob, build_cell, cell_evaluation

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


def cmd_activations(args) -> int:
    from .activations import available_activations

    print(_json(available_activations()) if args.json else "\n".join(available_activations()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="randfield", description="Mean-field theory of random deep networks.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("maps", help="iterate the length/correlation maps; fixed points, chi_1, depth scales")
    _add_network(p, depth=True)
    p.add_argument("--q-input", type=float, default=1.0, help="|x|^2 / d of both inputs (default 1)")
    p.add_argument("--c-input", type=float, default=0.5, help="cosine similarity of the two inputs (default 0.5)")
    p.set_defaults(func=cmd_maps)

    p = sub.add_parser("phase-diagram", help="order/chaos phase diagram over a (sigma_w^2, sigma_b^2) grid")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--sigma-w2", type=_range, default=_range("0.5:4:100"), help="grid LO:HI:N (default 0.5:4:100)")
    p.add_argument("--sigma-b2", type=_range, default=_range("0:1:100"), help="grid LO:HI:N (default 0:1:100)")
    p.add_argument("--out", help="figure path (PNG and PDF written, plus a JSON with the data)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_phase_diagram)

    p = sub.add_parser("critical", help="sigma_w^2 on the chi_1 = 1 line for a given sigma_b^2")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--sigma-b2", type=float, default=0.0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_critical)

    p = sub.add_parser("kernel", help="infinite-width NNGP or NTK of a dense net or a composed architecture")
    p.add_argument("--inputs", required=True, help=".npy file of inputs, shape (n, d)")
    p.add_argument("--inputs2", help=".npy file of second inputs (default: --inputs)")
    p.add_argument("--activation", default="relu")
    p.add_argument("--depth", type=int, default=1, help="hidden nonlinear layers (>= 1)")
    p.add_argument("--sigma-w2", type=float)
    p.add_argument("--sigma-b2", type=float, default=0.0)
    p.add_argument(
        "--arch", help="architecture expression, e.g. 'serial(Dense(2, 0), Elementwise(\"relu\"), Dense(2, 0))'"
    )
    p.add_argument("--ntk", action="store_true", help="output the NTK instead of the NNGP")
    p.add_argument("--out", help="write the kernel to this .npy file (atomically)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kernel)

    p = sub.add_parser("simulate", help="simulate wide random networks; per-layer q, c, chi1 with error bars")
    _add_network(p, depth=True)
    p.add_argument("--width", type=int, default=1000)
    p.add_argument("--samples", type=int, default=16, help="independent networks")
    p.add_argument("--inputs", type=int, default=2, help="points on a great circle (>= 2)")
    p.add_argument("--q-input", type=float, default=1.0)
    p.add_argument("--c-input", type=float, default=0.5)
    p.add_argument("--weights", choices=["gaussian", "orthogonal"], default="gaussian")
    p.add_argument("--branch-scale", type=float, default=None, help="residual branch scale alpha (plain net if absent)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--device", default=None, help="cuda, cpu, ... (default: cuda when available)")
    p.add_argument("--checkpoint", help="checkpoint file: progress is saved there and resumed from")
    p.add_argument("--out", required=True, help="result file (.npz)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("sweep", help="simulate over a sigma_w^2 grid in parallel (process pool or Dask)")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--sigma-w2", type=_range, required=True, help="grid LO:HI:N")
    p.add_argument("--sigma-b2", type=float, default=0.0)
    p.add_argument("--width", type=int, default=1000)
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--samples", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--workers", type=int, default=None, help="local processes (default: CPU count)")
    p.add_argument("--scheduler", help="Dask distributed scheduler address (needs dask[distributed])")
    p.add_argument("--out", help="JSON file for the rows (written atomically with the configs)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("compare", help="theory vs simulation per layer, with z-scores")
    p.add_argument("run", help="a result file written by `randfield simulate`")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("geometry", help="per-layer length, curvature and metric factor of a great circle's image")
    _add_network(p, depth=True)
    p.add_argument("--q-input", type=float, default=1.0, help="|x|^2 / d of the circle")
    p.add_argument("--simulate", action="store_true", help="also simulate finite networks")
    p.add_argument("--width", type=int, default=1000)
    p.add_argument("--samples", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None)
    p.set_defaults(func=cmd_geometry)

    p = sub.add_parser("spectrum", help="Jacobian singular-value law by free probability (Gaussian/orthogonal weights)")
    _add_network(p, depth=True)
    p.add_argument("--weights", choices=["gaussian", "orthogonal"], default="gaussian")
    p.add_argument("--simulate", action="store_true", help="also simulate square networks and report the KS distance")
    p.add_argument("--width", type=int, default=400)
    p.add_argument("--samples", type=int, default=8, help="independent networks")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None)
    p.set_defaults(func=cmd_spectrum)

    p = sub.add_parser("init", help="recommend an initialisation (edge of chaos, depth scale, dynamical isometry)")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--depth", type=int, required=True)
    p.add_argument("--sigma-b2", type=float, default=None, help="bias variance (default: 0 for ReLU-type, else 0.05)")
    p.add_argument(
        "--criterion", default="edge_of_chaos", choices=["edge_of_chaos", "depth_scale", "dynamical_isometry"]
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("figures", help="regenerate every figure in figures/ from experiments/*.toml")
    p.add_argument("--only", nargs="+", help="figure names (config file stems)")
    p.add_argument("--quick", action="store_true", help="CPU-sized configuration")
    p.add_argument("--force", action="store_true", help="recompute cached figures")
    p.add_argument("--configs", default="experiments")
    p.add_argument("--out", default="figures")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser("train", help="train a dynamics model (node, hnn, srnn, dgnet) on generated physical data")
    p.add_argument(
        "--system", default="spring", help="spring, pendulum, two_body, kdv, cahn_hilliard, cahn_hilliard_2d"
    )
    p.add_argument("--model", default="dgnet", help="node, hnn, srnn or dgnet (PDEs: node, hnn, dgnet)")
    p.add_argument("--scheme", default="reference", choices=["reference", "dvdm"], help="PDE data: solver")
    p.add_argument("--train-integrator", help="rk2 or dopri5 (node, hnn); leapfrog (srnn); dg (dgnet)")
    p.add_argument("--steps", "--epochs", type=int, default=2000, help="optimiser steps (full batch: epochs)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--batch-size", type=int, default=None, help="windows per step (default: all)")
    p.add_argument("--horizon", type=int, default=1, help="integrator steps per training window")
    p.add_argument("--hidden", type=int, default=200)
    p.add_argument("--trajectories", type=int, default=None, help="default: the system's protocol")
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--device", default=None, help="cuda, cpu, ... (default: cuda when available)")
    p.add_argument("--predict", nargs="+", help="integrators for the evaluation rollouts (default: training one)")
    p.add_argument("--initial", type=int, default=15, help="initial conditions of the evaluation rollouts")
    p.add_argument("--checkpoint", help="checkpoint file: progress is saved there and resumed from")
    p.add_argument("--out", help="write the trained model here (.pt, atomically)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score a trained dynamics model: derivative, energy and state MSE")
    p.add_argument("model", help="a model file written by `randfield train --out`")
    p.add_argument(
        "--method", nargs="+", help="prediction integrators (default: dg; a table cell's model: the cell's own)"
    )
    p.add_argument("--initial", type=int, help="rollouts (default 15; a table cell's model: the cell's own)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("activations", help="list the registered activations")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_activations)
    return parser


def _one_line(err: BaseException) -> str:
    """An exception as at most three short lines (a library's multi-line dump is cut, not printed)."""
    lines = [line for line in str(err).strip().splitlines() if line.strip()] or [type(err).__name__]
    return "\n".join(line[:300] for line in lines[:3])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from ._malloc import retain_freed_memory

    retain_freed_memory()  # CPU training and simulation free and reallocate large tensors every step
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into `head` & co.: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, TypeError, OSError) as err:  # bad input, bad files, unwritable paths
        print(f"randfield {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except (ArithmeticError, RuntimeError) as err:  # non-convergence, step-size underflow, NaN loss
        print(f"randfield {args.command}: failed: {_one_line(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # files on disk are complete (atomic writes); checkpoints resume
        print(
            f"randfield {args.command}: interrupted; the last complete checkpoint (if any) is kept — "
            "run the same command to resume",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Monte-Carlo commands: simulate, compare, sweep, geometry, spectrum."""

from __future__ import annotations

import numpy as np

from ._common import (
    MAX_COUNT,
    MAX_DEPTH,
    MAX_WIDTH,
    _add_network,
    _json,
    _range,
    add_simulation_options,
    device,
    finite,
    int_in,
    output_path,
    positive,
)


def _simulation_config(args, **fields):
    """The SimulationConfig of a command's network options (activation, variances, width, depth,
    samples, q_input, seed) and the command's own `fields`."""
    from ..montecarlo import SimulationConfig

    common = dict(width=args.width, depth=args.depth, n_networks=args.samples, q_input=args.q_input, seed=args.seed)
    return SimulationConfig(args.activation, args.sigma_w2, args.sigma_b2, **common, **fields)


def cmd_simulate(args) -> int:
    from ..montecarlo import compare, simulate

    cfg = _simulation_config(
        args,
        n_inputs=args.inputs,
        c_input=args.c_input,
        weights=args.weights,
        branch_scale=args.branch_scale,
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
    from ..montecarlo import SimulationResult, compare

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


def cmd_sweep(args) -> int:
    from ..montecarlo import SimulationConfig, compare
    from ..sweep import run_sweep, simulate_job

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
        from .._io import atomic_write_json, provenance

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


def cmd_geometry(args) -> int:
    from ..geometry import circle_geometry

    geo = circle_geometry(args.activation, args.sigma_w2, args.sigma_b2, args.depth, args.q_input)
    out = {
        "layer": list(range(1, args.depth + 1)),
        "q": geo.q.tolist(),
        "length2": geo.length2.tolist(),
        "curvature": geo.curvature.tolist(),
        "metric_factor": [None] + geo.stretch.tolist(),
    }
    if args.simulate:
        from ..montecarlo import compare, simulate

        comparison = compare(simulate(_simulation_config(args), device=args.device))
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
    from ..spectra import jacobian_spectrum

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
        from ..maps import length_fixed_point
        from ..montecarlo import jacobian_singular_values

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


def cmd_domino(args) -> int:
    import math

    from ..domino import domino

    th = domino(args.activation, args.sigma_w2, args.sigma_b2, args.depth, args.width, q_input=args.q_input)
    out = {
        "layer": list(range(1, args.depth + 1)),
        "chi1": th.chi1.tolist(),
        "log_product_chi1": np.log(th.product).tolist(),
        "log_mean": th.log_mean.tolist(),
        "increment_var": th.increment_var.tolist(),
    }
    if args.simulate:
        from ..montecarlo import jacobian_products

        run = jacobian_products(
            args.activation,
            args.sigma_w2,
            args.sigma_b2,
            args.depth,
            args.width,
            n_networks=args.samples,
            q_input=args.q_input,
            seed=args.seed,
            device=args.device,
        )
        x = run.log_ratio[:, 0]  # one probe per network: independent samples
        out["sim_log_mean"] = x.mean(0).tolist()
        out["sim_log_mean_stderr"] = (x.std(0, ddof=1) / math.sqrt(len(x))).tolist()
        out["sim_log_var"] = x.var(0, ddof=1).tolist()
        out["sim_rms_cosine"] = np.sqrt((run.cosine**2).mean(0)).tolist()
    if args.json:
        print(_json(out))
        return 0
    cols = ["layer", "chi1", "log_product_chi1", "log_mean", "increment_var"]
    cols += ["sim_log_mean", "sim_log_mean_stderr", "sim_log_var", "sim_rms_cosine"] if args.simulate else []
    print(" ".join(f"{c:>19}" for c in cols))
    for i in range(args.depth):
        print(" ".join(f"{out[c][i]:>19.6g}" for c in cols))
    print(
        f"log |J v|^2/|v|^2 through B^l...B^1 at width {args.width}: mean log prod chi1 - (1 + 3 kappa/2) L/N, "
        "per-layer variance (2 + 3 kappa)/N (randfield.domino)"
    )
    return 0


def cmd_gradients(args) -> int:
    import math

    from ..backward import gradient_depth_scale, gradient_statistics

    th = gradient_statistics(args.activation, args.sigma_w2, args.sigma_b2, args.depth, q_input=args.q_input)
    try:
        xi = gradient_depth_scale(args.activation, args.sigma_w2, args.sigma_b2)
    except ValueError:  # no finite fixed point (e.g. unbounded lengths): no depth scale
        xi = float("nan")
    out = {
        "layer": list(range(1, args.depth + 1)),
        "chi1": th.chi1.tolist(),
        "delta": th.delta.tolist(),
        "weight_gradient": th.weight_gradient.tolist(),
        "gradient_depth_scale": xi,
    }
    if args.simulate:
        from ..montecarlo import gradient_norms

        run = gradient_norms(
            args.activation,
            args.sigma_w2,
            args.sigma_b2,
            args.depth,
            args.width,
            n_networks=args.samples,
            q_input=args.q_input,
            seed=args.seed,
            device=args.device,
        )
        w = run.weight_gradient
        out["sim_weight_gradient"] = w.mean(0).tolist()
        out["sim_weight_gradient_stderr"] = (w.std(0, ddof=1) / math.sqrt(len(w))).tolist()
    if args.json:
        print(_json(out))
        return 0
    cols = ["layer", "chi1", "delta", "weight_gradient"]
    cols += ["sim_weight_gradient", "sim_weight_gradient_stderr"] if args.simulate else []
    print(" ".join(f"{c:>26}" for c in cols))
    for i in range(args.depth):
        print(" ".join(f"{out[c][i]:>26.6g}" for c in cols))
    print(
        f"gradient depth scale xi = -1/log chi1(q*) = {xi:.6g} (Schoenholz et al. 2017; > 0 vanishing, < 0 exploding); "
        "delta and weight gradients relative to the output layer's"
    )
    return 0


def cmd_finite_width(args) -> int:
    import math

    from ..finite_width import length_fluctuations

    th = length_fluctuations(args.activation, args.sigma_w2, args.sigma_b2, args.depth, q_input=args.q_input)
    out = {"layer": list(range(1, args.depth + 1)), "q": th.q.tolist(), "n_var": th.n_var.tolist()}
    out["mean_shift"] = th.mean_shift.tolist()
    if args.simulate:
        from ..montecarlo import SimulationConfig, simulate

        for width in args.widths:
            cfg = SimulationConfig(
                args.activation, args.sigma_w2, args.sigma_b2, width=width, depth=args.depth,
                n_networks=args.samples, q_input=args.q_input, seed=args.seed,
            )  # fmt: skip
            q = simulate(cfg, device=args.device).q[:, :, 0]
            out[f"sim_n_var_{width}"] = (width * q.var(0, ddof=1)).tolist()
            out[f"sim_mean_shift_{width}"] = (width * (q.mean(0) - th.q)).tolist()
            out[f"sim_mean_shift_{width}_stderr"] = (width * q.std(0, ddof=1) / math.sqrt(len(q))).tolist()
    if args.json:
        print(_json(out))
        return 0
    cols = [c for c in out if c != "layer"]
    print(" ".join(f"{c:>24}" for c in ["layer", *cols]))
    for i in range(args.depth):
        print(f"{i + 1:>24}" + "".join(f" {out[c][i]:>24.6g}" for c in cols))
    print("n Var[qhat] = 2 q^2 + V (four-point vertex), E[qhat] = q + mean_shift / n, to leading order in 1/n")
    return 0


def cmd_fisher(args) -> int:
    from ..fisher import fisher_statistics

    th = fisher_statistics(
        args.activation, args.sigma_w2, args.sigma_b2, args.depth, args.width,
        n_outputs=args.outputs, n_inputs=args.train_inputs, alpha_input=args.alpha_input, q_input=args.q_input,
    )  # fmt: skip
    names = ("mean", "second_moment", "max", "ntk_max", "ntk_bulk")
    out = {"kappa1": th.kappa1, "kappa2": th.kappa2, "alpha": th.alpha, "learning_rate_bound": th.learning_rate_bound}
    out |= {name: getattr(th, name) for name in names}
    if args.simulate:
        from ..montecarlo.fisher import fisher_spectra

        mc = fisher_spectra(
            args.activation, args.sigma_w2, args.sigma_b2, args.depth, args.width, n_outputs=args.outputs,
            n_inputs=args.train_inputs, n_networks=args.samples, alpha_input=args.alpha_input,
            q_input=args.q_input, seed=args.seed, device=args.device,
        )  # fmt: skip
        for name in (*names, "top_mean"):
            out[f"sim_{name}"], out[f"sim_{name}_stderr"] = mc.estimate(name)
    if args.descent:
        from ..montecarlo.fisher import teacher_descent

        run = teacher_descent(
            args.activation, args.sigma_w2, args.sigma_b2, args.depth, args.width,
            [r * th.learning_rate_bound for r in args.descent], n_outputs=args.outputs,
            n_inputs=args.train_inputs, steps=args.steps, seed=args.seed, device=args.device,
        )  # fmt: skip
        out["descent"] = [
            {"ratio": r, "learning_rate": float(e), "peak_loss": float(loss.max() / loss[0]),
             "final_loss": float(loss[-1] / loss[0])}
            for r, e, loss in zip(args.descent, run.learning_rates, run.losses)
        ]  # fmt: skip
        out["student_lambda_max"] = run.lambda_max
    if args.json:
        print(_json(out))
        return 0
    print(f"kappa_1 = {th.kappa1:.6g}, kappa_2 = {th.kappa2:.6g}, alpha = {th.alpha:g} (P ~ alpha M^2)")
    for name in names:
        line = f"{name:>14} {out[name]:>14.6g}"
        if args.simulate:
            line += f"   simulated {out['sim_' + name]:.6g} +- {out['sim_' + name + '_stderr']:.2g}"
        print(line)
    if args.simulate:
        print(f"{'top_mean':>14} {'':>14}   simulated {out['sim_top_mean']:.6g} +- {out['sim_top_mean_stderr']:.2g}")
    print(f"learning-rate bound 2/lambda_max = {th.learning_rate_bound:.6g} (Karakida, Akaho & Amari 2019, Theorem 1)")
    if args.descent:
        print(f"student's own lambda_max = {run.lambda_max:.6g}; gradient descent from it towards a random teacher:")
        for row in out["descent"]:
            print(
                f"  eta = {row['ratio']:g} x bound: peak loss / start {row['peak_loss']:.3g}, "
                f"final / start {row['final_loss']:.3g}"
            )
    return 0


def cmd_ntk_fluctuations(args) -> int:
    from ..finite_width import ntk_fluctuations

    rows = []
    for width in args.widths:
        th = ntk_fluctuations(args.activation, args.sigma_w2, args.depth, width, sigma_b2=args.sigma_b2)
        row = {"width": width, "depth": args.depth, "leading": th.leading, "resummed": th.resummed}
        if args.simulate:
            import numpy as np

            from ..montecarlo.ntk_fluctuations import ntk_diagonal

            mc = ntk_diagonal(
                args.activation, args.sigma_w2, args.depth, width, n_networks=args.samples, seed=args.seed,
                device=args.device,
            )  # fmt: skip
            row["sim"], row["sim_stderr"] = mc.relative_variance()
            row["sim_q10"], row["sim_q90"] = (float(v) for v in np.quantile(mc.theta, [0.1, 0.9]))
        rows.append(row)
    if args.json:
        print(_json(rows))
        return 0
    cols = list(rows[0])
    print(" ".join(f"{c:>12}" for c in cols))
    for row in rows:
        print(" ".join(f"{row[c]:>12.6g}" for c in cols))
    print(
        "Var[Theta(x,x)] / E[Theta]^2: leading = the 1/n theory, resummed = product of layer factors "
        "(~ exp(c L/n), Hanin & Nica 2020); sim_q10/q90: quantiles of Theta / Theta_inf"
    )
    return 0


def register(sub) -> None:
    p = sub.add_parser("simulate", help="simulate wide random networks; per-layer q, c, chi1 with error bars")
    _add_network(p, depth=True)
    p.add_argument("--width", type=int_in(1, MAX_WIDTH), default=1000)
    p.add_argument("--samples", type=int_in(1, MAX_COUNT), default=16, help="independent networks")
    p.add_argument("--inputs", type=int_in(2, 4096), default=2, help="points on a great circle (>= 2)")
    p.add_argument("--q-input", type=finite, default=1.0)
    p.add_argument("--c-input", type=finite, default=0.5)
    p.add_argument("--weights", choices=["gaussian", "orthogonal"], default="gaussian")
    p.add_argument(
        "--branch-scale", type=finite, default=None, help="residual branch scale alpha (plain net if absent)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--device", type=device, default=None, help="cuda, cpu, ... (default: cuda when available)")
    p.add_argument("--checkpoint", type=output_path, help="checkpoint file: progress is saved there and resumed from")
    p.add_argument("--out", type=output_path, required=True, help="result file (.npz)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("compare", help="theory vs simulation per layer, with z-scores")
    p.add_argument("run", help="a result file written by `randfield simulate`")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("sweep", help="simulate over a sigma_w^2 grid in parallel (process pool or Dask)")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--sigma-w2", type=_range, required=True, help="grid LO:HI:N")
    p.add_argument("--sigma-b2", type=finite, default=0.0)
    p.add_argument("--width", type=int_in(1, MAX_WIDTH), default=1000)
    p.add_argument("--depth", type=int_in(1, MAX_DEPTH), default=20)
    p.add_argument("--samples", type=int_in(1, MAX_COUNT), default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--workers", type=int_in(1, 1024), default=None, help="local processes (default: CPU count)")
    p.add_argument("--scheduler", help="Dask distributed scheduler address (needs dask[distributed])")
    p.add_argument("--out", type=output_path, help="JSON file for the rows (written atomically with the configs)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("geometry", help="per-layer length, curvature and metric factor of a great circle's image")
    _add_network(p, depth=True)
    p.add_argument("--q-input", type=finite, default=1.0, help="|x|^2 / d of the circle")
    p.add_argument("--simulate", action="store_true", help="also simulate finite networks")
    p.add_argument("--width", type=int_in(1, MAX_WIDTH), default=1000)
    p.add_argument("--samples", type=int_in(1, MAX_COUNT), default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", type=device, default=None)
    p.set_defaults(func=cmd_geometry)

    p = sub.add_parser("spectrum", help="Jacobian singular-value law by free probability (Gaussian/orthogonal weights)")
    _add_network(p, depth=True)
    p.add_argument("--weights", choices=["gaussian", "orthogonal"], default="gaussian")
    p.add_argument("--simulate", action="store_true", help="also simulate square networks and report the KS distance")
    p.add_argument("--width", type=int_in(1, MAX_WIDTH), default=400)
    p.add_argument("--samples", type=int_in(1, MAX_COUNT), default=8, help="independent networks")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", type=device, default=None)
    p.set_defaults(func=cmd_spectrum)

    p = sub.add_parser(
        "domino", help="domino theorem: Jacobian products J^T J ~ prod chi_1 I, with finite-width spread"
    )
    _add_network(p, depth=True)
    p.add_argument("--width", type=int_in(1, MAX_WIDTH), default=512, help="network width N")
    p.add_argument("--q-input", type=finite, default=1.0, help="|x|^2 / d of the input")
    add_simulation_options(p, "simulate Jacobian products of random nets", samples=256)
    p.set_defaults(func=cmd_domino)

    p = sub.add_parser("gradients", help="backward mean field: gradient second moments per layer, gradient depth scale")
    _add_network(p, depth=True)
    p.add_argument("--q-input", type=finite, default=1.0, help="|x|^2 / d of the input")
    add_simulation_options(p, "back-propagate through random nets", width=256, samples=32)
    p.set_defaults(func=cmd_gradients)

    p = sub.add_parser("finite-width", help="1/n corrections: fluctuations of the empirical length across networks")
    _add_network(p, depth=True)
    p.add_argument("--q-input", type=finite, default=1.0, help="|x|^2 / d of the input")
    add_simulation_options(p, "simulate networks of the given widths", widths=[32, 128, 512], samples=2000)
    p.set_defaults(func=cmd_finite_width)

    p = sub.add_parser("fisher", help="Fisher information of random nets: m_lambda, s_lambda, lambda_max, 2/lambda_max")
    _add_network(p, depth=True)
    p.add_argument("--width", type=int_in(1, MAX_WIDTH), default=512, help="hidden width M")
    p.add_argument("--outputs", type=int_in(1, 4096), default=1, help="number C of linear outputs")
    p.add_argument("--train-inputs", type=int_in(1, 4096), default=8, help="number T of i.i.d. Gaussian inputs")
    p.add_argument("--alpha-input", type=positive, default=1.0, help="input width / M")
    p.add_argument("--q-input", type=positive, default=1.0, help="variance of an input coordinate")
    p.add_argument(
        "--descent", type=positive, nargs="+", metavar="RATIO",
        help="also run gradient descent towards a random teacher at these multiples of 2/lambda_max",
    )  # fmt: skip
    p.add_argument("--steps", type=int_in(1, 100000), default=200, help="gradient-descent steps")
    add_simulation_options(p, "measure the spectra of random nets", samples=16)
    p.set_defaults(func=cmd_fisher, depth=3)

    p = sub.add_parser("ntk-fluctuations", help="finite-width NTK: Var[Theta(x,x)] / E[Theta]^2 against L/n (ReLU)")
    _add_network(p, depth=True)
    add_simulation_options(p, "measure Theta(x,x) of random nets", widths=[32, 64, 128], samples=2000)
    p.set_defaults(func=cmd_ntk_fluctuations, activation="relu", depth=8)

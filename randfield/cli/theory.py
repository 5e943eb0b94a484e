"""Mean-field theory commands: maps, phase-diagram, critical, init, activations."""

from __future__ import annotations

import numpy as np

from ._common import (
    MAX_DEPTH,
    MAX_GRID,
    _add_network,
    _json,
    _range,
    add_simulation_options,
    finite,
    int_in,
    output_path,
)


def _summary(activation, sw, sb) -> dict:
    from .. import maps

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
    from .. import maps

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
    from .. import maps
    from .._io import atomic_write_json, provenance
    from ..phase import phase_diagram

    points = len(args.sigma_w2) * len(args.sigma_b2)
    if points > MAX_GRID:
        raise ValueError(f"the grid has {points} points; at most {MAX_GRID} (e.g. 2000 x 2000)")
    pd = phase_diagram(args.activation, args.sigma_w2, args.sigma_b2)
    counts = dict(zip(("ordered", "chaotic", "unbounded"), np.bincount(pd.phase.ravel(), minlength=3).tolist()))
    if args.out:
        from ..plotting import plot_phase_diagram, save_figure

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
    from .. import maps

    sw = maps.critical_sigma_w2(args.activation, args.sigma_b2)
    out = {"activation": args.activation, "sigma_b2": args.sigma_b2, "critical_sigma_w2": float(sw)}
    print(_json(out) if args.json else f"critical sigma_w2 = {float(sw):.12f}")
    return 0


def cmd_init(args) -> int:
    from ..init import alternatives, select

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


def cmd_activations(args) -> int:
    from ..activations import available_activations

    print(_json(available_activations()) if args.json else "\n".join(available_activations()))
    return 0


def cmd_dropout(args) -> int:
    import math

    from ..dropout import dropout_fixed_point, dropout_propagate

    fp = dropout_fixed_point(args.activation, args.sigma_w2, args.sigma_b2, args.keep)
    out = {"q_star": fp.q, "c_star": fp.c, "chi_c": fp.chi_c, "xi_c": fp.xi_c, "trainable_depth": 6 * fp.xi_c}
    _, c = dropout_propagate(args.activation, args.sigma_w2, args.sigma_b2, args.keep, args.depth, c_input=args.c_input)
    out["c_at_depth"] = float(c[-1])
    if args.simulate:
        from ..montecarlo.dropout import dropout_correlations

        _, c_sim = dropout_correlations(
            args.activation,
            args.sigma_w2,
            args.sigma_b2,
            args.keep,
            args.depth,
            args.width,
            n_networks=args.samples,
            c_input=args.c_input,
            seed=args.seed,
            device=args.device,
        )
        out["c_at_depth_sim"] = float(c_sim[:, -1].mean())
        out["c_at_depth_stderr"] = float(c_sim[:, -1].std(ddof=1) / math.sqrt(len(c_sim)))
    if args.json:
        print(_json(out))
        return 0
    for key, value in out.items():
        print(f"{key:>18}: {value:.8g}")
    print(f"dropout keep probability {args.keep:g}: c* < 1 and xi_c finite (Schoenholz et al. 2017, §4)")
    return 0


def register(sub) -> None:
    p = sub.add_parser("maps", help="iterate the length/correlation maps; fixed points, chi_1, depth scales")
    _add_network(p, depth=True)
    p.add_argument("--q-input", type=finite, default=1.0, help="|x|^2 / d of both inputs (default 1)")
    p.add_argument("--c-input", type=finite, default=0.5, help="cosine similarity of the two inputs (default 0.5)")
    p.set_defaults(func=cmd_maps)

    p = sub.add_parser("phase-diagram", help="order/chaos phase diagram over a (sigma_w^2, sigma_b^2) grid")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--sigma-w2", type=_range, default=_range("0.5:4:100"), help="grid LO:HI:N (default 0.5:4:100)")
    p.add_argument("--sigma-b2", type=_range, default=_range("0:1:100"), help="grid LO:HI:N (default 0:1:100)")
    p.add_argument("--out", type=output_path, help="figure path (PNG and PDF written, plus a JSON with the data)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_phase_diagram)

    p = sub.add_parser("critical", help="sigma_w^2 on the chi_1 = 1 line for a given sigma_b^2")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--sigma-b2", type=finite, default=0.0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_critical)

    p = sub.add_parser("init", help="recommend an initialisation (edge of chaos, depth scale, dynamical isometry)")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--depth", type=int_in(1, MAX_DEPTH), required=True)
    p.add_argument("--sigma-b2", type=finite, default=None, help="bias variance (default: 0 for ReLU-type, else 0.05)")
    p.add_argument(
        "--criterion", default="edge_of_chaos", choices=["edge_of_chaos", "depth_scale", "dynamical_isometry"]
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("activations", help="list the registered activations")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_activations)

    p = sub.add_parser("dropout", help="dropout mean field: q*, c* < 1, chi_c and the finite depth scale xi_c")
    _add_network(p, depth=True)
    p.add_argument("--keep", type=finite, required=True, help="keep probability rho in (0, 1)")
    p.add_argument("--c-input", type=finite, default=0.5, help="correlation of the two inputs")
    add_simulation_options(p, "simulate dropped-out networks", width=512, samples=16)
    p.set_defaults(func=cmd_dropout)

"""Infinite-width kernels: kernel."""

from __future__ import annotations

import numpy as np

from ._common import MAX_DEPTH, _json, finite, int_in, output_path


def cmd_kernel(args) -> int:
    from .._io import read_npy
    from .._validation import check_memory
    from ..blocks import dense_network, kernels, parse_architecture

    x = read_npy(args.inputs, "--inputs")
    x2 = read_npy(args.inputs2, "--inputs2") if args.inputs2 else None
    for name, arr in (("--inputs", x), ("--inputs2", x2)):
        if arr is not None and (arr.ndim != 2 or arr.size == 0):
            raise ValueError(f"{name}: expected a non-empty array of shape (n, d), got shape {arr.shape}")
    n2 = len(x) if x2 is None else len(x2)
    check_memory(4 * 8 * len(x) * n2, f"kernels of {len(x)} x {n2} inputs")  # input, output and 2 working matrices
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

        from .._io import atomic_write_bytes

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


def register(sub) -> None:
    p = sub.add_parser("kernel", help="infinite-width NNGP or NTK of a dense net or a composed architecture")
    p.add_argument("--inputs", required=True, help=".npy file of inputs, shape (n, d)")
    p.add_argument("--inputs2", help=".npy file of second inputs (default: --inputs)")
    p.add_argument("--activation", default="relu")
    p.add_argument("--depth", type=int_in(1, MAX_DEPTH), default=1, help="hidden nonlinear layers (>= 1)")
    p.add_argument("--sigma-w2", type=finite)
    p.add_argument("--sigma-b2", type=finite, default=0.0)
    p.add_argument(
        "--arch", help="architecture expression, e.g. 'serial(Dense(2, 0), Elementwise(\"relu\"), Dense(2, 0))'"
    )
    p.add_argument("--ntk", action="store_true", help="output the NTK instead of the NNGP")
    p.add_argument("--out", type=output_path, help="write the kernel to this .npy file (atomically)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_kernel)

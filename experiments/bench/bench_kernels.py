"""Benchmark: NNGP + NTK of depth-10 tanh and relu dense nets on 512 x 512 input pairs (d = 64).

Prints seconds, kernel entries per second and peak Python-heap memory (tracemalloc) against
the O(n1 n2) size of one kernel matrix. If jax and neural-tangents are importable, times
neural-tangents' kernel_fn on the same inputs in the same run (ElementwiseNumerical for
tanh, analytic Relu) and prints the ratio and the max abs difference.

Run: python experiments/bench/bench_kernels.py [--n 512] [--d 64] [--depth 10]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

import randfield as rf


def neural_tangents_kernels(x, name, depth, sw, sb):
    try:
        from neural_tangents import stax
    except ImportError:
        return None
    act = stax.Relu() if name == "relu" else stax.ElementwiseNumerical(np.tanh, deg=25)
    layers = [stax.Dense(1, W_std=np.sqrt(sw), b_std=np.sqrt(sb))]
    for _ in range(depth):
        layers += [act, stax.Dense(1, W_std=np.sqrt(sw), b_std=np.sqrt(sb))]
    _, _, kernel_fn = stax.serial(*layers)
    t0 = time.perf_counter()
    k = kernel_fn(x, x, ("nngp", "ntk"))
    nngp, ntk = (np.asarray(a) for a in k)
    return time.perf_counter() - t0, nngp, ntk


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--depth", type=int, default=10)
    args = ap.parse_args()
    x = np.random.default_rng(0).normal(size=(args.n, args.d))
    sw, sb = 1.5, 0.05
    for name in ("tanh", "relu"):
        rf.kernels(x[:8], None, rf.blocks.dense_network(name, 1, sw, sb))  # warm-up
        tracemalloc.start()
        t0 = time.perf_counter()
        nngp, ntk = rf.kernels(x, None, rf.blocks.dense_network(name, args.depth, sw, sb))
        sec = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        entries = 2 * args.n**2
        print(
            f"{name}: depth {args.depth}, {args.n}x{args.n} NNGP+NTK in {sec:.3f} s = {entries / sec:,.0f} entries/s; "
            f"peak heap {peak / 2**20:.0f} MiB = {peak / (8 * args.n**2):.0f} x one {args.n}x{args.n} float64 matrix"
        )
        nt = neural_tangents_kernels(x, name, args.depth, sw, sb)
        if nt is None:
            print("  neural-tangents not installed: no comparison (pip install '.[compare]' where jax runs)")
        else:
            t_nt, k_nt, t_nt_ntk = nt
            print(
                f"  neural-tangents: {t_nt:.3f} s; speed-up {t_nt / sec:.1f}x; "
                f"max |dNNGP| {np.abs(k_nt - nngp).max():.1e}, max |dNTK| {np.abs(t_nt_ntk - ntk).max():.1e}"
            )


if __name__ == "__main__":
    main()

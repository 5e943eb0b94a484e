"""Benchmark: NNGP + NTK of depth-10 dense nets (ReLU, erf, tanh) on n x n input pairs, against
neural-tangents in the same run.

For each activation and size it prints randfield's time (best of --repeat), the kernel entries per
second and peak Python-heap memory (tracemalloc) in units of one n x n float64 matrix; then, if jax and
neural-tangents are importable (pip install '.[compare]'), the jitted neural-tangents `kernel_fn` in
float64 on the same inputs (compiled first, then best of --repeat): its time, the ratio
t(neural-tangents) / t(randfield) and the largest relative difference of the kernels. neural-tangents
has closed forms for ReLU and erf; tanh goes through its `ElementwiseNumerical` Gauss–Hermite rule
(deg 25), which is ~1e-3 off (randfield's tanh is checked to 1e-11 in tests/test_kernels.py).

Inputs are Gaussian rows scaled to one norm, |x|^2 / d = 1 (--any-norm keeps their own norms): then
every layer's kernel entries are functions of their correlation alone and tanh takes randfield's
correlation-table path (randfield.mehler.CorrelationTable); with --any-norm it takes Mehler's series
per entry (32 s at 2048^2 on 2 cores).

Run: python experiments/bench/bench_kernels.py [--n 512 2048] [--d 100] [--depth 10] [--activations relu erf tanh]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

import randfield as rf
from randfield._malloc import retain_freed_memory

SIGMA_W2, SIGMA_B2 = 1.5, 0.05


def neural_tangents_kernel_fn(name: str, depth: int):
    """The jitted kernel_fn of the same network in neural-tangents, or None if it is not installed."""
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from neural_tangents import stax
    except ImportError:
        return None
    act = {"relu": stax.Relu, "erf": stax.Erf}.get(name)
    act = act() if act else stax.ElementwiseNumerical(jnp.tanh, deg=25)
    dense = stax.Dense(1, W_std=np.sqrt(SIGMA_W2), b_std=np.sqrt(SIGMA_B2))
    _, _, kernel_fn = stax.serial(dense, *[layer for _ in range(depth) for layer in (act, dense)])
    fn = jax.jit(kernel_fn, static_argnames="get")
    return lambda x: [np.asarray(k) for k in fn(x, None, get=("nngp", "ntk"))]


def best_time(fn, repeat: int):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[512, 2048])
    ap.add_argument("--d", type=int, default=100)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--activations", nargs="+", default=["relu", "erf", "tanh"])
    ap.add_argument("--any-norm", action="store_true", help="keep the Gaussian rows' own norms")
    args = ap.parse_args()
    retain_freed_memory()  # as the CLI does: large temporaries are reused instead of re-faulted every layer
    for n in args.n:
        x = np.random.default_rng(0).normal(size=(n, args.d))
        if not args.any_norm:
            x *= np.sqrt(args.d) / np.linalg.norm(x, axis=1, keepdims=True)
        for name in args.activations:
            arch = rf.blocks.dense_network(name, args.depth, SIGMA_W2, SIGMA_B2)
            rf.kernels(x[:8], None, arch)  # warm-up
            tracemalloc.start()
            rf.kernels(x, None, arch)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            sec, (nngp, ntk) = best_time(lambda: rf.kernels(x, None, arch), args.repeat)
            print(
                f"{name:>5} {n}x{n}: randfield {sec:.3f} s ({2 * n * n / sec:,.0f} entries/s, "
                f"peak heap {peak / (8 * n * n):.0f} x one {n}x{n} matrix)",
                flush=True,
            )
            nt = neural_tangents_kernel_fn(name, args.depth)
            if nt is None:
                print("       neural-tangents not installed: no comparison (pip install '.[compare]')")
                continue
            try:
                nt(x)  # compile
            except Exception as err:  # e.g. ElementwiseNumerical's 2-D rule running out of memory
                print(f"       neural-tangents failed: {str(err).splitlines()[0][:120]}")
                continue
            t_nt, (k_nt, t_nt_ntk) = best_time(lambda: nt(x), args.repeat)
            rel_nngp = np.abs(k_nt - nngp).max() / np.abs(nngp).max()
            rel = max(rel_nngp, np.abs(t_nt_ntk - ntk).max() / np.abs(ntk).max())
            print(f"       neural-tangents {t_nt:.3f} s: randfield {t_nt / sec:.2f}x faster; max rel. diff. {rel:.1e}")


if __name__ == "__main__":
    main()

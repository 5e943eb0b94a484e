"""Benchmark: 200x200 (sigma_w^2, sigma_b^2) phase diagrams, against a per-point scipy.quad loop.

The baseline is the straightforward approach of public mean-field code (e.g.
ghliu/mean-field-fcdnn): for each grid point, q* by brentq on scipy.integrate.quad, chi_1
by quad, and c* by brentq on scipy.integrate.dblquad. It runs on a subgrid in the same
process; per-point times are compared, and the two results are compared for accuracy.

Run: python experiments/bench/bench_phase_diagram.py [--n 200] [--sub 20] [--sub-c 4]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import integrate, optimize

import randfield as rf

PHI = {
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0) * 1.0),
}


def gauss(f, q):
    s = np.sqrt(q)
    val, _ = integrate.quad(
        lambda z: f(s * z) * np.exp(-z * z / 2), -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12, limit=200
    )
    return val / np.sqrt(2 * np.pi)


def baseline_q_chi(name, sw, sb):
    phi, dphi = PHI[name]
    F = lambda q: sw * gauss(lambda x: phi(x) ** 2, q) + sb - q  # noqa: E731
    hi = 1.0
    while F(hi) > 0:
        hi *= 2
        if hi > 1e8:
            return np.inf, np.nan
    lo = 1e-12  # q = 0 may be an unstable root (sigma_b^2 = 0); look for the positive one
    q = optimize.brentq(F, lo, hi, xtol=1e-15, rtol=1e-13) if F(lo) > 0 else 0.0
    return q, sw * gauss(lambda x: dphi(x) ** 2, q)


def baseline_c(name, sw, sb, q):
    phi, _ = PHI[name]
    s = np.sqrt(q)

    def cmap(c):
        sc = np.sqrt(1 - c * c)
        val, _ = integrate.dblquad(
            lambda z2, z1: phi(s * z1) * phi(s * (c * z1 + sc * z2)) * np.exp(-(z1 * z1 + z2 * z2) / 2) / (2 * np.pi),
            -9,
            9,
            -9,
            9,
            epsabs=1e-11,
            epsrel=1e-10,
        )
        return (sw * val + sb) / q - c

    return optimize.brentq(cmap, 0.0, 1 - 1e-6, xtol=1e-10) if cmap(1 - 1e-6) < 0 else 1.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--sub", type=int, default=20)
    ap.add_argument("--sub-c", type=int, default=4)
    args = ap.parse_args()
    sw_grid, sb_grid = np.linspace(0.5, 4.0, args.n), np.linspace(0.0, 1.0, args.n)
    for name in ("tanh", "relu"):
        rf.phase_diagram(name, sw_grid[:30], sb_grid[:30])  # warm-up (imports, caches)
        t0 = time.perf_counter()
        pd = rf.phase_diagram(name, sw_grid, sb_grid)
        ours = time.perf_counter() - t0
        npts = args.n**2
        print(
            f"{name}: {args.n}x{args.n} phase diagram (q*, c*, chi1, xi_q, xi_c) in {ours:.3f} s "
            f"= {npts / ours:,.0f} grid points/s; phases {np.bincount(pd.phase.ravel(), minlength=3).tolist()}"
        )

        idx = np.linspace(0, args.n - 1, args.sub).astype(int)
        t0 = time.perf_counter()
        base = [[baseline_q_chi(name, sw_grid[i], sb_grid[j]) for j in idx] for i in idx]
        t_base = (time.perf_counter() - t0) / args.sub**2
        q_base = np.array([[b[0] for b in row] for row in base])
        chi_base = np.array([[b[1] for b in row] for row in base])
        ours_q = pd.q_star[np.ix_(idx, idx)]
        fin = np.isfinite(q_base) & np.isfinite(ours_q) & (q_base > 1e-9)  # q* = 0: chi1 of a kink is a limit
        dq = np.max(np.abs(q_base[fin] - ours_q[fin]) / q_base[fin])
        dchi = np.max(np.abs(chi_base[fin] - pd.chi1[np.ix_(idx, idx)][fin]))
        print(
            f"  scipy quad loop, q* and chi1 only, {args.sub}x{args.sub} subgrid: {t_base * 1e3:.1f} ms/point "
            f"-> {t_base * npts:.0f} s for {args.n}x{args.n}; ratio {t_base * npts / ours:,.0f}x; "
            f"max rel |dq*| {dq:.1e}, max |dchi1| {dchi:.1e} (points with q* > 0)"
        )

        chaotic = [(i, j) for i in idx for j in idx if pd.phase[i, j] == 1 and pd.chi1[i, j] > 1.05 and sb_grid[j] > 0]
        chaotic = chaotic[:: max(1, len(chaotic) // args.sub_c)][: args.sub_c]
        if chaotic:
            t0 = time.perf_counter()
            cs = [baseline_c(name, sw_grid[i], sb_grid[j], pd.q_star[i, j]) for i, j in chaotic]
            t_c = (time.perf_counter() - t0) / len(chaotic)
            dc = max(abs(c - pd.c_star[i, j]) for c, (i, j) in zip(cs, chaotic))
            print(f"  scipy dblquad c* at {len(chaotic)} chaotic points: {t_c:.2f} s/point; max |dc*| {dc:.1e}")


if __name__ == "__main__":
    main()

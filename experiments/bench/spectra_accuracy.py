"""Accuracy of the free-probability Jacobian spectra (randfield.spectra), measured two ways:

1. against the exact free cumulants: the density's mass, mean and variance (trapezoid in log lambda
   over the default grid) against chi_1^L and mean^2 L (s_W + s_D);
2. against simulation: the KS distance between the predicted law and the squared singular values of
   `--networks` square networks of width `--width` (randfield.montecarlo.jacobian_singular_values),
   next to the i.i.d. KS critical value at 0.1% for that many values.

Run: python experiments/bench/spectra_accuracy.py [--width 400] [--networks 8] [--no-simulation]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.integrate import trapezoid

from randfield.maps import length_fixed_point
from randfield.montecarlo import jacobian_singular_values
from randfield.spectra import jacobian_spectrum

CASES = [  # (activation, sigma_w2, sigma_b2, depth)
    ("tanh", 1.0492, 1e-4, 16),  # critical, q* = 0.027: dynamical isometry with orthogonal weights
    ("tanh", 1.0492, 1e-4, 128),
    ("tanh", 4.0, 0.3, 8),  # chaotic, saturated units
    ("erf", 1.5, 0.1, 32),
    ("relu", 2.0, 0.0, 16),  # atom 1/2 at 0
    ("linear", 1.0, 0.0, 8),
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=400)
    ap.add_argument("--networks", type=int, default=8)
    ap.add_argument("--no-simulation", action="store_true")
    args = ap.parse_args(argv)
    print(f"{'case':34s} {'weights':>10s} {'mass':>9s} {'mean err':>9s} {'var err':>9s} {'theory s':>9s} {'KS':>7s}")
    for act, sw, sb, depth in CASES:
        q = float(length_fixed_point(act, sw, sb)) if act != "linear" else 1.0
        for weights in ("gaussian", "orthogonal"):
            tic = time.perf_counter()
            spec = jacobian_spectrum(act, sw, sb, depth, weights=weights, q=q)
            seconds = time.perf_counter() - tic
            order = np.argsort(spec.lam)
            lam, rho = spec.lam[order], spec.density[order]
            m = [trapezoid(rho * lam ** (k + 1), np.log(lam)) for k in range(3)]
            atoms = spec.point_masses
            mass = m[0] + sum(w for _, w in atoms)
            mean = m[1] + sum(x * w for x, w in atoms)
            var = m[2] + sum(x * x * w for x, w in atoms) - mean**2
            mean_err = mean / spec.mean - 1
            var_err = var / spec.variance - 1 if spec.variance > 0 else var
            ks = ""
            if not args.no_simulation:
                sv = jacobian_singular_values(
                    act, sw, sb, width=args.width, depth=depth, n_networks=args.networks, weights=weights,
                    q_input=q, device="cpu",
                )  # fmt: skip
                ks = f"{spec.ks_distance(sv**2):.4f}"
            label = f"{act} sw2={sw:g} sb2={sb:g} L={depth}"
            print(f"{label:34s} {weights:>10s} {mass:9.6f} {mean_err:+9.1e} {var_err:+9.1e} {seconds:9.2f} {ks:>7s}")
    if not args.no_simulation:
        n = args.width * args.networks
        print(f"KS over {n} values per law; i.i.d. critical value at 0.1%: {1.95 / np.sqrt(n):.4f}")
    print("mass < 1: continuous mass below the grid's smallest point (1e-14 x the upper edge), where the")
    print("density diverges (Gaussian weights, saturated units); SpectralDensity.cdf assigns it there.")


if __name__ == "__main__":
    main()

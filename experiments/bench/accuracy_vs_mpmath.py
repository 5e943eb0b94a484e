"""Accuracy of the Gaussian moments against 30-digit mpmath, for every built-in activation.

Run: python experiments/bench/accuracy_vs_mpmath.py
Prints the largest relative error of E[phi(sqrt(q) z)^2] and E[phi'(sqrt(q) z)^2] over
q in {1e-4, 1e-3, ..., 100} at the default quadrature order (closed forms where they exist).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the independent references live in tests/
from randfield import expectations as ex  # noqa: E402
from tests.references import KINKS, MP_DERIVS, MP_FUNCS, mp_gauss_1d  # noqa: E402

Q = [1e-4, 1e-3, 1e-2, 0.1, 0.5, 1.0, 3.0, 10.0, 30.0, 100.0]


def main() -> None:
    for name, f in sorted(MP_FUNCS.items()):
        want = np.array([float(mp_gauss_1d(lambda x: f(x) ** 2, q, KINKS.get(name, ()))) for q in Q])
        err = np.max(np.abs(ex.second_moment(name, Q) - want) / want)
        line = f"{name:>10}: E[phi^2] max rel err {err:.1e}"
        if name in MP_DERIVS:
            g = MP_DERIVS[name]
            want_d = np.array([float(mp_gauss_1d(lambda x: g(x) ** 2, q, KINKS.get(name, ()))) for q in Q])
            line += f"   E[phi'^2] {np.max(np.abs(ex.derivative_second_moment(name, Q) - want_d) / want_d):.1e}"
        print(line)


if __name__ == "__main__":
    main()

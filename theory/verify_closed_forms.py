"""Symbolic checks of the closed forms randfield uses. Exits non-zero if any derivation disagrees.

Run: python theory/verify_closed_forms.py   (tests/test_theory.py runs it too)

1. (The hand-written derivatives of every built-in activation are checked against sympy's
   in tests/test_activations.py.)
2. Linear network: q* = sigma_b^2 / (1 - sigma_w^2), solved symbolically.
3. ReLU/leaky ReLU second moment E[phi(sqrt(q) z)^2] = (1 + alpha^2) q / 2 and
   E[phi'^2] = (1 + alpha^2)/2, by symbolic integration against the Gaussian density;
   hence chi_1 = sigma_w^2 (1 + alpha^2)/2 and the critical sigma_w^2 = 2/(1 + alpha^2).
4. erf: E[phi'(sqrt(q) z)^2] = (4/pi)/sqrt(1 + 4q) by symbolic integration, so
   chi_1 = (4/pi) sigma_w^2 / sqrt(1 + 4 q*) and, at sigma_b^2 = 0 (q* = 0), sigma_w^2 = pi/4;
   E[phi''^2] = (16/pi) q / (1 + 4q)^{3/2} (chi_2), and the metric of a layer is conformal:
   E[J^T J] = sigma_w^2 diag(phi'^2), whose unit average is chi_1 I.
5. sin: E[sin(u1) sin(u2)] = exp(-(q1 + q2)/2) sinh(q12) from the Gaussian characteristic function.
6. Arc-cosine kernel consistency: d/dq12 of the ReLU covariance equals the derivative kernel
   (Price's theorem), and the kernel at rho = 1 reduces to q/2.
7. Small-c expansion of the tanh correlation map at sigma_b^2 = 0:
   c' = sigma_w^2 E[phi'(sqrt(q*) z)]^2 c + O(c^3) (Mehler's series of an odd phi has only odd powers).
8. Stein's lemma used for the length-map slope: d/dq E[f(sqrt(q) z)] = E[f''(sqrt(q) z)]/2,
   checked symbolically for f = x^4 and f = exp(a x).
9. Free probability (randfield.spectra): the S-transform of W^T W is 1/(sigma_w^2 (1 + z)) for
   Gaussian W (Marchenko-Pastur moments sigma_w^{2k} Catalan_k, inverted as a series) and 1/sigma_w^2
   for orthogonal W; the spectral equation x(u) the library solves follows from
   S_J = (S_W S_D)^L; and for one linear Gaussian layer it gives the Marchenko-Pastur density.
10. Curvature of a great circle's image (randfield.geometry, theory/geometry_derivation.md): from
   the mean-field moments |v'|^2 = chi_1 |v|^2, v'.a' = chi_1 v.a, |a'|^2 = chi_1 |a|^2 + chi_2 sum v_i^4
   with E[v^4] = 3 g^2 (integrated), K = N kappa^2 obeys K' = K/chi_1 + 3 chi_2/chi_1^2, with fixed
   point 3 chi_2/(chi_1 (chi_1 - 1)); the first layer gives g = sigma_w^2 q_in, K = 1/(sigma_w^2 q_in);
   and the library's recursion for erf, with chi_1, chi_2 and the q-map in closed form, agrees.
"""

from __future__ import annotations

import sys

import numpy as np
import sympy as sp

failures: list[str] = []


def check(name: str, ok: bool) -> None:
    print(f"[{'ok' if ok else 'FAIL'}] {name}")
    if not ok:
        failures.append(name)


def gaussian_mean(expr, x, q):
    """E[expr(x)] for x ~ N(0, q), symbolically."""
    return sp.simplify(sp.integrate(expr * sp.exp(-(x**2) / (2 * q)) / sp.sqrt(2 * sp.pi * q), (x, -sp.oo, sp.oo)))


def main() -> int:
    from randfield.activations.closed_forms import ErfKernel, PiecewiseLinearKernel

    # 2. linear network fixed point
    q, sw, sb = sp.symbols("q sigma_w2 sigma_b2", positive=True)
    sol = sp.solve(sp.Eq(q, sw * q + sb), q)
    check("linear: q* = sigma_b^2/(1 - sigma_w^2)", len(sol) == 1 and sp.simplify(sol[0] - sb / (1 - sw)) == 0)

    # 3. leaky ReLU moments (integrate the two half-lines)
    x = sp.Symbol("x", real=True)
    a = sp.Symbol("alpha", real=True)
    dens = sp.exp(-(x**2) / (2 * q)) / sp.sqrt(2 * sp.pi * q)
    m2 = sp.integrate(x**2 * dens, (x, 0, sp.oo)) + sp.integrate(a**2 * x**2 * dens, (x, -sp.oo, 0))
    check("leaky ReLU: E[phi^2] = (1 + alpha^2) q / 2", sp.simplify(m2 - (1 + a**2) * q / 2) == 0)
    d2 = sp.integrate(dens, (x, 0, sp.oo)) + sp.integrate(a**2 * dens, (x, -sp.oo, 0))
    check("leaky ReLU: E[phi'^2] = (1 + alpha^2)/2", sp.simplify(d2 - (1 + a**2) / 2) == 0)
    k = PiecewiseLinearKernel(0.3, 1.0)
    check(
        "PiecewiseLinearKernel diagonal = (1 + alpha^2) q / 2",
        np.isclose(k.covariance(2.0, 2.0, 2.0), 1.09 * 2.0 / 2, rtol=1e-15, atol=0),
    )
    check(
        "critical sigma_w^2 of leaky ReLU = 2 / (1 + alpha^2)",
        sp.simplify(sp.solve(sp.Eq(sw * (1 + a**2) / 2, 1), sw)[0] - 2 / (1 + a**2)) == 0,
    )

    # 4. erf derivative moment
    dphi2 = (2 / sp.sqrt(sp.pi)) ** 2 * sp.exp(-2 * x**2)
    m = gaussian_mean(dphi2, x, q)
    check("erf: E[phi'^2] = (4/pi)/sqrt(1 + 4q)", sp.simplify(m - 4 / sp.pi / sp.sqrt(1 + 4 * q)) == 0)
    qs = np.array([0.01, 0.7, 30.0])
    check(
        "ErfKernel.derivative_covariance diagonal agrees",
        np.allclose(ErfKernel().derivative_covariance(qs, qs, qs), 4 / np.pi / np.sqrt(1 + 4 * qs), rtol=1e-15),
    )
    check(
        "erf critical sigma_w^2 at sigma_b^2 = 0 is pi/4",
        sp.simplify(sp.solve(sp.Eq(4 / sp.pi * sw / sp.sqrt(1 + 4 * 0), 1), sw)[0] - sp.pi / 4) == 0,
    )

    # 4b. erf curvature coefficient: E[phi''^2] = (16/pi) q / (1 + 4q)^{3/2}  (chi_2 / sigma_w^2)
    d2phi2 = (4 * x / sp.sqrt(sp.pi)) ** 2 * sp.exp(-2 * x**2)
    m = gaussian_mean(d2phi2, x, q)
    check(
        "erf: E[phi''^2] = (16/pi) q/(1 + 4q)^{3/2}",
        sp.simplify(m - 16 / sp.pi * q / (1 + 4 * q) ** sp.Rational(3, 2)) == 0,
    )
    from randfield.geometry import chi2

    check(
        "geometry.chi2('erf') agrees",
        np.allclose(chi2("erf", 1.0, 0.0, q=qs), 16 / np.pi * qs / (1 + 4 * qs) ** 1.5, rtol=1e-10),
    )

    # 4c. Conformal metric: for J = W D with W_ij ~ N(0, sigma_w^2/N), E[(J^T J)_ab] = sigma_w^2 E[phi'^2] delta_ab
    n = 3
    wsym = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"w{i}{j}", real=True))
    dsym = sp.diag(*[sp.Symbol(f"d{i}", positive=True) for i in range(n)])
    jtj = (wsym * dsym).T * (wsym * dsym)
    sigma2 = sp.Symbol("s2", positive=True)
    # E[w_ki w_kj] = (s2/n) delta_ij: replace products accordingly (Wick on independent entries)
    expect = jtj.applyfunc(
        lambda e: sp.expand(e).subs(
            {
                wsym[k, i] * wsym[k, j]: (sigma2 / n if i == j else 0)
                for k in range(n)
                for i in range(n)
                for j in range(n)
            }
        )
    )
    expect = expect.applyfunc(lambda e: e.subs({wsym[k, i] ** 2: sigma2 / n for k in range(n) for i in range(n)}))
    want = sp.diag(*[sigma2 * dsym[i, i] ** 2 for i in range(n)])
    check(
        "metric: E[J^T J] = sigma_w^2 diag(phi'^2) (conformal after averaging phi'^2: chi_1 I)",
        sp.simplify(expect - want) == sp.zeros(n),
    )

    # 5. sin covariance from the characteristic function E[exp(i t.u)] = exp(-t.Sigma.t/2)
    q1, q2, q12 = sp.symbols("q1 q2 q12", real=True)

    def cf(t1, t2):
        return sp.exp(-(t1**2 * q1 + 2 * t1 * t2 * q12 + t2**2 * q2) / 2)

    # sin u1 sin u2 = (cos(u1 - u2) - cos(u1 + u2)) / 2 and E[cos(t.u)] = cf(t)
    sin_cov = (cf(1, -1) - cf(1, 1)) / 2
    check(
        "sin: E[sin u1 sin u2] = exp(-(q1+q2)/2) sinh(q12)",
        sp.simplify((sin_cov - sp.exp(-(q1 + q2) / 2) * sp.sinh(q12)).rewrite(sp.exp)) == 0,
    )

    # 6. Price's theorem for the arc-cosine kernel
    r = sp.Symbol("rho")
    th = sp.acos(r)
    cov = sp.sqrt(q1 * q2) / (2 * sp.pi) * (sp.sin(th) + (sp.pi - th) * sp.cos(th))
    dcov = sp.diff(cov, r) / sp.sqrt(q1 * q2)  # d/dq12 = (1/sqrt(q1 q2)) d/drho
    check("ReLU: d cov/d q12 = (pi - theta)/(2 pi)", sp.simplify(dcov - (sp.pi - th) / (2 * sp.pi)) == 0)
    check("ReLU: cov(rho = 1) = q/2", sp.simplify(cov.subs({r: 1, q1: q, q2: q}) - q / 2) == 0)

    # 7. tanh c-map at sigma_b^2 = 0 near c = 0: slope sigma_w^2 E[phi']^2, no c^2 term
    from randfield import correlation_map, length_fixed_point

    sw_num = 2.0
    qstar = float(length_fixed_point("tanh", sw_num, 0.0))
    from randfield.gaussian import gaussian_expectation

    slope0 = sw_num * gaussian_expectation(lambda t: 1 - np.tanh(t) ** 2, qstar) ** 2  # sigma_w^2 q E[phi']^2 / q
    cs = np.array([1e-3, 2e-3])
    cm = correlation_map(cs, "tanh", sw_num, 0.0)
    check(
        "tanh c-map: c' = slope(0) c + O(c^3) at sigma_b^2 = 0",
        abs(cm[0] / cs[0] - slope0) < 1e-5 and abs((cm[1] / cs[1] - slope0) / (cm[0] / cs[0] - slope0) - 4) < 0.05,
    )

    # 8. Stein's lemma d/dq E[f(sqrt q z)] = E[f''(sqrt q z)]/2
    aa = sp.Symbol("a", positive=True)
    for f in (x**4, sp.exp(aa * x)):
        lhs = sp.diff(gaussian_mean(f, x, q), q)
        rhs = gaussian_mean(sp.diff(f, x, 2), x, q) / 2
        check(f"Stein: d/dq E[{f}] = E[f'']/2", sp.simplify(lhs - rhs) == 0)

    # 9. S-transforms: psi(u) = sum_k m_k u^k, chi = psi^{-1}, S(z) = (1 + z)/z chi(z)
    z, u, s2 = sp.symbols("z u s2", positive=True)
    order = 6
    psi_mp = sum(s2**k * sp.catalan(k) * u**k for k in range(1, order + 1))
    coeffs = sp.symbols(f"c1:{order + 1}")
    ansatz = sum(c * z**k for k, c in enumerate(coeffs, start=1))
    eqs = sp.Poly(sp.expand(psi_mp.subs(u, ansatz)) - z, z).all_coeffs()[::-1][1 : order + 1]
    chi = ansatz.subs(sp.solve(eqs, coeffs, dict=True)[0])
    s_mp = sp.series((1 + z) / z * chi, z, 0, order - 1).removeO()
    check(
        "S-transform of Gaussian W^T W = 1/(sigma_w^2 (1 + z))",
        sp.simplify(s_mp - sp.series(1 / (s2 * (1 + z)), z, 0, order - 1).removeO()) == 0,
    )
    chi_o = sp.solve(sp.Eq(s2 * u / (1 - s2 * u), z), u)[0]  # W^T W = sigma_w^2 I
    check("S-transform of orthogonal W^T W = 1/sigma_w^2", sp.simplify((1 + z) / z * chi_o - 1 / s2) == 0)

    # spectral equation: z = psi_D(u) = p, S_D = (1 + p)/p u, chi_J(p) = p/(1 + p) (S_W S_D)^L = 1/x
    from randfield.spectra import spectral_log_x_terms

    p, L = sp.symbols("p L", positive=True)
    s_d = (1 + p) / p * u
    point = {p: 0.37, u: 0.81, s2: 1.3, L: 7}
    for name, s_w in (("gaussian", 1 / (s2 * (1 + p))), ("orthogonal", 1 / s2)):
        log_x = -sp.log(p / (1 + p) * (s_w * s_d) ** L)
        library = sum(spectral_log_x_terms(0.37, 0.81, 7, 1.3, name))
        check(
            f"spectra: log x(u) for {name} weights derived from S_J = (S_W S_D)^L matches the library",
            abs(float(log_x.subs(point)) - library) < 1e-13,
        )

    # one linear Gaussian layer (D = I, psi_D = u/(1 - u)): x = s2 (1 + p)/u -> rho = MP density
    xx = sp.Symbol("x", positive=True)
    roots = sp.solve(sp.Eq(s2 / (u * (1 - u)), xx), u)  # (1 + p)/p * s2 p / u with p = u/(1 - u)
    vals = [sp.im(((1 + r / (1 - r)) / xx).subs({s2: 1, xx: sp.Rational(3, 2)})) for r in roots]
    mp_density = sp.sqrt(4 * sp.Rational(3, 2) - sp.Rational(9, 4)) / (2 * sp.pi * sp.Rational(3, 2))
    check(
        "spectra: one Gaussian layer gives Marchenko-Pastur, rho(3/2) = sqrt(4x - x^2)/(2 pi x)",
        any(sp.simplify(-v / sp.pi - mp_density) == 0 for v in vals),
    )

    # 10. curvature recursion
    chi_1, chi_2, n_units, g, a2, va, vv = sp.symbols("chi_1 chi_2 N g a2 va v", positive=True)
    fourth = sp.integrate(vv**4 * sp.exp(-(vv**2) / (2 * g)), (vv, -sp.oo, sp.oo)) / sp.sqrt(2 * sp.pi * g)
    check("Gaussian velocity components: E[v^4] = 3 g^2", sp.simplify(fourth - 3 * g**2) == 0)

    def curvature(v2, acc2, vel_acc):  # K = N kappa^2, kappa^2 = (|v|^2 |a|^2 - (v.a)^2) / |v|^6
        return n_units * (v2 * acc2 - vel_acc**2) / v2**3

    v2 = n_units * g
    k_next = curvature(chi_1 * v2, chi_1 * a2 + chi_2 * n_units * fourth, chi_1 * va)
    k_now = curvature(v2, a2, va)
    check(
        "curvature: K' = K/chi_1 + 3 chi_2/chi_1^2 from the layer's mean-field moments",
        sp.simplify(k_next - (k_now / chi_1 + 3 * chi_2 / chi_1**2)) == 0,
    )
    k_star = 3 * chi_2 / (chi_1 * (chi_1 - 1))
    check(
        "curvature: K* = 3 chi_2/(chi_1 (chi_1 - 1)) is the fixed point",
        sp.simplify(k_star / chi_1 + 3 * chi_2 / chi_1**2 - k_star) == 0,
    )
    sw_, qin = sp.symbols("sigma_w2 q_in", positive=True)  # first layer: |v|^2 = |a|^2 = N sigma_w^2 q_in, v.a = 0
    first = curvature(n_units * sw_ * qin, n_units * sw_ * qin, 0)
    check("curvature: first layer K = 1/(sigma_w^2 q_in)", sp.simplify(first - 1 / (sw_ * qin)) == 0)

    from randfield.geometry import circle_geometry

    sw_n, sb_n, q_in, depth = sp.Rational(3), sp.Rational(1, 10), sp.Rational(1, 2), 6
    qs, gs, ks = [sw_n * q_in + sb_n], [sw_n * q_in], [1 / (sw_n * q_in)]
    for _ in range(depth - 1):  # erf: E[phi^2] = (2/pi) asin(2q/(1 + 2q)), chi_1, chi_2 as in check 4
        q_l = qs[-1]
        c1 = sw_n * 4 / sp.pi / sp.sqrt(1 + 4 * q_l)
        c2 = sw_n * 16 / sp.pi * q_l / (1 + 4 * q_l) ** sp.Rational(3, 2)
        qs.append(sw_n * 2 / sp.pi * sp.asin(2 * q_l / (1 + 2 * q_l)) + sb_n)
        gs.append(c1 * gs[-1])
        ks.append(ks[-1] / c1 + 3 * c2 / c1**2)
    lib = circle_geometry("erf", 3.0, 0.1, depth, q_input=0.5)
    want = np.array([[float(sp.N(x, 30)) for x in row] for row in (qs, gs, ks)])
    check(
        "geometry.circle_geometry('erf') follows the closed-form q, length and curvature recursions",
        np.allclose(np.array([lib.q, lib.length2, lib.curvature]), want, rtol=1e-11, atol=0),
    )

    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

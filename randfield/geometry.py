"""Geometry of signal space in wide random networks (Amari et al. 2018; Poole et al. 2016).

* Metric. The pull-back metric of layer l is conformal, g^{l+1}_ab = chi_1(q^l) g^l_ab (one
  layer's Jacobian J = D W has E[J^T J] = chi_1 I), so after L layers g^L = (prod_l chi_1) g^0:
  `metric_factors`.
* Curvature. For the image h(theta) of a great circle of inputs, with velocity v = dh/dtheta
  and acceleration a, the squared local stretch g = |v|^2/N and the normalised squared extrinsic
  curvature K = N kappa^2, kappa^2 = (|v|^2|a|^2 - (v.a)^2)/|v|^6, obey at large width
  (Poole et al. 2016, Sec. 3; the kappa-map of ganguli-lab/deepchaos; Amari's curvature
  recursion with its 1/n creation term)

      g^{l+1} = A_l g^l,      K^{l+1} = K^l / A_l + 3 B_l / A_l^2,

  with A = chi_1 = sigma_w^2 E[phi'^2], B = chi_2 = sigma_w^2 E[phi''^2] at q^l (residual layers
  h + alpha branch: A = 1 + alpha^2 chi_1, B = alpha^2 chi_2). Curvature is created at rate
  3 chi_2 / chi_1^2 per layer in units of 1/N (so kappa^2 = K/N -> 0 at infinite width) and,
  for chi_1 > 1, saturates at K* = 3 chi_2 / (chi_1 (chi_1 - 1)) while the length grows like
  chi_1^{l/2}. Derivation: theory/geometry_derivation.md; checked against simulation in
  tests/test_geometry.py. Valid for odd phi (E[phi' phi''] = 0) and smooth phi.
* Distance. D = q1 + q2 - 2 q12 (Amari's D = A + A' - 2C) follows from the covariance map;
  for equal lengths at q*, D* = 2 q* (1 - c*) and its stability is chi_c.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import expectations as ex
from ._validation import check_positive_int, check_variance
from .activations import Activation, get_activation
from .maps import chi1 as _chi1
from .maps import correlation_fixed_point, covariance_map, length_fixed_point, propagate_covariance

ActivationLike = str | Activation


def chi2(activation: ActivationLike, sigma_w2, sigma_b2, q=None) -> np.ndarray:
    """chi_2 = sigma_w^2 E[phi''(sqrt(q) z)^2] at q (default q*) (Poole et al. 2016). Needs a smooth phi."""
    sw = check_variance(sigma_w2, "sigma_w2")
    q = length_fixed_point(activation, sw, sigma_b2) if q is None else check_variance(q, "q")
    return sw * ex.second_derivative_second_moment(activation, q)


class CircleGeometry(NamedTuple):
    """Per-layer (l = 1..depth) theory for the image of a great circle of inputs."""

    q: np.ndarray
    stretch: np.ndarray  # A_l, l = 1..depth-1: metric factor of layer l -> l+1
    length2: np.ndarray  # g^l = |dh/dtheta|^2 / N
    curvature: np.ndarray  # K^l = N kappa^2 (NaN for kinked activations)


def circle_geometry(
    activation: ActivationLike,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    q_input: float = 1.0,
    *,
    branch_scale: float | None = None,
) -> CircleGeometry:
    """Length and curvature growth of the image of a great circle of radius sqrt(q_input d).

    Layer 1 (h = W x + b): q^1 = sigma_w^2 q_input + sigma_b^2, g^1 = sigma_w^2 q_input,
    K^1 = 1 / (sigma_w^2 q_input). Then the recursions of the module docstring.
    """
    act = get_activation(activation)
    sw, sb = float(check_variance(sigma_w2, "sigma_w2")), float(check_variance(sigma_b2, "sigma_b2"))
    depth = check_positive_int(depth, "depth")
    q_input = float(check_variance(q_input, "q_input", positive=True))
    q = np.empty(depth)
    q[0] = sw * q_input + sb
    for layer in range(1, depth):
        nq = covariance_map(q[layer - 1], q[layer - 1], q[layer - 1], act, sw, sb)[0]
        q[layer] = nq if branch_scale is None else q[layer - 1] + branch_scale**2 * nq
    chi = sw * ex.derivative_second_moment(act, q[:-1])
    chi_2 = sw * ex.second_derivative_second_moment(act, q[:-1]) if act.smooth else np.full(depth - 1, np.nan)
    a, b = (chi, chi_2) if branch_scale is None else (1 + branch_scale**2 * chi, branch_scale**2 * chi_2)
    g, k = np.empty(depth), np.empty(depth)
    g[0], k[0] = sw * q_input, 1.0 / (sw * q_input)
    for layer in range(1, depth):
        g[layer] = a[layer - 1] * g[layer - 1]
        k[layer] = k[layer - 1] / a[layer - 1] + 3 * b[layer - 1] / a[layer - 1] ** 2
    return CircleGeometry(q, a, g, k)


def curvature_fixed_point(activation: ActivationLike, sigma_w2, sigma_b2) -> np.ndarray:
    """K* = 3 chi_2 / (chi_1 (chi_1 - 1)) for chi_1 > 1 (chaotic phase); inf otherwise (K grows)."""
    c1 = _chi1(activation, sigma_w2, sigma_b2)
    c2 = chi2(activation, sigma_w2, sigma_b2)
    with np.errstate(divide="ignore"):
        return np.where(c1 > 1, 3 * c2 / (c1 * (c1 - 1)), np.inf)


def metric_factors(
    activation: ActivationLike, sigma_w2: float, sigma_b2: float, depth: int, q_input: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer conformal factors chi_1(q^l), l = 1..depth-1, and their running product
    (the factor of the metric pulled back from layer l+1 to layer 1; Amari et al. 2018)."""
    geo = circle_geometry(activation, sigma_w2, sigma_b2, depth, q_input)
    return geo.stretch, np.cumprod(geo.stretch)


class Distance(NamedTuple):
    """Per-layer squared distance D^l = q1 + q2 - 2 q12 between two inputs (Amari's D = A + A' - 2C)."""

    distance: np.ndarray
    fixed_point: float  # 2 q* (1 - c*)
    slope: float  # dD'/dD at the fixed point for equal lengths (chi_c; stable when < 1)


def distance_map(activation: ActivationLike, sigma_w2: float, sigma_b2: float, depth: int, q1, q2, q12) -> Distance:
    """Iterate the covariance map and report D^l, its fixed point 2 q*(1 - c*) and chi_c there."""
    prop = propagate_covariance(activation, sigma_w2, sigma_b2, depth, q1, q2, q12)
    q_star = float(length_fixed_point(activation, sigma_w2, sigma_b2))
    c_star = float(correlation_fixed_point(activation, sigma_w2, sigma_b2))
    slope = float(sigma_w2 * ex.derivative_covariance(activation, q_star, q_star, c_star * q_star))
    return Distance(prop.q1 + prop.q2 - 2 * prop.q12, 2 * q_star * (1 - c_star), slope)

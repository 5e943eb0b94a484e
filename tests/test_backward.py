"""Backward mean field (randfield.backward) against Monte-Carlo of back-propagation through random
nets with the forward weights reused; fixed seeds, tolerances from standard errors."""

import math

import numpy as np
import pytest

import randfield as rf
from randfield.montecarlo import gradient_norms


def test_gradient_recursion_is_chi1_along_the_length_map():
    th = rf.gradient_statistics("tanh", 1.5, 0.05, depth=5, q_input=0.6)
    q = [1.5 * 0.6 + 0.05]
    for _ in range(4):
        q.append(float(rf.length_map(q[-1], "tanh", 1.5, 0.05)))
    chi = [float(rf.chi1("tanh", 1.5, 0.05, q=v)) for v in q]
    # qt^l = prod_{k = l..L-1} chi_1(q^k), qt^L = 1
    want = [chi[0] * chi[1] * chi[2] * chi[3], chi[1] * chi[2] * chi[3], chi[2] * chi[3], chi[3], 1.0]
    np.testing.assert_allclose(th.delta, want, rtol=1e-13)
    np.testing.assert_allclose(th.weight_gradient, np.array(want) * (np.array(q) - 0.05) / 1.5, rtol=1e-13)


def test_gradient_depth_scale_closed_forms():
    assert rf.gradient_depth_scale("linear", 0.5, 0.1) == pytest.approx(-1 / math.log(0.5), rel=1e-12)
    assert rf.gradient_depth_scale("relu", 2.0, 0.0) == math.inf  # chi_1 = sigma_w^2 / 2 = 1
    assert rf.gradient_depth_scale("relu", 1.5, 0.1) == pytest.approx(-1 / math.log(0.75), rel=1e-12)
    # tanh: ordered below the critical line, chaotic above
    crit = float(rf.critical_sigma_w2("tanh", 0.05))
    assert rf.gradient_depth_scale("tanh", crit - 0.3, 0.05) > 0 > rf.gradient_depth_scale("tanh", crit + 0.7, 0.05)


@pytest.mark.parametrize("sigma_w2", [1.0, 2.5])  # ordered (gradients vanish), chaotic (they explode)
def test_weight_gradient_norms_match_the_simulation(sigma_w2):
    depth = 30
    th = rf.gradient_statistics("tanh", sigma_w2, 0.05, depth)
    mc = gradient_norms("tanh", sigma_w2, 0.05, depth, 256, n_networks=64, seed=1, device="cpu")
    for stat, theory in ((mc.weight_gradient, th.weight_gradient), (mc.delta, th.delta)):
        ratio = stat / theory
        n = len(ratio)
        for layer in (0, 9, 19, 29):
            r = ratio[:, layer]
            assert abs(r.mean() - 1) < 3 * r.std(ddof=1) / math.sqrt(n), (layer, r.mean())
    # the trend over depth is real: 30 layers change the norms by a factor far outside the noise
    spread = th.weight_gradient[0] / th.weight_gradient[-1]
    assert spread < 0.5 if sigma_w2 < 1.7 else spread > 2


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="depth must be an integer >= 1"):
        rf.gradient_statistics("tanh", 1.5, 0.05, 0)
    with pytest.raises(ValueError, match="sigma_w2 must be > 0"):
        rf.gradient_statistics("tanh", 0.0, 0.05, 3)
    with pytest.raises(ValueError, match="width must be an integer >= 1"):
        gradient_norms("tanh", 1.5, 0.05, 3, 0)

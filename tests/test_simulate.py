"""The simulation engine against the mean-field theory (CPU, small widths; fixed seeds)."""

import numpy as np
import pytest
import torch

import randfield as rf
from randfield.montecarlo import SimulationConfig, SimulationResult, compare, simulate

POINTS = [  # ordered, critical, chaotic (tanh, sigma_b^2 = 0.05); He-critical and ordered ReLU
    ("tanh", 1.5, 0.05),
    ("tanh", 1.7609546396, 0.05),
    ("tanh", 4.0, 0.05),
    ("relu", 2.0, 0.0),
    ("relu", 1.5, 0.1),
]


@pytest.mark.parametrize("act, sw, sb", POINTS)
def test_q_c_chi1_agree_with_theory_within_standard_errors(act, sw, sb):
    cfg = SimulationConfig(act, sw, sb, width=1000, depth=12, n_networks=16, n_inputs=3, seed=7)
    cmp = compare(simulate(cfg, device="cpu"))
    # every per-layer comparison within the 1%-family-wise threshold (~3.8 for ~70 comparisons)
    assert cmp.max_abs_z() < cmp.threshold(), cmp.max_abs_z()
    # and the error bars are tight enough for that to mean something (ReLU's grow with depth: Hanin & Nica)
    assert np.median(cmp.quantities["q"]["stderr"] / cmp.quantities["q"]["theory"]) < 0.05


def test_deviation_from_theory_shrinks_like_one_over_sqrt_width():
    # widths large enough that the O(1/N) bias is small next to the O(1/sqrt(N)) spread
    widths = np.array([200, 400, 800, 1600])
    rms = []
    for w in widths:
        r = simulate(
            SimulationConfig("tanh", 2.5, 0.05, width=int(w), depth=4, n_networks=48, seed=int(w)), device="cpu"
        )
        th = compare(r).quantities["q"]["theory"]
        rms.append(np.sqrt(np.mean((r.q[:, -1, 0] - th[-1, 0]) ** 2)) / th[-1, 0])
    slope = np.polyfit(np.log(widths), np.log(rms), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.1)


def test_simulated_critical_point_matches_theory():
    # chi1 at equilibrium (layers 6..15) on both sides of the tanh critical point, sigma_b^2 = 0.05
    sws = np.array([1.6, 1.7, 1.8, 1.9])
    means, ses = [], []
    for sw in sws:
        r = simulate(
            SimulationConfig("tanh", float(sw), 0.05, width=800, depth=16, n_networks=16, seed=11), device="cpu"
        )
        per_net = r.chi1[:, 5:].mean(1)
        means.append(per_net.mean())
        ses.append(per_net.std(ddof=1) / np.sqrt(len(per_net)))
    slope, intercept = np.polyfit(sws, means, 1)
    root = (1 - intercept) / slope
    root_se = np.sqrt(np.mean(np.square(ses))) / abs(slope)
    assert abs(root - rf.critical_sigma_w2("tanh", 0.05)) < 3 * root_se + 2e-3  # + curvature of chi1 over the bracket
    assert root_se < 0.02


def test_gram_sampler_has_the_law_of_the_explicit_product():
    # columns of scale * R W, W i.i.d. N(0, 1), are i.i.d. N(0, scale^2 R R^T)
    from randfield.montecarlo.engine import _gram_product

    gen = torch.Generator().manual_seed(0)
    rows = torch.randn(1, 3, 50, generator=gen, dtype=torch.float64)
    rows[0, 2] = rows[0, 0] + 1e-9 * rows[0, 1]  # nearly singular Gram: still a valid sample
    out = _gram_product(rows, 200_000, gen, 0.7)[0]
    want = 0.49 * (rows[0] @ rows[0].T)
    got = out @ out.T / out.shape[1]
    se = np.sqrt((np.outer(np.diag(want), np.diag(want)) + want.numpy() ** 2) / out.shape[1])
    assert np.all(np.abs(got.numpy() - want.numpy()) < 4 * se)


@pytest.mark.parametrize("weights", ["gaussian", "orthogonal"])
def test_explicit_weights_agree_with_theory(weights):
    cfg = SimulationConfig("tanh", 2.5, 0.05, width=400, depth=8, n_networks=16, sampler="explicit", weights=weights)
    cmp = compare(simulate(cfg, device="cpu"))
    assert cmp.max_abs_z() < cmp.threshold()


def test_linear_orthogonal_network_preserves_norms_exactly():
    cfg = SimulationConfig("linear", 1.0, 0.0, width=64, depth=8, n_networks=4, d=64, weights="orthogonal")
    r = simulate(cfg, device="cpu")
    np.testing.assert_allclose(r.q, 1.0, rtol=1e-12)  # |h|^2 preserved layer after layer
    np.testing.assert_allclose(r.chi1, 1.0, rtol=1e-12)  # every singular value is 1
    np.testing.assert_allclose(r.c, 0.5, rtol=1e-12)


def test_residual_network_matches_its_recursion():
    cfg = SimulationConfig("tanh", 2.5, 0.05, width=1000, depth=10, n_networks=16, branch_scale=0.3, seed=5)
    cmp = compare(simulate(cfg, device="cpu"))
    assert cmp.max_abs_z() < cmp.threshold()


@pytest.mark.parametrize("sampler", ["gram", "explicit"])
def test_resume_from_checkpoint_reproduces_the_uninterrupted_run(tmp_path, monkeypatch, sampler):
    import randfield.montecarlo.engine as sim

    cfg = SimulationConfig("tanh", 1.5, 0.05, width=64, depth=12, n_networks=3, seed=3, sampler=sampler)
    full = simulate(cfg, device="cpu")
    ckpt = tmp_path / "run.ckpt"
    calls = {"n": 0}
    owner, name = (sim, "_gram_product") if sampler == "gram" else (sim, "_weights")
    real = getattr(owner, name)

    def failing(*a, **k):  # the 8th layer operation is interrupted
        calls["n"] += 1
        if calls["n"] == 8:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(owner, name, failing)
    with pytest.raises(KeyboardInterrupt):
        simulate(cfg, device="cpu", checkpoint=ckpt, checkpoint_every=3)
    monkeypatch.setattr(owner, name, real)
    assert ckpt.exists()
    resumed = simulate(cfg, device="cpu", checkpoint=ckpt, checkpoint_every=3)
    for name in ("q", "c", "chi1"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(full, name))
    other = SimulationConfig("tanh", 1.6, 0.05, width=64, depth=12, n_networks=3, seed=3, sampler=sampler)
    with pytest.raises(ValueError, match="different config"):
        simulate(other, device="cpu", checkpoint=ckpt)


def test_results_round_trip_with_config_and_version(tmp_path):
    r = simulate(SimulationConfig("erf", 1.2, 0.1, width=32, depth=4, n_networks=2), device="cpu")
    r.save(tmp_path / "r.npz")
    back = SimulationResult.load(tmp_path / "r.npz")
    assert back.config == r.config
    np.testing.assert_array_equal(back.q, r.q)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(width=0), "width must be an integer >= 1"),
        (dict(depth=0), "depth must be an integer >= 1"),
        (dict(weights="uniform"), "weights must be one of"),
        (dict(n_inputs=1), "n_inputs must be >= 2"),
        (dict(sampler="gram", weights="orthogonal"), "needs Gaussian weights"),
        (dict(sigma_w2=-1.0), "sigma_w2 must be >= 0"),
        (dict(c_input=1.5), "c_input must lie in"),
        (dict(activation="tanhh"), "unknown activation"),
    ],
)
def test_bad_configs(kwargs, match):
    base = dict(activation="tanh", sigma_w2=1.0, sigma_b2=0.1)
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        SimulationConfig(**base)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_theory():
    cfg = SimulationConfig("tanh", 2.5, 0.05, width=4096, depth=30, n_networks=32, dtype="float32")
    cmp = compare(simulate(cfg, device="cuda"))
    assert cmp.max_abs_z() < cmp.threshold()


@pytest.mark.slow
def test_simulated_resnets_converge_to_the_depth_ode_at_first_order():
    # ~25 s on 2 CPU cores: python -m pytest -m slow
    from randfield.montecarlo import resnet_depth_limit

    r = resnet_depth_limit("tanh", 2.0, 0.1, 2.0, [1, 2, 4, 8], width=2048, n_networks=32, device="cpu")
    assert r.rate_q == pytest.approx(-1.0, abs=0.25)
    assert r.rate_c == pytest.approx(-1.0, abs=0.25)
    # and each L agrees with its own L-block theory
    assert np.all(np.abs(r.q_sim - r.q_theory) < 3 * r.q_stderr + 0.01)


@pytest.mark.parametrize("sampler", ["gram", "explicit"])
def test_propagated_tangent_equals_the_finite_difference_along_the_circle(sampler):
    # two inputs delta apart on the circle, same network:
    #   |h(theta + delta) - h(theta)|^2 / (N delta^2) = |dh/dtheta|^2 / N + O(delta)
    delta = 1e-4
    cfg = SimulationConfig(
        "tanh", 2.5, 0.05, width=256, depth=6, n_networks=3, c_input=float(np.cos(delta)), sampler=sampler
    )
    r = simulate(cfg, device="cpu")
    q0, q1, c = r.q[..., 0], r.q[..., 1], r.c[..., 0]
    fd = (q0 + q1 - 2 * c * np.sqrt(q0 * q1)) / delta**2
    np.testing.assert_allclose(fd, r.length2[..., 0], rtol=2e-3)

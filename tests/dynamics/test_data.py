"""Data generators: reference solutions checked against independent truths."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from randfield.dynamics import data
from randfield.dynamics.data import get_system


@pytest.mark.parametrize("name", ["spring", "pendulum", "two_body"])
def test_reference_conserves_energy_and_matches_its_derivatives(name):
    d = data.generate(name, 4, seed=5, n_points=200)
    system = get_system(name)
    h = system.hamiltonian(d.clean)
    assert np.abs(h - h[:, :1]).max() < 1e-9 * np.abs(h).max()
    # the stored derivatives are the time derivative of the stored trajectory (central differences)
    fd = (d.clean[:, 2:] - d.clean[:, :-2]) / (2 * d.dt)
    scale = np.abs(d.derivatives).max()
    assert np.abs(fd - d.derivatives[:, 1:-1]).max() < 5 * d.dt**2 * np.abs(d.derivatives).max() * 10 + 1e-6 * scale


def test_spring_closed_form_agrees_with_a_numerical_solution():
    system = get_system("spring")
    u0, t = np.array([[0.3, -0.7]]), np.linspace(0, 20, 50)
    sol = solve_ivp(lambda _, y: system.vector_field(y), (0, 20), u0[0], t_eval=t, rtol=1e-12, atol=1e-12)
    assert np.abs(system.reference(u0, t)[0] - sol.y.T).max() < 1e-9


def test_generation_is_deterministic_and_noise_has_the_requested_std():
    a = data.generate("pendulum", 40, seed=7)
    b = data.generate("pendulum", 40, seed=7)
    assert np.array_equal(a.states, b.states)
    noise = (a.states - a.clean).ravel()
    # the sample std of 8000 Gaussians is within 4 standard errors (sigma / sqrt(2n)) of 0.1
    assert abs(noise.std() - 0.1) < 4 * 0.1 / np.sqrt(2 * noise.size)
    assert not np.array_equal(a.states, data.generate("pendulum", 40, seed=8).states)


def test_two_body_initial_conditions_are_near_circular_with_zero_momentum():
    u0 = get_system("two_body").sample_initial(np.random.default_rng(0), 100)
    assert np.allclose(u0[:, 4:6] + u0[:, 6:8], 0) and np.allclose(u0[:, 0:2] + u0[:, 2:4], 0)
    r = np.linalg.norm(u0[:, 0:2], axis=1)
    speed = np.linalg.norm(u0[:, 4:6], axis=1)
    assert np.abs(speed * 2 * np.sqrt(r) - 1).max() < 0.25
    # HNN's sampler: body 1 in the square [0.5, 1.5]^2, moving counter-clockwise, perpendicular to q1
    assert (u0[:, 0:2] >= 0.5).all() and (u0[:, 0:2] <= 1.5).all()
    cross = u0[:, 0] * u0[:, 5] - u0[:, 1] * u0[:, 4]
    np.testing.assert_allclose(cross, r * speed, rtol=1e-12)


@pytest.mark.parametrize("name, lo, hi", [("spring", 0.1, 1.0), ("pendulum", 1.3, 2.3)])
def test_published_sampler_replays_the_published_scripts_random_stream(name, lo, hi):
    """The published scripts draw, with numpy's global legacy generator, per trajectory a direction,
    a radius and then q- and p-noise (HNN get_dataset), and then DGNet's rollout initial conditions.
    Replay those calls one by one, as the scripts do, and compare with sampler="published"."""
    from randfield.dynamics.metrics import evaluation_set

    system, n, points, seed = get_system(name), 6, 20, 3
    np.random.seed(seed)
    states = []
    for _ in range(n):
        y0 = np.random.rand(2) * 2 - 1
        y0 = y0 / np.sqrt((y0**2).sum()) * (np.random.rand() * (hi - lo) + lo)
        t = np.linspace(0, 20, points)
        sol = solve_ivp(lambda _, y: system.vector_field(y), (0, 20), y0, t_eval=t, rtol=1e-12, atol=1e-12)
        q, p = sol.y
        states.append(np.stack([q + np.random.randn(points) * 0.1, p + np.random.randn(points) * 0.1], -1))
    eval_x0 = []
    for _ in range(4):
        x0 = np.random.rand(2) * 1.6 - 0.8
        eval_x0.append(x0 + 0.2 * np.sign(x0) * np.ones_like(x0))
    d = data.generate(name, n, seed=seed, n_points=points, sampler="published")
    np.testing.assert_allclose(d.states, np.array(states), atol=1e-8)
    _, u0, _ = evaluation_set(name, 4, seed=seed, protocol="published", data={"n_trajectories": n, "n_points": points})
    np.testing.assert_array_equal(u0, np.array(eval_x0))
    with pytest.raises(ValueError, match="defined for pendulum, spring, two_body, not 'kdv'"):
        data.generate("kdv", 2, sampler="published")
    with pytest.raises(ValueError, match="sampler must be"):
        data.generate("spring", 2, sampler="hnn")


def _hnn_random_config():
    """HNN's experiment-2body `random_config()` as the scripts call it, on numpy's global stream:
    state (body, [m, qx, qy, vx, vy]), then DGNet's coordinate order (qx1, qx2, qy1, qy2, px1, ...)."""
    state = np.zeros((2, 5))
    state[:, 0] = 1
    pos = np.random.rand(2) * (1.5 - 0.5) + 0.5
    r = np.sqrt(np.sum(pos**2))
    vel = np.flipud(pos) / (2 * r**1.5)
    vel[0] *= -1
    vel *= 1 + 5e-2 * np.random.randn()
    state[:, 1:3], state[:, 3:5] = pos, vel
    state[1, 1:] *= -1
    return state[:, 1:].T.reshape(-1)


def test_published_two_body_stream_replays_hnn_data_and_dgnet_rollouts():
    """Two-body: HNN's get_dataset builds its orbits once (the first run, np.random.seed(0)) and
    tests on the first 20% of them; DGNet's script rolls out from the orbit of np.random.seed(i) for
    trial i. Replay both with the published calls and compare, after mapping DGNet's coordinate
    order to ours, (q1, q2, p1, p2)."""
    from randfield.dynamics.metrics import evaluation_set

    to_ours = [0, 2, 1, 3, 4, 6, 5, 7]  # (qx1, qx2, qy1, qy2, px1, px2, py1, py2) -> (q1x, q1y, q2x, ...)
    np.random.seed(0)
    orbits = np.array([_hnn_random_config()[to_ours] for _ in range(10)])
    for seed in (0, 3):  # the data and the rollouts do not depend on the cell's seed
        train, test = data.generate("two_body", 10, seed=seed, n_points=5, sampler="published").split(0.2)
        np.testing.assert_allclose(test.clean[:, 0], orbits[:2], rtol=0, atol=1e-15)
        np.testing.assert_allclose(train.clean[:, 0], orbits[2:], rtol=0, atol=1e-15)
        assert np.array_equal(train.states, train.clean)  # no observation noise in this protocol
        _, u0, _ = evaluation_set("two_body", 3, seed=seed, protocol="published")
        expected = []
        for i in range(3):
            np.random.seed(i)
            expected.append(_hnn_random_config()[to_ours])
        np.testing.assert_allclose(u0, np.array(expected), rtol=0, atol=1e-15)


def test_split_and_windows():
    d = data.generate("spring", 10, n_points=6)
    train, test = d.split(0.5)
    assert len(train) == len(test) == 5
    w = d.windows(2)
    assert w.shape == (10 * 4, 3, 2)
    assert np.array_equal(w[1], d.states[0, 1:4])


def test_bad_data_arguments():
    with pytest.raises(ValueError, match="unknown system 'spring2'.*pendulum"):
        data.generate("spring2")
    with pytest.raises(ValueError, match="n_trajectories"):
        data.generate("spring", 0)
    with pytest.raises(ValueError, match="noise_std"):
        data.generate("spring", 2, noise_std=-1.0)
    with pytest.raises(ValueError, match="test_fraction"):
        data.generate("spring", 2).split(1.5)
    with pytest.raises(ValueError, match="horizon"):
        data.generate("spring", 2, n_points=3).windows(3)

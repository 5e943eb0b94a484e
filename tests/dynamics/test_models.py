"""Models: structure by construction, training reduces the loss, resumable training, errors."""

import numpy as np
import pytest
import torch

from randfield.dynamics import data, fit, get_model, rollout_metrics
from randfield.dynamics.structure import CanonicalStructure


@pytest.fixture(scope="module")
def spring():
    return data.generate("spring", 8, seed=3, n_points=30, noise_std=0.0)


@pytest.mark.parametrize("name, train", [("node", "rk2"), ("hnn", "rk2"), ("srnn", "leapfrog"), ("dgnet", "dg")])
def test_fit_reduces_the_loss(spring, name, train):
    torch.manual_seed(0)
    model = get_model(name, 2, hidden=32, train_integrator=train)
    windows = torch.as_tensor(spring.windows(1))
    with torch.no_grad():
        before = float(model.loss(windows, spring.dt))
    result = fit(model, spring, steps=150, lr=1e-2, weight_decay=0.0, progress=False)
    with torch.no_grad():
        after = float(model.loss(windows, spring.dt))
    assert after < before / 20, (before, after)
    assert result.losses.shape == (150,)


def test_dgnet_learns_the_modified_energy_of_its_scheme(spring):
    """Noise-free spring data (exact rotation by 2 dt per step): the DG step of H = k |u|^2 is the
    Cayley rotation with tan(angle / 2) = k dt, so the energy DGNet must learn (up to a constant)
    is k |u|^2 with k = tan(dt) / dt, not |u|^2 — an exact prediction of the scheme's modified energy."""
    torch.manual_seed(0)
    model = get_model("dgnet", 2, hidden=32)
    fit(model, spring, steps=1500, lr=1e-2, weight_decay=0.0, progress=False)
    u = torch.as_tensor(spring.clean.reshape(-1, 2))
    with torch.no_grad():
        learnt = model.energy(u).numpy()
    radius2 = (u**2).sum(1).numpy()
    k, c = np.polyfit(radius2, learnt, 1)
    assert k == pytest.approx(np.tan(spring.dt) / spring.dt, rel=0.02)
    assert np.abs(learnt - (k * radius2 + c)).max() < 0.02 * np.ptp(learnt)


def test_canonical_structure_is_skew_and_friction_dissipates():
    g = CanonicalStructure(6).matrix()
    assert torch.equal(g, -g.T)
    assert torch.equal(g @ g, -torch.eye(6))  # S^2 = -I
    friction = CanonicalStructure(6, friction=True)
    with torch.no_grad():
        friction.rho.copy_(torch.tensor([-3.0, 0.0, 2.0]))
    m = friction.matrix().detach()
    sym = (m + m.T) / 2
    assert torch.linalg.eigvalsh(sym).max() <= 0
    assert torch.allclose(torch.diagonal(sym)[3:], -torch.nn.functional.softplus(friction.rho.detach()))


def test_srnn_is_separable_and_consistent():
    torch.manual_seed(0)
    model = get_model("srnn", 4, hidden=16)
    u = torch.randn(5, 4)
    q, p = u.chunk(2, -1)
    assert torch.allclose(model.vector_field(u), torch.cat([model.velocity(p), model.force(q)], -1))
    x = u.clone().requires_grad_()
    (grad,) = torch.autograd.grad(model.energy(x).sum(), x)
    assert torch.allclose(model.vector_field(u), torch.cat([grad[:, 2:], -grad[:, :2]], -1), atol=1e-14)


def test_hnn_vector_field_is_the_symplectic_gradient():
    torch.manual_seed(0)
    model = get_model("hnn", 4, hidden=16)
    x = torch.randn(5, 4).requires_grad_()
    (grad,) = torch.autograd.grad(model.energy(x).sum(), x)
    assert torch.allclose(model.vector_field(x.detach()), torch.cat([grad[:, 2:], -grad[:, :2]], -1), atol=1e-14)


def test_multi_step_training_windows(spring):
    torch.manual_seed(0)
    model = get_model("srnn", 2, hidden=16)
    result = fit(model, spring, steps=5, horizon=4, progress=False)
    assert np.isfinite(result.losses).all()
    with pytest.raises(ValueError, match="pairs"):
        fit(get_model("dgnet", 2, hidden=8), spring, steps=2, horizon=3, progress=False)


def test_training_resumes_from_a_checkpoint_bit_for_bit(spring, tmp_path):
    def run(steps, ckpt):
        torch.manual_seed(0)
        model = get_model("hnn", 2, hidden=16)
        return model, fit(
            model, spring, steps=steps, batch_size=40, checkpoint=ckpt, checkpoint_every=5, progress=False
        )

    _, full = run(20, None)
    ckpt = tmp_path / "ckpt.pt"
    run(10, ckpt)  # "interrupted" after 10 steps: the checkpoint holds step 10
    state = torch.load(ckpt, weights_only=True)
    state["config"]["steps"] = 20  # a resumed run asks for the full length
    torch.save(state, ckpt)
    model, resumed = run(20, ckpt)
    assert np.array_equal(resumed.losses, full.losses)
    # the speed covers all 20 steps: the first 10 timed by the interrupted call, kept in the checkpoint
    assert resumed.steps_run == 20 and resumed.seconds > state["seconds"] > 0
    _, again = run(20, ckpt)  # a finished checkpoint: nothing to train, the speed is the recorded one
    assert again.steps_run == 20 and again.seconds >= resumed.seconds and len(again.losses) == 20
    state = torch.load(ckpt, weights_only=True)
    del state["seconds"]  # a checkpoint made before they kept the time: only this call's steps are timed
    torch.save(state, ckpt)
    _, untimed = run(20, ckpt)
    assert untimed.steps_run == 0 and np.isnan(untimed.iterations_per_second)

    # the callback sees every optimiser step once, after it: the loss of the model it is handed,
    # recomputed on the full batch, is the next step's recorded loss
    torch.manual_seed(0)
    model = get_model("hnn", 2, hidden=16)
    seen, windows = [], torch.as_tensor(spring.windows(1))
    history = fit(
        model,
        spring,
        steps=6,
        progress=False,
        callback=lambda k, m: seen.append((k, m.loss(windows, spring.dt).item())),
    )
    assert [k for k, _ in seen] == list(range(1, 7))
    np.testing.assert_allclose([loss for _, loss in seen[:-1]], history.losses[1:], rtol=1e-12)


def test_rollout_metrics_of_the_true_system_are_zero_for_an_exact_model():
    class Exact(torch.nn.Module):
        name = "exact"

        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(()))

        def rollout(self, u0, t, method, **options):
            from randfield.dynamics import integrate

            return integrate(lambda u: 2 * torch.cat([u[:, 1:], -u[:, :1]], -1), u0, t, "rk4", substeps=50)

    m = rollout_metrics(Exact(), "spring", "rk4")
    assert m.state_mse < 1e-17 and m.energy_mse < 1e-17
    # DGNet's evaluation protocol: |x_i| ~ U[0.2, 1] with random signs, any energy function
    from randfield.dynamics.metrics import evaluation_set

    t, u0, ref = evaluation_set("spring", 200, protocol="dgnet")
    assert np.all((np.abs(u0) >= 0.2) & (np.abs(u0) <= 1.0)) and (u0 < 0).any() and (u0 > 0).any()
    m = rollout_metrics(Exact(), "spring", "rk4", (t, u0, ref), energy=lambda u: np.sum(u**2, -1))
    assert m.energy_mse < 1e-17
    with pytest.raises(ValueError, match="protocol must be"):
        evaluation_set("spring", protocol="hnn")
    with pytest.raises(ValueError, match="two_body"):
        evaluation_set("two_body", protocol="dgnet")


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="unknown model 'hamiltonian'.*dgnet"):
        get_model("hamiltonian", 2)
    with pytest.raises(ValueError, match="train_integrator"):
        get_model("hnn", 2, train_integrator="leapfrog")
    with pytest.raises(ValueError, match="even"):
        get_model("hnn", 3)
    with pytest.raises(ValueError, match="steps"):
        fit(get_model("hnn", 2), data.generate("spring", 2, n_points=5), steps=0, progress=False)

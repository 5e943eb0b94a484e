"""The CUDA path (run with `pytest -m gpu` on a machine with a GPU; skipped elsewhere)."""

import numpy as np
import pytest
import torch

from randfield.dynamics import data, fit, get_model

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


@pytest.mark.parametrize("system, method", [("spring", "dg"), ("kdv", "dg"), ("spring", "dopri5")])
def test_rollouts_on_cuda_match_cpu(system, method):
    sys_ = data.get_system(system)
    torch.manual_seed(0)
    model = get_model("dgnet", sys_.dim, hidden=16, **sys_.model_options())
    u0 = torch.as_tensor(sys_.sample_initial(np.random.default_rng(0), 4))
    t = np.arange(11) * (0.1 if system == "spring" else sys_.dt)
    with torch.no_grad():
        cpu = model.rollout(u0, t, method)
        gpu = model.cuda().rollout(u0.cuda(), t, method).cpu()
    assert torch.allclose(cpu, gpu, rtol=1e-9, atol=1e-10)


def test_training_on_cuda_reduces_the_loss():
    d = data.generate("spring", 8, seed=3, n_points=30, noise_std=0.0)
    torch.manual_seed(0)
    model = get_model("dgnet", 2, hidden=32)
    result = fit(model, d, steps=100, lr=1e-2, weight_decay=0.0, device="cuda", progress=False)
    assert result.losses[-1] < result.losses[0] / 10

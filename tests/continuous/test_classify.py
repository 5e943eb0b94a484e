"""The classifier experiment (randfield.continuous.classify): architectures, measured memory, data files,
training with checkpoints and resume."""

import numpy as np
import pytest
import torch

from randfield.continuous.blocks import ODEBlock
from randfield.continuous.classify import (
    ARCHITECTURES,
    activation_bytes,
    build_classifier,
    load_data,
    train_classifier,
)


def test_every_architecture_classifies_and_the_ode_net_is_small():
    x = torch.randn(3, 1, 8, 8)
    counts = {}
    for arch in ARCHITECTURES:
        model = build_classifier(arch)
        assert model(x).shape == (3, 10)
        counts[arch] = sum(p.numel() for p in model.parameters())
    assert counts["odenet"] <= 0.4 * counts["resnet"] and counts["rknet"] == counts["odenet"]
    with pytest.raises(ValueError, match="arch must be one of mlp, resnet"):
        build_classifier("transformer")


def test_ode_net_training_memory_is_flat_in_the_solver_steps():
    model = build_classifier("odenet", channels=8)
    block = next(m for m in model.modules() if isinstance(m, ODEBlock))
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 10, (16,))
    mem = {}
    for gradient in ("adjoint", "backprop"):
        for steps in (1, 16):
            block.method, block.gradient, block.options = "rk4", gradient, {"substeps": steps}
            mem[gradient, steps] = activation_bytes(model, x, y)
    assert mem["adjoint", 1] == mem["adjoint", 16]
    assert mem["backprop", 16] > 8 * (mem["backprop", 1] - mem["adjoint", 1]) + mem["adjoint", 1]


def test_training_resumes_from_its_checkpoint(tmp_path):
    data = load_data("digits")
    straight = train_classifier("mlp", data, epochs=3, seed=1)
    ck = str(tmp_path / "ck.pt")
    first = train_classifier("mlp", data, epochs=3, seed=1, checkpoint=ck)
    again = train_classifier("mlp", data, epochs=3, seed=1, checkpoint=ck)  # nothing left to do: resumed at 3
    assert straight.test_error == first.test_error == again.test_error
    assert straight.test_error < 0.2


def test_local_mnist_files(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 20),
        "x_test": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 5),
    }
    np.savez(tmp_path / "m.npz", **arrays)
    data = load_data("file", str(tmp_path / "m.npz"))
    assert data.x_train.shape == (20, 1, 28, 28) and float(data.x_train.max()) <= 1.0
    folder = tmp_path / "idx"
    folder.mkdir()
    files = [
        ("train-images-idx3-ubyte", "x_train", 3),
        ("train-labels-idx1-ubyte", "y_train", 1),
        ("t10k-images-idx3-ubyte", "x_test", 3),
        ("t10k-labels-idx1-ubyte", "y_test", 1),
    ]
    for stem, key, magic in files:
        a = arrays[key].astype(np.uint8)
        header = bytes([0, 0, 8, magic]) + b"".join(int(n).to_bytes(4, "big") for n in a.shape)
        (folder / stem).write_bytes(header + a.tobytes())
    idx = load_data("file", str(folder))
    assert torch.equal(idx.x_test, data.x_test) and torch.equal(idx.y_train, data.y_train)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(b"garbage!")
    with pytest.raises(ValueError, match="idx"):
        load_data("file", str(folder))
    with pytest.raises(ValueError, match="does not exist"):
        load_data("file", str(tmp_path / "nope.npz"))

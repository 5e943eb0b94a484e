"""The classifier experiment of Chen et al. 2018 (Table 1), on data that ships: MLP, ResNet, RK-Net,
ODE-Net and RevNet on scikit-learn's 8 x 8 digits (or a local MNIST file), with parameters, measured
activation memory, time per epoch and NFE.

Architectures (as in the paper, scaled to 8 x 8 images): a downsampling stem conv(1 -> C) + norm + ReLU;
then six ResBlocks (each its own f), or one RKBlock (RK4 steps through the same kind of f, backprop),
one ODEBlock (dopri5, adjoint), three RevBlocks (couplings of C/2-channel convs), and a head norm +
ReLU + linear on the whole feature map (8 x 8 is too small to pool); f = norm, ReLU, conv, norm, ReLU,
conv, norm (Chen et al.'s ODEfunc, autonomous). The 1-layer MLP: one hidden layer of 300 units.

Memory is measured, not estimated: the bytes of the tensors autograd saves for the backward pass of one
training batch (saved-tensor hooks), which is what grows with depth for backprop and stays flat for the
adjoint.
"""

from __future__ import annotations

import gzip
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._names import CLASSIFIER_ARCHITECTURES
from .blocks import ODEBlock, ResBlock, RevBlock, RKBlock

ARCHITECTURES = CLASSIFIER_ARCHITECTURES
DATASETS = ("digits",)


@dataclass(frozen=True)
class Data:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    name: str


def _split(x: np.ndarray, y: np.ndarray, name: str, test_fraction: float = 0.2) -> Data:
    order = np.random.default_rng(0).permutation(len(x))  # one fixed split, whatever the training seed
    n_test = int(round(test_fraction * len(x)))
    te, tr = order[:n_test], order[n_test:]
    t = lambda a, dt: torch.as_tensor(a, dtype=dt)  # noqa: E731
    return Data(t(x[tr], torch.float32), t(y[tr], torch.long), t(x[te], torch.float32), t(y[te], torch.long), name)


def _read_idx(path: Path) -> np.ndarray:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 8 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"data: {str(path)!r} is not an idx file of unsigned bytes")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != math.prod(shape):
        raise ValueError(f"data: {str(path)!r} is truncated ({body.size} values for shape {shape})")
    return body.reshape(shape).copy()


def load_data(name: str = "digits", path: str | None = None) -> Data:
    """'digits' (scikit-learn's bundled 1797 images, 8 x 8, fixed 80/20 split) or MNIST from a local file:
    an .npz with x_train, y_train, x_test, y_test, or a folder with the four idx files (optionally .gz).
    Nothing is downloaded."""
    if path is None:
        if name != "digits":
            raise ValueError(f"data must be one of {', '.join(DATASETS)} or a local MNIST file (--data PATH)")
        from sklearn.datasets import load_digits

        d = load_digits()
        return _split(d.images[:, None] / 16.0, d.target, "digits")
    p = Path(path)
    if p.is_dir():
        names = [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ]
        files = []
        for n in names:
            found = [c for c in (p / n, p / (n + ".gz")) if c.exists()]
            if not found:
                raise ValueError(f"data: {str(p)!r} has no {n}[.gz]")
            files.append(_read_idx(found[0]))
        xtr, ytr, xte, yte = files
    elif p.is_file():
        from .._io import read_npz

        arrays = read_npz(p, "MNIST file", ["x_train", "y_train", "x_test", "y_test"])
        xtr, ytr, xte, yte = (arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    else:
        raise ValueError(f"data: {str(p)!r} does not exist")
    if xtr.ndim != 3 or len(xtr) != len(ytr) or xte.ndim != 3 or len(xte) != len(yte):
        raise ValueError(f"data: {str(p)!r} must hold images (N, H, W) with one label each")
    scale = 255.0 if xtr.max() > 1 else 1.0
    t = torch.as_tensor
    return Data(
        t(xtr[:, None] / scale, dtype=torch.float32), t(ytr, dtype=torch.long),
        t(xte[:, None] / scale, dtype=torch.float32), t(yte, dtype=torch.long), p.name,
    )  # fmt: skip


def _norm(c: int) -> nn.Module:
    return nn.GroupNorm(min(8, c), c)


def conv_field(c: int) -> nn.Module:
    """Chen et al.'s ODEfunc without the time channel: norm, ReLU, conv, norm, ReLU, conv, norm."""
    return nn.Sequential(
        _norm(c), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1), _norm(c), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1), _norm(c)
    )


def build_classifier(
    arch: str,
    *,
    channels: int = 32,
    image_size: int = 8,
    n_classes: int = 10,
    rtol: float = 1e-3,
    atol: float = 1e-3,
    rk_steps: int = 2,
) -> nn.Module:
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {', '.join(ARCHITECTURES)}; got {arch!r}")
    if arch == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(image_size**2, 300), nn.ReLU(), nn.Linear(300, n_classes))
    c = channels
    if arch == "resnet":
        body = nn.Sequential(*(ResBlock(conv_field(c)) for _ in range(6)))
    elif arch == "rknet":
        body = RKBlock(conv_field(c), T=1.0, steps=rk_steps)
    elif arch == "odenet":
        body = ODEBlock(conv_field(c), T=1.0, method="dopri5", gradient="adjoint", rtol=rtol, atol=atol)
    else:
        body = nn.Sequential(*(RevBlock(conv_field(c // 2), conv_field(c // 2), dim=1) for _ in range(3)))
    stem = nn.Sequential(nn.Conv2d(1, c, 3, padding=1), _norm(c), nn.ReLU())
    # 8 x 8 images are too small to pool away their layout: the head reads the whole feature map
    head = nn.Sequential(_norm(c), nn.ReLU(), nn.Flatten(), nn.Linear(c * image_size**2, n_classes))
    return nn.Sequential(stem, body, head)


def ode_blocks(model: nn.Module) -> list[ODEBlock]:
    return [m for m in model.modules() if isinstance(m, ODEBlock)]


def activation_bytes(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """Bytes of the tensors autograd keeps for the backward pass of one batch (parameters excluded)."""
    params = {p.data_ptr() for p in model.parameters()}
    total = 0

    def pack(t):
        nonlocal total
        if t.data_ptr() not in params:
            total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    model.zero_grad()
    return total


@dataclass
class ClassifierResult:
    arch: str
    seed: int
    test_error: float
    parameters: int
    activation_mib: float
    seconds_per_epoch: float
    nfe_forward: float | None = None  # per batch, last epoch (ODE-Net)
    nfe_backward: float | None = None
    nfe_history: list = field(default_factory=list)  # per epoch: mean forward NFE per batch
    epochs: int = 0
    model: nn.Module | None = field(default=None, repr=False, compare=False)  # the trained model


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 512) -> float:
    model.eval()
    wrong = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            wrong += int((model(x[i : i + batch]).argmax(-1) != y[i : i + batch]).sum())
    model.train()
    return wrong / len(x)


def train_classifier(
    arch: str,
    data: Data,
    *,
    epochs: int = 15,
    batch: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    channels: int = 32,
    checkpoint: str | None = None,
    progress: bool = False,
    **arch_options,
) -> ClassifierResult:
    """Adam with a cosine schedule; resumable from `checkpoint` (model, optimiser, RNG, epoch)."""
    from tqdm.auto import tqdm

    from .._io import atomic_write_bytes, load_weights, read_torch

    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    torch.manual_seed(seed)
    model = build_classifier(arch, channels=channels, image_size=data.x_train.shape[-1], **arch_options)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    gen = torch.Generator().manual_seed(seed)
    config = {"arch": arch, "epochs": epochs, "batch": batch, "lr": lr, "seed": seed, "channels": channels}
    start, seconds, history, nfe = 0, 0.0, [], (None, None)
    if checkpoint is not None and Path(checkpoint).exists():
        state = read_torch(checkpoint, "classifier checkpoint", ["config", "model", "optimiser", "epoch"])
        if state["config"] != config:
            raise ValueError(f"checkpoint {checkpoint} was made with a different config: {state['config']}")
        load_weights(model, state["model"], checkpoint, "classifier checkpoint")
        opt.load_state_dict(state["optimiser"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["generator"])
        start, seconds, history = state["epoch"], state["seconds"], list(state["history"])
    n = len(data.x_train)
    bar = tqdm(range(start, epochs), disable=not progress, desc=f"classify {arch}", leave=False)
    for epoch in bar:
        tic = time.perf_counter()
        order = torch.randperm(n, generator=gen)
        fwd, bwd, batches = 0, 0, 0
        for i in range(0, n, batch):
            idx = order[i : i + batch]
            loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            for block in ode_blocks(model):
                fwd, bwd = fwd + block.stats.nfe_forward, bwd + block.stats.nfe_backward
            batches += 1
        sched.step()
        seconds += time.perf_counter() - tic
        if ode_blocks(model):
            history.append(fwd / batches)
            nfe = (fwd / batches, bwd / batches)
        bar.set_postfix(loss=loss.item())
        if checkpoint is not None:
            import io

            buf = io.BytesIO()
            torch.save(
                {
                    "format": "randfield classifier checkpoint", "config": config, "model": model.state_dict(),
                    "optimiser": opt.state_dict(), "scheduler": sched.state_dict(), "generator": gen.get_state(),
                    "epoch": epoch + 1, "seconds": seconds, "history": history,
                },
                buf,
            )  # fmt: skip
            atomic_write_bytes(checkpoint, buf.getvalue())
    memory = activation_bytes(model, data.x_train[:batch], data.y_train[:batch]) / 2**20
    return ClassifierResult(
        arch, seed, evaluate(model, data.x_test, data.y_test), sum(p.numel() for p in model.parameters()),
        memory, seconds / epochs, nfe[0], nfe[1], history, epochs, model,
    )  # fmt: skip


def result_dict(result: ClassifierResult) -> dict:
    """The result as plain data (the model left out)."""
    return {k: v for k, v in asdict(replace(result, model=None)).items() if k != "model"}


class _DenseField(nn.Module):
    """dh/dt = (sigma_w / sqrt(N)) W phi(h) + sigma_b b: the mean-field net's layer as a vector field."""

    def __init__(self, width: int, sigma_w2: float, sigma_b2: float):
        super().__init__()
        self.lin = nn.Linear(width, width)
        nn.init.normal_(self.lin.weight, std=math.sqrt(sigma_w2 / width))
        nn.init.normal_(self.lin.bias, std=math.sqrt(sigma_b2))

    def forward(self, h):
        return self.lin(torch.tanh(h))


def trainability(
    kind: str,
    sigma_w2: float,
    sigma_b2: float,
    depth: float,
    data: Data,
    *,
    width: int = 64,
    steps: int = 300,
    batch: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    steps_per_unit: int = 2,
) -> float:
    """Test error on `data` after `steps` Adam steps of a tanh net initialised at (sigma_w^2, sigma_b^2)
    (W ~ N(0, sigma_w^2 / N), b ~ N(0, sigma_b^2) in every layer): kind "plain" has `depth` hidden layers
    h <- W tanh(h) + b; kind "ode" integrates dh/dt = W tanh(h) + b over [0, T = depth] (RK4,
    `steps_per_unit` steps per unit time, backprop). Input and read-out layers are dense."""
    if kind not in ("plain", "ode"):
        raise ValueError(f"kind must be 'plain' or 'ode', got {kind!r}")
    torch.manual_seed(seed)
    d = data.x_train[0].numel()
    first = nn.Linear(d, width)
    nn.init.normal_(first.weight, std=math.sqrt(sigma_w2 / d))
    nn.init.normal_(first.bias, std=math.sqrt(sigma_b2))
    if kind == "plain":
        body = nn.Sequential(*(_DenseField(width, sigma_w2, sigma_b2) for _ in range(int(depth))))
    else:
        body = RKBlock(
            _DenseField(width, sigma_w2, sigma_b2), T=float(depth), steps=max(1, round(steps_per_unit * depth))
        )
    model = nn.Sequential(nn.Flatten(), first, body, nn.Tanh(), nn.Linear(width, 10))
    x = (data.x_train - data.x_train.mean()) / data.x_train.std()
    xt = (data.x_test - data.x_train.mean()) / data.x_train.std()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (batch,), generator=gen)
        loss = nn.functional.cross_entropy(model(x[idx]), data.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if not torch.isfinite(loss):
            return 1.0 - 1.0 / 10  # diverged: chance level
    return evaluate(model, xt, data.y_test)

"""Simulation of wide random networks, layer by layer, with error bars over independent networks.

A batch of S independent networks is run at once: pre-activations h have shape
(S, n_inputs, width) and each layer is one batched matmul (torch.bmm) with freshly drawn
weights, which are discarded after use, so memory is O(S * n_inputs * width + S * width^2)
whatever the depth. Per layer l = 1..depth the engine records, for every network,

* q^l   = mean_i (h_i^l)^2 for each input,
* c^l   = (1/N) sum_i h_i^l(a) h_i^l(b) / sqrt(q_a q_b) for consecutive input pairs (a, b),
* chi1^l = |J_l p|^2 / |p|^2 for a random Gaussian probe p, J_l = dh^{l+1}/dh^l, a
  Jacobian-vector product computed in the same pass as the forward map; its mean is
  |J_l|_F^2 / N, the mean squared singular value of the layer Jacobian (chi_1 at width -> infinity),
* length2^l = |dh^l/dtheta|^2 / N and curvature^l = N kappa^2 of the image of the input circle
  (Poole et al. 2016), from the exact velocity and acceleration carried through the layers.

Means and standard errors are taken over the S networks (independent, hence honest error bars).

Sampling. Gaussian weights are used once, so given a layer's input only the products of the
rows R = [phi(h); phi'(h) * v] (2n x N) with W matter, and those are exactly Gaussian:
the columns of R W are i.i.d. N(0, R R^T). The default sampler ("gram") therefore draws
R W as (R R^T)^{1/2} Z with Z of shape (2n, N): 2nN random numbers and O(n^2 N) flops per
network and layer instead of N^2 and O(n N^2), and the same law as the explicit product.
sampler="explicit" draws W itself (always used for orthogonal weights).
Network: h^1 = (sigma_w / sqrt(d)) W^1 x + sigma_b b^1, h^{l+1} = (sigma_w / sqrt(N)) W^{l+1} phi(h^l)
+ sigma_b b^{l+1} (W standard normal, or sqrt(N) times a Haar orthogonal matrix); residual
layers add the branch: h^{l+1} = h^l + alpha ((sigma_w / sqrt(N)) W phi(h^l) + sigma_b b).
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .._io import FileFormatError, atomic_write_bytes, provenance, read_npz, read_torch
from .._validation import check_correlation, check_memory, check_positive_int, check_variance
from ..activations import get_activation
from .empirical import default_device

WEIGHTS = ("gaussian", "orthogonal")
ARRAYS = ("q", "c", "chi1", "length2", "curvature")


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that determines a simulation (saved with its results).

    Inputs: `n_inputs` points on a great circle of radius sqrt(q_input d) in R^d, consecutive
    points at correlation `c_input` (angle arccos(c_input)); pairs (0, 1), (1, 2), ... are measured.
    """

    activation: str
    sigma_w2: float
    sigma_b2: float
    width: int = 1000
    depth: int = 20
    n_networks: int = 16
    n_inputs: int = 2
    d: int = 64
    q_input: float = 1.0
    c_input: float = 0.5
    weights: str = "gaussian"
    branch_scale: float | None = None
    seed: int = 0
    dtype: str = "float64"
    sampler: str = "auto"

    def __post_init__(self):
        get_activation(self.activation)
        check_variance(self.sigma_w2, "sigma_w2")
        check_variance(self.sigma_b2, "sigma_b2")
        for name in ("width", "depth", "n_networks", "n_inputs", "d"):
            check_positive_int(getattr(self, name), name)
        check_variance(self.q_input, "q_input", positive=True)
        check_correlation(self.c_input, "c_input")
        if self.weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {WEIGHTS}, got {self.weights!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if self.sampler not in ("auto", "gram", "explicit"):
            raise ValueError(f"sampler must be 'auto', 'gram' or 'explicit', got {self.sampler!r}")
        if self.sampler == "gram" and self.weights != "gaussian":
            raise ValueError("sampler='gram' needs Gaussian weights (orthogonal matrices are drawn explicitly)")
        if self.n_inputs < 2:
            raise ValueError("n_inputs must be >= 2 (correlations are measured between consecutive inputs)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def memory_bytes(self) -> int:
        """Peak size of the engine's arrays: h, v, a, the probe, the stacked rows and their product
        (S x n x width each, 11 in all), plus S explicit width x width weights unless Gram-sampled."""
        itemsize = 4 if self.dtype == "float32" else 8
        gram = self.sampler == "gram" or (self.sampler == "auto" and self.weights == "gaussian")
        per_network = 11 * self.n_inputs * self.width + (0 if gram else 2 * self.width * self.width)
        return itemsize * self.n_networks * per_network


@dataclass(frozen=True)
class SimulationResult:
    """Per-network measurements, layer l = 1..depth on axis 1 (axis 0: networks)."""

    config: SimulationConfig
    q: np.ndarray  # (S, depth, n_inputs)
    c: np.ndarray  # (S, depth, n_inputs - 1)
    chi1: np.ndarray  # (S, depth - 1)
    length2: np.ndarray  # (S, depth, n_inputs): |d h / d theta|^2 / N along the input circle
    curvature: np.ndarray  # (S, depth, n_inputs): N kappa^2, normalised squared extrinsic curvature

    def mean_and_stderr(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        x = getattr(self, name)
        s = x.shape[0]
        return x.mean(0), (x.std(0, ddof=1) / math.sqrt(s) if s > 1 else np.full(x.shape[1:], np.inf))

    def save(self, path: str | Path) -> None:
        """NPZ with the arrays and a JSON string of the config and randfield version (atomic)."""
        buf = io.BytesIO()
        meta = json.dumps(provenance(self.config.to_dict()))
        np.savez(buf, **{k: getattr(self, k) for k in ARRAYS}, meta=np.array(meta))
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> SimulationResult:
        """Read a file written by `save` (as data only: no pickles), checking its config and shapes."""
        arrays = read_npz(path, "simulation result", (*ARRAYS, "meta"))
        try:
            config = SimulationConfig(**json.loads(str(arrays.pop("meta")))["config"])
        except (ValueError, TypeError, KeyError) as err:
            raise FileFormatError(f"simulation result {str(path)!r}: its config is unreadable ({err})") from None
        s, depth, n = config.n_networks, config.depth, config.n_inputs
        shapes = {"q": (s, depth, n), "c": (s, depth, n - 1), "chi1": (s, max(depth - 1, 0))}
        shapes |= {"length2": (s, depth, n), "curvature": (s, depth, n)}
        for key, shape in shapes.items():
            if arrays[key].shape != shape:
                raise FileFormatError(
                    f"simulation result {str(path)!r}: {key} has shape {arrays[key].shape}, its config says {shape}"
                )
            if not np.issubdtype(arrays[key].dtype, np.floating):
                raise FileFormatError(f"simulation result {str(path)!r}: {key} holds {arrays[key].dtype} values")
        for key in ("q", "c", "chi1"):  # measured from finite networks: never NaN unless the file is corrupt
            if not np.isfinite(arrays[key]).all():
                raise FileFormatError(f"simulation result {str(path)!r}: {key} contains NaN or inf")
        return cls(config, **arrays)


def great_circle_inputs(n: int, d: int, q_input: float, c_input: float) -> np.ndarray:
    """n points on a great circle in R^d with |x|^2 / d = q_input, consecutive correlation c_input."""
    theta = math.acos(c_input) * np.arange(n)
    x = np.zeros((n, d))
    x[:, 0], x[:, 1] = np.cos(theta), np.sin(theta)
    return x * math.sqrt(q_input * d)


def _weights(gen, s, fan_in, fan_out, kind, device, dtype):
    w = torch.randn(s, fan_in, fan_out, generator=gen, device=device, dtype=dtype)
    if kind == "orthogonal":  # Haar: QR of a Gaussian matrix with the sign of R's diagonal fixed
        tall = fan_in >= fan_out
        q, r = torch.linalg.qr(w if tall else w.transpose(1, 2))
        q = q * torch.sign(torch.diagonal(r, dim1=1, dim2=2)).unsqueeze(1)
        # orthonormal columns (tall) or rows (wide) have entries of variance 1/max(fan_in, fan_out):
        # rescale to variance 1 like the Gaussian case
        w = (q if tall else q.transpose(1, 2)) * math.sqrt(max(fan_in, fan_out))
    return w


def _gram_product(rows: torch.Tensor, fan_out: int, gen, scale: float) -> torch.Tensor:
    """scale * rows @ W for W (N, fan_out) i.i.d. N(0, 1), in law: (rows rows^T)^{1/2} Z, Z ~ N(0, 1)."""
    gram = (rows @ rows.transpose(1, 2)).double()
    evals, evecs = torch.linalg.eigh(gram)
    root = (evecs * evals.clamp(min=0).sqrt().unsqueeze(1)) @ evecs.transpose(1, 2)
    z = torch.randn(rows.shape[0], rows.shape[1], fan_out, generator=gen, device=rows.device, dtype=rows.dtype)
    return scale * root.to(rows.dtype) @ z


def simulate(
    config: SimulationConfig,
    *,
    device=None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 10,
    progress: bool = False,
) -> SimulationResult:
    """Run the simulation described by `config` (see the module docstring).

    Each layer multiplies one stack of rows by the layer's weights: phi(h) (the forward map),
    phi'(h) v and phi'(h) a + phi''(h) v^2 (velocity v and acceleration a of the input circle's
    image, exact forward-mode derivatives in theta), and phi'(h) p for a random probe p (the
    Jacobian-vector product that estimates chi_1): the dense layer's forward-mode derivatives in
    closed form, computed in the same product as the forward map. tests/test_simulate.py checks
    the propagated tangent against finite differences along the circle in the same network.

    Args:
        device: torch device; default CUDA when available, else CPU.
        checkpoint: file to save progress to every `checkpoint_every` layers; an existing
            checkpoint of the same config is resumed from (same result as an uninterrupted run).
        progress: show a tqdm bar over layers.
    """
    cfg = config
    device = torch.device(device) if device is not None else default_device()
    available = torch.cuda.get_device_properties(device).total_memory if device.type == "cuda" else None
    check_memory(cfg.memory_bytes(), f"simulating {cfg.n_networks} networks of width {cfg.width}", available)
    dtype = getattr(torch, cfg.dtype)
    act = get_activation(cfg.activation)
    s, n, width = cfg.n_networks, cfg.n_inputs, cfg.width
    sw, sb = math.sqrt(cfg.sigma_w2), math.sqrt(cfg.sigma_b2)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    gram = cfg.sampler == "gram" or (cfg.sampler == "auto" and cfg.weights == "gaussian")
    out = {
        "q": np.zeros((s, cfg.depth, n)),
        "c": np.zeros((s, cfg.depth, n - 1)),
        "chi1": np.zeros((s, max(cfg.depth - 1, 0))),
        "length2": np.zeros((s, cfg.depth, n)),
        "curvature": np.zeros((s, cfg.depth, n)),
    }

    def product(rows, fan_in):
        """rows @ W * sigma_w / sqrt(fan_in), W (fan_in, width) drawn afresh (in law for the Gram sampler)."""
        scale = sw / math.sqrt(fan_in)
        if gram:
            return _gram_product(rows, width, gen, scale)
        return torch.matmul(rows, _weights(gen, s, fan_in, width, cfg.weights, device, dtype)) * scale

    def bias():
        return sb * torch.randn(s, 1, width, generator=gen, device=device, dtype=dtype)

    start = 1
    ckpt = Path(checkpoint) if checkpoint else None
    if ckpt is not None and ckpt.exists():
        state = read_torch(ckpt, "simulation checkpoint", ("config", "h", "v", "a", "layer", "rng", *out))
        if state["config"] != cfg.to_dict():
            raise ValueError(f"checkpoint {ckpt} was made with a different config; remove it or change the path")
        layer = state["layer"]
        expected = {k: (s, layer + 1 - (k == "chi1"), *out[k].shape[2:]) for k in out}
        expected |= {k: (s, n, width) for k in ("h", "v", "a")}
        for key, shape in expected.items():
            value = state[key]
            if not isinstance(value, torch.Tensor) or tuple(value.shape) != shape or not torch.isfinite(value).all():
                raise FileFormatError(
                    f"simulation checkpoint {str(ckpt)!r}: {key} is not a finite array of shape {shape}"
                )
        h, v, a = (state[k].to(device=device, dtype=dtype) for k in ("h", "v", "a"))
        start = layer + 1
        gen.set_state(state["rng"])
        for k in out:
            out[k][:, : start - (k == "chi1")] = state[k].numpy()
    else:
        x = great_circle_inputs(n, cfg.d, cfg.q_input, cfg.c_input)
        theta = math.acos(cfg.c_input) * np.arange(n)
        dx = np.zeros_like(x)  # d x / d theta on the circle; d^2 x / d theta^2 = -x
        dx[:, 0], dx[:, 1] = -np.sin(theta), np.cos(theta)
        dx *= math.sqrt(cfg.q_input * cfg.d)
        rows = torch.as_tensor(np.concatenate([x, dx, -x]), device=device, dtype=dtype).expand(s, 3 * n, cfg.d)
        p = product(rows.contiguous(), cfg.d)
        h, v, a = p[:, :n] + bias(), p[:, n : 2 * n], p[:, 2 * n :]

    def record(layer):
        qq = (h * h).mean(-1)
        out["q"][:, layer] = qq.cpu().numpy()
        out["c"][:, layer] = ((h[:, :-1] * h[:, 1:]).mean(-1) / torch.sqrt(qq[:, :-1] * qq[:, 1:])).cpu().numpy()
        vv, aa, va = (v * v).sum(-1), (a * a).sum(-1), (v * a).sum(-1)
        out["length2"][:, layer] = (vv / width).cpu().numpy()
        # normalised squared extrinsic curvature N kappa^2, kappa^2 = (|v|^2 |a|^2 - (v.a)^2) / |v|^6
        out["curvature"][:, layer] = (width * (vv * aa - va * va) / vv**3).cpu().numpy()

    if start == 1:
        record(0)
    layers = range(start, cfg.depth)
    if progress:
        from tqdm import tqdm

        layers = tqdm(layers, desc="layers", unit="layer", initial=start, total=cfg.depth)
    alpha = cfg.branch_scale
    for layer in layers:
        probe = torch.randn(s, n, width, generator=gen, device=device, dtype=dtype)
        phi, dphi, d2phi = act.derivatives(h)
        rows = torch.cat([phi, dphi * v, dphi * a + d2phi * v * v, dphi * probe], 1)
        p = product(rows, width)
        branch, dv, da, jv = p[:, :n] + bias(), p[:, n : 2 * n], p[:, 2 * n : 3 * n], p[:, 3 * n :]
        if alpha is None:
            h, v, a = branch, dv, da
        else:
            h, v, a, jv = h + alpha * branch, v + alpha * dv, a + alpha * da, probe + alpha * jv
        out["chi1"][:, layer - 1] = ((jv * jv).sum(-1) / (probe * probe).sum(-1)).mean(-1).cpu().numpy()
        record(layer)
        if ckpt is not None and (layer % checkpoint_every == 0 or layer == cfg.depth - 1):
            buf = io.BytesIO()
            # tensors, not numpy arrays: the checkpoint must load with weights_only=True
            saved = {k: torch.from_numpy(val[:, : layer + 1 - (k == "chi1")].copy()) for k, val in out.items()}
            torch.save(
                {
                    "format": "randfield simulation checkpoint",
                    "config": cfg.to_dict(),
                    "h": h.cpu(),
                    "v": v.cpu(),
                    "a": a.cpu(),
                    "layer": layer,
                    "rng": gen.get_state(),
                    **saved,
                },
                buf,
            )
            atomic_write_bytes(ckpt, buf.getvalue())
    return SimulationResult(cfg, **out)

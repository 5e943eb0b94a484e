"""Empirical NNGP and NTK of finite random dense networks, averaged over independent draws.

Networks are in NTK parameterisation, h^{l+1} = (sigma_w / sqrt(N_l)) W^{l+1} phi(h^l) + sigma_b b^{l+1}
with standard-normal W, b, matching `randfield.blocks.dense_network`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .._validation import as_float_array, check_positive_int, check_variance
from ..activations import Activation, get_activation


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class RandomNets(NamedTuple):
    """The validated settings of a Monte-Carlo run over S random nets and its seeded generator."""

    act: Activation
    sigma_w2: float
    sigma_b2: float
    depth: int
    width: int
    n_networks: int
    device: torch.device
    dtype: torch.dtype
    generator: torch.Generator


def random_nets(activation, sigma_w2, sigma_b2, depth, width, n_networks, seed, device, dtype) -> RandomNets:
    """Check a run's arguments (ValueError naming the parameter); device None means CUDA when present."""
    device = torch.device(device) if device is not None else default_device()
    return RandomNets(
        get_activation(activation),
        float(check_variance(sigma_w2, "sigma_w2")),
        float(check_variance(sigma_b2, "sigma_b2")),
        check_positive_int(depth, "depth"),
        check_positive_int(width, "width"),
        check_positive_int(n_networks, "n_networks"),
        device,
        getattr(torch, dtype),
        torch.Generator(device=device).manual_seed(seed),
    )


class MonteCarloEstimate(NamedTuple):
    """Mean over independent networks and its standard error (std / sqrt(n_networks))."""

    mean: np.ndarray
    stderr: np.ndarray
    n_networks: int


class DenseNetwork(nn.Module):
    """A dense network in NTK parameterisation with `depth` hidden layers of `width` units."""

    def __init__(
        self,
        d: int,
        width: int,
        depth: int,
        activation: str | Activation,
        sigma_w2: float,
        sigma_b2: float,
        out: int = 1,
        *,
        generator: torch.Generator | None = None,
        dtype=torch.float64,
        device=None,
    ):
        super().__init__()
        dims = [check_positive_int(d, "d")] + [check_positive_int(width, "width")] * check_positive_int(depth, "depth")
        dims.append(check_positive_int(out, "out"))
        self.act = get_activation(activation)
        self.sigma_w = math.sqrt(float(check_variance(sigma_w2, "sigma_w2")))
        self.sigma_b = math.sqrt(float(check_variance(sigma_b2, "sigma_b2")))
        kw = dict(generator=generator, dtype=dtype, device=device)
        self.weights = nn.ParameterList(nn.Parameter(torch.randn(o, i, **kw)) for i, o in zip(dims[:-1], dims[1:]))
        self.biases = nn.ParameterList(nn.Parameter(torch.randn(o, **kw)) for o in dims[1:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            if layer > 0:
                h = self.act.phi(h)
            h = (self.sigma_w / math.sqrt(w.shape[1])) * h @ w.T + self.sigma_b * b
        return h


def empirical_ntk(model: nn.Module, x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
    """Theta(x1_i, x2_j) = sum_p df(x1_i)/dp . df(x2_j)/dp, averaged over output units: (n1, n2).

    Jacobians by torch.func (jacrev, vmapped over inputs), contracted parameter by parameter.
    """
    from torch.func import functional_call, jacrev, vmap

    params = {k: v.detach() for k, v in model.named_parameters()}

    def f(p, x):
        return functional_call(model, p, (x[None],))[0]

    jac = vmap(jacrev(f), in_dims=(None, 0))
    j1 = jac(params, x1)
    j2 = j1 if x2 is None else jac(params, x2)
    out = None
    for name in params:
        a, b = j1[name].flatten(2), j2[name].flatten(2)  # (n, out, P)
        term = torch.einsum("iop,jop->ij", a, b)
        out = term if out is None else out + term
    n_out = next(iter(j1.values())).shape[1]
    return out / n_out


def _inputs(x1, x2, device, dtype):
    x1 = as_float_array(x1, "x1")
    x2 = x1 if x2 is None else as_float_array(x2, "x2")
    if x1.ndim != 2 or x2.ndim != 2 or x1.shape[1] != x2.shape[1]:
        raise ValueError(f"x1 and x2 must have shapes (n1, d) and (n2, d), got {x1.shape} and {x2.shape}")
    to = dict(device=device, dtype=dtype)
    return torch.as_tensor(x1, **to), torch.as_tensor(x2, **to)


def monte_carlo_nngp(
    x1,
    x2,
    activation,
    depth: int,
    sigma_w2: float,
    sigma_b2: float,
    *,
    width: int,
    n_networks: int,
    n_out: int | None = None,
    seed: int = 0,
    device=None,
    dtype=torch.float64,
    chunk: int = 4,
) -> MonteCarloEstimate:
    """Empirical NNGP of the network output, f(x1) f(x2)^T / n_out, over `n_networks` independent networks.

    Networks are drawn `chunk` at a time as batched matrices (torch.bmm); weights are generated
    layer by layer and discarded, so memory does not grow with depth.
    """
    device = device or default_device()
    n_networks, width = check_positive_int(n_networks, "n_networks"), check_positive_int(width, "width")
    n_out = width if n_out is None else check_positive_int(n_out, "n_out")
    act = get_activation(activation)
    sw, sb = (
        math.sqrt(float(check_variance(sigma_w2, "sigma_w2"))),
        math.sqrt(float(check_variance(sigma_b2, "sigma_b2"))),
    )
    t1, t2 = _inputs(x1, x2, device, dtype)
    x = torch.cat([t1, t2])
    gen = torch.Generator(device=device).manual_seed(seed)
    samples = []
    for start in range(0, n_networks, chunk):
        b = min(chunk, n_networks - start)
        h = x.expand(b, *x.shape)
        dims = [x.shape[1]] + [width] * check_positive_int(depth, "depth") + [n_out]
        for layer, (i, o) in enumerate(zip(dims[:-1], dims[1:])):
            if layer > 0:
                h = act.phi(h)
            w = torch.randn(b, i, o, generator=gen, device=device, dtype=dtype)
            bias = torch.randn(b, 1, o, generator=gen, device=device, dtype=dtype)
            h = torch.bmm(h, w) * (sw / math.sqrt(i)) + sb * bias
        f1, f2 = h[:, : len(t1)], h[:, len(t1) :]
        samples.append((f1 @ f2.transpose(1, 2) / n_out).cpu())
    k = torch.cat(samples).numpy()
    return MonteCarloEstimate(k.mean(0), k.std(0, ddof=1) / math.sqrt(n_networks), n_networks)


def monte_carlo_ntk(
    x1,
    x2,
    activation,
    depth: int,
    sigma_w2: float,
    sigma_b2: float,
    *,
    width: int,
    n_networks: int,
    seed: int = 0,
    device=None,
    dtype=torch.float64,
) -> MonteCarloEstimate:
    """Empirical NTK (torch.func) of `n_networks` independent scalar-output networks."""
    device = device or default_device()
    n_networks = check_positive_int(n_networks, "n_networks")
    t1, t2 = _inputs(x1, x2, device, dtype)
    gen = torch.Generator(device=device).manual_seed(seed)
    ks = []
    for _ in range(n_networks):
        net = DenseNetwork(
            t1.shape[1], width, depth, activation, sigma_w2, sigma_b2, generator=gen, dtype=dtype, device=device
        )
        ks.append(empirical_ntk(net, t1, t2).cpu().numpy())
    k = np.stack(ks)
    return MonteCarloEstimate(k.mean(0), k.std(0, ddof=1) / math.sqrt(n_networks), n_networks)

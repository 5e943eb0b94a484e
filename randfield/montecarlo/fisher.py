"""Monte-Carlo of the Fisher information of random nets (`randfield.fisher`): spectra and learning rates.

The (T C) x (T C) Gram matrix G = J J^T of the per-input output gradients holds the FIM's non-zero
spectrum (F = J^T J / T has the eigenvalues of G / T), so the P x P matrix is never formed. The
backward factors delta^l_k(t) = df_k(x_t) / du^l are Jacobians taken by `torch.func.jacrev` with
respect to offsets of the pre-activations (vmapped over networks and inputs); a dense layer's weight
gradient is the outer product delta^l h^{l-1 T}, so its Gram block is [delta . delta'] [h . h'].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import jacrev, vmap

from .._validation import check_memory, check_positive_int
from .empirical import random_nets

_CHUNK_BYTES = 2**28  # weights of the networks simulated together


@dataclass(frozen=True)
class FisherSpectra:
    """Per network (shape (S,)): the FIM's mean eigenvalue tr F / P, second moment tr F^2 / P, largest
    eigenvalue, mean of its C largest (the C-fold lambda_max of the theory splits by O(sqrt M) at finite
    width, so the largest alone is biased up by O(1/sqrt M) relative, their mean only by O(1/M)), and the
    NTK J J^T / M's largest eigenvalue and mean bulk eigenvalue (NaN when T = 1)."""

    mean: np.ndarray
    second_moment: np.ndarray
    max: np.ndarray
    top_mean: np.ndarray
    ntk_max: np.ndarray
    ntk_bulk: np.ndarray
    n_parameters: int

    def estimate(self, name: str) -> tuple[float, float]:
        """(mean over networks, standard error) of one statistic."""
        v = getattr(self, name)
        return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else float("nan")


def _dims(width: int, depth: int, n_outputs: int, input_width: int) -> list[int]:
    return [input_width] + [width] * depth + [n_outputs]


def draw_networks(act_dims, sigma_w2, sigma_b2, s, gen, device, dtype):
    """Weights (S, M_l, M_{l-1}) ~ N(0, sigma_w^2 / M_{l-1}) and biases (S, M_l) ~ N(0, sigma_b^2)."""
    weights, biases = [], []
    for i, o in zip(act_dims[:-1], act_dims[1:]):
        weights.append(torch.randn(s, o, i, generator=gen, device=device, dtype=dtype) * math.sqrt(sigma_w2 / i))
        biases.append(torch.randn(s, o, generator=gen, device=device, dtype=dtype) * math.sqrt(sigma_b2))
    return weights, biases


def forward(phi, weights, biases, x):
    """Outputs (S, T, C) and the inputs h^{l-1} (S, T, M_{l-1}) of every layer l = 1..L."""
    h, inputs = x, []
    for layer, (w, b) in enumerate(zip(weights, biases)):
        inputs.append(h)
        u = torch.einsum("soi,sti->sto", w, h) + b[:, None]
        h = phi(u) if layer < len(weights) - 1 else u
    return h, inputs


def gram_matrix(phi, weights, biases, x) -> torch.Tensor:
    """G = J J^T over all weights and biases, (S, T C, T C) ordered (t, k), for S networks at inputs
    x (S, T, M_0)."""

    def output(offsets, ws, bs, xt):  # one network, one input; offsets added to the hidden u^l
        h = xt
        for w, b, e in zip(ws[:-1], bs[:-1], offsets):
            h = phi(w @ h + b + e)
        return ws[-1] @ h + bs[-1]

    s, t = x.shape[:2]
    c = weights[-1].shape[1]
    offsets = tuple(torch.zeros(w.shape[1], dtype=x.dtype, device=x.device) for w in weights[:-1])
    # delta^l: (S, T, C, M_l) for every hidden layer, by reverse mode through one network and input
    deltas = vmap(vmap(jacrev(output), in_dims=(None, None, None, 0)), in_dims=(None, 0, 0, 0))(
        offsets, tuple(weights), tuple(biases), x
    )
    _, inputs = forward(phi, weights, biases, x)
    eye = torch.eye(c, dtype=x.dtype, device=x.device)[None, None, :, None, :].expand(s, t, c, t, c)
    gram = torch.zeros(s, t, c, t, c, dtype=x.dtype, device=x.device)
    for delta, h in zip((*deltas, None), inputs):
        dd = eye if delta is None else torch.einsum("stkm,surm->stkur", delta, delta)  # output layer: I_C
        hh = torch.einsum("stm,sum->stu", h, h) + 1.0  # + 1: the bias gradient is delta itself
        gram = gram + dd * hh[:, :, None, :, None]
    return gram.reshape(s, t * c, t * c)


def fisher_spectra(
    activation,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    width: int,
    *,
    n_outputs: int = 1,
    n_inputs: int = 1,
    n_networks: int = 16,
    alpha_input: float = 1.0,
    q_input: float = 1.0,
    seed: int = 0,
    device=None,
    dtype: str = "float64",
) -> FisherSpectra:
    """Sample S networks (standard parameterisation, `randfield.fisher`) with i.i.d. N(0, q_input I)
    inputs of width alpha_input M, and measure the FIM and NTK spectra of each from its Gram matrix."""
    act, sw, sb, depth, width, s, device, tdtype, gen = random_nets(
        activation, sigma_w2, sigma_b2, depth, width, n_networks, seed, device, dtype
    )
    c, t = check_positive_int(n_outputs, "n_outputs"), check_positive_int(n_inputs, "n_inputs")
    if not math.isfinite(alpha_input) or alpha_input <= 0:
        raise ValueError(f"alpha_input (input width / M) must be positive, got {alpha_input!r}")
    dims = _dims(width, depth, c, max(1, round(alpha_input * width)))
    n_params = sum((i + 1) * o for i, o in zip(dims[:-1], dims[1:]))
    per_net = 8 * (n_params + 2 * t * c * width * depth)
    check_memory(per_net, f"one network of width {width} and depth {depth}")
    chunk = max(1, min(s, _CHUNK_BYTES // per_net))
    rows = []
    for start in range(0, s, chunk):
        b = min(chunk, s - start)
        weights, biases = draw_networks(dims, sw, sb, b, gen, device, tdtype)
        x = torch.randn(b, t, dims[0], generator=gen, device=device, dtype=tdtype) * math.sqrt(q_input)
        gram = gram_matrix(act.phi, weights, biases, x)
        eig = torch.linalg.eigvalsh(gram)  # ascending
        fim = eig / t
        ntk = eig / width
        bulk = ntk[:, : c * (t - 1)].mean(-1) if t > 1 else torch.full((b,), float("nan"), dtype=tdtype)
        rows.append(
            torch.stack(
                [
                    fim.sum(-1) / n_params,
                    (fim * fim).sum(-1) / n_params,
                    fim[:, -1],
                    fim[:, -c:].mean(-1),
                    ntk[:, -1],
                    bulk.to(fim.device),
                ],
                -1,
            ).cpu()
        )
    out = torch.cat(rows).numpy()
    return FisherSpectra(*out.T, n_parameters=n_params)


@dataclass(frozen=True)
class DescentRun:
    """losses: (R, steps + 1) training losses per learning rate; learning_rates: (R,); lambda_max: the
    student's FIM largest eigenvalue at initialisation (on the training inputs), measured."""

    losses: np.ndarray
    learning_rates: np.ndarray
    lambda_max: float


def teacher_descent(
    activation,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    width: int,
    learning_rates,
    *,
    n_outputs: int = 1,
    n_inputs: int = 16,
    steps: int = 100,
    seed: int = 0,
    device=None,
    dtype: str = "float64",
) -> DescentRun:
    """Full-batch gradient descent on the loss (1/2T) sum_t |f(x_t) - y_t|^2 from one random student
    towards a random teacher of the same architecture, once per learning rate (all runs share the
    student's initialisation and the data). A run whose loss passes 1e6 times its start is stopped and
    reads inf from then on."""
    act, sw, sb, depth, width, _, device, tdtype, gen = random_nets(
        activation, sigma_w2, sigma_b2, depth, width, 1, seed, device, dtype
    )
    c, t = check_positive_int(n_outputs, "n_outputs"), check_positive_int(n_inputs, "n_inputs")
    steps = check_positive_int(steps, "steps")
    eta = np.asarray(learning_rates, dtype=np.float64).reshape(-1)
    if eta.size == 0 or not np.all(np.isfinite(eta)) or np.any(eta <= 0):
        raise ValueError(f"learning_rates must be positive and finite, got {learning_rates!r}")
    r = eta.size
    dims = _dims(width, depth, c, width)
    x = torch.randn(1, t, width, generator=gen, device=device, dtype=tdtype)
    tw, tb = draw_networks(dims, sw, sb, 1, gen, device, tdtype)
    y, _ = forward(act.phi, tw, tb, x)
    sw0, sb0 = draw_networks(dims, sw, sb, 1, gen, device, tdtype)
    lam = float(torch.linalg.eigvalsh(gram_matrix(act.phi, sw0, sb0, x))[0, -1]) / t
    params = [p.expand(r, *p.shape[1:]).clone().requires_grad_(True) for p in (*sw0, *sb0)]
    n = len(sw0)
    rate = torch.as_tensor(eta, dtype=tdtype, device=device)
    losses = np.full((r, steps + 1), np.inf)
    alive = torch.ones(r, dtype=torch.bool, device=device)
    start = None
    for step in range(steps + 1):
        f, _ = forward(act.phi, params[:n], params[n:], x.expand(r, -1, -1))
        loss = 0.5 * ((f - y) ** 2).sum((1, 2)) / t
        if start is None:
            start = loss.detach().clone()
        alive &= torch.isfinite(loss) & (loss < 1e6 * start)
        losses[:, step] = np.where(alive.cpu().numpy(), loss.detach().cpu().numpy(), np.inf)
        if step == steps or not alive.any():
            break
        grads = torch.autograd.grad(loss.sum(), params)  # runs are independent: each loss is one run's
        with torch.no_grad():
            for p, g in zip(params, grads):
                scale = (rate * alive).reshape(r, *([1] * (p.dim() - 1)))
                p -= scale * g
    return DescentRun(losses, eta, lam)

"""ResNets with branch variance T/L against their continuous-depth (ODE) limit, by simulation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..blocks import ContinuousDepth, Dense, Elementwise, kernels, residual_network, serial
from .engine import SimulationConfig, great_circle_inputs, simulate


@dataclass(frozen=True)
class DepthLimitSweep:
    """Final-layer q and c of simulated L-block ResNets, the L-block theory and the ODE limit.

    `rate_q`, `rate_c` are the slopes of log |sim(L) - ODE| against log L (weighted by the
    standard errors); first-order convergence gives -1.
    """

    n_blocks: np.ndarray
    q_sim: np.ndarray
    q_stderr: np.ndarray
    c_sim: np.ndarray
    c_stderr: np.ndarray
    q_theory: np.ndarray
    c_theory: np.ndarray
    q_ode: float
    c_ode: float
    rate_q: float
    rate_c: float


def resnet_depth_limit(
    activation: str,
    sigma_w2: float,
    sigma_b2: float,
    depth: float,
    n_blocks,
    *,
    width: int,
    n_networks: int,
    q_input: float = 1.0,
    c_input: float = 0.5,
    n_inputs: int = 8,
    seed: int = 0,
    device=None,
    dtype: str = "float32",
) -> DepthLimitSweep:
    """Simulate h^1 = Dense(x), then L blocks h <- h + sqrt(T/L) (sigma_w/sqrt(N) W phi(h) + sigma_b b), for each L.

    The n_inputs points of the great circle share |x|, hence q: each network's q is averaged
    over them (and c over consecutive pairs), which reduces the Monte-Carlo noise.
    """
    x = great_circle_inputs(2, 64, q_input, c_input)
    block = serial(Elementwise(activation), Dense(sigma_w2, sigma_b2))
    stem = Dense(sigma_w2, sigma_b2)
    ode = kernels(x, None, serial(stem, ContinuousDepth(block, depth=depth, steps=512)))[0]
    q_ode, c_ode = ode[0, 0], ode[0, 1] / ode[0, 0]
    rows = []
    for n in n_blocks:
        cfg = SimulationConfig(
            activation,
            sigma_w2,
            sigma_b2,
            width=width,
            depth=int(n) + 1,
            n_networks=n_networks,
            n_inputs=n_inputs,
            q_input=q_input,
            c_input=c_input,
            branch_scale=float(np.sqrt(depth / n)),
            seed=seed + int(n),
            dtype=dtype,
        )
        r = simulate(cfg, device=device)
        q_net, c_net = r.q[:, -1].mean(1), r.c[:, -1].mean(1)  # per network, averaged over inputs
        q, c = q_net.mean(), c_net.mean()
        qs, cs = q_net.std(ddof=1) / np.sqrt(n_networks), c_net.std(ddof=1) / np.sqrt(n_networks)
        th = kernels(x, None, serial(stem, residual_network(block, int(n), depth=depth)))[0]
        rows.append((q, qs, c, cs, th[0, 0], th[0, 1] / th[0, 0]))
    q_sim, q_se, c_sim, c_se, q_th, c_th = (np.array(v) for v in zip(*rows))
    ls = np.asarray(n_blocks, dtype=float)

    def rate(sim, se, limit):
        err = np.abs(sim - limit)
        return float(np.polyfit(np.log(ls), np.log(err), 1, w=err / np.maximum(se, 1e-300))[0])  # sd of log|e| = se/|e|

    return DepthLimitSweep(
        ls,
        q_sim,
        q_se,
        c_sim,
        c_se,
        q_th,
        c_th,
        float(q_ode),
        float(c_ode),
        rate(q_sim, q_se, q_ode),
        rate(c_sim, c_se, c_ode),
    )

"""Choosing and applying initialisations from mean-field theory.

    >>> from randfield import init
    >>> rec = init.select("tanh", depth=200)             # edge of chaos: chi_1 = 1
    >>> init.initialize_(model, "tanh", rec.sigma_w2, rec.sigma_b2)
    >>> init.check(model, x, "tanh", rec.sigma_w2, rec.sigma_b2)   # measured q^l, chi_1^l vs theory

Trainability (Schoenholz et al. 2017): signals propagate through about xi_c layers, and random
networks train up to depth ~ 6 xi_c; xi_c diverges on the order/chaos line chi_1 = 1.
Dynamical isometry (Pennington et al. 2017) also needs a narrow Jacobian spectrum: orthogonal
weights and a small q* on the critical line; ReLU networks cannot achieve it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import expectations as ex
from ._validation import check_positive_int, check_variance
from .activations import Activation, get_activation
from .maps import chi1, critical_sigma_w2, depth_scales, length_fixed_point, length_map

CRITERIA = ("edge_of_chaos", "depth_scale", "dynamical_isometry")
TRAINABLE_DEPTH_FACTOR = 6.0
"""Schoenholz et al. 2017: networks train up to depth ~ 6 xi_c."""


@dataclass(frozen=True)
class InitRecommendation:
    """An initialisation and what the mean-field theory says about it."""

    activation: str
    criterion: str
    depth: int
    sigma_w2: float
    sigma_b2: float
    weights: str
    q_star: float
    chi1: float
    xi_c: float
    trainable_depth: float
    explanation: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _default_bias(act: Activation) -> float:
    return 0.0 if act.positively_homogeneous else 0.05  # He init; Schoenholz et al.'s sigma_b^2


def _describe(act, criterion, depth, sw, sb, weights, note) -> InitRecommendation:
    q = float(length_fixed_point(act, sw, sb))
    c1 = float(chi1(act, sw, sb, q=q)) if q > 0 else sw * float(ex.derivative_second_moment(act, 0.0))
    if abs(c1 - 1) < 1e-9:
        xi_c = math.inf
    else:
        xi_c = float(depth_scales(act, sw, sb).xi_c)
    trainable = TRAINABLE_DEPTH_FACTOR * xi_c
    verdict = "trainable" if trainable >= depth else f"too deep (trainable to ~{trainable:.0f} layers)"
    explanation = (
        f"{criterion}: sigma_w^2 = {sw:.6g}, sigma_b^2 = {sb:.6g} ({weights} weights) gives chi_1 = {c1:.6g}, "
        f"xi_c = {xi_c:.4g}; depth {depth} is {verdict}. {note}"
    )
    return InitRecommendation(
        act.name, criterion, depth, float(sw), float(sb), weights, q, c1, xi_c, trainable, explanation.strip()
    )


def select(
    activation: str | Activation,
    depth: int,
    sigma_b2: float | None = None,
    criterion: str = "edge_of_chaos",
    *,
    depth_factor: float = 1.0 / TRAINABLE_DEPTH_FACTOR,
) -> InitRecommendation:
    """Recommend (sigma_w^2, sigma_b^2) for a network of `depth` layers.

    Criteria:
        edge_of_chaos: sigma_w^2 on the critical line chi_1 = 1 for the given sigma_b^2
            (default 0 for the ReLU family — He initialisation — else 0.05).
        depth_scale: the ordered-phase point whose correlation depth scale is exactly
            xi_c = depth_factor * depth (default depth / 6, Schoenholz's trainability bound):
            the most robust point (farthest from criticality) that still propagates signals.
        dynamical_isometry: orthogonal weights on the critical line at q* = 1/depth (Xiao et
            al. 2018), which concentrates the Jacobian spectrum; impossible for ReLU.

    Raises:
        ValueError: unknown criterion, or a criterion the activation cannot meet.
    """
    act = get_activation(activation)
    depth = check_positive_int(depth, "depth")
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    sb = _default_bias(act) if sigma_b2 is None else float(check_variance(sigma_b2, "sigma_b2"))
    if criterion == "edge_of_chaos":
        sw = float(critical_sigma_w2(act, sb))
        note = "Correlations and gradients propagate without exponential decay (xi_c = inf)."
        if act.positively_homogeneous and sb > 0:
            note += " With sigma_b^2 > 0 the ReLU family's lengths grow linearly at this sigma_w^2."
        return _describe(act, criterion, depth, sw, sb, "gaussian", note)
    if criterion == "depth_scale":
        target = depth_factor * depth
        chi_target = math.exp(-1.0 / target)  # ordered phase: xi_c = -1 / log chi_1
        crit = float(critical_sigma_w2(act, sb))
        if act.positively_homogeneous:
            sw = chi_target * crit
        else:
            from scipy.optimize import brentq

            sw = brentq(lambda w: float(chi1(act, w, sb)) - chi_target, 1e-6 * crit, crit, xtol=1e-14, rtol=1e-13)
        return _describe(act, criterion, depth, sw, sb, "gaussian", f"Ordered side with xi_c = {target:.4g}.")
    # dynamical isometry
    if act.positively_homogeneous and act.closed_form is not None and act.kinks:
        raise ValueError(
            f"{act.name} cannot achieve dynamical isometry (Pennington et al. 2017): phi' is 0 or 1, "
            "so the Jacobian spectrum stays broad whatever the weights"
        )
    q_star = 1.0 / depth if sigma_b2 is None else None
    if q_star is None:
        sw = float(critical_sigma_w2(act, sb))
    else:
        sw = 1.0 / float(ex.derivative_second_moment(act, q_star))
        sb = max(q_star - sw * float(ex.second_moment(act, q_star)), 0.0)
    return _describe(
        act,
        criterion,
        depth,
        sw,
        sb,
        "orthogonal",
        "Orthogonal weights and small q* keep all singular values of the Jacobian near 1.",
    )


def alternatives(activation: str | Activation, depth: int, sigma_b2: float | None = None) -> list[InitRecommendation]:
    """The recommendation of every criterion that applies (for comparison tables)."""
    out = []
    for criterion in CRITERIA:
        try:
            out.append(select(activation, depth, sigma_b2, criterion))
        except ValueError:
            continue
    return out


def initialize_(
    module, activation: str | Activation, sigma_w2: float, sigma_b2: float, *, weights: str = "gaussian", generator=None
):
    """Initialise every nn.Linear and nn.Conv{1,2,3}d of `module` in place.

    Weights: W ~ N(0, sigma_w^2 / fan_in) (fan_in = in_features, or in_channels * kernel size),
    or orthogonal with the same per-entry variance along the fan-in (rows orthonormal times
    sigma_w when out <= fan_in). Biases ~ N(0, sigma_b^2). `activation` is validated only; it
    documents which theory the variances came from.

    Returns:
        module
    """
    import torch
    from torch import nn

    get_activation(activation)
    sw, sb = float(check_variance(sigma_w2, "sigma_w2")), float(check_variance(sigma_b2, "sigma_b2"))
    if weights not in ("gaussian", "orthogonal"):
        raise ValueError(f"weights must be 'gaussian' or 'orthogonal', got {weights!r}")
    layers = [m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]
    if not layers:
        raise ValueError("module has no nn.Linear or nn.Conv layer to initialise")
    with torch.no_grad():
        for layer in layers:
            w = layer.weight
            fan_in = w[0].numel()
            if weights == "gaussian":
                w.normal_(0.0, math.sqrt(sw / fan_in), generator=generator)
            else:
                flat = w.view(w.shape[0], -1)
                gain = math.sqrt(sw) * math.sqrt(max(1.0, flat.shape[0] / fan_in))
                q = torch.empty_like(flat)
                nn.init.orthogonal_(q, gain=gain, generator=generator)
                flat.copy_(q)
            if layer.bias is not None:
                layer.bias.normal_(0.0, math.sqrt(sb), generator=generator)
    return module


@dataclass(frozen=True)
class LayerReport:
    """Measured and predicted per-layer statistics of a torch model (one row per Linear layer)."""

    q_measured: np.ndarray
    q_theory: np.ndarray
    chi1_measured: np.ndarray  # |W_{l+1} D_l|_F^2 / N_out with the model's own weights
    chi1_theory: np.ndarray


def check(module, x, activation: str | Activation, sigma_w2: float, sigma_b2: float) -> LayerReport:
    """Run `x` (batch, d) through `module` and compare each nn.Linear's pre-activations with theory.

    q^l measured = mean over units and batch of the layer's output squared; theory from the
    length map started at q^1 = sigma_w^2 |x|^2/d + sigma_b^2 (batch-averaged). chi1^l measured =
    (1/N) |W_{l+1} diag(phi'(h^l))|_F^2 averaged over the batch, theory sigma_w^2 E[phi'(sqrt(q^l) z)^2].
    """
    import torch
    from torch import nn

    act = get_activation(activation)
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("module has no nn.Linear layer")
    outputs = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out.detach())) for m in linears]
    try:
        with torch.no_grad():
            module(x)
    finally:
        for h in hooks:
            h.remove()
    q_meas = np.array([float((h.double() ** 2).mean()) for h in outputs])
    # |W D|_F^2 / N_out = (1/N_out) sum_ij W_ij^2 phi'(h_j)^2, averaged over the batch
    chi_meas = np.array(
        [
            float(
                ((nxt.weight.detach().double() ** 2) @ (act.dphi(h.double()) ** 2).T).sum(0).mean()
                / nxt.weight.shape[0]
            )
            for h, nxt in zip(outputs[:-1], linears[1:])
        ]
    )
    xd = x.detach().double()
    q = float(sigma_w2) * float((xd**2).mean()) + float(sigma_b2)
    q_th = [q]
    for _ in range(len(outputs) - 1):
        q = float(length_map(q, act, sigma_w2, sigma_b2))
        q_th.append(q)
    q_th = np.array(q_th)
    chi_th = float(sigma_w2) * ex.derivative_second_moment(act, q_th[:-1])
    return LayerReport(q_meas, q_th, chi_meas, np.asarray(chi_th))


def mlp(
    activation: str | Activation,
    depth: int,
    width: int,
    d: int,
    sigma_w2: float,
    sigma_b2: float,
    *,
    out: int = 1,
    weights: str = "gaussian",
    generator=None,
    dtype=None,
):
    """A torch MLP (depth hidden layers of `width`, activation between Linear layers), initialised by `initialize_`."""
    import torch
    from torch import nn

    act = get_activation(activation)
    depth, width, d = (check_positive_int(v, n) for v, n in ((depth, "depth"), (width, "width"), (d, "d")))

    class Phi(nn.Module):
        def forward(self, z):
            return act.phi(z)

    dtype = dtype or torch.float64
    dims = [d] + [width] * depth
    layers: list = []
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(a, b, dtype=dtype), Phi()]
    layers.append(nn.Linear(width, out, dtype=dtype))
    return initialize_(nn.Sequential(*layers), act, sigma_w2, sigma_b2, weights=weights, generator=generator)


def trainability(
    activation: str | Activation,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
    *,
    width: int = 128,
    steps: int = 800,
    lr: float = 5e-4,
    d: int = 16,
    n: int = 512,
    seed: int = 0,
) -> float:
    """Measured trainability: test loss / baseline after training a fresh MLP with Adam.

    Task: regression of y = tanh(w.x / 2) for x ~ N(0, I_d), n training and n test points, MSE loss,
    batches of 128; the baseline predicts the training mean (ratio 1 = nothing learnt). Schoenholz
    et al. 2017 predict trainability up to depth ~ 6 xi_c.
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    w_true = torch.randn(d, generator=g)
    x, xt = torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)
    y, yt = torch.tanh(x @ w_true / 2)[:, None], torch.tanh(xt @ w_true / 2)[:, None]
    baseline = float(((yt - y.mean()) ** 2).mean())
    torch.manual_seed(seed)
    net = mlp(
        activation,
        depth,
        width,
        d,
        sigma_w2,
        sigma_b2,
        generator=torch.Generator().manual_seed(seed + 1),
        dtype=torch.float32,
    )
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    batches = torch.Generator().manual_seed(seed + 2)
    for _ in range(check_positive_int(steps, "steps")):
        idx = torch.randint(0, n, (128,), generator=batches)
        loss = ((net(x[idx]) - y[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(((net(xt) - yt) ** 2).mean()) / baseline

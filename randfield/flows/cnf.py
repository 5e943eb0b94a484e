"""Continuous normalising flows (Chen et al. 2018, §4; FFJORD, Grathwohl et al. 2019).

dz/dt = f(z, t; theta) on [0, T] from z(0) ~ N(0, I), with the instantaneous change of variables
d log p(z(t))/dt = -tr(df/dz), so log p(x) = log N(z(0)) - int_0^T tr(df/dz) dt. The augmented state
(z, int tr, t) is one autonomous system, integrated by `randfield.continuous.odeint` with any integrator
and gradient mode; `log_prob` runs it backwards from the data (reversed time), `sample` forwards from
base samples. The trace is exact (the d rows of each sample's Jacobian by one `torch.func.vjp`, vmapped
over the basis vectors) or Hutchinson's
estimate e^T (df/dz) e with Rademacher or Gaussian probes drawn once per solve (FFJORD).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import vjp, vmap

from ..continuous import odeint

TRACES = ("exact", "hutchinson")
PROBES = ("rademacher", "gaussian")


class ConcatSquash(nn.Module):
    """FFJORD's time-conditioned linear layer: (W z) * sigmoid(a t + c) + b t."""

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)
        self.gate = nn.Linear(1, d_out)
        self.shift = nn.Linear(1, d_out, bias=False)

    def forward(self, z, t):
        return self.lin(z) * torch.sigmoid(self.gate(t)) + self.shift(t)


class TimeField(nn.Module):
    """f(z, t): concatsquash layers of width M with tanh between them."""

    def __init__(self, dim: int, width: int = 32, layers: int = 2):
        super().__init__()
        if int(width) != width or width < 1:
            raise ValueError(f"width (M) must be a positive integer, got {width!r}")
        dims = [dim] + [int(width)] * int(layers) + [dim]
        self.layers = nn.ModuleList(ConcatSquash(i, o) for i, o in zip(dims[:-1], dims[1:]))

    def forward(self, z, t):
        h = z
        for k, layer in enumerate(self.layers):
            h = layer(h, t)
            if k < len(self.layers) - 1:
                h = torch.tanh(h)
        return h


class _Augmented(nn.Module):
    """u = (z, int tr, tau): dz = s f(z, tau), d int tr = tr(df/dz)(z, tau), d tau = s, with s = +1
    forwards and -1 backwards; so int tr accumulates int tr dt along the path either way."""

    def __init__(self, cnf: CNF, sign: float, probe: torch.Tensor | None):
        super().__init__()
        self.cnf, self.sign, self.probe = cnf, sign, probe

    def vector_field(self, u):
        d = self.cnf.dim
        z, tau = u[:, :d], u[:, d + 1 : d + 2]
        outer = torch.is_grad_enabled()
        field = self.cnf.field
        if self.probe is None:  # exact trace: the d rows of every sample's Jacobian by one vmapped vjp
            f, pullback = vjp(lambda zz: field(zz, tau), z)
            basis = torch.eye(d, dtype=z.dtype, device=z.device)[:, None, :].expand(d, *z.shape)
            (rows,) = vmap(pullback)(basis)  # rows[i, n] = e_i^T df/dz at sample n
            tr = torch.diagonal(rows, dim1=0, dim2=2).sum(-1)
        else:
            with torch.enable_grad():
                # a fresh leaf unless the outer pass differentiates through z itself (backprop mode)
                zz = z if outer and z.requires_grad else z.detach().requires_grad_(True)
                f = field(zz, tau)
                (pulled,) = torch.autograd.grad(f, zz, self.probe, create_graph=outer)
            tr = (pulled * self.probe).sum(-1)
            if not outer:
                f, tr = f.detach(), tr.detach()
        ones = torch.ones_like(tau)
        return torch.cat([self.sign * f, tr[:, None], self.sign * ones], -1)


class CNF(nn.Module):
    """A continuous normalising flow on R^dim with base N(0, I).

    Args:
        field: f(z, t) as a module (default: `TimeField(dim, width, layers)`).
        T: integration time.
        trace: "exact" or "hutchinson"; probe: "rademacher" or "gaussian" (Hutchinson only).
        method, gradient, options: passed to `randfield.continuous.odeint` (e.g. rtol, atol).
    """

    def __init__(
        self,
        dim: int,
        *,
        width: int = 32,
        layers: int = 2,
        field: nn.Module | None = None,
        T: float = 1.0,
        trace: str = "exact",
        probe: str = "rademacher",
        method: str = "dopri5",
        gradient: str = "adjoint",
        **options,
    ):
        super().__init__()
        if int(dim) != dim or dim < 1:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        if trace not in TRACES:
            raise ValueError(f"trace must be one of {', '.join(TRACES)}; got {trace!r}")
        if probe not in PROBES:
            raise ValueError(f"probe must be one of {', '.join(PROBES)}; got {probe!r}")
        if not T > 0:
            raise ValueError(f"T must be > 0, got {T!r}")
        self.dim, self.T, self.trace, self.probe_kind = int(dim), float(T), trace, probe
        self.field = TimeField(self.dim, width, layers) if field is None else field
        adaptive = {"rtol": 1e-5, "atol": 1e-7} if method in ("dopri5", "dp", "adaptive") else {}
        self.method, self.gradient, self.options = method, gradient, adaptive | options
        self.stats = None

    def _probe(self, like: torch.Tensor, generator=None):
        if self.trace == "exact":
            return None
        e = torch.randn(like.shape, generator=generator, dtype=like.dtype, device=like.device)
        return e.sign() if self.probe_kind == "rademacher" else e

    def _solve(self, z, sign, start, generator=None):
        n = z.shape[0]
        u0 = torch.cat([z, z.new_zeros(n, 1), z.new_full((n, 1), start)], -1)
        system = _Augmented(self, sign, self._probe(z, generator))
        params = tuple(p for p in self.field.parameters() if p.requires_grad)
        ys, self.stats = odeint(
            system, u0, [0.0, self.T], self.method, gradient=self.gradient, params=params, return_stats=True,
            **self.options,
        )  # fmt: skip
        return ys[-1, :, : self.dim], ys[-1, :, self.dim]

    def _check(self, x):
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.dim:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must have shape (n, {self.dim}) for this flow, got {shape}")
        if not bool(torch.isfinite(x).all()):
            raise ValueError("x contains NaN or inf")

    def base_log_prob(self, z):
        return -0.5 * (z * z).sum(-1) - 0.5 * self.dim * math.log(2 * math.pi)

    def log_prob(self, x: torch.Tensor, generator=None) -> torch.Tensor:
        """log p(x), by integrating the data back to the base: log N(z(0)) - int_0^T tr(df/dz) dt."""
        self._check(x)
        z0, integral = self._solve(x, -1.0, self.T, generator)
        return self.base_log_prob(z0) - integral

    def sample(self, n: int, *, generator=None, return_log_prob: bool = False, dtype=None, device=None):
        """n samples x = z(T) from z(0) ~ N(0, I) (and their log-density, accumulated on the way)."""
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        p = next(self.field.parameters(), None)
        dtype = dtype or (p.dtype if p is not None else torch.float32)
        device = device or (p.device if p is not None else None)
        z0 = torch.randn(int(n), self.dim, generator=generator, dtype=dtype, device=device)
        x, integral = self._solve(z0, 1.0, 0.0, generator)
        return (x, self.base_log_prob(z0) - integral) if return_log_prob else x

"""Structure matrices G of energy-based models u_t = G grad H(u), with their properties built in.

- `CanonicalStructure`: G = S - R on u = (q, p), S = [[0, I], [-I, 0]] (skew: H conserved) and
  an optional learnt friction R = diag(0, r), r = softplus(rho) >= 0 (so G + G^T = -2R <= 0:
  H dissipated), as in Greydanus et al. 2019 and DGNet's `--friction`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CanonicalStructure(nn.Module):
    """G g = (g_p, -g_q - r * g_p) for g = (g_q, g_p) split in halves of the last axis."""

    def __init__(self, dim: int, friction: bool = False):
        super().__init__()
        if dim < 2 or dim % 2:
            raise ValueError(f"canonical coordinates need an even state dimension >= 2, got dim={dim}")
        self.dim = dim
        # softplus(-6) ~ 2.5e-3: friction starts near zero and is learnt only when enabled.
        self.rho = nn.Parameter(torch.full((dim // 2,), -6.0)) if friction else None

    @property
    def friction(self) -> torch.Tensor | None:
        return None if self.rho is None else F.softplus(self.rho)

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        g_q, g_p = g.chunk(2, dim=-1)
        dp = -g_q if self.rho is None else -g_q - F.softplus(self.rho) * g_p
        return torch.cat([g_p, dp], dim=-1)

    def matrix(self) -> torch.Tensor:
        """G as a dense (dim, dim) matrix (for inspection and tests)."""
        eye = torch.eye(self.dim, dtype=self.rho.dtype if self.rho is not None else torch.get_default_dtype())
        return self(eye).T


def _circular_conv(x: torch.Tensor, kernel: torch.Tensor, transpose: bool = False) -> torch.Tensor:
    """Periodic cross-correlation of x (batch, *grid) with kernel (channels, *k): (batch, channels, *grid),
    or with transpose=True its adjoint, mapping (batch, channels, *grid) back to (batch, *grid).
    Kernels have odd sizes or size 2 (forward differences); index (k - 1) // 2 sits at the origin."""
    ndim = kernel.dim() - 1
    conv = F.conv1d if ndim == 1 else F.conv2d
    sizes = kernel.shape[1:]
    # pad (left, right) per axis, last axis first as F.pad expects
    lefts = [(k - 1) // 2 for k in sizes]
    pad = [p for k, left in zip(reversed(sizes), reversed(lefts)) for p in (left, k - 1 - left)]
    if not transpose:
        return conv(F.pad(x.unsqueeze(1), pad, mode="circular"), kernel.unsqueeze(1))
    flipped = kernel.flip(list(range(1, ndim + 1)))
    pad_t = [p for k, left in zip(reversed(sizes), reversed(lefts)) for p in (k - 1 - left, left)]
    return conv(F.pad(x, pad_t, mode="circular"), flipped.unsqueeze(0)).squeeze(1)


class StencilStructure(nn.Module):
    """A translation-invariant structure matrix G on a periodic grid, applied to g of shape (batch, *grid).

    kinds:
        "difference": central difference D = [-1, 0, 1] / (2 dx) (1-D; skew: KdV's G).
        "laplacian": D^2 = [1, -2, 1] / dx^2 per axis (symmetric, negative semi-definite, zero-sum: CH's G).
        "skew" (learnt): an antisymmetric stencil of radius `radius`, w_{-j} = -w_j, w_0 = 0, so
            G^T = -G for any parameters: energy is conserved by construction.
        "dissipative" (learnt): G = -sum_c B_c^T B_c with zero-sum 2 (or 2 x 2) kernels B_c, i.e. a
            symmetric 3 (or 3 x 3) stencil that is negative semi-definite and has zero row sums for
            any parameters: energy is dissipated and mass (sum u) conserved by construction.
    """

    def __init__(self, kind: str, ndim: int = 1, spacing: float = 1.0, *, radius: int = 1, channels: int = 4):
        super().__init__()
        kinds = ("difference", "laplacian", "skew", "dissipative")
        if kind not in kinds:
            raise ValueError(f"kind must be one of {kinds}, got {kind!r}")
        if ndim not in (1, 2):
            raise ValueError(f"ndim must be 1 or 2, got {ndim}")
        if kind in ("difference", "skew") and ndim != 1:
            raise ValueError(f"{kind!r} stencils are 1-D here, got ndim={ndim}")
        if not spacing > 0:
            raise ValueError(f"spacing must be positive, got {spacing}")
        self.kind, self.ndim, self.spacing = kind, ndim, float(spacing)
        if kind == "skew":
            self.theta = nn.Parameter(0.1 * torch.randn(radius))
        elif kind == "dissipative":
            self.theta = nn.Parameter(0.5 * torch.randn(channels, *([2] * ndim)))

    def kernel(self) -> torch.Tensor:
        """The stencil of G (odd size per axis, centre at the origin), in units including the spacing."""
        dx = self.spacing
        if self.kind == "difference":
            return torch.tensor([-1.0, 0.0, 1.0]) / (2 * dx)
        if self.kind == "laplacian":
            if self.ndim == 1:
                return torch.tensor([1.0, -2.0, 1.0]) / dx**2
            return torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]) / dx**2
        if self.kind == "skew":
            return torch.cat([-self.theta.flip(0), self.theta.new_zeros(1), self.theta]) / dx
        delta = torch.zeros(*([3] * self.ndim), dtype=self.theta.dtype, device=self.theta.device)
        delta[(1,) * self.ndim] = 1.0
        return self(delta[None])[0]

    def _b(self) -> torch.Tensor:
        b = self.theta - self.theta.mean(dim=tuple(range(1, self.ndim + 1)), keepdim=True)  # zero-sum kernels
        return b / self.spacing

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        if self.kind == "dissipative":
            b = self._b().to(g.dtype)
            return -_circular_conv(_circular_conv(g, b), b, transpose=True)
        k = self.kernel().to(g.dtype).to(g.device)
        # G g_i = sum_j w_j g_{i+j} (a cross-correlation with the stencil)
        return _circular_conv(g, k[None]).squeeze(1)

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

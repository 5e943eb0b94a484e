"""Matplotlib figures (imported only by the commands that draw)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ._io import atomic_write_bytes  # noqa: E402
from .phase import PhaseDiagram  # noqa: E402


def save_figure(fig, path: str | Path) -> list[Path]:
    """Save as PNG and PDF (atomically) next to each other; returns the paths."""
    path = Path(path)
    out = []
    for suffix in (".png", ".pdf"):
        buf = io.BytesIO()
        fig.savefig(buf, format=suffix[1:], dpi=150, bbox_inches="tight")
        target = path.with_suffix(suffix)
        atomic_write_bytes(target, buf.getvalue())
        out.append(target)
    plt.close(fig)
    return out


def plot_phase_diagram(pd: PhaseDiagram, critical_line=None, ax=None):
    """Heat map of xi_c over (sigma_w^2, sigma_b^2) with the chi_1 = 1 line."""
    from matplotlib.colors import LogNorm

    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 4))
    xi = np.where(np.isfinite(pd.xi_c) & (pd.xi_c > 0), pd.xi_c, np.nan)
    finite = xi[np.isfinite(xi)]
    vmax = min(np.nanmax(finite), 1e3) if finite.size else 10
    mesh = ax.pcolormesh(
        pd.sigma_w2,
        pd.sigma_b2,
        np.clip(xi.T, None, vmax),
        shading="auto",
        cmap="viridis",
        norm=LogNorm(vmin=max(np.nanmin(finite), 1e-2) if finite.size else 0.1, vmax=vmax),
    )
    ax.contour(pd.sigma_w2, pd.sigma_b2, pd.chi1.T, levels=[1.0], colors="white", linewidths=1.5)
    if critical_line is not None:
        ax.plot(*critical_line, "w--", lw=1)
    unbounded = pd.phase.T == 2
    if unbounded.any():
        ax.contourf(pd.sigma_w2, pd.sigma_b2, unbounded.astype(float), levels=[0.5, 1.5], colors="0.85")
    plt.colorbar(mesh, ax=ax, label=r"depth scale $\xi_c$")
    ax.set_xlabel(r"$\sigma_w^2$")
    ax.set_ylabel(r"$\sigma_b^2$")
    ax.set_title(f"{pd.activation}: order (left) / chaos (right), $\\chi_1 = 1$ in white")
    return fig or ax.figure

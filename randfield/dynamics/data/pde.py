"""Periodic 1-D KdV and Cahn–Hilliard, and 2-D Cahn–Hilliard, with DGNet's protocols (anchors B1 §1.3.2).

Space is discretised once (Furihata's discrete variational derivative method, DVDM): a discrete
energy H(u) on the grid, its variational derivative dH/du = grad H / dx^d, and u_t = G dH/du
with G = D (central difference, skew: KdV conserves H) or G = D^2 (Laplacian, symmetric,
negative semi-definite, zero-sum: CH dissipates H and conserves mass sum(u) dx^d).

Two time integrators make data from the same semi-discrete system:
- "dvdm": the published scheme, (u_{n+1} - u_n)/dt = G dH/d(u_{n+1}, u_n) with the discrete
  variational derivative (u^2 -> (u^2 + uv + v^2)/3 ...), each step solved by the batched Newton
  solver. It shares DGNet's scheme, so it gives DGNet a "home advantage";
- "reference" (default): scipy's DOP853 (KdV) or Radau with the exact sparse Jacobian (CH, stiff)
  at rtol = atol = 1e-10, a truth that is independent of every model's integrator.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sparse
import torch
from scipy.integrate import solve_ivp

from ..integrators import integrate
from ..structure import StencilStructure
from .systems import AbstractSystem, Protocol, register_system


def _roll(u, shift, axis):
    return torch.roll(u, shift, dims=axis)


def _laplacian(u, dx, ndim):
    axes = range(-ndim, 0)
    return sum(_roll(u, 1, a) - 2 * u + _roll(u, -1, a) for a in axes) / dx**2


def _forward_sq(u, dx, ndim):
    """sum over axes of the squared forward difference (equal in sum to the backward one on a periodic grid)."""
    return sum(((_roll(u, -1, a) - u) / dx) ** 2 for a in range(-ndim, 0))


@functools.lru_cache(maxsize=8)
def _periodic_laplacian(n: int, ndim: int, dx: float) -> sparse.csr_matrix:
    """The periodic Laplacian on an n^ndim grid, flattened: the Kronecker sum of 1-D ones."""
    one = sparse.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(n, n), format="lil", dtype=np.float64)
    one[0, n - 1] = one[n - 1, 0] = 1
    one = sparse.csr_matrix(one) / dx**2
    if ndim == 1:
        return one
    eye = sparse.identity(n, format="csr")
    return sparse.csr_matrix(sparse.kron(one, eye) + sparse.kron(eye, one))


class PDESystem(AbstractSystem):
    """A periodic PDE u_t = G dH/du on a grid; states have shape (batch, *grid)."""

    ndim: ClassVar[int]
    points: ClassVar[int]
    width: ClassVar[float]
    dt: ClassVar[float]
    structure_kind: ClassVar[str]
    stiff: ClassVar[bool] = False  # True: the reference solver is Radau with the sparse `_jacobian`

    @property
    def dx(self) -> float:
        return self.width / self.points

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return (self.points,) * self.ndim

    @property
    def x(self) -> np.ndarray:
        return np.arange(self.points) * self.dx

    def structure_module(self) -> StencilStructure:
        return StencilStructure(self.structure_kind, self.ndim, self.dx)

    def model_options(self) -> dict:
        """Defaults for models of this system: the grid and the (fixed) structure matrix G."""
        return {"grid": list(self.grid_shape), "structure": {"kind": self.structure_kind, "spacing": self.dx}}

    # --- the discrete energy and its (discrete) variational derivatives, in torch ------------
    def energy_density(self, u: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def variational_derivative(self, u: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def discrete_variational_derivative(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def energy(self, u: torch.Tensor) -> torch.Tensor:
        return self.energy_density(u).flatten(1).sum(1) * self.dx**self.ndim

    # --- the System protocols (torch), so every integrator applies to the true system --------
    def structure(self, g):
        return self.structure_module().to(g.dtype)(g)

    def vector_field(self, u):
        if isinstance(u, np.ndarray):  # any leading axes
            flat = torch.as_tensor(u.reshape(-1, *self.grid_shape))
            return self.vector_field(flat).numpy().reshape(u.shape)
        return self.structure(self.variational_derivative(u))

    def discrete_gradient(self, u, v):
        return self.discrete_variational_derivative(u, v)

    # --- numpy API of AbstractSystem ----------------------------------------------------------
    def hamiltonian(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=np.float64)
        lead = u.shape[: u.ndim - self.ndim]
        flat = torch.as_tensor(u.reshape(-1, *self.grid_shape))
        return self.energy(flat).numpy().reshape(lead)

    def grad_hamiltonian(self, u):
        flat = torch.as_tensor(np.asarray(u, dtype=np.float64).reshape(-1, *self.grid_shape))
        return self.variational_derivative(flat).numpy().reshape(np.shape(u)) * self.dx**self.ndim

    def mass(self, u: np.ndarray) -> np.ndarray:
        """sum(u) dx^d over the grid, shape u.shape[:-ndim]."""
        return np.asarray(u).reshape(*np.shape(u)[: np.ndim(u) - self.ndim], -1).sum(-1) * self.dx**self.ndim

    def _jacobian(self, u: np.ndarray) -> sparse.spmatrix | None:
        return None

    def reference(self, u0, t):
        u0 = np.asarray(u0, dtype=np.float64)
        n, size = u0.shape[0], int(np.prod(self.grid_shape))

        def rhs(_, y):
            return self.vector_field(torch.as_tensor(y.reshape(n, *self.grid_shape))).numpy().ravel()

        options = {"method": "DOP853"}
        if self.stiff:

            def jac(_, y):
                return sparse.block_diag([self._jacobian(row) for row in y.reshape(n, size)], format="csc")

            options = {"method": "Radau", "jac": jac}
        sol = solve_ivp(rhs, (t[0], t[-1]), u0.ravel(), t_eval=t, rtol=1e-10, atol=1e-10, **options)
        if not sol.success:
            raise RuntimeError(f"reference integration of {self.name} failed: {sol.message}")
        return sol.y.reshape(n, *self.grid_shape, len(t)).transpose(0, -1, *range(1, self.ndim + 1))

    def dvdm(self, u0, t) -> np.ndarray:
        """The published data scheme (DVDM + Newton) at the times t, which must be spaced by `dt`."""
        u = torch.as_tensor(np.asarray(u0, dtype=np.float64))
        with torch.no_grad():
            # u_n is the better Newton guess on these stiff grids (an explicit step amplifies stiff modes)
            out = integrate(self, u, torch.as_tensor(t), "dg", predictor="previous")
        return out.transpose(0, 1).numpy()


@register_system
@dataclass(frozen=True)
class KdV(PDESystem):
    """KdV, H = sum(u^3 - u_x^2 / 2) dx (alpha = -6, beta = 1), u_t = D(3u^2 + D^2 u), i.e.
    u_t = 6 u u_x + u_xxx; 50 points on width 10, dt = 0.001, 500 steps; two-soliton initial
    conditions 2 k^2 sech^2(k (x - 10 d)), k ~ U(0.5, 2), d1 ~ U(0.2, 0.3), d2 = d1 + U(0.2, 0.5),
    with a random left-right flip."""

    name = "kdv"
    ndim, points, width, dt = 1, 50, 10.0, 1e-3
    dim = 50
    structure_kind = "difference"
    protocol = Protocol(100, 0.5, 501, 0.0, 0.1, 0.5, 501)

    def energy_density(self, u):
        return u**3 - 0.5 * _forward_sq(u, self.dx, 1)

    def variational_derivative(self, u):
        return 3 * u**2 + _laplacian(u, self.dx, 1)

    def discrete_variational_derivative(self, u, v):
        return (u * u + u * v + v * v) + _laplacian((u + v) / 2, self.dx, 1)

    def sample_initial(self, rng, n):
        x = self.x[None]
        k1, k2 = rng.uniform(0.5, 2.0, (2, n, 1))
        d1 = rng.uniform(0.2, 0.3, (n, 1))
        d2 = d1 + rng.uniform(0.2, 0.5, (n, 1))
        u = 2 * k1**2 / np.cosh(k1 * (x - self.width * d1)) ** 2 + 2 * k2**2 / np.cosh(k2 * (x - self.width * d2)) ** 2
        flip = rng.random(n) < 0.5
        u[flip] = u[flip, ::-1]
        return u


@dataclass(frozen=True)
class _CahnHilliard(PDESystem):
    """Cahn–Hilliard, H = sum(-u^2/2 + u^4/4 + gamma |grad u|^2 / 2) dx^d, u_t = D^2(-u + u^3 - gamma D^2 u);
    width 1, dt = 1e-4, gamma = 0.0005, initial u ~ U(-0.05, 0.05) per point."""

    gamma: ClassVar[float] = 0.0005
    width, dt = 1.0, 1e-4
    structure_kind = "laplacian"
    stiff = True

    def energy_density(self, u):
        return -0.5 * u**2 + 0.25 * u**4 + 0.5 * self.gamma * _forward_sq(u, self.dx, self.ndim)

    def variational_derivative(self, u):
        return -u + u**3 - self.gamma * _laplacian(u, self.dx, self.ndim)

    def discrete_variational_derivative(self, u, v):
        cubic = (u**3 + u * u * v + u * v * v + v**3) / 4
        return -(u + v) / 2 + cubic - self.gamma * _laplacian((u + v) / 2, self.dx, self.ndim)

    def sample_initial(self, rng, n):
        return rng.uniform(-0.05, 0.05, (n, *self.grid_shape))

    def _jacobian(self, u):
        """d/du of D^2(-u + u^3 - gamma D^2 u) on the flattened grid (sparse)."""
        lap = self.laplacian_matrix()
        return lap @ (sparse.diags(3 * u**2 - 1.0) - self.gamma * lap)

    def laplacian_matrix(self) -> sparse.csr_matrix:
        """The periodic Laplacian D^2 on the flattened grid (built once per grid: the reference
        solver asks for it in every Jacobian of every trajectory)."""
        return _periodic_laplacian(self.points, self.ndim, self.dx)


@register_system
@dataclass(frozen=True)
class CahnHilliard(_CahnHilliard):
    """1-D Cahn–Hilliard on 50 points, 500 steps (DGNet's "ch")."""

    name = "cahn_hilliard"
    ndim, points = 1, 50
    dim = 50
    protocol = Protocol(100, 0.05, 501, 0.0, 0.1, 0.05, 501)


@register_system
@dataclass(frozen=True)
class CahnHilliard2D(_CahnHilliard):
    """2-D Cahn–Hilliard on a periodic 32 x 32 grid, 200 steps of dt = 1e-4."""

    name = "cahn_hilliard_2d"
    ndim, points = 2, 32
    dim = 32 * 32
    protocol = Protocol(20, 0.02, 201, 0.0, 0.2, 0.02, 201)

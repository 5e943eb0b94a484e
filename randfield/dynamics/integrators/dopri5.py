"""Adaptive Dormand–Prince 5(4) (Dormand & Prince 1980), the "ada. DP" of the DGNet tables."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .base import AbstractAdaptiveIntegrator, register_integrator
from .runge_kutta import combine, stages

# Butcher tableau of DOPRI5; B5 is the propagated 5th-order solution (FSAL), E = B5 - B4.
_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
_B5 = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
_B4 = (5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40)
_E = tuple(b5 - b4 for b5, b4 in zip(_B5, _B4))


class StepSizeError(RuntimeError):
    """The adaptive step size fell below min_step or the step budget ran out."""


@dataclass(frozen=True)
class Dopri5(AbstractAdaptiveIntegrator):
    """Adaptive DOPRI5 with an error-per-step controller.

    The error norm is the RMS over the whole batch of |err| / (atol + rtol max(|u_n|, |u_{n+1}|))
    (as torchdiffeq: one step size for the batch, so a rollout is one ODE). Steps are clipped to
    land on every output time, so outputs need no interpolation. Differentiable by unrolling.

    Attributes:
        rtol, atol: relative and absolute tolerances.
        first_step: initial step (default: Hairer's estimate from f(u0)).
        safety, min_factor, max_factor: controller constants (h *= safety err^(-1/5), clipped).
        max_steps: accepted + rejected steps allowed before `StepSizeError`.
    """

    rtol: float = 1e-7
    atol: float = 1e-9
    first_step: float | None = None
    safety: float = 0.9
    min_factor: float = 0.2
    max_factor: float = 10.0
    max_steps: int = 100_000

    name = "dopri5"
    order = 5

    def __post_init__(self):
        if not (self.rtol > 0 and self.atol >= 0):
            raise ValueError(f"need rtol > 0 and atol >= 0, got rtol={self.rtol}, atol={self.atol}")

    def step(self, system, u, dt):
        """One 5th-order step of size dt (no error control)."""
        return self._attempt(system, u, system.vector_field(u), dt)[0]

    def _attempt(self, system, u, k1, h):
        # The 7th stage is evaluated at the 5th-order solution (FSAL): it is k1 of the next step.
        ks = stages(system, u, h, _A, first=k1)
        return combine(u, h, _B5, ks), ks[-1], combine(0, h, _E, ks)

    def _error_ratio(self, u, u_new, err) -> float:
        scale = self.atol + self.rtol * torch.maximum(u.abs(), u_new.abs())
        return float(torch.sqrt(torch.mean((err.detach() / scale.detach()) ** 2)))

    def _initial_step(self, system, u, f0, span: float) -> float:
        u, f0 = u.detach(), f0.detach()
        scale = self.atol + self.rtol * u.abs()
        d0 = float(torch.sqrt(torch.mean((u.detach() / scale) ** 2)))
        d1 = float(torch.sqrt(torch.mean((f0.detach() / scale) ** 2)))
        h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
        with torch.no_grad():
            f1 = system.vector_field(u + h0 * f0)
        d2 = float(torch.sqrt(torch.mean(((f1 - f0).detach() / scale) ** 2))) / h0
        h1 = max(1e-6, h0 * 1e-3) if max(d1, d2) <= 1e-15 else (0.01 / max(d1, d2)) ** (1 / 5)
        return min(100 * h0, h1, span)

    @property
    def tableau(self):
        """(a, b) of the propagated 5th-order method, for replaying accepted steps."""
        return _A, _B5

    def integrate(self, system, u0, t, record: list | None = None):
        """`record`, when given, receives (interval, step size, accepted, start state) for every attempted step."""
        out, u = [u0], u0
        if t.numel() == 1:
            return u0[None]
        t_list = t.tolist()
        f = system.vector_field(u)
        h = self.first_step or self._initial_step(system, u, f, t_list[-1] - t_list[0])
        time, n_steps = t_list[0], 0
        for interval, t_out in enumerate(t_list[1:]):
            while time < t_out:
                n_steps += 1
                if n_steps > self.max_steps:
                    raise StepSizeError(
                        f"dopri5 took more than max_steps={self.max_steps} steps and reached t = {time:.6g} "
                        f"of {t_list[-1]:.6g} (stiff system, or tolerances too tight?)"
                    )
                step = min(h, t_out - time)
                last = step >= t_out - time - 1e-12 * max(1.0, abs(t_out))
                u_new, f_new, err = self._attempt(system, u, f, step)
                ratio = self._error_ratio(u, u_new, err)
                if not ratio == ratio:  # NaN
                    raise StepSizeError(f"dopri5 produced NaN at t = {time:.6g}")
                if record is not None:
                    record.append((interval, step, ratio <= 1.0, u))
                if ratio <= 1.0:
                    u, f = u_new, f_new
                    time = t_out if last else time + step
                factor = self.max_factor if ratio == 0 else self.safety * ratio ** (-1 / 5)
                h = step * min(self.max_factor, max(self.min_factor, factor))
                if h < 1e-14 * max(1.0, abs(time)):
                    raise StepSizeError(f"dopri5 step size underflow at t = {time:.6g} (h = {h:.3g})")
            out.append(u)
        return torch.stack(out)


register_integrator(Dopri5, "dp", "adaptive")

"""Checkpointing: keep the state at K checkpoints, recompute each segment in the backward pass.

The gradient is backprop's of the same discrete scheme (the remedy of ANODE, Gholami et al. 2019, and
ACA, Zhuang et al. 2020, for the adjoint's reverse-time error) at O(K + steps / K) memory; segments are
recomputed by `torch.utils.checkpoint`. Adaptive solves are planned first (accepted steps recorded,
no graph) and replayed as fixed steps of the same sizes.
"""

from __future__ import annotations

import math

import torch
from torch.utils.checkpoint import checkpoint

from .base import GradientMode, make_plan, register_gradient


@register_gradient
class Checkpoint(GradientMode):
    """segments: K (default: sqrt of the number of steps, which minimises K + steps / K)."""

    name = "checkpoint"

    def __init__(self, segments: int | None = None):
        if segments is not None and (int(segments) != segments or segments < 1):
            raise ValueError(f"segments must be a positive integer, got {segments!r}")
        self.segments = segments

    def solve(self, s, u0):
        _, plan = make_plan(s.integrator, s.system, u0, s.t, s.substeps)
        steps = plan.flat
        s.stats.steps_accepted, s.stats.steps_rejected = len(steps), plan.rejected
        k = self.segments or max(1, round(math.sqrt(len(steps))))
        size = math.ceil(len(steps) / k) if steps else 1
        step = s.integrator.step

        def segment(u, chunk):
            outs = []
            for dt, ends in chunk:
                u = step(s.system, u, dt)
                if ends:
                    outs.append(u)
            return (u, *outs)

        out, u = [u0], u0
        for start in range(0, len(steps), size):
            chunk = steps[start : start + size]
            u, *outs = checkpoint(segment, u, chunk, use_reentrant=False)
            out += outs
        s.stats.nfe_forward = s.system.count
        return torch.stack(out)

"""Checkpointing: keep the state at K checkpoints, recompute each segment in the backward pass.

The gradient is backprop's of the same discrete scheme (the remedy of ANODE, Gholami et al. 2019, and
ACA, Zhuang et al. 2020, for the adjoint's reverse-time error) at O(K + steps / K) memory: the forward
pass keeps K segment-start states and no graph; the backward pass re-runs one segment at a time with a
graph and back-propagates through it. Adaptive solves are planned first (accepted steps recorded, no
graph) and replayed as fixed steps of the same sizes.
"""

from __future__ import annotations

import math

import torch

from .base import GradientMode, make_plan, register_gradient, zeros_like_all


def _run(s, u, chunk):
    """Steps of one segment: its final state and the states at the output times inside it."""
    outs = []
    for dt, ends in chunk:
        u = s.integrator.step(s.system, u, dt)
        if ends:
            outs.append(u)
    return u, outs


class _CheckpointFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, mode, s, u0, *params):
        _, plan = make_plan(s.integrator, s.system, u0, s.t, s.substeps)
        steps = plan.flat
        s.stats.steps_accepted, s.stats.steps_rejected = len(steps), plan.rejected
        k = mode.segments or max(1, round(math.sqrt(len(steps))))
        size = math.ceil(len(steps) / k)
        chunks = [steps[i : i + size] for i in range(0, len(steps), size)]
        starts, out, u = [], [u0], u0
        with torch.no_grad():
            for chunk in chunks:
                starts.append(u)
                u, outs = _run(s, u, chunk)
                out += outs
        s.stats.nfe_forward = s.system.count
        ctx.s, ctx.chunks = s, chunks
        ctx.save_for_backward(*starts)
        return torch.stack(out)

    @staticmethod
    def backward(ctx, grad_ys):
        s, chunks = ctx.s, ctx.chunks
        starts = ctx.saved_tensors
        # output index of every interval-closing step, chunk by chunk
        index, chunk_outputs = 0, []
        for chunk in chunks:
            ids = []
            for _, ends in chunk:
                index += ends
                ids.append(index if ends else None)
            chunk_outputs.append(ids)
        lam, g = grad_ys[-1], [torch.zeros_like(p) for p in s.params]
        for c in range(len(chunks) - 1, -1, -1):
            chunk, ids = chunks[c], chunk_outputs[c]
            with torch.enable_grad():
                u = starts[c].detach().requires_grad_(True)
                end, outs = _run(s, u, chunk)
                inner = [i for i in ids[:-1] if i is not None]  # outputs before the segment's end
                targets = [end, *outs[: len(inner)]]
                cots = [lam, *(grad_ys[i] for i in inner)]
                grads = torch.autograd.grad(targets, (u, *s.params), cots, allow_unused=True)
            grads = zeros_like_all(grads, (u, *s.params))
            lam, g = grads[0], [a + b for a, b in zip(g, grads[1:])]
            previous = chunk_outputs[c - 1][-1] if c else 0  # the segment starts at an output time?
            if previous is not None:
                lam = lam + grad_ys[previous]
        return (None, None, lam, *g)


@register_gradient
class Checkpoint(GradientMode):
    """segments: K (default: sqrt of the number of steps, which minimises K + steps / K)."""

    name = "checkpoint"

    def __init__(self, segments: int | None = None):
        if segments is not None and (int(segments) != segments or segments < 1):
            raise ValueError(f"segments must be a positive integer, got {segments!r}")
        self.segments = segments

    def solve(self, s, u0):
        return _CheckpointFunction.apply(self, s, u0, *s.params)

"""Benchmark: the simulation engine against plain batched matmuls of the same shapes.

Defaults follow issue 4: width 4096, depth 100, 64 inputs, 16 networks, float32. Reports, in one
run: torch.bmm of the explicit-weight shapes (S, n, N) x (S, N, N) and the time to draw those
weights; the engine with explicit weights (FLOP/s as a fraction of that bmm); the engine with
its default Gram sampler (same law, no N x N weights); and peak memory (process RSS growth on
the CPU, torch's peak allocation on CUDA) against the depth-independent working set.

Run: python experiments/bench/bench_simulation.py [--width 4096] [--depth 100] [--inputs 64] [--samples 16]
     [--device cuda]
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from randfield.montecarlo import SimulationConfig, default_device, simulate


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=4096)
    ap.add_argument("--depth", type=int, default=100)
    ap.add_argument("--inputs", type=int, default=64)
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--device", default=None)
    args = ap.parse_args()
    device = torch.device(args.device) if args.device else default_device()
    s, n, w = args.samples, args.inputs, args.width
    flops = 2 * s * n * w * w  # one layer with explicit weights

    def run(sampler, depth):
        cfg = SimulationConfig(
            "tanh", 2.0, 0.05, width=w, depth=depth, n_networks=s, n_inputs=n, dtype="float32", sampler=sampler
        )
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        simulate(cfg, device=device)
        sync(device)
        sec = time.perf_counter() - t0
        peak = (
            torch.cuda.max_memory_allocated(device)
            if device.type == "cuda"
            else (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024
        )
        return sec / depth, peak

    print(
        f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else torch.get_num_threads()} "
        f"{'' if device.type == 'cuda' else 'threads'}), width {w}, depth {args.depth}, {n} inputs, {s} networks,"
        " float32"
    )

    # the engine first (so that process-RSS growth is its own), then the baselines
    gram_layer, gram_peak = run("gram", args.depth)
    explicit_layers = min(args.depth, 3)
    explicit_layer, _ = run("explicit", explicit_layers)

    # baseline: the same batched matmul with weights already in memory
    h = torch.randn(s, n, w, device=device)
    wt = torch.randn(s, w, w, device=device)
    torch.bmm(h, wt)
    sync(device)
    reps = 5
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.bmm(h, wt)
    sync(device)
    t_bmm = (time.perf_counter() - t0) / reps
    gen = torch.Generator(device=device).manual_seed(0)
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.randn(s, w, w, generator=gen, device=device)
    sync(device)
    t_rand = (time.perf_counter() - t0) / reps
    del h, wt
    print(
        f"  torch.bmm {(s, n, w)} x {(s, w, w)}: {t_bmm * 1e3:.1f} ms = {flops / t_bmm / 1e9:.1f} GFLOP/s;"
        f" drawing one layer's weights: {t_rand * 1e3:.1f} ms"
    )
    where = "GPU peak allocated" if device.type == "cuda" else "growth of process max RSS"
    print(
        f"  engine, explicit weights ({explicit_layers} layers): {explicit_layer * 1e3:.1f} ms/layer = "
        f"{flops / explicit_layer / 1e9:.1f} GFLOP/s = {t_bmm / explicit_layer:.0%} of torch.bmm "
        f"(drawing the weights is {t_rand / explicit_layer:.0%} of it)"
    )
    print(
        f"  engine, Gram sampler (default; same law, {args.depth} layers): {gram_layer * 1e3:.1f} ms/layer = "
        f"{t_bmm / gram_layer:.1f}x the speed of the explicit-weight matmul alone, "
        f"{explicit_layer / gram_layer:.0f}x the explicit engine"
    )
    bound = 4 * s * 3 * n * w
    print(
        f"  memory (Gram sampler): {where} {gram_peak / 2**20:.0f} MiB against the depth-free working set "
        f"S * 3nN floats = {bound / 2**20:.0f} MiB; explicit weights would need S N^2 = "
        f"{4 * s * w * w / 2**20:.0f} MiB "
        f"per layer"
    )


if __name__ == "__main__":
    main()

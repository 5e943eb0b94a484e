"""Benchmark: peak memory and time of one gradient through an ODE solve, every gradient mode of
`randfield.continuous.odeint`, against torchdiffeq (odeint and odeint_adjoint) when it is installed.

MLP field f(z) = W2 tanh(W1 z + b1) + b2, state and hidden width 128, batch 256, float32, RK4 with
10 / 100 / 1000 fixed steps over [0, 1] (equal NFE for every solver); "reversible" runs leapfrog on the
separable field dq/dt = p, dp/dt = MLP(q) (64 + 64 dims), with backprop through the same leapfrog as its
own baseline. Each configuration runs in a fresh subprocess: memory is the process's peak resident set
(ru_maxrss) and its rise over the resident set just before the solve (the solve's own memory); time is
the median of 3 gradients after one warm-up. CUDA: torch.cuda.max_memory_allocated instead.

Run: python experiments/bench/bench_gradients.py [--steps 10 100 1000] [--device cuda] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

MODES = ["backprop", "checkpoint", "symplectic", "adjoint", "reversible", "leapfrog_backprop"]
PEERS = ["torchdiffeq_odeint", "torchdiffeq_adjoint"]


def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_one(mode: str, steps: int, device: str) -> dict:
    """One configuration, in this process (called in a subprocess by `main`)."""
    import resource
    import statistics
    import time

    import torch
    from torch import nn

    from randfield.continuous import odeint

    torch.manual_seed(0)
    torch.set_num_threads(2)
    d, width, batch = 128, 128, 256

    class Field(nn.Module):
        def __init__(self, d_in, d_out):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(d_in, width), nn.Tanh(), nn.Linear(width, d_out))

        def vector_field(self, z):
            return self.net(z)

        def forward(self, t, z):  # torchdiffeq's signature
            return self.net(z)

    class Separable(nn.Module):
        def __init__(self):
            super().__init__()
            self.force_net = Field(d // 2, d // 2)

        def velocity(self, p):
            return p

        def force(self, q):
            return self.force_net.vector_field(q)

        def vector_field(self, u):
            q, p = u.chunk(2, -1)
            return torch.cat([p, self.force(q)], -1)

    separable = mode in ("reversible", "leapfrog_backprop")
    field = (Separable() if separable else Field(d, d)).to(device)
    z0 = torch.randn(batch, d, device=device)
    t = torch.tensor([0.0, 1.0])

    def gradient():
        field.zero_grad()
        z = z0.clone().requires_grad_(True)
        if mode.startswith("torchdiffeq"):
            import torchdiffeq

            solve = torchdiffeq.odeint_adjoint if mode.endswith("adjoint") else torchdiffeq.odeint
            ys = solve(field, z, t.to(device), method="rk4", options={"step_size": 1.0 / steps})
            stats = None
        else:
            method = "leapfrog" if separable else "rk4"
            grad_mode = "backprop" if mode == "leapfrog_backprop" else mode
            ys, stats = odeint(field, z, t, method, gradient=grad_mode, substeps=steps, return_stats=True)
        (ys[-1] ** 2).sum().backward()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return stats

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    before = _rss_kb()
    stats = gradient()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        gradient()
        times.append(time.perf_counter() - start)
    out = {
        "mode": mode,
        "steps": steps,
        "seconds": statistics.median(times),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "solve_mib": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024,
    }
    if device.startswith("cuda"):
        out["cuda_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    if stats is not None:
        out |= {"nfe_forward": stats.nfe_forward, "nfe_backward": stats.nfe_backward}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--modes", nargs="+", default=MODES + PEERS)
    parser.add_argument("--json", help="write the rows here")
    parser.add_argument("--one", nargs=2, metavar=("MODE", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args.device)))
        return
    try:
        import torchdiffeq  # noqa: F401
    except ImportError:
        args.modes = [m for m in args.modes if m not in PEERS]
        print("torchdiffeq not installed: peer rows skipped")
    rows = []
    for mode in args.modes:
        for steps in args.steps:
            cmd = [sys.executable, __file__, "--one", mode, str(steps), "--device", args.device]
            res = subprocess.run(cmd, capture_output=True, text=True, check=True)
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            nfe = f"  NFE {r['nfe_forward']}/{r['nfe_backward']}" if "nfe_forward" in r else ""
            print(
                f"{mode:>20} {steps:>5} steps: {r['seconds'] * 1e3:9.1f} ms  peak {r['peak_mib']:7.1f} MiB  "
                f"solve {r['solve_mib']:7.1f} MiB{nfe}",
                flush=True,
            )
    by = {(r["mode"], r["steps"]): r for r in rows}
    lo, hi = min(args.steps), max(args.steps)
    print(f"\nmemory growth from {lo} to {hi} steps (peak RSS ratio; solve's own MiB ratio):")
    for mode in args.modes:
        a, b = by[(mode, lo)], by[(mode, hi)]
        print(f"{mode:>20}: peak x{b['peak_mib'] / a['peak_mib']:.2f}; solve {a['solve_mib']:.1f} -> {b['solve_mib']:.1f} MiB")
    if ("torchdiffeq_adjoint", hi) in by:
        print("\ntime per gradient, randfield adjoint / torchdiffeq odeint_adjoint (equal NFE, RK4):")
        for steps in args.steps:
            ratio = by[("adjoint", steps)]["seconds"] / by[("torchdiffeq_adjoint", steps)]["seconds"]
            print(f"  {steps:>5} steps: {ratio:.2f}")
        print("time per gradient, randfield symplectic / torchdiffeq odeint_adjoint:")
        for steps in args.steps:
            ratio = by[("symplectic", steps)]["seconds"] / by[("torchdiffeq_adjoint", steps)]["seconds"]
            print(f"  {steps:>5} steps: {ratio:.2f}")
    if args.json:
        from randfield._io import atomic_write_json

        atomic_write_json(args.json, {"rows": rows, "argv": sys.argv})


if __name__ == "__main__":
    main()

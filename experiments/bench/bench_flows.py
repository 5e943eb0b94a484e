"""Benchmark: randfield's CNF against zuko's (`zuko.flows.CNF`, when installed) on FFJORD's 2-D data —
held-out NLL after the same training budget, time per training iteration, and density-evaluation
throughput (points / s) at the same tolerances. Both: two hidden layers of 64, exact trace, dopri5
(zuko's own adaptive solver), rtol 1e-5, atol 1e-6, adjoint gradients, Adam, same data and seeds.

Run: python experiments/bench/bench_flows.py [--data moons 8gaussians rings] [--steps 300] [--seeds 0]
"""

from __future__ import annotations

import argparse
import time

import torch


def _train(log_prob, params, x, steps, batch, lr, seed):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(params, lr=lr)
    tic = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (batch,), generator=gen)
        loss = -log_prob(x[idx]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (time.perf_counter() - tic) / steps


def _throughput(log_prob, x):
    with torch.no_grad():
        log_prob(x[:64])
        tic = time.perf_counter()
        out = log_prob(x)
        return len(x) / (time.perf_counter() - tic), float(-out.mean())


def main() -> None:
    from randfield.flows import CNF, sample_toy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["moons", "8gaussians", "rings"])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    torch.set_num_threads(2)
    try:
        import zuko
    except ImportError:
        zuko = None
        print("zuko not installed: randfield only")
    print(f"{'data':>12} {'seed':>4} {'model':>10} {'test NLL':>9} {'s/iter':>8} {'eval pts/s':>11}")
    for name in args.data:
        for seed in args.seeds:
            train = torch.as_tensor(sample_toy(name, 20000, seed=seed), dtype=torch.float32)
            test = torch.as_tensor(sample_toy(name, 5000, seed=10_000 + seed), dtype=torch.float32)
            rows = {}
            torch.manual_seed(seed)
            ours = CNF(2, width=64, layers=2, rtol=1e-5, atol=1e-6)
            t_ours = _train(ours.log_prob, list(ours.parameters()), train, args.steps, args.batch, args.lr, seed)
            rows["randfield"] = (t_ours, *_throughput(ours.log_prob, test))
            if zuko is not None:
                torch.manual_seed(seed)
                theirs = zuko.flows.CNF(2, hidden_features=(64, 64), atol=1e-6, rtol=1e-5, exact=True)
                t_z = _train(lambda v: theirs().log_prob(v), list(theirs.parameters()), train, args.steps,
                             args.batch, args.lr, seed)  # fmt: skip
                rows["zuko"] = (t_z, *_throughput(lambda v: theirs().log_prob(v), test))
            for model, (t, pts, nll) in rows.items():
                print(f"{name:>12} {seed:>4} {model:>10} {nll:9.4f} {t:8.3f} {pts:11.0f}", flush=True)
            if "zuko" in rows:
                r, z = rows["randfield"], rows["zuko"]
                print(f"{'':>12} ratios randfield / zuko: time per iteration {r[0] / z[0]:.2f}, "
                      f"eval throughput {r[1] / z[1]:.2f}, NLL difference {r[2] - z[2]:+.4f} nats")  # fmt: skip


if __name__ == "__main__":
    main()

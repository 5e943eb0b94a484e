"""Benchmark: DGNet's implicit discrete-gradient prediction, batched torch Newton vs the published
method (a per-sample scipy.optimize.fsolve loop on the CPU), same model, same tolerance, same run.

A DGNet is trained briefly on the system's data (the solver cost does not depend on how well it
is trained), then initial conditions are rolled out both ways: spring, 15 x 100 steps of dt = 0.2
(issue 7); kdv or cahn_hilliard, 10 x 500 steps of the data's dt with DGNet's conv energy (issue 8).
Prints, for each Newton start (`predictor`: DGNet's RK2 guess, extrapolation of the rollout's
last states, the previous state), the wall-time ratio, the largest residual
|x - u - dt G dgradH(x, u)| of each solution, the largest difference between the rollouts and
the energy drift of each, plus training
iterations/second of every model and the resident memory its training adds at its peak.

Run: python experiments/bench/bench_dg_solver.py [--system spring|kdv|cahn_hilliard] [--device cuda]
         [--steps N] [--initial N] [--hidden 200] [--jacobian auto|autodiff|finite_difference]
         [--no-training-speed]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch
from scipy.optimize import fsolve

from randfield._malloc import retain_freed_memory
from randfield.dynamics import data, evaluation_set, fit, get_model
from randfield.dynamics.integrators import MIDPOINT, get_integrator
from randfield.dynamics.integrators.implicit import PREDICTORS
from randfield.dynamics.integrators.newton import JACOBIAN_METHODS


def fsolve_rollout(model, u0: np.ndarray, dt: float, steps: int, xtol: float) -> np.ndarray:
    """DGNet's predictor: for each sample and step, fsolve F(x) = G dgradH(x, u) - (x - u)/dt from an RK2 guess."""
    out = np.empty((steps + 1, *u0.shape))
    out[0] = u0
    for i in range(u0.shape[0]):
        u = u0[i]
        for n in range(steps):
            ut = torch.as_tensor(u)[None]
            guess = MIDPOINT.step(model, ut, dt)[0].detach().numpy()

            def residual(x, ut=ut):
                xt = torch.as_tensor(x)[None]
                with torch.no_grad():
                    g = model.structure(model.discrete_gradient(xt, ut))
                return (g - (xt - ut) / dt)[0].numpy()

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "not making good progress" at xtol 1e-12, as in the anchors
                u = fsolve(residual, guess, xtol=xtol)
            out[n + 1, i] = u
    return out


def max_residual(model, traj: np.ndarray, dt: float) -> float:
    u, x = torch.as_tensor(traj[:-1].reshape(-1, traj.shape[-1])), torch.as_tensor(traj[1:].reshape(-1, traj.shape[-1]))
    with torch.no_grad():
        r = x - u - dt * model.structure(model.discrete_gradient(x, u))
    return float(r.abs().max())


def _status_kib(field: str) -> int | None:
    """A field of /proc/self/status in KiB (Linux), or None."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return None


TRAINING_ROWS = [
    ("node", "rk2"),
    ("node", "dopri5"),
    ("hnn", "rk2"),
    ("hnn", "dopri5"),
    ("srnn", "leapfrog"),
    ("dgnet", "dg"),
]


def _train_once(system: str, name: str, integrator: str, steps: int) -> tuple[float, float | None]:
    """In a fresh process: (iterations per second, MiB of resident memory the training added at its
    peak over the process's size before it; None off Linux)."""
    retain_freed_memory()  # as in the table runs (and the parent); freed pages stay in the heap
    torch.set_num_threads(1)
    train, _ = data.generate(system, seed=0).split(0.5)
    torch.manual_seed(0)
    model = get_model(
        name,
        train.states.shape[-1],
        train_integrator=integrator,
        integrator_options={"rtol": 1e-6, "atol": 1e-12} if integrator == "dopri5" else None,
    )
    before = _status_kib("VmRSS")
    speed = fit(model, train, steps=steps, dtype="float32", progress=False).iterations_per_second
    peak = _status_kib("VmHWM")
    return speed, None if before is None or peak is None else (peak - before) / 1024


def training_speed(system: str, steps: int = 30) -> dict:
    """{model/integrator: (iterations/second, peak added MiB)}, each model trained in its own
    process (one thread) so that memory freed by one is not counted, or reused, by the next."""
    context = multiprocessing.get_context("spawn")
    out = {}
    for name, integrator in TRAINING_ROWS:
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            out[f"{name}/{integrator}"] = pool.submit(_train_once, system, name, integrator, steps).result()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--system", default="spring")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=None, help="default: 100 (ODE), 500 (PDE)")
    ap.add_argument("--initial", type=int, default=None, help="default: 15 (ODE), 10 (PDE)")
    ap.add_argument("--hidden", type=int, default=200)
    ap.add_argument("--tol", type=float, default=1e-12)
    ap.add_argument("--jacobian", default="auto", choices=JACOBIAN_METHODS, help="Newton's Jacobian blocks")
    ap.add_argument("--no-training-speed", action="store_true")
    args = ap.parse_args(argv)
    system = data.get_system(args.system)
    pde = bool(system.model_options())
    steps = args.steps or (500 if pde else 100)
    initial = args.initial or (10 if pde else 15)
    torch.manual_seed(0)
    if pde:  # 50 steps of the published dt per trajectory
        source = data.generate(system, 10, seed=0, n_points=51, t_end=50 * system.dt, scheme="dvdm")
    else:
        source = data.generate(system, seed=0)
    model = get_model("dgnet", system.dim, hidden=args.hidden, **system.model_options())
    fit(model, source, steps=100 if pde else 300, batch_size=200, dtype="float32", progress=False)
    model.double()
    _, u0, _ = evaluation_set(system, initial)
    dt = source.dt
    t = np.arange(steps + 1) * dt
    args.steps, args.initial = steps, initial

    model.to(args.device)
    u0_dev = torch.as_tensor(u0, device=args.device)
    newton = {}  # predictor -> (seconds, rollout, solver)
    with torch.no_grad():
        model.rollout(u0_dev[:2], t[:3], "dg")  # warm-up (CUDA context, kernels)
        for predictor in PREDICTORS:
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            tic = time.perf_counter()
            step = get_integrator("dg", rtol=args.tol, atol=args.tol, jacobian=args.jacobian, predictor=predictor)
            ours = model.rollout(u0_dev, t, step)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            newton[predictor] = (time.perf_counter() - tic, ours.cpu().numpy(), step.solver)
    model.cpu()

    tic = time.perf_counter()
    ref = fsolve_rollout(model, u0, dt, args.steps, args.tol)
    t_fsolve = time.perf_counter() - tic

    def energy(traj):
        with torch.no_grad():
            flat = torch.as_tensor(traj.reshape(-1, *traj.shape[2:]))
            return model.energy(flat).reshape(traj.shape[:2]).numpy()

    def report(label, seconds, traj):
        drift = np.abs(energy(traj) - energy(traj)[:1]).max()
        residual = max_residual(model, traj, dt)
        print(f"  {label:44s} {seconds:8.3f} s   max residual {residual:.2e}   energy drift {drift:.2e}")

    print(f"DG rollouts on {system.name}: {initial} initial conditions x {steps} steps, dt = {dt:g}, tol {args.tol:g}")
    report("scipy fsolve loop (published method):", t_fsolve, ref)
    for predictor, (seconds, ours, solver) in newton.items():
        report(f"batched torch Newton ({args.device}, {predictor} guess):", seconds, ours)
        print(
            f"    speed ratio fsolve / Newton: {t_fsolve / seconds:.1f}x; per step"
            f" {solver.residual_evaluations / steps:.1f} batched residuals,"
            f" {solver.jacobian_evaluations / steps:.2f} Jacobians;"
            f" max |difference| from fsolve's rollout {np.abs(ours - ref).max():.2e}"
        )
    if args.no_training_speed or pde:
        return
    print("training (spring, full batch 2475 pairs, float32, 2 x 200 tanh, one thread, each in a fresh process):")
    for key, (speed, mib) in training_speed("spring").items():
        print(f"  {key:16s} {speed:8.1f} it/s   " + ("n/a" if mib is None else f"{mib:7.1f} MiB"))


if __name__ == "__main__":
    retain_freed_memory()
    main()

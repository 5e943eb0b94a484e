"""Run many independent jobs (simulations over grids of widths, depths, sigma_w^2, ...) in parallel.

Local process pool by default; a Dask distributed cluster when a scheduler address is given
(`pip install "dask[distributed]"`; not needed otherwise). Jobs carry their own seeds, so the
results are identical whatever runs them and in whatever order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ._validation import check_positive_int


def run_sweep(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
    connect_timeout: float = 5.0,
) -> list:
    """[fn(item) for item in items], in order, computed in parallel.

    Args:
        fn: a picklable (module-level) function.
        workers: local processes (default: the CPU count); 1 runs in this process.
        scheduler: address of a Dask distributed scheduler (e.g. "tcp://10.0.0.5:8786"), or a
            dask.distributed.Client; local processes are used when None.
        progress: show a tqdm bar.
        connect_timeout: seconds to wait for the scheduler before a clear error.
    """
    items = list(items)
    bar = None

    def start_bar():  # after the scheduler answered: a failed connection prints one error line only
        nonlocal bar
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(items), desc="sweep", unit="job")

    try:
        if scheduler is not None:
            try:
                from dask.distributed import Client, as_completed
            except ImportError as err:
                raise ValueError('scheduler= needs dask: pip install "dask[distributed]"') from err
            if isinstance(scheduler, Client):
                client = scheduler
            else:
                try:
                    client = Client(scheduler, timeout=connect_timeout)
                except (OSError, TimeoutError) as err:  # unreachable, refused, wrong address
                    raise ValueError(
                        f"scheduler {scheduler!r} cannot be reached within {connect_timeout:g} s "
                        f"({type(err).__name__}); is `dask scheduler` running there?"
                    ) from None
            start_bar()
            futures = client.map(fn, items, pure=False)
            for _ in as_completed(futures):
                if bar is not None:
                    bar.update()
            return client.gather(futures)
        workers = os.cpu_count() or 1 if workers is None else check_positive_int(workers, "workers")
        start_bar()
        if workers == 1:
            out = []
            for item in items:
                out.append(fn(item))
                if bar is not None:
                    bar.update()
            return out
        # spawn, not fork: forking a process whose torch thread pools are running can deadlock;
        # and split the cores between workers, since oversubscribed torch threads spin and crawl
        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_limit_threads,
            initargs=(threads,),
        ) as pool:
            out = []
            for result in pool.map(fn, items):
                out.append(result)
                if bar is not None:
                    bar.update()
            return out
    finally:
        if bar is not None:
            bar.close()


def _limit_threads(n: int) -> None:
    from ._malloc import retain_freed_memory

    retain_freed_memory()  # a worker is a process of ours, like the CLI's
    os.environ["OMP_NUM_THREADS"] = str(n)
    import torch

    torch.set_num_threads(n)


def simulate_job(config) -> Any:
    """One simulation on the CPU (a picklable job for `run_sweep`)."""
    from .montecarlo import simulate

    return simulate(config, device="cpu")

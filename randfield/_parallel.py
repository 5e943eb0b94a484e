"""Large n1 x n2 elementwise work in cache-sized row blocks, spread over the CPU's cores.

Blocks of ~64 k entries keep an elementwise chain's temporaries in cache instead of streaming whole
matrices through memory once per operation. numpy's ufuncs release the GIL, so row blocks can also
run on several threads (RANDFIELD_NUM_THREADS=k). That is off by default: on the 2-core machine the
kernels' chains of many short ufunc calls ran 10-20 % *slower* on two threads than on one
(experiments/bench/bench_kernels.py), the Python between the calls being serial."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

BLOCK = 65536  # entries per block: the temporaries of an elementwise chain stay in L2
_pool: ThreadPoolExecutor | None = None
_inside = threading.local()  # set in the pool's workers: nested calls run inline (no deadlock)


def num_threads() -> int:
    env = os.environ.get("RANDFIELD_NUM_THREADS", "1")
    try:
        return max(1, int(env))
    except ValueError:
        raise ValueError(f"RANDFIELD_NUM_THREADS must be a positive integer, got {env!r}") from None


def for_each_row_block(fn: Callable[[slice], None], n1: int, n2: int, block: int = BLOCK) -> None:
    """Call fn(rows) for row slices covering range(n1), each about `block` // n2 rows. With more than
    one thread the rows are cut into one contiguous share per thread, each walking its share block by
    block (one task per thread: dispatching every block separately costs more than it saves).
    fn must write disjoint outputs."""
    rows = max(1, block // max(n2, 1))
    slices = [slice(start, min(start + rows, n1)) for start in range(0, n1, rows)]
    threads = min(num_threads(), len(slices))
    if threads <= 1 or getattr(_inside, "active", False):
        for sl in slices:
            fn(sl)
        return
    global _pool
    if _pool is None or _pool._max_workers < threads:
        _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="randfield")

    def share(k):
        _inside.active = True
        try:
            for sl in slices[k::threads]:  # interleaved: equal shares whatever the block sizes
                fn(sl)
        finally:
            _inside.active = False

    for _ in _pool.map(share, range(threads)):  # re-raises the first exception of any block
        pass

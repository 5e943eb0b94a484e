"""Keep freed memory in the process (glibc): CPU torch training allocates and frees tensors of
tens of MB every step; glibc serves each from a fresh mmap and returns it on free, so every
step pays page faults on memory it just gave back. Raising the mmap and trim thresholds keeps
those pages in the heap for reuse. Measured on the 2-core CI-class CPU (KdV DGNet, width 200,
batch 200, float64): discrete-gradient forward + backward 859 -> 413 ms.

A process-wide setting, so the library never applies it by itself: the `randfield` CLI and the
experiment scripts call `retain_freed_memory()` at start-up.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def retain_freed_memory(threshold: int = 1 << 30) -> bool:
    """Set glibc's mmap and trim thresholds to `threshold` bytes; True if applied (glibc only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, threshold))

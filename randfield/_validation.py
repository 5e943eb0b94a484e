"""Argument checks shared by the public API: every bad input raises a ValueError that names the parameter."""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(value, name: str) -> np.ndarray:
    """`value` as a float64 array; ValueError naming `name` if it is not finite."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a real number or array of real numbers, got {value!r}") from err
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {value!r}")
    return arr


def check_variance(value, name: str, *, positive: bool = False) -> np.ndarray:
    """A variance: finite and >= 0 (or > 0 when `positive`)."""
    arr = as_float_array(value, name)
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 (it is a variance), got {value!r}")
    return arr


def check_correlation(value, name: str = "c") -> np.ndarray:
    """A correlation coefficient in [-1, 1]."""
    arr = as_float_array(value, name)
    if np.any(np.abs(arr) > 1):
        raise ValueError(f"{name} must lie in [-1, 1], got {value!r}")
    return arr


def check_positive_int(value, name: str) -> int:
    """An integer >= 1 (depth, width, order, ...)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def physical_memory() -> int | None:
    """Bytes of RAM on this machine (None where the OS does not say)."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(nbytes: float, what: str, available: int | None = None) -> None:
    """Refuse, before allocating, work whose arrays would not fit in memory (`available` bytes;
    default: this machine's RAM). The message names the sizes so the user knows what to shrink."""
    available = physical_memory() if available is None else available
    if available is not None and nbytes > available:
        raise ValueError(
            f"{what} needs about {nbytes / 2**30:.1f} GiB of memory, more than the {available / 2**30:.1f} GiB here"
        )

"""The figure registry: a figure kind is one function `params -> (matplotlib figure, data dict)`,
registered with `@figure_kind` in the module of its family. `randfield figures --force` adds
params["force"] = True: a figure with caches of its own (the dynamics tables' cells) rebuilds them."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable

FIGURE_KINDS: dict[str, Callable[[dict], tuple[object, dict]]] = {}


def figure_kind(fn):
    FIGURE_KINDS[fn.__name__] = fn
    return fn


def kind_digest(kind: str) -> str:
    """SHA-256 of the figure function's own source: its cache key changes when that code changes,
    not when any other figure or an unrelated part of the package does."""
    return hashlib.sha256(inspect.getsource(FIGURE_KINDS[kind]).encode()).hexdigest()[:16]

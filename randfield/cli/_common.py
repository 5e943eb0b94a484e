"""What every command shares: the parser, argument types that validate at parse time, JSON output.

Every argument is checked before any work starts: sizes against a named limit (so that nothing
allocates or loops for hours on a typo), numbers for finiteness, output paths for writability,
devices for existence. A bad value is one line, `randfield CMD: error: argument --X: ...`, exit 2.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

# Limits on sizes: far above any real use on one machine, low enough to refuse a typo up front.
MAX_DEPTH = 10_000  # layers (maps, geometry, spectrum, simulate, sweep, init)
MAX_WIDTH = 65_536  # simulated width, hidden units
MAX_COUNT = 100_000  # networks, trajectories, initial conditions, grid points per axis
MAX_STEPS = 100_000_000  # optimiser steps
MAX_GRID = 4_000_000  # points of a phase diagram


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def _json(obj) -> str:
    """JSON with NaN/inf as null (valid JSON for other tools)."""

    def clean(x):
        if isinstance(x, float) and not np.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj))


def int_in(lo: int, hi: int):
    """An argparse type: an integer in [lo, hi]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer in [{lo}, {hi}], got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer in [{lo}, {hi}], got {value}")
        return value

    return parse


def finite(text: str) -> float:
    """An argparse type: a finite real number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def positive(text: str) -> float:
    value = finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def output_path(text: str) -> str:
    """An argparse type: a file path that can be written (checked before any work starts)."""
    from .._io import check_output_path

    try:
        check_output_path(text, "path")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("path: ")) from None
    return text


def device(text: str) -> str:
    """An argparse type: a torch device that exists here ('cpu', 'cuda', 'cuda:1', ...)."""
    import torch

    try:
        dev = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"unknown device {text!r}; use cpu or cuda[:N]") from None
    if dev.type == "cpu":
        return text
    backend = getattr(torch, dev.type, None)
    available = getattr(backend, "is_available", lambda: False)()
    if not available:
        raise argparse.ArgumentTypeError(f"{dev.type} is not available in this torch build or on this machine; use cpu")
    count = getattr(backend, "device_count", lambda: 1)()
    if dev.index is not None and dev.index >= count:
        raise argparse.ArgumentTypeError(f"{text!r}: only {count} {dev.type} device(s) here")
    return text


def _range(text: str) -> np.ndarray:
    """LO:HI:N, N in [1, MAX_COUNT]."""
    try:
        lo, hi, n = text.split(":")
        lo, hi, n = float(lo), float(hi), int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO:HI:N, got {text!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise argparse.ArgumentTypeError(f"LO and HI must be finite, got {text!r}")
    if not 1 <= n <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"N must be an integer in [1, {MAX_COUNT}], got {n}")
    return np.linspace(lo, hi, n)


def _add_network(p, depth: bool = False):
    p.add_argument("--activation", default="tanh", help="activation name, e.g. tanh, relu, 'leaky_relu(alpha=0.2)'")
    p.add_argument("--sigma-w2", type=finite, required=True, help="weight variance sigma_w^2 (>= 0)")
    p.add_argument("--sigma-b2", type=finite, default=0.0, help="bias variance sigma_b^2 (>= 0)")
    if depth:
        p.add_argument("--depth", type=int_in(1, MAX_DEPTH), default=20, help=f"layers to iterate (1 to {MAX_DEPTH})")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def nonnegative(text: str) -> float:
    value = finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def add_simulation_options(p, what: str, *, samples: int, width: int | None = None, widths=None) -> None:
    """--simulate (also `what`), the simulated --width or --widths (neither when both are None: the command
    has its own --width), --samples, --seed, --device."""
    p.add_argument("--simulate", action="store_true", help=f"also {what}")
    if widths is not None:
        p.add_argument("--widths", type=int_in(1, MAX_WIDTH), nargs="+", default=widths, help="simulated widths")
    elif width is not None:
        p.add_argument("--width", type=int_in(1, MAX_WIDTH), default=width, help="simulated width N")
    p.add_argument("--samples", type=int_in(2, MAX_COUNT), default=samples, help="independent networks (per width)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", type=device, default=None, help="cuda, cpu, ... (default: cuda when available)")

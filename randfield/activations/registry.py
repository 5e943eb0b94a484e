"""Name -> activation factory. A new activation is one `register_activation` call."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from .base import Activation

_REGISTRY: dict[str, Callable[..., Activation]] = {}


def register_activation(name: str, factory: Callable[..., Activation] | Activation, *, overwrite: bool = False) -> None:
    """Register an activation (or a factory taking its parameters as keywords) under `name`."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"activation name must be an identifier, got {name!r}")
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"activation {name!r} is already registered (pass overwrite=True to replace it)")
    _REGISTRY[name] = factory if callable(factory) and not isinstance(factory, Activation) else (lambda: factory)


def available_activations() -> list[str]:
    """Registered names, sorted."""
    return sorted(_REGISTRY)


def _parse(spec: str) -> tuple[str, list, dict]:
    """'leaky_relu(alpha=0.2)' -> ('leaky_relu', [], {'alpha': 0.2}); plain names pass through."""
    m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*", spec)
    if m is None:
        raise ValueError(f"cannot parse activation {spec!r}; use 'name' or 'name(param=value, ...)'")
    name, inner = m.group(1), m.group(2)
    if not inner:
        return name, [], {}
    try:
        call = ast.parse(f"f({inner})", mode="eval").body
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except (SyntaxError, ValueError) as err:
        raise ValueError(f"cannot parse the parameters of activation {spec!r}: {err}") from err
    return name, args, kwargs


def get_activation(spec: str | Activation, **params) -> Activation:
    """Look an activation up by name, e.g. ``get_activation("tanh")``,
    ``get_activation("leaky_relu", alpha=0.2)`` or ``get_activation("leaky_relu(alpha=0.2)")``.
    An `Activation` passes through unchanged."""
    if isinstance(spec, Activation):
        if params:
            raise TypeError("parameters cannot be given with an Activation object")
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"activation must be a name or an Activation, got {type(spec).__name__}")
    name, args, kwargs = _parse(spec)
    if name not in _REGISTRY:
        raise ValueError(f"unknown activation {name!r}; known activations: {', '.join(available_activations())}")
    try:
        return _REGISTRY[name](*args, **kwargs, **params)
    except TypeError as err:
        raise ValueError(f"bad parameters for activation {name!r}: {err}") from err

"""Activations: a registry of pointwise nonlinearities usable by the theory and by torch models.

Built in: linear, tanh, relu, leaky_relu(alpha), erf, gelu, sigmoid, softplus, silu (= swish),
elu(alpha), selu, sin, hard_tanh. Add your own with `register_activation(name, from_sympy(...))`
or `from_torch(...)`.
"""

from . import builtin as _builtin  # noqa: F401  (fills the registry)
from .base import Activation as Activation
from .base import ClosedForm as ClosedForm
from .base import from_sympy as from_sympy
from .base import from_torch as from_torch
from .registry import available_activations as available_activations
from .registry import get_activation as get_activation
from .registry import register_activation as register_activation

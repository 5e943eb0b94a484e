"""Dynamics models: integrators, automatic discrete differentiation, energy-based models and data.

>>> from randfield.dynamics import data, fit, get_model, rollout_metrics
>>> train, test = data.generate("spring", seed=0).split(0.5)
>>> model = get_model("dgnet", dim=2)
>>> history = fit(model, train, steps=2000)
>>> rollout_metrics(model, "spring", method="dg").energy_mse
"""

from . import data
from .discrete import DiscreteSequential, energy_mlp
from .integrators import available_integrators, get_integrator, integrate
from .metrics import derivative_mse, evaluation_set, rollout_metrics
from .models import available_models, get_model
from .training import TrainConfig, TrainResult, fit

__all__ = [
    "DiscreteSequential",
    "TrainConfig",
    "TrainResult",
    "available_integrators",
    "available_models",
    "data",
    "derivative_mse",
    "energy_mlp",
    "evaluation_set",
    "fit",
    "get_integrator",
    "get_model",
    "integrate",
    "rollout_metrics",
]
